"""The browser app (Gradio): a chat with streamed, cited answers beside a sources panel, and a Library tab.
The chat has an as-of date beside the question box (empty = today): nothing published later is used, and
"this week" or "in March" in a question count back from it.

Owns the page layout, event wiring and serving (host, port, optional login, the start-up warning for an
open non-loopback bind, the named API endpoint `ask` that returns the same JSON as `assistant ask --json`).
Answers come from `Assistant.ask_stream`, follow-ups are rewritten by a `Condenser` (`assistant.answering.chat`), all
HTML comes from `assistant.web.render`, and article management from `assistant.web.library`. Each browser session
keeps its own conversation in `gr.State`.
Over 300 lines because a Gradio Blocks layout and its event handlers must be declared in one function
(`build_ui`); the logic they call lives in the modules above.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from index.offline import offline_environment

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.answering.chat import ChatSession, Condenser
from assistant.errors import AssistantError, ConfigError
from assistant.retrieval.timewindow import parse_as_of
from assistant.service import Assistant, clean_question
from assistant.settings import PROJECT_ROOT, Settings
from assistant.types import Answer
from assistant.web import render
from assistant.web.library import ALLOWED_SUFFIXES, Library
from index.articles import normalize_date
from index.errors import IndexingError
from index.indexer import IndexSummary
from index.store import SearchFilters

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
                "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
LIBRARY_HEADERS = ["ID", "Title", "Outlet", "Date", "Chunks"]


def load_examples(path: Path = PROJECT_ROOT / "samples" / "EXAMPLES.txt") -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return []


def parse_filters(outlets: Sequence[str] | None, date_from: str, date_to: str) -> SearchFilters:
    try:
        start = normalize_date((date_from or "").strip(), where="date from")
        end = normalize_date((date_to or "").strip(), where="date to")
    except IndexingError as exc:
        raise AssistantError(f"{exc}; use YYYY-MM-DD") from exc
    if start and end and start > end:
        raise AssistantError(f"date from ({start}) is after date to ({end})")
    return SearchFilters(tuple(outlets or ()), start, end)


def _messages(session: ChatSession, pending: tuple[str, str] | None = None) -> list[dict[str, str]]:
    messages = []
    for turn_no, turn in enumerate(session.turns, start=1):
        messages.append({"role": "user", "content": render.user_message(turn.question)})
        messages.append({"role": "assistant", "content": render.answer_message(turn.answer, turn_no)})
    if pending is not None:
        messages.append({"role": "user", "content": render.user_message(pending[0])})
        messages.append({"role": "assistant", "content": pending[1]})
    return messages


def _summary_text(summary: IndexSummary) -> str:
    lines = [summary.line()]
    lines += [f"failed: {failure}" for failure in summary.failures]
    lines += [f"note: {note}" for note in summary.notes]
    return "\n".join(lines)


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
             examples: Sequence[str] | None = None) -> gr.Blocks:
    condenser = condenser or assistant.condenser
    library = library or Library.from_assistant(assistant)
    examples = list(load_examples() if examples is None else examples)

    # ------------------------------------------------------------------ chat handlers

    def respond(message: str, session: ChatSession, outlets: list[str] | None, date_from: str, date_to: str,
                as_of: str | None = None) -> Iterator[tuple]:  # None default: /chat callers may omit it
        session = session if isinstance(session, ChatSession) else ChatSession()
        try:
            question = clean_question(message)
            filters = parse_filters(outlets, date_from, date_to)
            day = parse_as_of(as_of)  # "" = today, resolved now: the whole turn uses one day
        except (AssistantError, IndexingError) as exc:
            gr.Warning(str(exc))
            # change nothing: a generator that ends without yielding would blank the question and the chat
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        turn_no = len(session.turns) + 1
        placeholder = Answer(question=question, answer="", abstained=False)
        yield ("", _messages(session, (question, render.answer_message(placeholder, turn_no, final=False))),
               render.sources_panel(session.answers, pending=placeholder), gr.skip())
        final: Answer | None = None
        try:
            standalone = condenser.condense(question, session.turns)  # may call an LLM: after the echo
            for final in assistant.ask_stream(question, filters=filters, standalone=standalone, as_of=day):
                if final.citations or final.abstained:
                    break  # the last item: rendered below with its sources
                yield (gr.skip(), _messages(session, (question, render.answer_message(final, turn_no, final=False))),
                       gr.skip(), gr.skip())
        except (AssistantError, IndexingError) as exc:
            gr.Warning(str(exc))
            yield (message, _messages(session), render.sources_panel(session.answers), session)
            return
        if final is None:  # pragma: no cover - ask_stream always yields a final answer
            return
        session.add(final)
        yield ("", _messages(session), render.sources_panel(session.answers), session)

    def new_chat():
        return "", [], render.sources_panel([]), ChatSession()

    def pick_example(evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    # ------------------------------------------------------------------ library handlers

    def library_rows(query: str) -> list[list[Any]]:
        return [[a.article_id, a.title, a.source, a.published_at, a.chunks] for a in library.articles(query)]

    def refresh(query: str, selected: list[str] | None):
        articles = library.articles()
        ids = [a.article_id for a in articles]
        choices = [(f"{a.title[:80] or a.article_id} ({a.article_id})", a.article_id) for a in articles]
        outlets = sorted({a.source for a in articles if a.source}, key=str.lower)
        stats = f"{len(articles)} articles, {sum(a.chunks for a in articles)} chunks"
        return (library_rows(query), gr.Dropdown(choices=choices, value=[s for s in selected or [] if s in ids]),
                gr.Dropdown(choices=outlets), stats)

    def select_row(selected: list[str] | None, evt: gr.SelectData) -> list[str]:
        row = evt.row_value or []
        chosen = list(selected or [])
        if row and row[0] and row[0] not in chosen:
            chosen.append(str(row[0]))
        return chosen

    def delete(selected: list[str] | None) -> str:
        if not selected:
            gr.Warning("select articles to delete first (click rows in the table or pick them in the list)")
            return ""
        with _shown_as_error():
            removed = library.delete(selected)
        missing = [a for a in selected if a not in removed]
        return f"removed {len(removed)} article(s)" + (f"; not in the index: {', '.join(missing)}" if missing else "")

    def upload(files: list[str] | None,
               progress=gr.Progress()) -> tuple[str, None]:  # noqa: B008 - Gradio injects it
        paths = [Path(f) for f in files or []]
        with _shown_as_error():
            summary = library.upload(paths, progress=_progress_fn(progress))
        return _summary_text(summary), None

    def reindex(progress=gr.Progress()) -> str:  # noqa: B008 - Gradio injects it
        with _shown_as_error():
            return _summary_text(library.reindex(progress=_progress_fn(progress)))

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
            return assistant.ask(question, filters=filters, as_of=parse_as_of(as_of)).to_json()

    # ------------------------------------------------------------------ layout

    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        session = gr.State(ChatSession())
        gr.Markdown("## News assistant\nAsk about the indexed news articles. Every claim carries a marker "
                    "such as [1]: click it to see the passage it came from.")
        with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation", elem_id="chat", height=560, latex_delimiters=[],
                    sanitize_html=True, render_markdown=True, line_breaks=True,
                    feedback_options=None, buttons=[],
                    examples=[{"text": q} for q in examples] or None,
                    placeholder="Ask a question about the news articles, or pick an example.",
                )
                with gr.Row():
                    question = gr.Textbox(label="Question", placeholder="Ask a question about the articles",
                                          show_label=False, scale=5, elem_id="question", max_lines=4,
                                          autofocus=True)
                    as_of = gr.Textbox(label="As of", placeholder="today (YYYY-MM-DD)", elem_id="as-of",
                                       scale=1, min_width=150, max_lines=1)
                    send = gr.Button("Send", variant="primary", scale=1, elem_id="send")
                with gr.Row():
                    clear = gr.Button("New chat", elem_id="new-chat", size="sm")
                with gr.Accordion("Filters", open=False, elem_id="filters"):
                    outlets = gr.Dropdown(label="Outlets", choices=[], multiselect=True, elem_id="outlets")
                    with gr.Row():
                        date_from = gr.Textbox(label="Published from", placeholder="YYYY-MM-DD",
                                               elem_id="date-from")
                        date_to = gr.Textbox(label="Published to", placeholder="YYYY-MM-DD", elem_id="date-to")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(render.sources_panel([]), elem_id="sources", js_on_load=None)
        with gr.Tab("Library", id="library"):
            stats = gr.Markdown(elem_id="library-stats")
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
            files = gr.File(label=f"Upload articles ({', '.join(ALLOWED_SUFFIXES)}; at most "
                                  f"{library.max_files} files of {library.max_bytes / 1e6:g} MB each)",
                            file_count="multiple", file_types=list(ALLOWED_SUFFIXES), elem_id="library-files")
            with gr.Row():
                upload_btn = gr.Button("Index uploaded files", variant="primary", elem_id="library-upload")
                reindex_btn = gr.Button("Reindex", elem_id="library-reindex")
            status = gr.Textbox(label="Result", interactive=False, lines=3, elem_id="library-status")

        # ------------------------------------------------------------------ events

        chat_inputs = [question, session, outlets, date_from, date_to, as_of]
        chat_outputs = [question, chatbot, sources, session]
        question.submit(respond, chat_inputs, chat_outputs, api_name="chat")
        send.click(respond, chat_inputs, chat_outputs, api_visibility="private")
        chatbot.example_select(pick_example, None, question, api_visibility="private").then(
            respond, chat_inputs, chat_outputs, api_visibility="private")
        clear.click(new_chat, None, [question, chatbot, sources, session], api_name="new_chat")
        chatbot.clear(new_chat, None, [question, chatbot, sources, session], api_visibility="private")

        refreshed = [table, selected, outlets, stats]
        demo.load(refresh, [search, selected], refreshed, api_visibility="private")
        refresh_btn.click(refresh, [search, selected], refreshed, api_visibility="private")
        search.change(library_rows, [search], [table], api_visibility="private")
        table.select(select_row, [selected], [selected], api_visibility="private")
        write = {"concurrency_id": "library-write", "concurrency_limit": 1, "api_visibility": "private"}
        delete_btn.click(delete, [selected], [status], **write).then(
            refresh, [search, selected], refreshed, api_visibility="private")
        upload_btn.click(upload, [files], [status, files], **write).then(
            refresh, [search, selected], refreshed, api_visibility="private")
        reindex_btn.click(reindex, None, [status], **write).then(
            refresh, [search, selected], refreshed, api_visibility="private")

        gr.api(ask, api_name="ask")
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
        "head": render.CLICK_SCRIPT,
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
    import threading

    from assistant.factory import build_assistant

    try:
        settings = load_settings()
        options = launch_options(settings)
        assistant = build_assistant(settings)
        summary = assistant.ensure_samples()
        if summary:
            print(f"indexed the bundled samples: {summary.line()}")
    except (AssistantError, IndexingError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    for warning in serving_warnings(settings):
        print(f"warning: {warning}", file=sys.stderr)
    # The answerer's models (the static table, distilled once per machine, and the int8 MiniLM) load in the
    # background: the page is served meanwhile, and a question asked before they are ready waits for them.
    threading.Thread(target=assistant.warm_up, name="warm-up", daemon=True).start()
    build_ui(assistant).launch(**options)
