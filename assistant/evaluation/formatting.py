"""How metric values and question dates read in the text, Markdown and HTML reports (one place for all three)."""

from __future__ import annotations

from assistant.evaluation.pages_only import DIGEST_PREFIX
from assistant.evaluation.scoring import METRICS, NOT_FRACTIONS

PERCENT = {name for name in METRICS if name not in NOT_FRACTIONS and not name.startswith("mrr")}
ONE_DECIMAL = {name for name in NOT_FRACTIONS if name.startswith(("latency", "answer_words"))}


def fmt(name: str, value: float | None) -> str:
    if value is None:
        return "n/a"
    if name in PERCENT:
        return f"{value * 100:.1f}%"
    return f"{value:.1f}" if name in ONE_DECIMAL else f"{value:.2f}"


def fmt_delta(name: str, delta: float | None) -> str:
    if delta is None:
        return ""
    if name in PERCENT:
        return f"{delta * 100:+.1f} pt"
    return f"{delta:+.1f}" if name in ONE_DECIMAL else f"{delta:+.2f}"


def dates_label(report: dict) -> str:
    """How questions were dated: "dates ignored" (--ignore-dates) or "as of asked_at (else the run day)"."""
    if report["settings"].get("dates") == "ignored":
        return "dates ignored"
    return "as of asked_at (else the run day)"


def pages_label(report: dict) -> str:
    """"pages only (...)" for a `--pages-only` run, else "" (reports from before the flag have no key)."""
    if not report["settings"].get("pages_only"):
        return ""
    return f"pages only ({DIGEST_PREFIX}* evidence digests left out, evidence_ids emptied: retrieval not scored)"


def when_asked(row: dict) -> str:
    """"as of 2025-11-15; window since 2025-10-01 (last month)", or "" for a row without dates."""
    parts = [f"as of {row['as_of']}"] if row.get("as_of") else []
    window = row.get("window")
    if window:
        where = f"on {window['start']}" if window["start"] == window["end"] else f"{window['start']}..{window['end']}"
        parts.append(f"window {where} ({window['expression']})")
    return "; ".join(parts)
