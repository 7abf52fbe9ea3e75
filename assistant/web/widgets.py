"""What the sections of the page share (`chat_tab`, `library_tab` and `api`, put together by `ui.build_ui`):
the event options, the note under the question box and the status boxes of the Library tab, Gradio's progress
bar as the `(done, total, desc)` callback the library reports to, user-fixable errors shown as Gradio's
one-line error, the filters as the search takes them, waiting for the first-start work, and the button that
downloads the saved test questions."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from assistant.service import offline_environment, search_filters

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.errors import AssistantError, IndexingError
from assistant.types import SearchFilters
from assistant.web import render
from assistant.web.feedback import FeedbackStore
from assistant.web.library import plural
from assistant.web.startup import Readiness

OUTLET_JOIN = "\n"  # between the stored outlets one choice of the Outlets box stands for (no outlet holds one)
PRIVATE: dict[str, Any] = {"api_visibility": "private"}  # an event that is not part of the public API
QUIET: dict[str, Any] = {**PRIVATE, "show_progress": "hidden"}  # ... and shows no progress over its outputs
# Writes to the index, one at a time: uploads, deletions and their undo, Reindex, Refresh now.
LIBRARY_WRITE: dict[str, Any] = {**PRIVATE, "concurrency_id": "library-write", "concurrency_limit": 1}


def parse_filters(outlets: Sequence[str] | None, date_from: str, date_to: str) -> SearchFilters:
    """The outlets and publication dates of the Filters box (or of `/ask`) as the search takes them; a bad
    date is a one-line `AssistantError`. A choice of the Outlets box may stand for several stored outlets
    (`OUTLET_JOIN`: "www.x.com" and "x.com" are one choice)."""
    return search_filters([s for o in outlets or () for s in o.split(OUTLET_JOIN) if s], date_from, date_to)


def wait_until_ready(readiness: Readiness) -> None:
    """Block until the first-start work is done; its failure becomes the error a question gets."""
    if not readiness.wait():
        raise AssistantError(readiness.note())


def status_html(text: str) -> str:
    """A result line of the Library tab (uploads, deletions, Reindex, the saved sources)."""
    return f'<div class="library-result">{render.inert(text)}</div>' if text else ""


def chat_note(text: str, *, error: bool = False) -> str:
    """A line under the question box (instead of a toast, which would cover the sources panel)."""
    kind = "chat-note error" if error else "chat-note"
    return f'<div class="{kind}" role="status">{render.inert(text)}</div>' if text else ""


def progress_reporter(progress: Any) -> Callable[[int, int, str], None]:
    """Gradio's progress bar as the callback the library and the indexer report chunks to."""

    def report(done: int, total: int, desc: str) -> None:
        if total:
            progress((done, total), desc=desc, unit="chunks")

    return report


@contextmanager
def shown_as_error() -> Iterator[None]:
    """A user-fixable error inside a Library action or an API call becomes Gradio's one-line error."""
    try:
        yield
    except (AssistantError, IndexingError) as exc:
        raise gr.Error(str(exc)) from exc


def download_button(feedback: FeedbackStore) -> gr.DownloadButton:
    """The Library's download of the saved test questions, as it should read now (off while there are none)."""
    count = feedback.saved_count()
    label = f"Download saved test questions ({plural(count, 'question')})"
    return gr.DownloadButton(label, value=str(feedback.questions_path) if count else None, interactive=bool(count))
