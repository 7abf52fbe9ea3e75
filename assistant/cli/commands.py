"""The `assistant` command: index, ask, stats, remove (and eval, sources, refresh, watch). Errors become one line and an exit code.

Exit codes: 0 success, 1 an error the user can fix (or some inputs failed to index), 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence

from assistant.cli.console import (
    EXIT_ERROR,
    EXIT_OK,
    FailureWarnings,
    index_with_progress,
    quiet_broken_pipe,
    settings_from_args,
)
from assistant.errors import AssistantError
from index.errors import IndexingError


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="data directory (env ASSISTANT_DATA_DIR)")
    parser.add_argument("--chroma-url", help="Chroma server http://host:port (env ASSISTANT_CHROMA_URL)")
    parser.add_argument("--collection", help="collection base name (env ASSISTANT_COLLECTION)")
    parser.add_argument("--embedding", choices=["minilm", "static", "hashing"],
                        help="embedding model (static: distilled from MiniLM, for fast bulk imports)")
    parser.add_argument("--llm", choices=["extractive", "openai", "llamacpp"],
                        help="who writes answers (env ASSISTANT_LLM; see ASSISTANT_LLM_URL, ASSISTANT_LLM_MODEL)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description="Cited question answering over news articles.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="add or update articles from files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH|URL",
                   help=".jsonl, .txt, .md, .html files or folders, or http(s) URLs of RSS/Atom feeds or "
                        "article pages")
    p.add_argument("--prune", action="store_true", help="remove indexed articles not found in PATHS")
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    _common(p)

    p = sub.add_parser("ask", help="answer a question with cited passages")
    p.add_argument("question")
    p.add_argument("--top-k", type=int, help="passages to retrieve")
    p.add_argument("--source", action="append", default=[], help="only this outlet (repeatable)")
    p.add_argument("--from", dest="date_from", default="", help="published on or after YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", default="", help="published on or before YYYY-MM-DD")
    p.add_argument("--as-of", default="", help="the day the question is asked, YYYY-MM-DD (default today): "
                                               "later articles are not used, 'this week' counts from it")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    _common(p)

    p = sub.add_parser("stats", help="what the index holds")
    p.add_argument("--json", action="store_true")
    _common(p)

    p = sub.add_parser("remove", help="remove articles by id")
    p.add_argument("article_ids", nargs="+")
    _common(p)

    for register in _EXTRA_COMMANDS:
        register(sub, _common)
    return parser


# The other command modules (`evaluate`, `sources`) add their subcommands here:
# register(subparsers, add_common_options).
_EXTRA_COMMANDS: list[Callable] = []


def _assistant(args: argparse.Namespace, **overrides: object):
    """(settings, assistant built from them)."""
    from assistant.factory import build_assistant
    from index.models.offline import offline_environment

    offline_environment()
    settings = settings_from_args(args)
    settings = settings.model_copy(update=overrides) if overrides else settings
    return settings, build_assistant(settings)


def _store(args: argparse.Namespace):
    """(settings, store) without any model: for the commands that only read or delete."""
    from assistant.factory import build_store
    from index.models.offline import offline_environment

    offline_environment()
    settings = settings_from_args(args)
    return settings, build_store(settings)


def cmd_index(args: argparse.Namespace) -> int:
    from index.intake.fetch import is_url

    warnings = FailureWarnings()  # each unreadable file or line is named as soon as it is read
    if any(is_url(p) for p in args.paths):  # URLs are fetched; nothing reaches the network otherwise
        from assistant.cli.sources import index_paths_and_urls

        settings, assistant = _assistant(args)
        summary = index_paths_and_urls(assistant, settings, args.paths, prune=args.prune, on_failure=warnings)
    else:
        summary = index_with_progress(_assistant(args)[1], args.paths, prune=args.prune, on_failure=warnings)
    for failure in warnings.rest(summary.failures):
        print(f"warning: skipped {failure}", file=sys.stderr)
    for note in summary.notes:
        print(f"warning: {note}", file=sys.stderr)
    print(json.dumps(summary.as_dict()) if args.json else summary.line())
    return EXIT_ERROR if summary.failed else EXIT_OK


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.retrieval.timewindow import parse_as_of
    from assistant.service import clean_question
    from index.intake.articles import normalize_date
    from index.storage.store import SearchFilters

    clean_question(args.question)  # fail fast, before loading models
    as_of = parse_as_of(args.as_of)
    try:
        filters = SearchFilters(tuple(args.source), normalize_date(args.date_from, where="--from"),
                                normalize_date(args.date_to, where="--to"))
    except IndexingError as exc:
        raise AssistantError(str(exc)) from exc
    # One question: no PyTorch to load (the NumPy MiniLM embeds it and the answer's sentences).
    settings, assistant = _assistant(args, fast_start=True)
    if assistant.store.count() == 0:
        raise AssistantError(_nothing_indexed(settings))
    if args.json:
        answer = assistant.ask(args.question, top_k=args.top_k, filters=filters, as_of=as_of)
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return EXIT_OK
    if assistant.answerer.name == "extractive":
        # Written at once (no LLM to wait for): the short answer goes first, as in the chat.
        _print_answer(assistant.ask(args.question, top_k=args.top_k, filters=filters, as_of=as_of))
        return EXIT_OK
    answer = None
    shown = ""
    warned = False
    for answer in assistant.ask_stream(args.question, top_k=args.top_k, filters=filters, as_of=as_of):
        if not answer.answer.startswith(shown):
            # The streamed text was replaced (an LLM failed mid-answer; its fallback follows): say why.
            sys.stdout.write("\n")
            sys.stdout.flush()
            if answer.notice:
                print(f"warning: {answer.notice}", file=sys.stderr)
                warned = True
            shown = ""
        sys.stdout.write(answer.answer[len(shown):])
        sys.stdout.flush()
        shown = answer.answer
    assert answer is not None
    print()
    if answer.short_answer and not answer.abstained:
        print(f"\nIn short: {_bold(answer.short_answer)} [1]")
    if answer.notice and not warned:
        print(f"warning: {answer.notice}", file=sys.stderr)
    _print_sources(answer)
    return EXIT_OK


def _nothing_indexed(settings) -> str:
    """Why `ask` cannot answer on an empty index, and the command that fills it."""
    from pathlib import Path

    samples = Path(settings.samples_dir)
    try:
        shown = samples.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        shown = samples
    where = settings.chroma_url or settings.data_dir
    return (f"nothing is indexed yet (in {where}); index the bundled sample articles with "
            f"`assistant index {shown}`, or your own with `assistant index PATH|URL`")


def _print_answer(answer) -> None:
    if answer.notice:
        print(f"warning: {answer.notice}", file=sys.stderr)
    if answer.short_answer and not answer.abstained:
        print(f"{_bold(answer.short_answer)} [1]\n")
    print(answer.answer)
    _print_sources(answer)


def _print_sources(answer) -> None:
    if answer.window is not None:
        print(f"(articles published {answer.window.label()})")
    if answer.citations:
        print("\nSources:")
        for c in answer.citations:
            meta = ", ".join(x for x in (c.source, c.published_at) if x)
            print(f"[{c.n}] {c.title or c.article_id}" + (f" ({meta})" if meta else ""))
            if c.url:
                print(f"    {c.url}")
            print(f"    \u201c{' '.join(c.quote.split())}\u201d")
            if c.also_published_by:
                print("    also published by: " + ", ".join(o["source"] or o["url"] for o in c.also_published_by))


def _bold(text: str) -> str:
    return f"\033[1m{text}\033[0m" if sys.stdout.isatty() else text


def cmd_stats(args: argparse.Namespace) -> int:
    from assistant.configs import Configs
    from assistant.stats import index_stats

    settings, store = _store(args)
    stats = index_stats(Configs.from_settings(settings).record, store)
    if args.json:
        print(json.dumps(stats))
    else:
        for key, value in stats.items():
            print(f"{key:16} {value}")
    return EXIT_OK


def cmd_remove(args: argparse.Namespace) -> int:
    from assistant.factory import build_indexer

    settings, store = _store(args)
    indexer = build_indexer(settings, store, embed_model=None)  # removing embeds nothing
    removed = indexer.remove(args.article_ids, on_wait=lambda msg: print(msg, file=sys.stderr))
    missing = [a for a in args.article_ids if a not in removed]
    if removed or not missing:
        print(f"removed {len(removed)} article(s)")
    if missing:
        print(f"error: not in the index: {', '.join(missing)} (`assistant stats` counts what is indexed)",
              file=sys.stderr)
    return EXIT_ERROR if missing else EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "index": cmd_index, "ask": cmd_ask, "stats": cmd_stats, "remove": cmd_remove,
}

# `assistant eval` (assistant/cli/evaluate.py); its heavy imports happen only when it runs.
import assistant.cli.evaluate as _eval_command

_EXTRA_COMMANDS.append(_eval_command.register)
COMMANDS["eval"] = _eval_command.run

# `assistant sources`, `refresh`, `watch` (assistant/cli/sources.py); feeds, httpx, watchfiles load lazily.
import assistant.cli.sources as _sources_command

_EXTRA_COMMANDS.append(_sources_command.register)
COMMANDS.update(_sources_command.COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (AssistantError, IndexingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        quiet_broken_pipe()
        return EXIT_OK
    except KeyboardInterrupt:
        print("error: interrupted; the index keeps every article written so far, rerun to finish",
              file=sys.stderr)
        return 130


# Commands that write nothing: once they have printed, nothing is left to save.
_READ_ONLY = {"ask", "stats"}


def run() -> None:
    """The console script. After a read-only command it leaves without Python's interpreter teardown,
    which spent ~0.5 s freeing llama-index, Chroma and model objects after the answer was printed. Writing
    commands exit normally, so Chroma closes its files the usual way."""
    argv = sys.argv[1:]
    code = main(argv)
    if argv and argv[0] in _READ_ONLY:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:
            quiet_broken_pipe()
        os._exit(code)
    sys.exit(code)

