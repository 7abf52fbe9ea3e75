"""Compare two reports: metric deltas, and the questions whose outcome flipped.

A flip is a question (matched by id) whose pass/fail changed, or whose evidence moved into or out of the
top 5 articles. It reads an earlier report.json (checking its schema version) and does not run anything.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.errors import AssistantError
from assistant.evaluation.scoring import METRICS

SCHEMA_VERSION = 1


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
    if report["schema_version"] != SCHEMA_VERSION:
        raise AssistantError(f"{path}: report schema version {report['schema_version']} is not "
                             f"{SCHEMA_VERSION}; rerun the old evaluation with this version")
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
    return {
        "against": against, "old_created_at": old.get("created_at", ""),
        "old_backend": old.get("backend", ""), "metrics": metrics, "flips": flips,
        "added": [i for i in new_ids if i not in old_rows],
        "removed": [i for i in old_rows if i not in set(new_ids)],
    }


def flip_lines(comparison: dict) -> list[str]:
    """One line per flipped question, for the terminal and report.md."""
    lines = []
    for f in comparison["flips"]:
        if f["kind"] == "pass":
            change = "fail -> pass" if f["fixed"] else "pass -> fail"
        else:
            change = f"evidence rank {f['old'] or '-'} -> {f['new'] or '-'} ({'into' if f['fixed'] else 'out of'}" \
                     " top 5)"
        lines.append(f"{f['id']}: {change}: {f['question']}")
    return lines
