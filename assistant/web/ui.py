"""The browser app (Gradio): a chat with streamed, cited answers beside a sources panel, and a Library tab.
The chat has an as-of date beside the question box (empty = today): nothing published later is used, and
"this week" or "in March" in a question count back from it.

`build_ui` puts the page together from its sections: the Chat tab (`assistant.web.chat_tab`: the
conversation, the as-of control, the save form, the filters, the sources panel), the Library tab
(`assistant.web.library_tab`: the articles, the saved sources) and the named API endpoints
(`assistant.web.api`: `/ask`, the same JSON as `assistant ask --json`, and `/save_test_question`); each
section builds its own components and wires its own handlers, and `build_ui` wires only what crosses them.
This module also serves the page: host, port, optional login and the start-up warning for an open
non-loopback bind. All HTML comes from `assistant.web.render`, article management from
`assistant.web.library`, saved sources and their refresh, by the button or every
`ASSISTANT_REFRESH_MINUTES`, from `assistant.web.sources_panel`, saved test questions and 👍/👎 from
`assistant.web.feedback`, and first-start work runs in the background (`assistant.web.startup`: the page
is served at once, with a "getting ready" note). The web package imports nothing from `index`: what it
needs of it comes through `assistant.service`, `assistant.types` and `assistant.errors`.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.service import Assistant, offline_environment

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.answering.chat import ChatSession, Condenser
from assistant.errors import AssistantError, ConfigError, IndexingError
from assistant.settings import PROJECT_ROOT, Settings
from assistant.web import render
from assistant.web.api import Api
from assistant.web.chat_tab import ChatTab
from assistant.web.library_tab import LibraryTab
from assistant.web.parts import WebParts
from assistant.web.sources_panel import is_loopback
from assistant.web.startup import Readiness
from assistant.web.widgets import QUIET

SYSTEM_FONTS = ["ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue", "Arial",
                "sans-serif"]
MONO_FONTS = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "Liberation Mono", "monospace"]
INTRO = ("## News assistant\nAsk about the indexed news articles. Every claim carries a marker such as [1]: "
         "click it to see the passage it came from.")


def load_examples(path: Path = PROJECT_ROOT / "samples" / "EXAMPLES.txt") -> list[str]:
    try:
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError:
        return []


def sample_article_ids(folder: Path = PROJECT_ROOT / "samples" / "articles") -> frozenset[str]:
    """The ids the bundled sample articles get when indexed (their file names without the extension)."""
    try:
        return frozenset(p.stem for p in folder.iterdir() if p.is_file())
    except OSError:
        return frozenset()


def build_ui(assistant: Assistant, parts: WebParts, *, condenser: Condenser | None = None,
             examples: Sequence[str] | None = None, readiness: Readiness | None = None) -> gr.Blocks:
    """The whole page for `assistant` and its web `parts` (`assistant.factory.build_web_parts`)."""
    library, feedback, panel = parts.library, parts.feedback, parts.sources_panel
    readiness = readiness or Readiness.ready()
    chat = ChatTab(assistant, condenser=condenser or assistant.condenser, library=library, readiness=readiness,
                   feedback=feedback, examples=load_examples() if examples is None else examples,
                   example_articles=sample_article_ids() if examples is None else None)
    library_tab = LibraryTab(library, panel, feedback)

    with gr.Blocks(title="News assistant", analytics_enabled=False) as demo:
        session = gr.State(ChatSession())  # each browser session's own conversation
        gr.Markdown(INTRO, elem_id="intro")
        chat.build()
        library_tab.build()

        conversation, articles = chat.conversation, library_tab.articles
        outlets = chat.filters.outlets  # offered by the library's refresh

        def after_write(event: Any) -> Any:
            """After a write to the index, everything that shows it follows: the table, the outlets, the
            empty chat's line about what the index holds."""
            return conversation.follows_the_corpus(articles.refreshing(event, outlets))

        chat.wire(session, download=articles.download)
        # On load: the empty chat's "getting ready" note, then (once ready) the library's lists.
        articles.refreshing(demo.load(conversation.watch_ready, None, [conversation.chatbot],
                                      concurrency_limit=None, **QUIET), outlets)
        library_tab.wire(demo, outlets, after_write)
        Api(assistant, readiness, feedback).register()
    demo.queue(default_concurrency_limit=4)
    return demo


# ---------------------------------------------------------------------------------------------- serving


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
    from assistant.factory import build_assistant, build_web_parts

    try:
        settings = load_settings()
        options = launch_options(settings)
        assistant = build_assistant(settings)
        parts = build_web_parts(settings, assistant)
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
    demo = build_ui(assistant, parts, readiness=readiness)
    demo.launch(**options, prevent_thread_lock=True)
    readiness.start()
    if parts.sources_panel.start_timer():  # ASSISTANT_REFRESH_MINUTES: saved sources refreshed in the background
        print(f"refreshing saved sources every {settings.refresh_minutes:g} minutes", flush=True)
    demo.block_thread()
