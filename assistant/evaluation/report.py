"""The evaluation report: builds the report.json object and writes report.json, report.md, report.html.

Also renders the summary table printed in the terminal. The schema (version `SCHEMA_VERSION`) is
documented in docs/eval-report.md; add fields rather than rename them, and bump the version when a field
changes meaning (compare.py lists the versions `--compare` still reads). It does not compute metrics (see
scoring.py) or draw HTML (see html_report.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from assistant.evaluation import metrics as m
from assistant.evaluation.compare import SCHEMA_VERSION, flip_lines
from assistant.evaluation.formatting import dates_label, fmt, fmt_delta, pages_label, when_asked
from assistant.evaluation.html_report import to_html
from assistant.evaluation.scoring import METRICS, RANKING_DEPTH, by_kind, by_type, summarize
from index.storage.atomic import write_text_atomic


def build_report(rows: Sequence[dict], *, questions_file: str | Path, settings: dict, backend: str,
                 answerer_model: str = "", embedding_model: str = "", index: dict | None = None,
                 warnings: Sequence[str] = (), comparison: dict | None = None) -> dict:
    path = Path(questions_file)
    digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else ""
    summarized = summarize(rows)
    return {
        "schema_version": SCHEMA_VERSION,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "questions_file": str(path), "questions_sha256": digest,
        "backend": backend, "answerer_model": answerer_model, "embedding_model": embedding_model,
        "settings": {**settings, "ranking_depth": RANKING_DEPTH,
                     "support_min_overlap": m.SUPPORT_MIN_OVERLAP},
        "index": index or {},
        "warnings": list(warnings),
        "summary": summarized["summary"], "counts": summarized["counts"],
        "by_type": by_type(rows),
        "by_kind": by_kind(rows),
        "metrics": {name: {"higher_is_better": hb, "description": d} for name, (hb, d) in METRICS.items()},
        "questions": list(rows),
        "compare": comparison,
    }


def summary_table(report: dict) -> str:
    """The plain-text table printed at the end of a run (with deltas when compared)."""
    comparison = report.get("compare")
    counts = report["counts"]
    lines = [(f"{counts['questions']} questions, backend {report['backend']}, "
              f"top-k {report['settings'].get('top_k', '?')}, {dates_label(report)}"
              + (f", {pages_label(report)}" if pages_label(report) else ""))]
    for name, value in report["summary"].items():
        line = f"  {name:24} {fmt(name, value):>9}"
        if comparison:
            delta = comparison["metrics"].get(name, {})
            line += f"  {fmt_delta(name, delta.get('delta')):>10}  {delta.get('verdict', '')}"
        lines.append(line.rstrip())
    if "windowed_questions" in counts:
        lines.append(f"  time windows: {counts['windowed_questions']} of {counts['questions']} questions")
    if report["by_type"]:
        lines.append("  by type: " + "; ".join(
            f"{t} ({g['counts']['questions']}) pass {fmt('pass_rate', g['summary']['pass_rate'])}"
            for t, g in report["by_type"].items()))
    if comparison:
        lines.append(f"  flipped vs {comparison['against']}: {len(comparison['flips'])}")
        lines.extend(f"    {line}" for line in flip_lines(comparison))
    return "\n".join(lines)


def _md_cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def to_markdown(report: dict) -> str:
    comparison = report.get("compare")
    out = ["# Evaluation report", "",
           f"- questions: `{report['questions_file']}` ({report['counts']['questions']} questions)",
           f"- backend: {report['backend']}" + (f" ({report['answerer_model']})" if report['answerer_model']
                                                 else ""),
           f"- embedding: {report['embedding_model']}; top-k {report['settings'].get('top_k')}",
           f"- dates: {dates_label(report)}; time windows: {report['counts'].get('windowed_questions', 0)}",
           *([f"- {pages_label(report)}"] if pages_label(report) else []),
           f"- created: {report['created_at']}", ""]
    out += [f"- warning: {_md_cell(w)}" for w in report["warnings"]]
    out += ["", "## Summary", "", "| metric | value |" + (" delta |" if comparison else ""),
            "|---|---:|" + ("---:|" if comparison else "")]
    for name, value in report["summary"].items():
        row = f"| {name} | {fmt(name, value)} |"
        if comparison:
            row += f" {fmt_delta(name, comparison['metrics'].get(name, {}).get('delta'))} |"
        out.append(row)
    if report["by_type"]:
        out += ["", "## By type", "", "| type | questions | hit@5 | answer accuracy | pass rate |",
                "|---|---:|---:|---:|---:|"]
        for t, g in report["by_type"].items():
            s = g["summary"]
            out.append(f"| {_md_cell(t)} | {g['counts']['questions']} | {fmt('hit@5', s['hit@5'])} | "
                       f"{fmt('answer_accuracy', s['answer_accuracy'])} | {fmt('pass_rate', s['pass_rate'])} |")
    if report.get("by_kind"):
        out += ["", "## By kind of answer asked", "",
                "| kind | questions | answer accuracy | short-answer F1 | wrongly abstained |",
                "|---|---:|---:|---:|---:|"]
        for t, g in report["by_kind"].items():
            s = g["summary"]
            out.append(f"| {_md_cell(t)} | {g['counts']['questions']} | "
                       f"{fmt('answer_accuracy', s['answer_accuracy'])} | "
                       f"{fmt('short_answer_f1', s['short_answer_f1'])} | "
                       f"{fmt('answerable_abstention', s['answerable_abstention'])} |")
    if comparison:
        out += ["", f"## Flipped against `{comparison['against']}`", ""]
        out += [f"- {_md_cell(line)}" for line in flip_lines(comparison)] or ["(none)"]
    out += ["", "## Questions", "",
            "| id | type | pass | evidence rank | question | as of | accepted | short answer | answer |",
            "|---|---|---|---:|---|---|---|---|---|"]
    for r in report["questions"]:
        answer = "(abstained)" if r["abstained"] else r["answer"]
        out.append(f"| {_md_cell(r['id'])} | {_md_cell(r['type'])} | {'pass' if r['passed'] else 'FAIL'} | "
                   f"{r['first_hit_rank'] or '-'} | {_md_cell(r['question'])} | {_md_cell(when_asked(r))} | "
                   f"{_md_cell('; '.join(r['accepted_answers']))} | {_md_cell(r.get('short_answer', ''))} | "
                   f"{_md_cell(answer)} |")
    return "\n".join(out) + "\n"


def write_reports(report: dict, out_dir: str | Path) -> list[Path]:
    """Write report.json, report.md and report.html into out_dir (created); returns the paths."""
    out = Path(out_dir)
    paths = [out / "report.json", out / "report.md", out / "report.html"]
    for path, text in zip(paths, (json.dumps(report, ensure_ascii=False, indent=1) + "\n",
                                  to_markdown(report), to_html(report)), strict=True):
        write_text_atomic(path, text)
    return paths
