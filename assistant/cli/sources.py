"""The commands that keep up with the news: `assistant sources add|list|remove`, `assistant refresh`,
`assistant watch`, and the URL half of `assistant index URL...`.

Registered into `assistant.cli.commands` like the eval command; imports nothing heavy until a command
runs (feedparser, httpx and watchfiles are imported by `index/` only when a URL is fetched or a folder
watched). The work itself is in `index.sources` (registry, state, refresh), `index.intake.feeds` (URLs into
articles), `index.intake.fetch` (the one place that connects) and `index.watch`; this module prints.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from assistant.cli.console import EXIT_ERROR, EXIT_OK, ProgressBar, settings_from_args


def _wait_message(msg: str) -> None:
    print(msg, file=sys.stderr)


def register(sub: argparse._SubParsersAction, common: Callable[[argparse.ArgumentParser], None]) -> None:
    p = sub.add_parser("sources", help="saved feeds, pages and folders that `assistant refresh` polls")
    actions = p.add_subparsers(dest="sources_action", required=True)
    a = actions.add_parser("add", help="save a feed or page URL, or a folder")
    a.add_argument("locations", nargs="+", metavar="URL|DIR")
    common(a)
    a = actions.add_parser("list", help="the saved sources: kind, last check, articles added, last error")
    a.add_argument("--json", action="store_true", help="print one JSON list")
    common(a)
    a = actions.add_parser("remove", help="stop following a source (its articles stay indexed)")
    a.add_argument("locations", nargs="+", metavar="URL|DIR")
    common(a)

    p = sub.add_parser("refresh", help="poll every saved source once and index what is new")
    p.add_argument("--json", action="store_true", help="print the summary and each source as JSON")
    common(p)

    p = sub.add_parser("watch", help="index files in folders as they appear, change or disappear (Ctrl-C stops)")
    p.add_argument("folders", nargs="+", metavar="DIR")
    p.add_argument("--debounce-ms", type=int, default=1600,
                   help="longest wait to group changes into one batch (default 1600)")
    p.add_argument("--quiet-ms", type=int, default=300,
                   help="a batch starts once no change came for this long (default 300)")
    p.add_argument("--poll", action="store_true", help="poll the folders instead of OS notifications "
                                                       "(network shares, some containers)")
    common(p)


def _settings(args: argparse.Namespace) -> Any:
    from index.models.offline import offline_environment

    offline_environment()
    return settings_from_args(args)


def _sources(args: argparse.Namespace, *, with_indexer: bool) -> Any:
    """(settings, Sources, assistant or None): the full assistant only when something will be indexed."""
    from assistant.factory import build_assistant, build_sources

    settings = _settings(args)
    assistant = build_assistant(settings) if with_indexer else None
    return settings, build_sources(settings, assistant.indexer if assistant else None), assistant


def index_paths_and_urls(assistant: Any, settings: Any, inputs: Sequence[str], *, prune: bool = False,
                         on_failure: Callable[[Any], None] | None = None) -> Any:
    """`assistant index PATH|URL...` into `assistant` (built from `settings`, whose fetch limits apply):
    files and folders read as usual, URLs fetched (feeds or pages); `on_failure` hears of each input that
    fails as soon as it is read or fetched."""
    from itertools import chain

    from assistant.cli.console import index_items_with_progress
    from assistant.factory import build_fetcher
    from index.intake.articles import Article, read_articles
    from index.intake.feeds import read_urls
    from index.intake.fetch import is_url

    paths = [p for p in inputs if not is_url(p)]
    urls = [p for p in inputs if is_url(p)]
    fetcher = build_fetcher(settings)
    seen: set[str] = set()

    def deduplicated():
        from index.intake.articles import LoadFailure

        for item in chain(read_articles(paths), read_urls(urls, fetcher,
                                                          max_entries=settings.feed_max_entries)):
            if isinstance(item, Article):
                if item.id in seen:
                    yield LoadFailure(item.origin, f"duplicate article id {item.id!r}")
                    continue
                seen.add(item.id)
            yield item

    try:
        return index_items_with_progress(assistant, deduplicated(), prune=prune, on_failure=on_failure)
    finally:
        fetcher.close()


def cmd_sources(args: argparse.Namespace) -> int:
    _, sources, _ = _sources(args, with_indexer=False)
    if args.sources_action == "add":
        for location in args.locations:
            info, new = sources.add(location, on_wait=_wait_message)
            what = "a folder" if info.kind == "folder" else "a URL (feed or page)"
            print(f"saved {info.location} ({what}); `assistant refresh` reads it" if new
                  else f"already saved: {info.location}")
        return EXIT_OK
    if args.sources_action == "remove":
        for location in args.locations:
            info = sources.remove(location, on_wait=_wait_message)
            print(f"removed {info.location} ({info.articles} article(s) it gave stay indexed)")
        return EXIT_OK
    infos = sources.list()
    if args.json:
        print(json.dumps([i.as_dict() for i in infos], ensure_ascii=False))
        return EXIT_OK
    if not infos:
        print("no saved sources; add one with `assistant sources add URL|DIR`")
    for i in infos:
        checked = f"checked {i.last_check}" if i.last_check else "not checked yet"
        print(f"{i.kind:6} {i.location}  ({checked}, {i.articles_added} article(s) added)")
        if i.last_error:
            print(f"       last error: {i.last_error}")
    return EXIT_OK


def cmd_refresh(args: argparse.Namespace) -> int:
    from assistant.factory import build_sources

    settings = _settings(args)
    if not build_sources(settings, None).list():  # no model to load, nothing to fetch
        print("no saved sources; add one with `assistant sources add URL|DIR`", file=sys.stderr)
        print(json.dumps({**_empty_summary(), "sources": []}) if args.json else _empty_line())
        return EXIT_OK
    _, sources, _ = _sources(args, with_indexer=True)
    bar = ProgressBar()

    def on_source(done: int, total: int, location: str) -> None:
        if location:
            print(f"[{done + 1}/{total}] {location}", file=sys.stderr, flush=True)

    try:
        report = sources.refresh(progress=bar, on_source=on_source, on_wait=_wait_message)
    finally:
        bar.close()
    summary = report.summary
    for note in summary.notes:
        print(f"warning: {note}", file=sys.stderr)
    if args.json:
        print(json.dumps({**summary.as_dict(), "sources": [s.as_dict() for s in report.sources]},
                         ensure_ascii=False))
    else:
        print(summary.line())
        for failure in summary.failures:
            print(failure)
    return EXIT_ERROR if summary.failed else EXIT_OK


def _empty_summary() -> dict:
    from index.indexer import IndexSummary

    return IndexSummary().as_dict()


def _empty_line() -> str:
    from index.indexer import IndexSummary

    return IndexSummary().line()


def cmd_watch(args: argparse.Namespace) -> int:
    from assistant.errors import AssistantError
    from index.watch import watch_folders

    folders = [Path(f) for f in args.folders]
    for folder in folders:
        if not folder.is_dir():
            raise AssistantError(f"{folder}: not a folder")
    _, sources, _ = _sources(args, with_indexer=True)
    stop = threading.Event()
    interrupted = {"n": 0}

    def on_interrupt(signum: int, frame: Any) -> None:
        interrupted["n"] += 1
        if interrupted["n"] > 1:
            raise KeyboardInterrupt  # a second Ctrl-C: stop now (the index stays consistent)
        print("stopping after the current batch (Ctrl-C again to stop now) ...", file=sys.stderr, flush=True)
        stop.set()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    signal.signal(signal.SIGTERM, on_interrupt)
    bar = ProgressBar()
    failed = {"any": False}

    def on_start(root: Path, n: int) -> None:
        print(f"{root}: {n} file(s) changed, indexing ...", file=sys.stderr, flush=True)

    def on_batch(root: Path, n: int, summary: Any) -> None:
        bar.close()
        what = "synced" if n < 0 else f"{n} file(s)"
        print(f"{root}: {what}: {summary.line()}", flush=True)
        for failure in summary.failures:
            print(f"warning: skipped {failure}", file=sys.stderr, flush=True)
        for note in summary.notes:
            print(f"warning: {note}", file=sys.stderr, flush=True)
        failed["any"] = failed["any"] or bool(summary.failed)

    def on_ready() -> None:
        print(f"watching {', '.join(str(f.resolve()) for f in folders)} (Ctrl-C stops)", file=sys.stderr,
              flush=True)

    try:
        watch_folders(sources, folders, stop=stop, on_batch=on_batch, on_ready=on_ready, progress=bar,
                      on_start=on_start, on_wait=_wait_message, debounce_ms=args.debounce_ms,
                      step_ms=args.quiet_ms, force_polling=True if args.poll else None)
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    print("stopped watching", file=sys.stderr)
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "sources": cmd_sources, "refresh": cmd_refresh, "watch": cmd_watch,
}
