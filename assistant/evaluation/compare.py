"""Compare two reports: metric deltas, and the questions whose outcome flipped.

A flip is a question (matched by id) whose pass/fail changed, whose evidence moved into or out of the
top 5 articles, or whose short answer started or stopped matching an accepted answer exactly. It reads an
earlier report.json of any schema version in `READABLE_VERSIONS`: what an older report lacks (a metric,
a row field) counts as not measured, so its delta is n/a and no flip is claimed. It does not run anything.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.errors import AssistantError
from assistant.evaluation.scoring import METRICS

SCHEMA_VERSION = 2  # 2: rows carry short answers, answer shape and dates; questions asked as of asked_at
READABLE_VERSIONS = (1, 2)  # versions --compare reads (1 lacks the fields version 2 added)


def load_report(path: str | Path) -> dict:
    """An earlier report.json; a missing, unreadable or foreign file raises a one-line AssistantError."""
    path = Path(path)
    if path.is_dir():
        path = path / "report.json"
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise AssistantError(f"{path}: no such report to compare with") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AssistantError(f"{path}: not a readable report.json ({exc})") from None
    if not isinstance(report, dict) or "schema_version" not in report:
        raise AssistantError(f"{path}: not an `assistant eval` report (no schema_version)")
    if report["schema_version"] not in READABLE_VERSIONS:
        readable = " or ".join(str(v) for v in READABLE_VERSIONS)
        raise AssistantError(f"{path}: report schema version {report['schema_version']!r} is not "
                             f"{readable}; rerun the old evaluation with this version")
    if not isinstance(report.get("summary"), dict) or not isinstance(report.get("questions"), list):
        raise AssistantError(f"{path}: report lacks summary or questions")
    return report


def _verdict(name: str, delta: float | None) -> str:
    if delta is None:
        return "n/a"
    if abs(delta) < 1e-9:
        return "same"
    higher_better = METRICS.get(name, (True, ""))[0]
    return "better" if (delta > 0) == higher_better else "worse"


def _hit5(row: dict) -> bool:
    rank = row.get("first_hit_rank")
    return rank is not None and rank <= 5


def compare(old: dict, new: dict, against: str = "") -> dict:
    metrics = {}
    for name, value in new["summary"].items():
        before = old["summary"].get(name)
        delta = None if value is None or before is None else round(value - before, 4)
        metrics[name] = {"old": before, "new": value, "delta": delta, "verdict": _verdict(name, delta)}
    old_rows = {r["id"]: r for r in old["questions"]}
    new_ids = [r["id"] for r in new["questions"]]
    flips = []
    for row in new["questions"]:
        before = old_rows.get(row["id"])
        if before is None:
            continue
        if bool(before.get("passed")) != row["passed"]:
            flips.append({"id": row["id"], "question": row["question"], "kind": "pass",
                          "old": bool(before.get("passed")), "new": row["passed"],
                          "fixed": row["passed"], "old_answer": before.get("answer", ""),
                          "new_answer": row["answer"]})
        if row["evidence_ids"] and _hit5(before) != _hit5(row):
            flips.append({"id": row["id"], "question": row["question"], "kind": "hit@5",
                          "old": before.get("first_hit_rank"), "new": row["first_hit_rank"],
                          "fixed": _hit5(row)})
        em_before, em_now = before.get("short_answer_em"), row.get("short_answer_em")
        if em_before is not None and em_now is not None and bool(em_before) != bool(em_now):
            flips.append({"id": row["id"], "question": row["question"], "kind": "short_answer_em",
                          "old": bool(em_before), "new": bool(em_now), "fixed": bool(em_now),
                          "old_short_answer": before.get("short_answer", ""),
                          "new_short_answer": row.get("short_answer", "")})
    return {
        "against": against, "old_schema_version": old.get("schema_version"),
        "old_created_at": old.get("created_at", ""),
        "old_backend": old.get("backend", ""), "metrics": metrics, "flips": flips,
        "added": [i for i in new_ids if i not in old_rows],
        "removed": [i for i in old_rows if i not in set(new_ids)],
    }


def _shown(short_answer: str | None) -> str:
    return f'"{short_answer}"' if short_answer else "(none)"


def flip_lines(comparison: dict) -> list[str]:
    """One line per flipped question, for the terminal and report.md."""
    lines = []
    for f in comparison["flips"]:
        if f["kind"] == "pass":
            change = "fail -> pass" if f["fixed"] else "pass -> fail"
        elif f["kind"] == "short_answer_em":
            change = (f"short answer {_shown(f.get('old_short_answer'))} -> {_shown(f.get('new_short_answer'))}"
                      f" ({'now' if f['fixed'] else 'no longer'} an exact match)")
        else:
            change = f"evidence rank {f['old'] or '-'} -> {f['new'] or '-'} ({'into' if f['fixed'] else 'out of'}" \
                     " top 5)"
        lines.append(f"{f['id']}: {change}: {f['question']}")
    return lines
