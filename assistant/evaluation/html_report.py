"""report.html: one self-contained page (inline CSS and SVG, no scripts, fonts or external links).

Shows the summary, a chart (hit@k curve and answer/citation bars), the breakdown by type, flips against an
earlier report, and a per-question table a person can scan (the as-of date and time window under the
question, the short answer in bold above the answer). Every piece of question or answer text is
HTML-escaped. It does not compute anything beyond formatting.
"""

from __future__ import annotations

from html import escape

from assistant.evaluation.compare import flip_lines
from assistant.evaluation.formatting import dates_label, fmt, fmt_delta, pages_label, when_asked
from assistant.evaluation.scoring import KS

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1d2330;max-width:1200px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #dde1e8;padding:4px 8px;
text-align:left;vertical-align:top}th{background:#f3f5f8}td.num{text-align:right;white-space:nowrap}
.summary td:first-child{font-family:ui-monospace,monospace}.pass{color:#17663a;font-weight:600}
.fail{color:#b3261e;font-weight:600}tr.failrow{background:#fff6f5}.muted{color:#677086}
.warn{background:#fff4d6;padding:6px 10px;border-radius:4px}details summary{cursor:pointer;color:#3457a6}
.quote{font-size:12px;color:#39404f;margin:2px 0 6px 12px}svg text{font:12px system-ui,sans-serif}
.better{color:#17663a}.worse{color:#b3261e}.small{font-size:12px}
"""


def _pct(value: float | None) -> float:
    return max(0.0, min(1.0, value or 0.0))


def chart(summary: dict) -> str:
    """Inline SVG: the hit@k curve on the left, answer and citation scores as bars on the right."""
    w, h, left, top, plot_w, plot_h = 760, 250, 50, 20, 280, 180
    parts = [(f'<svg width="{w}" height="{h}" role="img" '
              'aria-label="hit@k curve and answer scores">')]
    for i in range(0, 101, 25):
        y = top + plot_h - plot_h * i / 100
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#e3e6ec"/>'
                     f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{i}%</text>')
    points = []
    for k in KS:
        x = left + plot_w * (k - 1) / (KS[-1] - 1)
        value = summary.get(f"hit@{k}")
        parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{k}</text>')
        if value is not None:
            y = top + plot_h - plot_h * _pct(value)
            points.append(f"{x:.1f},{y:.1f}")
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#3457a6"/>'
                         f'<text x="{x + 6:.1f}" y="{y - 8:.1f}">{value * 100:.0f}%</text>')
    if points:
        parts.append(f'<polyline points="{" ".join(points)}" fill="none" stroke="#3457a6" stroke-width="2"/>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{h - 6}" text-anchor="middle">hit@k (evidence article '
                 'in the top k)</text>')
    bars = [("answer_accuracy", "answer accuracy"), ("answer_f1", "answer F1"),
            ("unanswerable_abstention", "abstained when unanswerable"),
            ("answerable_abstention", "abstained when answerable"), ("citation_precision", "citation precision"),
            ("citation_support", "citation support"), ("pass_rate", "pass rate")]
    bx, bw = 560, 170
    for i, (name, label) in enumerate(bars):
        y = top + i * 26
        value = summary.get(name)
        parts.append(f'<text x="{bx - 8}" y="{y + 13}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="{bx}" y="{y}" width="{bw}" height="18" fill="#eef0f4"/>'
                     f'<rect x="{bx}" y="{y}" width="{bw * _pct(value):.1f}" height="18" fill="#5b7fd0"/>'
                     f'<text x="{bx + 4}" y="{y + 13}">{escape(fmt(name, value))}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _summary_table(report: dict) -> str:
    comparison = report.get("compare")
    head = "<tr><th>metric</th><th>value</th>" + ("<th>delta</th>" if comparison else "") + \
        "<th>meaning</th></tr>"
    rows = []
    for name, value in report["summary"].items():
        cells = f"<td>{escape(name)}</td><td class=num>{escape(fmt(name, value))}</td>"
        if comparison:
            d = comparison["metrics"].get(name, {})
            cells += f'<td class="num {escape(d.get("verdict", ""))}">' \
                     f'{escape(fmt_delta(name, d.get("delta")))}</td>'
        meaning = report.get("metrics", {}).get(name, {}).get("description", "")
        rows.append(f"<tr>{cells}<td class=muted>{escape(meaning)}</td></tr>")
    return f'<table class="summary">{head}{"".join(rows)}</table>'


def _by_type(report: dict) -> str:
    if not report["by_type"]:
        return ""
    rows = "".join(
        f"<tr><td>{escape(t)}</td><td class=num>{g['counts']['questions']}</td>"
        + "".join(f"<td class=num>{escape(fmt(k, g['summary'][k]))}</td>"
                  for k in ("hit@5", "mrr@10", "answer_accuracy", "unanswerable_abstention", "pass_rate"))
        + "</tr>" for t, g in report["by_type"].items())
    return ("<h2>By type</h2><table><tr><th>type</th><th>questions</th><th>hit@5</th><th>MRR@10</th>"
            f"<th>answer accuracy</th><th>abstained when unanswerable</th><th>pass rate</th></tr>{rows}</table>")


def _question_rows(report: dict) -> str:
    rows = []
    for r in report["questions"]:
        verdict = '<span class="pass">pass</span>' if r["passed"] else '<span class="fail">FAIL</span>'
        answer = "<span class=muted>(abstained)</span> " if r["abstained"] else ""
        if r.get("short_answer"):
            answer += f"<div><b>{escape(r['short_answer'])}</b></div>"
        answer += escape(r["answer"])
        if r["citations"]:
            quotes = "".join(
                f'<div class="quote">[{c["n"]}] {escape(c["article_id"])}'
                f'{"" if c["in_evidence"] is not False else " (not evidence)"}'
                f'{"" if c["supported"] else " (unsupported)"}: &ldquo;{escape(c["quote"])}&rdquo;</div>'
                for c in r["citations"])
            answer += f"<details><summary>{len(r['citations'])} citation(s)</summary>{quotes}</details>"
        accepted = "<span class=muted>(should abstain)</span>" if r["unanswerable"] else \
            "<br>".join(escape(a) for a in r["accepted_answers"])
        rank = r["first_hit_rank"] or ("&ndash;" if r["evidence_ids"] else "")
        asked = f'<div class="muted small">{escape(when_asked(r))}</div>' if when_asked(r) else ""
        rows.append(f'<tr class="{"" if r["passed"] else "failrow"}"><td>{escape(r["id"])}<div class=muted>'
                    f'{escape(r["type"])}</div></td><td>{escape(r["question"])}{asked}</td><td>{accepted}</td>'
                    f'<td>{answer}</td><td class=num>{rank}</td><td>{verdict}</td>'
                    f'<td class=num>{r["latency_ms"]:.0f}</td></tr>')
    return ("<table><tr><th>id</th><th>question</th><th>accepted answers</th><th>answer</th>"
            "<th>evidence rank</th><th>result</th><th>ms</th></tr>" + "".join(rows) + "</table>")


def to_html(report: dict) -> str:
    comparison = report.get("compare")
    counts = report["counts"]
    info = (f"{counts['questions']} questions from <code>{escape(report['questions_file'])}</code>; backend "
            f"<b>{escape(report['backend'])}</b>"
            + (f" ({escape(report['answerer_model'])})" if report["answerer_model"] else "")
            + f"; embedding {escape(report['embedding_model'])}; top-k "
            f"{escape(str(report['settings'].get('top_k', '')))}; {escape(dates_label(report))}; "
            + (f"{escape(pages_label(report))}; " if pages_label(report) else "")
            + f"{escape(report['created_at'])}")
    warnings = "".join(f'<p class="warn">{escape(w)}</p>' for w in report["warnings"])
    flips = ""
    if comparison:
        items = "".join(f"<li>{escape(line)}</li>" for line in flip_lines(comparison)) or "<li>none</li>"
        flips = f"<h2>Flipped against {escape(comparison['against'])}</h2><ul>{items}</ul>"
    return (
        "<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>Evaluation report</title>"
        f"<style>{CSS}</style></head><body><h1>Evaluation report</h1><p>{info}</p>{warnings}"
        f"<h2>Summary</h2>{chart(report['summary'])}{_summary_table(report)}{_by_type(report)}{flips}"
        f"<h2>Questions ({counts['passed']} of {counts['questions']} passed)</h2>{_question_rows(report)}"
        "</body></html>\n"
    )
