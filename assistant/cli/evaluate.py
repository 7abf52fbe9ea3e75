"""`assistant eval QUESTIONS.jsonl`: validate, (re)index, ask every question, score, write the reports.

Everything a user can get wrong (question file, --compare file, --out, --articles paths, bounds) is
checked before any model loads. `--pages-only` leaves the evidence digests out (see pages_only.py).
Exit codes: 0 ok, 1 an error or a missed --fail-under/--fail-over bound, 2 bad usage. Registered into
`assistant.cli.commands` through its `_EXTRA_COMMANDS` hook; the work is in `assistant.evaluation`
(questions, runner, scoring, reports): this module does not compute metrics or render reports itself.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable
from pathlib import Path

from assistant.errors import AssistantError
from assistant.evaluation.pages_only import DIGEST_PREFIX

EXIT_OK, EXIT_FAILED = 0, 1


def _bound(spec: str) -> tuple[str, float]:
    from assistant.evaluation.scoring import (  # not at import: `assistant --help` stays fast
        METRICS,
        NOT_FRACTIONS,
    )

    name, sep, value = spec.partition("=")
    name = name.strip()
    if not sep or name not in METRICS:
        raise argparse.ArgumentTypeError(
            f"expected METRIC=VALUE with METRIC one of: {', '.join(METRICS)} (got {spec!r})")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}: {value!r} is not a number") from None
    if name not in NOT_FRACTIONS and not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"{name}: give a fraction between 0 and 1 (got {value})")
    if name in NOT_FRACTIONS and not 0.0 <= number < float("inf"):  # ms, words, citations; NaN fails too
        raise argparse.ArgumentTypeError(f"{name}: give a number of at least 0 (got {value})")
    return name, number


def register(sub: argparse._SubParsersAction, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("eval", help="score answers against a question set and write a report",
                       description="Ask every question of a JSONL question set, score retrieval, answers and "
                                   "citations, and write report.json, report.md and report.html.")
    p.add_argument("questions", help="question set: one JSON object a line (see docs/eval-report.md)")
    p.add_argument("--articles", nargs="+", action="extend", default=[], metavar="PATH",
                   help="index these articles first (incrementally); default: use the current index")
    p.add_argument("--top-k", type=int, help="passages retrieved per question (default: the top_k setting)")
    p.add_argument("--ignore-dates", action="store_true",
                   help="ask without as-of dates: no asked_at filter, time window or recency prior (to compare)")
    p.add_argument("--pages-only", action="store_true",
                   help="evaluate on full pages only, as a user's archive: leave out (and remove from the index) "
                        f"the evidence digests with ids {DIGEST_PREFIX}..., and empty evidence_ids "
                        "(retrieval is not scored)")
    p.add_argument("--out", default="eval-report", help="directory for the reports (default ./eval-report)")
    p.add_argument("--compare", metavar="OLD/report.json", help="show deltas against an earlier report")
    p.add_argument("--fail-under", action="append", type=_bound, default=[], metavar="METRIC=VALUE",
                   help="exit 1 when METRIC is below VALUE (repeatable; e.g. hit@5=0.8)")
    p.add_argument("--fail-over", action="append", type=_bound, default=[], metavar="METRIC=VALUE",
                   help="exit 1 when METRIC is above VALUE (e.g. latency_p95_ms=2000, answer_words_p50=40)")
    common(p)


_SECRET = re.compile(r"pass|secret|auth|credential|(^|_)(api_)?key$|(^|_)token$", re.IGNORECASE)
_NOT_ABOUT_ANSWERS = {"host", "port", "samples_dir", "index_samples_on_start", "lock_wait", "server_lease_seconds"}


def report_settings(settings) -> dict:
    """The settings that shape answers, for the report: never credentials, no UI or upload knobs."""
    values = settings.model_dump(mode="json")
    kept = {k: v for k, v in values.items()
            if not _SECRET.search(k) and k not in _NOT_ABOUT_ANSWERS and not k.startswith("upload_")}
    if "@" in kept.get("chroma_url", ""):  # user:password@host
        scheme, _, rest = kept["chroma_url"].partition("://")
        kept["chroma_url"] = f"{scheme}://{rest.rsplit('@', 1)[1]}"
    return kept


def _answerer_model(answerer: object) -> str:
    for attr in ("model_name", "model"):
        value = getattr(answerer, attr, None)
        if isinstance(value, str) and value:
            return value
    return ""


def _index(assistant, paths: list[str], warnings: list[str], *, pages_only: bool = False) -> None:
    from assistant.cli.console import ProgressBar, index_with_progress

    if pages_only:
        from assistant.evaluation.pages_only import leave_out_digests
        from index.intake.articles import read_articles

        items, left_out = leave_out_digests(read_articles(paths))
        print(f"pages only: left out {left_out} {DIGEST_PREFIX}* digest article(s) given with --articles",
              file=sys.stderr)
        bar = ProgressBar()
        try:
            summary = assistant.index_items(items, progress=bar)
        finally:
            bar.close()
    else:
        summary = index_with_progress(assistant, paths)
    print(f"index: {summary.line()}", file=sys.stderr)
    warnings.extend(f"skipped {failure}" for failure in summary.failures)


def _warn(message: str, warnings: list[str]) -> None:
    warnings.append(message)
    print(f"warning: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from assistant.cli.console import settings_from_args
    from assistant.evaluation.compare import compare, load_report
    from assistant.evaluation.questions import load_questions

    questions = load_questions(args.questions)  # every line checked before any work
    pages_only = bool(args.pages_only)
    previous = load_report(args.compare) if args.compare else None
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise AssistantError(f"--out {out} is a file; give a directory")
    if args.top_k is not None and args.top_k < 1:
        raise AssistantError("--top-k must be at least 1")
    missing = [p for p in args.articles if not Path(p).exists()]
    if missing:
        raise AssistantError(f"--articles: no such file or folder: {', '.join(missing)}")
    settings = settings_from_args(args)

    from tqdm import tqdm

    from assistant.evaluation.report import build_report, summary_table, write_reports
    from assistant.evaluation.runner import run as run_questions
    from assistant.evaluation.runner import unknown_evidence
    from assistant.evaluation.scoring import check_bounds, score_question
    from assistant.factory import build_assistant
    from index.models.offline import offline_environment

    offline_environment()
    assistant = build_assistant(settings)
    warnings: list[str] = []
    unscored: list[str] = []  # with --pages-only: questions nothing scores once their evidence is gone
    if pages_only:
        from assistant.evaluation.pages_only import evidence_only, remove_digests, without_evidence

        removed = remove_digests(assistant, on_wait=lambda msg: print(msg, file=sys.stderr))
        print(f"pages only: removed {removed} {DIGEST_PREFIX}* digest article(s) from the index", file=sys.stderr)
        unscored = evidence_only(questions)
        questions = without_evidence(questions)
    if args.articles:
        _index(assistant, args.articles, warnings, pages_only=pages_only)
        for w in warnings:
            print(f"warning: {w}", file=sys.stderr)
    if assistant.store.count() == 0:
        raise AssistantError("the index is empty; pass --articles PATH... or run `assistant index` first")
    if unscored:
        _warn(f"{len(unscored)} question(s) have only evidence_ids, which --pages-only empties: nothing "
              f"scores them ({', '.join(unscored[:20])})", warnings)
    unknown = unknown_evidence(assistant, questions)
    if unknown:
        shown = ", ".join(unknown[:20]) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
        _warn(f"{len(unknown)} evidence id(s) are not in the index: {shown}", warnings)

    rows = []
    with tqdm(total=len(questions), desc="asking", unit="question", file=sys.stderr) as bar:
        observations = run_questions(assistant, questions, settings.top_k, use_dates=not args.ignore_dates)
        for question, observation in zip(questions, observations):
            rows.append(score_question(question, observation))
            bar.update()
    stats = assistant.stats()
    backend = ",".join(sorted({r["backend"] for r in rows})) or assistant.answerer.name
    label = getattr(settings, "llm_label", "") or _answerer_model(assistant.answerer)
    report = build_report(
        rows, questions_file=args.questions, backend=backend,
        settings={**report_settings(settings), "dates": "ignored" if args.ignore_dates else "asked_at",
                  "pages_only": pages_only},
        answerer_model=label if label != backend else "", embedding_model=stats.get("embedding_model", ""),
        index={"articles": stats.get("articles"), "chunks": stats.get("chunks"), "store": stats.get("store"),
               "collection": stats.get("collection")},
        warnings=warnings,
    )
    if previous is not None:
        report["compare"] = compare(previous, report, against=str(args.compare))
    paths = write_reports(report, out)
    print(summary_table(report))
    print(f"reports: {', '.join(str(p) for p in paths)}")
    bounds = [(n, v, True) for n, v in args.fail_under] + [(n, v, False) for n, v in args.fail_over]
    failures = check_bounds(report["summary"], bounds)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return EXIT_FAILED if failures else EXIT_OK
