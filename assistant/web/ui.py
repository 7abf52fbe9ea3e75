"""The browser app (Gradio): a chat with streamed, cited answers beside a sources panel, and a Library tab.
The chat has an as-of date beside the question box (empty = today): nothing published later is used, and
"this week" or "in March" in a question count back from it.

Owns the page layout, event wiring and serving (host, port, optional login, the start-up warning for an
open non-loopback bind, the named API endpoints `ask`, the same JSON as `assistant ask --json`, and
`save_test_question`). Answers come from `Assistant.ask_stream`, follow-ups are rewritten by a `Condenser`
(`assistant.answering.chat`), all HTML comes from `assistant.web.render`, article management from
`assistant.web.library`, saved sources (feeds, pages, folders) and their refresh, by the button or every
`ASSISTANT_REFRESH_MINUTES`, from `assistant.web.sources_panel`, saved test questions and 👍/👎 from
`assistant.web.feedback`, and first-start work runs in the background (`assistant.web.startup`: the page
is served at once, with a "getting ready" note).
Each browser session keeps its own conversation in `gr.State`. It imports nothing from `index`: what it
needs of it comes through `assistant.service`, `assistant.types` and `assistant.errors`.
Over 300 lines because a Gradio Blocks layout and its event handlers must be declared in one function
(`build_ui`); the logic they call lives in the modules above.
"""

from __future__ import annotations

import ipaddress
import math
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.service import Assistant, IndexSummary, clean_question, offline_environment, search_filters

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.answering.chat import ChatSession, Condenser
from assistant.errors import AssistantError, ConfigError, IndexingError
from assistant.retrieval.timewindow import parse_as_of
from assistant.settings import PROJECT_ROOT, Settings
from assistant.types import Answer, SearchFilters
from assistant.web import render
from assistant.web.dates import PRESETS, DateNotUnderstood, said_back, understand_date
from assistant.web.feedback import FeedbackStore, SavedQuestion, article_choices
from assistant.web.library import (
    ALLOWED_SUFFIXES,
    Deleted,
    Library,
    added_titles,
    corpus_summary,
    plural,
    summary_text,
)
from assistant.web.sources_panel import SOURCE_HEADERS, SourcesPanel
from assistant.web.startup import Readiness

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
                "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
LIBRARY_HEADERS = ["ID", "Title", "Outlet", "Date", "Chunks"]


def load_examples(path: Path = PROJECT_ROOT / "samples" / "EXAMPLES.txt") -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return []


FEEDBACK_OPTIONS = ("Like", "Dislike", "Save as test question")


def parse_filters(outlets: Sequence[str] | None, date_from: str, date_to: str) -> SearchFilters:
    return search_filters(outlets, date_from, date_to)


def _messages(session: ChatSession, pending: tuple[str, str] | None = None,
              uploads: render.Uploads | None = None) -> list[dict[str, str]]:
    messages = []
    for turn_no, turn in enumerate(session.turns, start=1):
        messages.append({"role": "user", "content": render.user_message(turn.question)})
        messages.append({"role": "assistant", "content": render.answer_message(turn.answer, turn_no, uploads=uploads)})
    if pending is not None:
        messages.append({"role": "user", "content": render.user_message(pending[0])})
        messages.append({"role": "assistant", "content": pending[1]})
    return messages


def _summary_text(summary: IndexSummary) -> str:
    lines = [summary_text(summary)]
    lines += [f"\u2717 {failure}" for failure in summary.failures]
    lines += [f"note: {note}" for note in summary.notes]
    return "\n".join(lines)


def _status_html(text: str) -> str:
    return f'<div class="library-result">{render.inert(text)}</div>' if text else ""


def _chat_note(text: str, *, error: bool = False) -> str:
    """A line under the question box (instead of a toast, which would cover the sources panel)."""
    kind = "chat-note error" if error else "chat-note"
    return f'<div class="{kind}" role="status">{render.inert(text)}</div>' if text else ""


def _as_of_note(text: str) -> str:
    """What the As-of box was understood as, said back ("As of Friday 3 February 2023"), or why not."""
    try:
        day = understand_date(text)
    except DateNotUnderstood as exc:
        return f'<span class="as-of-bad">\u2717 {render.inert(str(exc))}</span>'
    if not (text or "").strip():
        return f'<span class="as-of-said">As of today, {render.inert(said_back(day).removesuffix(" (today)"))}</span>'
    return f'<span class="as-of-said">As of {render.inert(said_back(day))}</span>'


# The pace of the chat's answer: the extractive answerer writes its whole answer in a few milliseconds, so
# the page reveals it, short answer first, then the sentences a few words at a time, over at most
# REVEAL_MAX_S (about 20 ms a word). A writer slower than LIVE_AFTER_S (an LLM) is shown as it writes.
REVEAL_STEP_S = 0.05
REVEAL_MAX_S = 0.6
REVEAL_S_PER_WORD = 0.02
LIVE_AFTER_S = 0.25


def reveal_steps(n_words: int) -> list[int]:
    """How many words each step of the reveal shows (the last step shows them all)."""
    if n_words <= 0:
        return []
    steps = max(2, min(n_words, round(min(REVEAL_MAX_S, n_words * REVEAL_S_PER_WORD) / REVEAL_STEP_S)))
    size = math.ceil(n_words / steps)
    return list(range(size, n_words, size)) + [n_words]


def _progress_fn(progress: Any):
    def report(done: int, total: int, desc: str) -> None:
        if total:
            progress((done, total), desc=desc, unit="chunks")

    return report


@contextmanager
def _shown_as_error() -> Iterator[None]:
    """A user-fixable error inside a Library action or an API call becomes Gradio's one-line error."""
    try:
        yield
    except (AssistantError, IndexingError) as exc:
        raise gr.Error(str(exc)) from exc


def build_ui(assistant: Assistant, *, condenser: Condenser | None = None, library: Library | None = None,
             examples: Sequence[str] | None = None, readiness: Readiness | None = None,
             feedback: FeedbackStore | None = None, sources_panel: SourcesPanel | None = None) -> gr.Blocks:
    condenser = condenser or assistant.condenser
    library = library or Library.from_assistant(assistant)
    panel = sources_panel or SourcesPanel.from_assistant(assistant, exposed=not is_loopback(assistant.settings.host))
    examples = list(load_examples() if examples is None else examples)
    readiness = readiness or Readiness.ready()
    feedback = feedback or FeedbackStore(assistant.settings.data_dir)

    def wait_until_ready() -> None:
        if not readiness.wait():
            raise AssistantError(readiness.note())

    # ------------------------------------------------------------------ chat handlers

    def respond(message: str, session: ChatSession, outlets: list[str] | None, date_from: str, date_to: str,
                as_of: str | None = None) -> Iterator[tuple]:  # None default: /chat callers may omit it
        session = session if isinstance(session, ChatSession) else ChatSession()
        try:
            question = clean_question(message)
            filters = parse_filters(outlets, date_from, date_to)
            day = understand_date(as_of)  # "" = today, resolved now: the whole turn uses one day
        except (AssistantError, IndexingError) as exc:
            # change nothing else: a generator that ends without yielding would blank the question and the chat
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), _chat_note(str(exc), error=True)
            return
        turn_no = len(session.turns) + 1
        placeholder = Answer(question=question, answer="", abstained=False)
        uploads = library.upload_dates()
        if not readiness.is_ready:
            waiting = '<span class="thinking">Getting ready; your question is answered in a moment&#8230;</span>'
            yield ("", _messages(session, (question, waiting), uploads),
                   render.sources_panel(session.answers, pending=placeholder, uploads=uploads), gr.skip(), "")
            try:
                wait_until_ready()
            except AssistantError as exc:
                yield (message, _messages(session, uploads=uploads), render.sources_panel(session.answers), session,
                       _chat_note(str(exc), error=True))
                return
            uploads = library.upload_dates()
        yield ("", _messages(session, (question, render.answer_message(placeholder, turn_no, final=False)), uploads),
               render.sources_panel(session.answers, pending=placeholder, uploads=uploads), gr.skip(), "")
        final: Answer | None = None
        live = False  # True once the writer proved slow: its words are then shown as they come
        first_words = None
        try:
            standalone = condenser.condense(question, session.turns)  # may call an LLM: after the echo
            for final in assistant.ask_stream(question, filters=filters, standalone=standalone, as_of=day):
                if final.citations or final.abstained:
                    break  # the last item: revealed and rendered below with its sources
                first_words = first_words or time.perf_counter()
                if live or time.perf_counter() - first_words > LIVE_AFTER_S:
                    live = True
                    yield (gr.skip(), _messages(session, (question, render.answer_message(final, turn_no,
                                                                                          final=False)), uploads),
                           gr.skip(), gr.skip(), gr.skip())
        except (AssistantError, IndexingError) as exc:
            yield (message, _messages(session, uploads=uploads), render.sources_panel(session.answers, uploads=uploads),
                   session, _chat_note(str(exc), error=True))
            return
        if final is None:  # pragma: no cover - ask_stream always yields a final answer
            return
        if not live:  # written at once: shown at a pace a reader can follow, the short answer first
            steps = reveal_steps(render.word_count(final.answer))
            if final.short_answer and not final.abstained:
                steps = [0, *steps]
            for shown in steps[:-1]:
                yield (gr.skip(), _messages(session, (question, render.answer_message(
                    final, turn_no, uploads=uploads, words=shown)), uploads), gr.skip(), gr.skip(), gr.skip())
                time.sleep(REVEAL_STEP_S)
        session.add(final)
        yield ("", _messages(session, uploads=uploads), render.sources_panel(session.answers, uploads=uploads), session,
               gr.skip())

    def new_chat():
        return "", [], render.sources_panel([]), ChatSession(), gr.Group(visible=False), ""

    def chat_placeholder() -> str:
        note = readiness.note()
        summary = corpus_summary(library.articles()) if readiness.is_ready else ""
        return render.empty_chat(summary, note, failed=bool(readiness.error))

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def watch_ready() -> Iterator[Any]:
        """The empty chat's "getting ready" note, then the line saying what the index holds once the first
        question can be answered."""
        yield gr.Chatbot(placeholder=chat_placeholder())
        if readiness.note():
            readiness.wait()
            yield gr.Chatbot(placeholder=chat_placeholder())

    def corpus_changed():
        return gr.Chatbot(placeholder=chat_placeholder())

    # ------------------------------------------------------------------ feedback handlers

    def _turn_of(session: ChatSession, index: Any) -> Answer | None:
        index = index[0] if isinstance(index, (list, tuple)) else index
        turns = session.turns if isinstance(session, ChatSession) else []
        if not isinstance(index, int) or index % 2 != 1 or not 0 <= index // 2 < len(turns):
            return None
        return turns[index // 2].answer

    def on_feedback(session: ChatSession, evt: gr.LikeData):
        answer = _turn_of(session, evt.index)
        thanks = ""
        hidden = (gr.Group(visible=False), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())
        if answer is None:
            return (*hidden, "")
        if evt.liked in (True, False):
            feedback.record_feedback(answer, "up" if evt.liked else "down")
            thanks = "Thanks: your rating is kept on this machine (feedback.jsonl in the data folder)."
            if evt.liked:
                return (*hidden, _chat_note(thanks))
            expected = ""  # a thumbs-down: offer to save the right answer as a question to check later
        elif evt.liked == FEEDBACK_OPTIONS[2]:
            expected = answer.short_answer
        else:
            return (*hidden, "")
        case = SavedQuestion.from_answer(answer)
        return (gr.Group(visible=True), evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index,
                case.question, expected,
                gr.Dropdown(choices=article_choices(answer), value=list(case.evidence_ids)), case.asked_at,
                _chat_note(thanks))

    def save_from_form(session: ChatSession, index: Any, question: str, expected: str,
                       evidence: list[str] | None, asked_at: str):
        answer = _turn_of(session, index)
        if answer is None:
            return gr.Group(visible=False), gr.skip(), _chat_note("That answer is no longer in the chat.", error=True)
        base = SavedQuestion.from_answer(answer, correction=expected)
        chosen = tuple(e for e in evidence or [] if e) or base.evidence_ids
        try:
            text = clean_question(question)
            day = understand_date(asked_at).isoformat() if (asked_at or "").strip() else ""
            line = feedback.save_test_question(SavedQuestion(text, base.answer, chosen if not base.unanswerable
                                                             else (), day, base.unanswerable))
        except (AssistantError, IndexingError) as exc:
            return gr.skip(), gr.skip(), _chat_note(str(exc), error=True)
        count = feedback.saved_count()
        return (gr.Group(visible=False), _download_button(),
                _chat_note(f"Saved: question {count} to check ({line['id']}). The Library tab offers the saved "
                           "questions for download."))

    # ------------------------------------------------------------------ library handlers

    def library_rows(query: str) -> list[list[Any]]:
        return [[a.article_id, a.title, a.source, a.published_at, a.chunks] for a in library.articles(query)]

    def _download_button():
        path = feedback.questions_path
        count = feedback.saved_count()
        label = f"Download saved test questions ({plural(count, 'question')})"
        return gr.DownloadButton(label, value=str(path) if count else None, interactive=bool(count))

    def refresh(query: str, selected: list[str] | None):
        articles = library.articles()
        ids = [a.article_id for a in articles]
        choices = [(f"{a.title[:80] or a.article_id} ({a.article_id})", a.article_id) for a in articles]
        outlets = sorted({a.source for a in articles if a.source and a.source != "uploaded file"}, key=str.lower)
        stats = f"{plural(len(articles), 'article')}, {plural(sum(a.chunks for a in articles), 'passage')}"
        return (library_rows(query), gr.Dropdown(choices=choices, value=[s for s in selected or [] if s in ids]),
                gr.Dropdown(choices=outlets), stats, _download_button())

    def select_row(selected: list[str] | None, evt: gr.SelectData) -> list[str]:
        row = evt.row_value or []
        chosen = list(selected or [])
        if row and row[0] and row[0] not in chosen:
            chosen.append(str(row[0]))
        return chosen

    def ask_to_delete(selected: list[str] | None):
        """Name what would be deleted and ask first."""
        if not selected:
            return (gr.Group(visible=False), "",
                    _status_html("Select articles to delete first: click their rows in the table or pick them "
                                 "in the list."))
        names = library.snapshot(selected).names() or ", ".join(selected)
        text = (f"Delete {names}? Answers will no longer use or cite it. You can undo this while this page is "
                "open.")
        return gr.Group(visible=True), f'<div class="confirm-text">{render.inert(text)}</div>', ""

    def delete(selected: list[str] | None, undo: list[Deleted] | None):
        undo = list(undo or [])
        if not selected:
            return gr.Group(visible=False), "", undo, gr.Button(visible=bool(undo))
        with _shown_as_error():
            taken = library.snapshot(selected)
            removed = library.delete(selected)
        missing = [a for a in selected if a not in removed]
        if taken.articles:
            undo.append(taken)
        text = f"Deleted {taken.names()}." if taken.articles else "Nothing was deleted."
        if missing:
            text += f" Not in the index: {', '.join(missing)}"
        label = f"Undo: restore {plural(len(taken.articles), 'article')}" if undo else "Undo"
        return gr.Group(visible=False), _status_html(text), undo, gr.Button(label, visible=bool(undo))

    def undo_delete(undo: list[Deleted] | None, progress=gr.Progress()):  # noqa: B008 - Gradio injects it
        undo = list(undo or [])
        if not undo:
            return _status_html("Nothing to undo."), undo, gr.Button(visible=False)
        taken = undo.pop()
        with _shown_as_error():
            library.undo(taken, progress=_progress_fn(progress))
        label = f"Undo: restore {plural(len(undo[-1].articles), 'article')}" if undo else "Undo"
        return _status_html(f"Restored {taken.names()}."), undo, gr.Button(label, visible=bool(undo))

    def upload(files: list[str] | None,
               progress=gr.Progress()) -> tuple[str, None]:  # noqa: B008 - Gradio injects it
        paths = [Path(f) for f in files or []]
        if not paths:  # the upload area was cleared
            return gr.skip(), gr.skip()
        with _shown_as_error():
            result = library.upload(paths, progress=_progress_fn(progress))
        return _status_html(result.text()), None

    def reindex(progress=gr.Progress()) -> str:  # noqa: B008 - Gradio injects it
        with _shown_as_error():
            return _status_html(_summary_text(library.reindex(progress=_progress_fn(progress))))

    # ------------------------------------------------------------------ sources handlers

    def source_rows():
        return (panel.rows(), gr.Dropdown(choices=panel.locations(), value=None),
                _status_html(panel.note()))

    def add_source(location: str, request: gr.Request):
        try:
            return _status_html(panel.add(location, username=getattr(request, "username", None))), ""
        except (AssistantError, IndexingError) as exc:
            return _status_html(f"\u2717 {exc}"), gr.skip()

    def remove_source(location: str | None):
        try:
            return _status_html(panel.remove(location or ""))
        except (AssistantError, IndexingError) as exc:
            return _status_html(f"\u2717 {exc}")

    def refresh_sources(progress=gr.Progress()) -> str:  # noqa: B008 - Gradio injects it
        with _shown_as_error():
            outcome = panel.refresh(progress=_progress_fn(progress))
        lines = outcome.text.splitlines()
        if outcome.summary is not None and outcome.summary.added_ids:  # what was added, by title
            lines[1:1] = added_titles(outcome.summary, library.articles())
        return _status_html("\n".join(lines))

    # ------------------------------------------------------------------ API

    def ask(question: str, sources: list[str] | None = None, date_from: str = "", date_to: str = "",
            as_of: str = "") -> dict:
        """Answer a question with cited passages; the same JSON as `assistant ask --json`.

        Args:
            question: the question about the indexed articles.
            sources: only passages from these outlets (empty = all).
            date_from: only articles published on or after this date (YYYY-MM-DD, optional).
            date_to: only articles published on or before this date (YYYY-MM-DD, optional).
            as_of: the day the question is asked (YYYY-MM-DD, empty = today): later articles are not used and
                "this week" or "in March" count back from it.
        """
        with _shown_as_error():
            filters = parse_filters(sources, date_from, date_to)
            day = parse_as_of(as_of)
            wait_until_ready()
            return assistant.ask(question, filters=filters, as_of=day).to_json()

    def save_test_question(question: str, answer: str = "", evidence_ids: list[str] | None = None,
                           asked_at: str = "") -> dict:
        """Append a test question to the data folder's saved-questions.jsonl (read as is by `assistant eval`).

        Args:
            question: the question.
            answer: the expected answer; empty = the assistant's short answer to the question now.
            evidence_ids: ids of the articles that hold the answer; empty = the articles the answer cites.
            asked_at: the day it is asked (YYYY-MM-DD; empty = today).
        Returns:
            the line written.
        """
        with _shown_as_error():
            text = clean_question(question)
            day = parse_as_of(asked_at)
            evidence = tuple(e.strip() for e in evidence_ids or [] if e and e.strip())
            expected = " ".join((answer or "").split())
            if expected and evidence:
                case = SavedQuestion(text, expected, evidence, day.isoformat())
            else:
                wait_until_ready()
                case = SavedQuestion.from_answer(assistant.ask(text, as_of=day), correction=expected)
                if evidence:
                    case = SavedQuestion(case.question, case.answer, evidence, case.asked_at)
            return feedback.save_test_question(case)

    # ------------------------------------------------------------------ layout

    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        session = gr.State(ChatSession())
        gr.Markdown("## News assistant\nAsk about the indexed news articles. Every claim carries a marker "
                    "such as [1]: click it to see the passage it came from.", elem_id="intro")
        with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation", show_label=False, elem_id="chat", height=560, latex_delimiters=[],
                    sanitize_html=True, render_markdown=True, line_breaks=True, autoscroll=False,
                    feedback_options=FEEDBACK_OPTIONS, buttons=[],
                    examples=[{"text": q} for q in examples] or None,
                    placeholder=render.empty_chat(),
                )
                with gr.Row():
                    question = gr.Textbox(label="Question", placeholder="Ask a question about the articles",
                                          show_label=False, scale=5, elem_id="question", max_lines=4)
                    as_of = gr.Textbox(label="As of", placeholder="today", elem_id="as-of", scale=1, min_width=150,
                                       max_lines=1)
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                with gr.Row(elem_id="as-of-row", equal_height=False):
                    gr.HTML(render.as_of_tools(PRESETS), elem_id="as-of-pick", padding=False)
                    as_of_note = gr.HTML(_as_of_note(""), elem_id="as-of-note", padding=False)
                chat_note = gr.HTML("", elem_id="chat-note", padding=False)
                with gr.Group(visible=False, elem_id="save-form") as save_form:
                    gr.Markdown("**Save this question so we can check the answer later.** Say what the right "
                                "answer is and which article has it; whenever the answers are checked, this "
                                "question is asked again and its answer compared with yours.",
                                elem_classes=["save-intro"])
                    form_turn = gr.State(None)
                    form_question = gr.Textbox(label="Question", elem_id="save-question", max_lines=3)
                    form_answer = gr.Textbox(label="The right answer, in a few words",
                                             placeholder="leave empty if the articles don't answer it",
                                             elem_id="save-answer", max_lines=2)
                    with gr.Row():
                        form_evidence = gr.Dropdown(label="Which article has it", choices=[], multiselect=True,
                                                    elem_id="save-evidence", scale=3)
                        form_asked = gr.Textbox(label="Asked as of", elem_id="save-asked", scale=1, min_width=140)
                    with gr.Row():
                        form_save = gr.Button("Save question", variant="primary", elem_id="save-confirm",
                                              size="sm")
                        form_cancel = gr.Button("Cancel", elem_id="save-cancel", size="sm")
                with gr.Row():
                    clear = gr.Button("New chat", elem_id="new-chat", size="sm")
                with gr.Accordion("Filters", open=False, elem_id="filters"):
                    outlets = gr.Dropdown(label="Outlets", choices=[], multiselect=True, elem_id="outlets")
                    with gr.Row():
                        date_from = gr.Textbox(label="Published from", placeholder="YYYY-MM-DD",
                                               elem_id="date-from")
                        date_to = gr.Textbox(label="Published to", placeholder="YYYY-MM-DD", elem_id="date-to")
            with gr.Column(scale=2, elem_id="sources-col"):
                gr.Markdown("### Sources")
                sources = gr.HTML(render.sources_panel([]), elem_id="sources", js_on_load=None)
        with gr.Tab("Library", id="library"):
            gr.Markdown(f"**Drop articles here to index them**: {', '.join(ALLOWED_SUFFIXES)} files, at most "
                        f"{library.max_files} files of {library.max_bytes / 1e6:g} MB each; indexing starts as "
                        "soon as they are dropped.", elem_id="library-files-help")
            files = gr.File(label="Articles to index", show_label=False, file_count="multiple",
                            file_types=list(ALLOWED_SUFFIXES), elem_id="library-files", height=120)
            status = gr.HTML("", elem_id="library-status")
            with gr.Row():
                stats = gr.Markdown(elem_id="library-stats")
                reindex_btn = gr.Button("Reindex", elem_id="library-reindex", size="sm", scale=0, min_width=100)
                download = gr.DownloadButton("Download saved test questions", elem_id="download-questions",
                                             size="sm", scale=0, min_width=260, interactive=False)
            with gr.Row():
                search = gr.Textbox(label="Search articles", placeholder="title, outlet, date or id",
                                    elem_id="library-search", scale=4)
                refresh_btn = gr.Button("Refresh", scale=1, elem_id="library-refresh")
            table = gr.Dataframe(headers=LIBRARY_HEADERS, datatype=["str", "str", "str", "str", "number"],
                                 interactive=False, elem_id="library-table", max_height=420, wrap=True,
                                 column_widths=["20%", "42%", "17%", "13%", "8%"])
            with gr.Row():
                selected = gr.Dropdown(label="Selected articles (click rows to add)", choices=[],
                                       multiselect=True, elem_id="library-selected", scale=4)
                delete_btn = gr.Button("Delete selected", variant="stop", scale=1, elem_id="library-delete")
            with gr.Group(visible=False, elem_id="delete-confirm") as delete_confirm:
                delete_text = gr.HTML("", padding=False)
                with gr.Row():
                    delete_yes = gr.Button("Delete", variant="stop", size="sm", elem_id="delete-yes")
                    delete_no = gr.Button("Keep it", size="sm", elem_id="delete-no")
            undo_state = gr.State([])
            undo_btn = gr.Button("Undo", size="sm", visible=False, elem_id="library-undo")
            gr.Markdown("### Sources\nFeeds, pages and folders this library follows: *Refresh now* polls each "
                        "once and indexes what is new (like `assistant refresh`).", elem_id="library-sources-intro")
            with gr.Row():
                source_location = gr.Textbox(label="Add a source", placeholder="https://... feed or page URL, or a "
                                             "folder path on this machine", elem_id="source-location", scale=4,
                                             max_lines=1)
                source_add = gr.Button("Add source", scale=1, elem_id="source-add")
            sources_table = gr.Dataframe(headers=SOURCE_HEADERS, datatype=["str", "str", "str", "number", "str"],
                                         interactive=False, elem_id="sources-table", wrap=True,
                                         column_widths=["8%", "40%", "16%", "10%", "26%"])
            with gr.Row():
                source_selected = gr.Dropdown(label="Saved source", choices=[], elem_id="source-selected", scale=3)
                source_remove = gr.Button("Remove source", scale=1, elem_id="source-remove")
                sources_refresh = gr.Button("Refresh now", variant="primary", scale=1, elem_id="sources-refresh")
            sources_note = gr.HTML("", elem_id="sources-note")
            sources_status = gr.HTML("", elem_id="sources-status")

        # ------------------------------------------------------------------ events

        private = {"api_visibility": "private"}
        quiet = {"api_visibility": "private", "show_progress": "hidden"}
        chat_inputs = [question, session, outlets, date_from, date_to, as_of]
        chat_outputs = [question, chatbot, sources, session, chat_note]
        question.submit(respond, chat_inputs, chat_outputs, api_name="chat")
        send.click(respond, chat_inputs, chat_outputs, **private)
        chatbot.example_select(pick_example, None, question, **private).then(
            respond, chat_inputs, chat_outputs, **private)
        cleared = [question, chatbot, sources, session, save_form, chat_note]
        clear.click(new_chat, None, cleared, api_name="new_chat")
        chatbot.clear(new_chat, None, cleared, **private)
        as_of.change(_as_of_note, [as_of], [as_of_note], trigger_mode="always_last", **quiet)
        form_fields = [save_form, form_turn, form_question, form_answer, form_evidence, form_asked, chat_note]
        chatbot.like(on_feedback, [session], form_fields, **private).then(
            None, None, None, js="() => window.newsAssistant.showSaveForm()", **private)
        form_save.click(save_from_form, [session, form_turn, form_question, form_answer, form_evidence, form_asked],
                        [save_form, download, chat_note], **private)
        form_cancel.click(lambda: gr.Group(visible=False), None, [save_form], **private)

        refreshed = [table, selected, outlets, stats, download]
        demo.load(refresh, [search, selected], refreshed, **private)
        demo.load(watch_ready, None, [chatbot], concurrency_limit=None, **quiet).then(
            refresh, [search, selected], refreshed, **private)
        refresh_btn.click(refresh, [search, selected], refreshed, **private)
        search.change(library_rows, [search], [table], **private)
        table.select(select_row, [selected], [selected], **private)
        write = {"concurrency_id": "library-write", "concurrency_limit": 1, "api_visibility": "private"}

        def after_write(event):  # the table, the filters' outlets and the empty chat's summary follow
            event.then(refresh, [search, selected], refreshed, **private).then(corpus_changed, None, [chatbot],
                                                                                **quiet)

        delete_btn.click(ask_to_delete, [selected], [delete_confirm, delete_text, status], **private)
        delete_no.click(lambda: gr.Group(visible=False), None, [delete_confirm], **private)
        after_write(delete_yes.click(delete, [selected, undo_state], [delete_confirm, status, undo_state, undo_btn],
                                     **write))
        after_write(undo_btn.click(undo_delete, [undo_state], [status, undo_state, undo_btn], **write))
        after_write(files.upload(upload, [files], [status, files], **write))
        after_write(reindex_btn.click(reindex, None, [status], **write))

        listed = [sources_table, source_selected, sources_note]
        demo.load(source_rows, None, listed, **private)
        refresh_btn.click(source_rows, None, listed, **private)
        source_add.click(add_source, [source_location], [sources_status, source_location], **private).then(
            source_rows, None, listed, **private)
        source_location.submit(add_source, [source_location], [sources_status, source_location], **private).then(
            source_rows, None, listed, **private)
        source_remove.click(remove_source, [source_selected], [sources_status], **private).then(
            source_rows, None, listed, **private)
        # Not queued behind a running refresh: a second request reaches the panel and is told one is running.
        after_write(sources_refresh.click(refresh_sources, None, [sources_status], concurrency_id="sources-refresh",
                                          concurrency_limit=None, **private).then(source_rows, None, listed,
                                                                                   **private))

        gr.api(ask, api_name="ask")
        gr.api(save_test_question, api_name="save_test_question")
    demo.queue(default_concurrency_limit=4)
    return demo


# ---------------------------------------------------------------------------------------------- serving


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serving_warnings(settings: Settings) -> list[str]:
    if is_loopback(settings.host) or (settings.auth_username and settings.auth_password):
        return []
    return [(f"the app is bound to {settings.host} without a login: anyone who can reach this address can "
             "read and change the index; set ASSISTANT_AUTH_USERNAME and ASSISTANT_AUTH_PASSWORD, or bind to "
             "127.0.0.1")]


def launch_options(settings: Settings) -> dict[str, Any]:
    if bool(settings.auth_username) != bool(settings.auth_password):
        raise ConfigError("set both auth_username and auth_password (ASSISTANT_AUTH_USERNAME, "
                          "ASSISTANT_AUTH_PASSWORD), or neither")
    auth = (settings.auth_username, settings.auth_password) if settings.auth_username else None
    return {
        "server_name": settings.host,
        "server_port": settings.port or None,
        "auth": auth,
        "max_file_size": int(settings.upload_max_mb * 1_000_000),
        "theme": gr.themes.Default(font=SYSTEM_FONTS, font_mono=MONO_FONTS),
        "css": render.CSS,
        "head": render.HEAD_STYLE + render.CLICK_SCRIPT,
        "footer_links": ["api"],
        "show_error": True,
    }


def load_settings() -> Settings:
    """Settings from the environment; a bad value becomes one line naming the setting."""
    from pydantic import ValidationError

    try:
        return Settings()
    except ValidationError as exc:
        detail = "; ".join(f"ASSISTANT_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"invalid setting: {detail}") from exc


def main() -> None:
    from assistant.factory import build_assistant

    try:
        settings = load_settings()
        options = launch_options(settings)
        assistant = build_assistant(settings)
    except (AssistantError, IndexingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    for warning in serving_warnings(settings):
        print(f"warning: {warning}", file=sys.stderr)
    # First-start indexing of the samples and the answerer's models (the static table, shipped in the package
    # or else distilled once per machine, and the int8 MiniLM) happen in the background: the page is served
    # at once with a "getting ready" note, and a question asked before they are done waits for them.
    # The work starts once the server listens, so that it does not slow down serving the first page.
    readiness = Readiness.for_assistant(assistant)
    panel = SourcesPanel.from_assistant(assistant, exposed=not is_loopback(settings.host))
    demo = build_ui(assistant, readiness=readiness, sources_panel=panel)
    demo.launch(**options, prevent_thread_lock=True)
    readiness.start()
    if panel.start_timer():  # ASSISTANT_REFRESH_MINUTES: saved sources refreshed in the background
        print(f"refreshing saved sources every {settings.refresh_minutes:g} minutes", flush=True)
    demo.block_thread()
