"""What every command-line command shares: exit codes, settings from arguments, the progress bar, and a
stdout that may close early (`assistant stats | head`). Imported by every command module
(`commands`, `evaluate`, `sources`), so none imports another for these."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def settings_from_args(args: argparse.Namespace) -> Any:
    from assistant.errors import AssistantError
    from assistant.settings import Settings

    overrides = {}
    for name in ("data_dir", "chroma_url", "collection", "embedding", "llm"):
        value = getattr(args, name, None)
        if value:
            overrides[name] = value
    if getattr(args, "top_k", None) is not None:  # `--top-k 0` must be refused, not ignored
        overrides["top_k"] = args.top_k
    try:
        return Settings(**overrides)
    except Exception as exc:  # pydantic ValidationError: name the setting
        errors = getattr(exc, "errors", list)()
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors) or str(exc)
        raise AssistantError(f"invalid setting: {detail}") from exc


def index_with_progress(assistant: Any, paths: Sequence[str], *, prune: bool = False,
                        on_failure: Callable[[Any], None] | None = None) -> Any:
    """Run a reindex with a terminal progress bar on stderr; returns the IndexSummary. `on_failure` is
    called with each file or line that cannot be read as soon as it is read (before the bar starts)."""
    from tqdm import tqdm

    from index.intake.articles import read_articles

    bar: dict[str, tqdm] = {}

    def progress(done: int, total: int, desc: str) -> None:
        if "bar" not in bar:
            bar["bar"] = tqdm(total=total, desc=desc, unit="chunk", file=sys.stderr, disable=total == 0)
        bar["bar"].n = done
        bar["bar"].refresh()

    try:
        return assistant.indexer.index_items(reported(read_articles(paths), on_failure), prune=prune,
                                             progress=progress, on_wait=lambda msg: print(msg, file=sys.stderr))
    finally:
        if "bar" in bar:
            bar["bar"].close()


def reported(items: Iterable[Any], on_failure: Callable[[Any], None] | None) -> Iterator[Any]:
    """`items` passed through, each `LoadFailure` handed to `on_failure` as it comes out of the reader."""
    from index.intake.articles import LoadFailure

    for item in items:
        if on_failure is not None and isinstance(item, LoadFailure):
            on_failure(item)
        yield item


class FailureWarnings:
    """Prints `warning: skipped FILE[:LINE]: reason` on stderr the moment a file or line fails to read, and
    remembers it, so the summary at the end does not print it twice."""

    def __init__(self) -> None:
        self.shown: list[Any] = []

    def __call__(self, failure: Any) -> None:
        self.shown.append(failure)
        print(f"warning: skipped {failure}", file=sys.stderr, flush=True)

    def rest(self, failures: Iterable[Any]) -> list[Any]:
        """The failures not printed yet."""
        return [f for f in failures if f not in self.shown]


class ProgressBar:
    """A progress callback `(done, total, description)` drawing a tqdm bar on stderr; a new bar starts
    whenever a new run of work reports 0 done (a refresh indexes source after source)."""

    def __init__(self, unit: str = "chunk") -> None:
        self.unit = unit
        self.bar: Any = None

    def __call__(self, done: int, total: int, desc: str) -> None:
        from tqdm import tqdm

        if self.bar is None or (done == 0 and self.bar.n) or total != self.bar.total:
            self.close()
            self.bar = tqdm(total=total, desc=desc, unit=self.unit, file=sys.stderr, disable=total == 0)
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def index_items_with_progress(assistant: Any, items: Any, *, prune: bool = False,
                              on_failure: Callable[[Any], None] | None = None) -> Any:
    """`index_with_progress` for already-read items (articles and failures, e.g. from URLs)."""
    bar = ProgressBar()
    try:
        return assistant.indexer.index_items(reported(items, on_failure), prune=prune, progress=bar,
                                             on_wait=lambda msg: print(msg, file=sys.stderr))
    finally:
        bar.close()


def quiet_broken_pipe() -> None:
    """The reader of stdout went away (`| head`): stop without a traceback, as Unix tools do. Python would
    otherwise complain again when it flushes stdout at exit, so point stdout at /dev/null first."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
