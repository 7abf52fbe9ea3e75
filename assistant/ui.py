"""Minimal Gradio chat page (the full UI is built on top of this)."""

from __future__ import annotations

import sys

from assistant.errors import AssistantError
from assistant.factory import build_assistant, quiet_environment
from assistant.settings import Settings
from index.errors import IndexError_


def build_ui(assistant):
    import gradio as gr

    def respond(message, history):
        try:
            final = None
            for final in assistant.ask_stream(message):
                yield final.answer
            if final is not None and final.citations:
                sources = "\n".join(f"[{c.n}] {c.title} — “{c.quote}”" for c in final.citations)
                yield f"{final.answer}\n\n{sources}"
        except (AssistantError, IndexError_) as exc:
            yield f"Error: {exc}"

    return gr.ChatInterface(respond, title="News assistant")


def main() -> None:
    quiet_environment()
    settings = Settings()
    try:
        assistant = build_assistant(settings)
        summary = assistant.ensure_samples()
        if summary:
            print(f"indexed the bundled samples: {summary.line()}")
    except (AssistantError, IndexError_) as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(1)
    build_ui(assistant).launch(server_name=settings.host, server_port=settings.port or None)
