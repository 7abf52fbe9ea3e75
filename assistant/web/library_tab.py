"""The Library tab, section by section: the articles (the drop area, what the index holds, Reindex, the
download of saved test questions, search, the table, deleting with undo) and the saved sources (feeds,
pages and folders, Add, Remove, Refresh now). Each section builds its components and wires its events as
named handlers over `assistant.web.library.Library` and `assistant.web.sources_panel.SourcesPanel`, which hold
the logic.

Over 300 lines because it holds every section of the tab with its event wiring; each section is its own short
function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from assistant.service import IndexSummary, offline_environment

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.errors import AssistantError, IndexingError
from assistant.web import render
from assistant.web.feedback import FeedbackStore
from assistant.web.library import ALLOWED_SUFFIXES, Deleted, Library, added_titles, plural, summary_text
from assistant.web.sources_panel import SOURCE_HEADERS, SourcesPanel
from assistant.web.widgets import (
    LIBRARY_WRITE,
    OUTLET_JOIN,
    PRIVATE,
    download_button,
    progress_reporter,
    shown_as_error,
    status_html,
)

LIBRARY_HEADERS = ["ID", "Title", "Outlet", "Date", "Chunks"]

# What follows a write to the index: given the write's event, chains the updates of everything that shows
# the index (the table, the outlets, the empty chat's summary).
AfterWrite = Callable[[Any], Any]


def summary_lines(summary: IndexSummary) -> str:
    """Reindex's result: the summary line, then one line per failure and per note."""
    lines = [summary_text(summary)]
    lines += [f"\u2717 {failure}" for failure in summary.failures]
    lines += [f"note: {note}" for note in summary.notes]
    return "\n".join(lines)


def hidden_group() -> gr.Group:
    return gr.Group(visible=False)


class Articles:
    """The indexed articles: drop files to index them, the counts, Reindex, the download of saved test
    questions, a search over the table, and deleting the selected articles (asked first, undone while the
    page is open)."""

    def __init__(self, library: Library, feedback: FeedbackStore) -> None:
        self.library = library
        self.feedback = feedback

    def build(self) -> None:
        library = self.library
        gr.Markdown(f"**Drop articles here to index them**: {', '.join(ALLOWED_SUFFIXES)} files, at most "
                    f"{library.max_files} files of {library.max_bytes / 1e6:g} MB each; indexing starts as "
                    "soon as they are dropped.", elem_id="library-files-help")
        self.files = gr.File(label="Articles to index", show_label=False, file_count="multiple",
                             file_types=list(ALLOWED_SUFFIXES), elem_id="library-files", height=120)
        self.status = gr.HTML("", elem_id="library-status")
        with gr.Row():
            self.stats = gr.Markdown(elem_id="library-stats")
            self.reindex_btn = gr.Button("Reindex", elem_id="library-reindex", size="sm", scale=0, min_width=100)
            self.download = gr.DownloadButton("Download saved test questions", elem_id="download-questions",
                                              size="sm", scale=0, min_width=260, interactive=False)
        with gr.Row():
            self.search = gr.Textbox(label="Search articles", placeholder="title, outlet, date or id",
                                     elem_id="library-search", scale=4)
            self.refresh_btn = gr.Button("Refresh", scale=1, elem_id="library-refresh")
        self.table = gr.Dataframe(headers=LIBRARY_HEADERS, datatype=["str", "str", "str", "str", "number"],
                                  interactive=False, elem_id="library-table", max_height=420, wrap=True,
                                  column_widths=["20%", "42%", "17%", "13%", "8%"])
        with gr.Row():
            self.selected = gr.Dropdown(label="Selected articles (click rows to add)", choices=[],
                                        multiselect=True, elem_id="library-selected", scale=4)
            self.delete_btn = gr.Button("Delete selected", variant="stop", scale=1, elem_id="library-delete")
        with gr.Group(visible=False, elem_id="delete-confirm") as self.delete_confirm:
            self.delete_text = gr.HTML("", padding=False)
            with gr.Row():
                self.delete_yes = gr.Button("Delete", variant="stop", size="sm", elem_id="delete-yes")
                self.delete_no = gr.Button("Keep it", size="sm", elem_id="delete-no")
        self.undo_state = gr.State([])
        self.undo_btn = gr.Button("Undo", size="sm", visible=False, elem_id="library-undo")

    def refreshed(self, outlets: gr.Dropdown) -> list[Any]:
        """What `refresh` updates: the table, the selection, the chat's outlet filter, the counts, the download."""
        return [self.table, self.selected, outlets, self.stats, self.download]

    def refreshing(self, event: Any, outlets: gr.Dropdown) -> Any:
        """`event`, then the lists brought up to date."""
        return event.then(self.refresh, [self.search, self.selected], self.refreshed(outlets), **PRIVATE)

    def wire(self, demo: gr.Blocks, outlets: gr.Dropdown, after_write: AfterWrite) -> None:
        demo.load(self.refresh, [self.search, self.selected], self.refreshed(outlets), **PRIVATE)
        self.search.change(self.library_rows, [self.search], [self.table], **PRIVATE)
        self.table.select(self.select_row, [self.selected], [self.selected], **PRIVATE)
        self.delete_btn.click(self.ask_to_delete, [self.selected], [self.delete_confirm, self.delete_text,
                                                                     self.status], **PRIVATE)
        self.delete_no.click(hidden_group, None, [self.delete_confirm], **PRIVATE)
        after_write(self.delete_yes.click(self.delete, [self.selected, self.undo_state],
                                          [self.delete_confirm, self.status, self.undo_state, self.undo_btn],
                                          **LIBRARY_WRITE))
        after_write(self.undo_btn.click(self.undo_delete, [self.undo_state],
                                        [self.status, self.undo_state, self.undo_btn], **LIBRARY_WRITE))
        after_write(self.files.upload(self.upload, [self.files], [self.status, self.files], **LIBRARY_WRITE))
        after_write(self.reindex_btn.click(self.reindex, None, [self.status], **LIBRARY_WRITE))

    # ------------------------------------------------------------------ handlers

    def library_rows(self, query: str) -> list[list[Any]]:
        return [[a.article_id, a.title, render.outlet_name(a.source), a.published_at, a.chunks]
                for a in self.library.articles(query)]

    def refresh(self, query: str, selected: list[str] | None) -> tuple:
        articles = self.library.articles()
        ids = [a.article_id for a in articles]
        choices = [(f"{a.title[:80] or a.article_id} ({a.article_id})", a.article_id) for a in articles]
        outlets = outlet_choices(a.source for a in articles)
        stats = f"{plural(len(articles), 'article')}, {plural(sum(a.chunks for a in articles), 'passage')}"
        return (self.library_rows(query), gr.Dropdown(choices=choices, value=[s for s in selected or [] if s in ids]),
                gr.Dropdown(choices=outlets), stats, download_button(self.feedback))

    def select_row(self, selected: list[str] | None, evt: gr.SelectData) -> list[str]:
        row = evt.row_value or []
        chosen = list(selected or [])
        if row and row[0] and row[0] not in chosen:
            chosen.append(str(row[0]))
        return chosen

    def ask_to_delete(self, selected: list[str] | None) -> tuple:
        """Name what would be deleted and ask first."""
        if not selected:
            return (gr.Group(visible=False), "",
                    status_html("Select articles to delete first: click their rows in the table or pick them "
                                "in the list."))
        names = self.library.snapshot(selected).names() or ", ".join(selected)
        text = (f"Delete {names}? Answers will no longer use or cite it. You can undo this while this page is "
                "open.")
        return gr.Group(visible=True), f'<div class="confirm-text">{render.inert(text)}</div>', ""

    def delete(self, selected: list[str] | None, undo: list[Deleted] | None) -> tuple:
        undo = list(undo or [])
        if not selected:
            return gr.Group(visible=False), "", undo, gr.Button(visible=bool(undo))
        with shown_as_error():
            taken = self.library.snapshot(selected)
            removed = self.library.delete(selected)
        missing = [a for a in selected if a not in removed]
        if taken.articles:
            undo.append(taken)
        text = f"Deleted {taken.names()}." if taken.articles else "Nothing was deleted."
        if missing:
            text += f" Not in the index: {', '.join(missing)}"
        label = f"Undo: restore {plural(len(taken.articles), 'article')}" if undo else "Undo"
        return gr.Group(visible=False), status_html(text), undo, gr.Button(label, visible=bool(undo))

    def undo_delete(self, undo: list[Deleted] | None, progress=gr.Progress()) -> tuple:  # noqa: B008 - Gradio injects it
        undo = list(undo or [])
        if not undo:
            return status_html("Nothing to undo."), undo, gr.Button(visible=False)
        taken = undo.pop()
        with shown_as_error():
            self.library.undo(taken, progress=progress_reporter(progress))
        label = f"Undo: restore {plural(len(undo[-1].articles), 'article')}" if undo else "Undo"
        return status_html(f"Restored {taken.names()}."), undo, gr.Button(label, visible=bool(undo))

    def upload(self, files: list[str] | None,
               progress=gr.Progress()) -> tuple[str, None]:  # noqa: B008 - Gradio injects it
        paths = [Path(f) for f in files or []]
        if not paths:  # the upload area was cleared
            return gr.skip(), gr.skip()
        with shown_as_error():
            result = self.library.upload(paths, progress=progress_reporter(progress))
        return status_html(result.text()), None

    def reindex(self, progress=gr.Progress()) -> str:  # noqa: B008 - Gradio injects it
        with shown_as_error():
            return status_html(summary_lines(self.library.reindex(progress=progress_reporter(progress))))


class SavedSources:
    """Feeds, pages and folders the library follows (`SourcesPanel`): the list, Add, Remove, and Refresh
    now, which indexes what is new like `assistant refresh`."""

    def __init__(self, panel: SourcesPanel, library: Library) -> None:
        self.panel = panel
        self.library = library

    def build(self) -> None:
        gr.Markdown("### Sources\nFeeds, pages and folders this library follows: *Refresh now* polls each "
                    "once and indexes what is new (like `assistant refresh`).", elem_id="library-sources-intro")
        with gr.Row():
            self.location = gr.Textbox(label="Add a source", placeholder="https://... feed or page URL, or a "
                                       "folder path on this machine", elem_id="source-location", scale=4,
                                       max_lines=1)
            self.add = gr.Button("Add source", scale=1, elem_id="source-add")
        self.table = gr.Dataframe(headers=SOURCE_HEADERS, datatype=["str", "str", "str", "number", "str"],
                                  interactive=False, elem_id="sources-table", wrap=True,
                                  column_widths=["8%", "40%", "16%", "10%", "26%"])
        with gr.Row():
            self.selected = gr.Dropdown(label="Saved source", choices=[], elem_id="source-selected", scale=3)
            self.remove = gr.Button("Remove source", scale=1, elem_id="source-remove")
            self.refresh_now = gr.Button("Refresh now", variant="primary", scale=1, elem_id="sources-refresh")
        self.note = gr.HTML("", elem_id="sources-note")
        self.status = gr.HTML("", elem_id="sources-status")

    def wire(self, demo: gr.Blocks, articles: Articles, after_write: AfterWrite) -> None:
        """`articles`: the section above, whose Refresh button refreshes the saved sources too and says
        there what it added."""
        listed = [self.table, self.selected, self.note]
        demo.load(self.source_rows, None, listed, **PRIVATE)
        after_write(articles.refresh_btn.click(self.refresh_library, None, [articles.status],
                                               concurrency_id="sources-refresh", concurrency_limit=None,
                                               **PRIVATE).then(self.source_rows, None, listed, **PRIVATE))
        self.add.click(self.add_source, [self.location], [self.status, self.location], **PRIVATE).then(
            self.source_rows, None, listed, **PRIVATE)
        self.location.submit(self.add_source, [self.location], [self.status, self.location], **PRIVATE).then(
            self.source_rows, None, listed, **PRIVATE)
        self.remove.click(self.remove_source, [self.selected], [self.status], **PRIVATE).then(
            self.source_rows, None, listed, **PRIVATE)
        # Not queued behind a running refresh: a second request reaches the panel and is told one is running.
        after_write(self.refresh_now.click(self.refresh_sources, None, [self.status], concurrency_id="sources-refresh",
                                       concurrency_limit=None, **PRIVATE).then(self.source_rows, None, listed,
                                                                               **PRIVATE))

    # ------------------------------------------------------------------ handlers

    def source_rows(self) -> tuple:
        return (self.panel.rows(), gr.Dropdown(choices=self.panel.locations(), value=None),
                status_html(self.panel.note()))

    def add_source(self, location: str, request: gr.Request) -> tuple:
        try:
            return status_html(self.panel.add(location, username=getattr(request, "username", None))), ""
        except (AssistantError, IndexingError) as exc:
            return status_html(f"\u2717 {exc}"), gr.skip()

    def remove_source(self, location: str | None) -> str:
        try:
            return status_html(self.panel.remove(location or ""))
        except (AssistantError, IndexingError) as exc:
            return status_html(f"\u2717 {exc}")

    def refreshed_text(self, progress: Any) -> tuple[str, bool]:
        """Refresh every saved source now: `assistant refresh`'s summary line, then each article it added, by
        title, then its failures; and whether it ran (False: another refresh was running)."""
        with shown_as_error():
            outcome = self.panel.refresh(progress=progress_reporter(progress))
        lines = outcome.text.splitlines()
        if outcome.summary is not None and outcome.summary.added_ids:  # what was added, by title
            lines[1:1] = added_titles(outcome.summary, self.library.articles())
        return "\n".join(lines), outcome.ran

    def refresh_sources(self, progress=gr.Progress()) -> str:  # noqa: B008 - Gradio injects it
        return status_html(self.refreshed_text(progress)[0])

    def refresh_library(self, progress=gr.Progress()) -> str:  # noqa: B008 - Gradio injects it
        """The articles' Refresh: the saved sources refreshed (like *Refresh now*), then the lists."""
        saved = len(self.panel.locations())
        if not saved:
            return status_html("No saved sources to refresh (add a feed, page or folder under Sources below); "
                               "the list shows what the index holds now.")
        text, ran = self.refreshed_text(progress)
        return status_html(f"Refreshed {plural(saved, 'saved source')}: {text}" if ran else text)


def outlet_choices(sources: Iterable[str]) -> list[tuple[str, str]]:
    """The Outlets box's (label, value) choices. The filter matches outlets as stored; a bare host name is
    offered tidied ("usatoday.com"), once for all the ways it is stored ("www.usatoday.com" and
    "usatoday.com": one choice whose value names both, split again by `parse_filters`)."""
    stored: dict[str, set[str]] = {}
    for source in sources:
        if source and source != "uploaded file":
            stored.setdefault(render.outlet_name(source), set()).add(source)
    return sorted(((name, OUTLET_JOIN.join(sorted(found))) for name, found in stored.items()),
                  key=lambda o: (o[0].lower(), o[1]))


class LibraryTab:
    """The sections of the Library tab, one under the other: the articles, then the saved sources."""

    def __init__(self, library: Library, panel: SourcesPanel, feedback: FeedbackStore) -> None:
        self.articles = Articles(library, feedback)
        self.sources = SavedSources(panel, library)

    def build(self) -> None:
        with gr.Tab("Library", id="library"):
            self.articles.build()
            self.sources.build()

    def wire(self, demo: gr.Blocks, outlets: gr.Dropdown, after_write: AfterWrite) -> None:
        self.articles.wire(demo, outlets, after_write)
        self.sources.wire(demo, self.articles, after_write)
