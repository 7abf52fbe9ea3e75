"""`assistant watch DIR...`: keep the index in step with folders as files appear, change or disappear.

Owns turning `watchfiles` change sets into index updates. At start each folder is synced once (read
whole, like a folder source's refresh: new and changed files indexed, articles of files gone since the
last sync or watch removed). Then changes are debounced (`watchfiles` groups changes until none came for
`step_ms`, at most `debounce_ms`), and each batch is: the added or modified supported files read and
indexed (an unchanged file is found unchanged and not embedded again, so a file written in two bursts is
still embedded once), the articles of deleted files (or of JSONL lines no longer in a file) removed, and
the folder's state (file -> article ids, shared with a saved folder source) saved after that commit.
Hidden files and unsupported suffixes are ignored, as `assistant index` does.

Stopping: `stop` (a threading.Event) is checked between batches and while waiting; the CLI sets it on
Ctrl-C, so a batch being indexed finishes first. It does not parse files itself (`index.intake.articles`) nor
know about the command line.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from pathlib import Path

from index.indexer import IndexSummary, ProgressFn
from index.intake.articles import SUPPORTED_SUFFIXES, iter_folder
from index.sources import Sources, now_iso

BatchFn = Callable[[Path, int, IndexSummary], None]  # (folder, files in the batch, summary)


def _wanted(root: Path, path: Path) -> bool:
    try:
        rel = path.relative_to(root)
    except ValueError:
        return False
    return not any(part.startswith(".") for part in rel.parts)


def apply_changes(sources: Sources, root: Path, changed: Iterable[Path], deleted: Iterable[Path], *,
                  progress: ProgressFn | None = None, on_wait: Callable[[str], None] | None = None,
                  on_start: Callable[[Path, int], None] | None = None) -> tuple[int, IndexSummary]:
    """Index `changed` files and drop the articles of `deleted` paths (files or folders) under `root`;
    returns (files handled, summary)."""
    root = root.resolve()
    files: set[Path] = set()
    for path in changed:
        if path.is_dir():
            files.update(p for p in iter_folder(path) if _wanted(root, p))
        elif path.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES and _wanted(root, path):
            files.add(path)
    gone_rels: set[str] = set()
    with sources.refresh_lock(on_wait):
        state = sources.state(str(root))
        state.kind = "folder"
        for path in deleted:
            if path.exists() or not _wanted(root, path):
                continue
            rel = path.relative_to(root).as_posix()
            gone_rels.update(r for r in state.files if r == rel or r.startswith(rel + "/"))
        if not files and not gone_rels:
            return 0, IndexSummary()
        if on_start:
            on_start(root, len(files) + len(gone_rels))
        previous = dict(state.files)
        summary, read = sources.index_files(root, sorted(files), previous, progress=progress, on_wait=on_wait)
        new_files = {**{r: ids for r, ids in previous.items() if r not in gone_rels}, **read}
        still = {aid for ids in new_files.values() for aid in ids}
        before = {aid for rel in [*gone_rels, *read] for aid in previous.get(rel, [])}
        drop = sorted(before - still)
        if drop:
            removed = sources.indexer.remove(drop, on_wait=on_wait)
            summary.removed += len(removed)
            summary.removed_ids += removed
        state.files = new_files
        state.articles_added += summary.added
        state.last_check = now_iso()
        state.last_error = str(summary.failures[0]) if summary.failures else ""
        sources.save_state(state)
    return len(files) + len(gone_rels), summary


def sync_folder(sources: Sources, root: Path, *, progress: ProgressFn | None = None,
                on_wait: Callable[[str], None] | None = None) -> IndexSummary:
    """Bring the index in line with the folder as it is now (prune what its files no longer give)."""
    root = root.resolve()
    with sources.refresh_lock(on_wait):
        state = sources.state(str(root))
        return sources.refresh_folder(state, progress=progress, on_wait=on_wait)


def watch_folders(sources: Sources, roots: list[Path], *, stop: threading.Event, on_batch: BatchFn,
                  on_ready: Callable[[], None] | None = None, progress: ProgressFn | None = None,
                  on_start: Callable[[Path, int], None] | None = None,
                  on_wait: Callable[[str], None] | None = None, debounce_ms: int = 1600,
                  step_ms: int = 300, force_polling: bool | None = None) -> None:
    """Sync each folder, then index changes batch by batch until `stop` is set."""
    import watchfiles

    roots = [r.resolve() for r in roots]
    # The watcher is started (and has yielded once, empty) before the first sync, so no change made
    # after "watching" is printed, or during the sync, is missed; one seen twice is found unchanged.
    changes_seen = watchfiles.watch(*roots, stop_event=stop, debounce=debounce_ms, step=step_ms,
                                    raise_interrupt=False, force_polling=force_polling, watch_filter=None,
                                    yield_on_timeout=True, rust_timeout=1000)
    pending = next(changes_seen, set())
    for root in roots:
        on_batch(root, -1, sync_folder(sources, root, progress=progress, on_wait=on_wait))
        if stop.is_set():
            return
    if on_ready:
        on_ready()
    while not stop.is_set():
        changes = pending or next(changes_seen, None)
        pending = set()
        if changes is None:
            break
        by_root: dict[Path, tuple[set[Path], set[Path]]] = {}
        for change, name in changes:
            path = Path(name)
            root = next((r for r in roots if path == r or r in path.parents), None)
            if root is None:
                continue
            changed, deleted = by_root.setdefault(root, (set(), set()))
            if change == watchfiles.Change.deleted or not path.exists():
                deleted.add(path)
                changed.discard(path)
            else:
                changed.add(path)
                deleted.discard(path)
        for root, (changed, deleted) in by_root.items():
            n, summary = apply_changes(sources, root, changed, deleted, progress=progress, on_wait=on_wait,
                                       on_start=on_start)
            if n:
                on_batch(root, n, summary)
