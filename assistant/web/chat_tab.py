"""The Chat tab, section by section: the conversation (chat, question box, Send, the note under it, New
chat), the as-of control beside the question box, the form that saves an answer as a test question
(`assistant.web.save_form`), the filters, and the sources panel beside the chat. Each section builds its
components where `ChatTab.build` places them and wires its own events as named handlers; what a handler
does beyond Gradio lives in `render`, `dates`, `feedback` and `library`.

Answers come from `Assistant.ask_stream`, follow-ups are rewritten by a `Condenser`
(`assistant.answering.chat`) first, and each browser session keeps its own conversation in a `gr.State`.

Over 300 lines because it holds every section of the tab with its event wiring; each section is its own short
function.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

from assistant.service import Assistant, clean_question, offline_environment

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.answering.chat import ChatSession, Condenser
from assistant.errors import AssistantError, IndexingError
from assistant.types import Answer
from assistant.web import render
from assistant.web.dates import PRESETS, DateNotUnderstood, said_back, understand_date
from assistant.web.feedback import FeedbackStore
from assistant.web.library import Library, corpus_summary
from assistant.web.save_form import FEEDBACK_OPTIONS, SaveForm
from assistant.web.startup import Readiness
from assistant.web.widgets import PRIVATE, QUIET, chat_note, parse_filters, wait_until_ready

# The pace of the chat's answer. The extractive answerer writes its whole answer in a few milliseconds, so
# the page reveals it as soon as it is known: the short answer at once, then the sentences in at most
# REVEAL_STEPS steps REVEAL_STEP_S apart, the last of them with the sources. The final message and the sources
# panel are rendered during the first pause, so the reveal adds at most REVEAL_STEPS * REVEAL_STEP_S (0.2 s)
# to the full answer, less the rendering it hides. A writer slower than LIVE_AFTER_S (an LLM) is shown as it
# writes.
REVEAL_STEP_S = 0.05
REVEAL_STEPS = 4
LIVE_AFTER_S = 0.25

WAITING = '<span class="thinking">Getting ready; your question is answered in a moment&#8230;</span>'


def reveal_steps(n_words: int) -> list[int]:
    """How many of the sentences' words each step of the reveal shows, after the short answer: at most
    REVEAL_STEPS growing counts, the last of them all the words."""
    if n_words <= 0:
        return []
    steps = min(n_words, REVEAL_STEPS)
    return [round(n_words * i / steps) for i in range(1, steps + 1)]


def messages(session: ChatSession, pending: tuple[str, str] | None = None,
             uploads: render.Uploads | None = None) -> list[dict[str, str]]:
    """The chat's messages: every turn of `session`, then a question still being answered (its HTML so far)."""
    out = []
    for turn_no, turn in enumerate(session.turns, start=1):
        out.append({"role": "user", "content": render.user_message(turn.question)})
        out.append({"role": "assistant", "content": render.answer_message(turn.answer, turn_no, uploads=uploads)})
    if pending is not None:
        out.append({"role": "user", "content": render.user_message(pending[0])})
        out.append({"role": "assistant", "content": pending[1]})
    return out


def as_of_note(text: str) -> str:
    """What the As-of box was understood as, said back ("As of Friday 3 February 2023"), or why not."""
    try:
        day = understand_date(text)
    except DateNotUnderstood as exc:
        return f'<span class="as-of-bad">\u2717 {render.inert(str(exc))}</span>'
    if not (text or "").strip():
        return f'<span class="as-of-said">As of today, {render.inert(said_back(day).removesuffix(" (today)"))}</span>'
    return f'<span class="as-of-said">As of {render.inert(said_back(day))}</span>'


# ---------------------------------------------------------------------------------------------- sections


class SourcesColumn:
    """Beside the chat: the passages each answer cites, as source cards (`render.sources_panel`)."""

    def build(self) -> None:
        gr.Markdown("### Sources")
        self.html = gr.HTML(render.sources_panel([]), elem_id="sources", js_on_load=None)


class AsOfControl:
    """The As-of box beside the question (empty = today) and, under it, the presets and what the box was
    understood as."""

    def build_box(self) -> None:
        self.box = gr.Textbox(label="As of", placeholder="today", elem_id="as-of", scale=1, min_width=150,
                              max_lines=1)

    def build_row(self) -> None:
        with gr.Row(elem_id="as-of-row", equal_height=False):
            gr.HTML(render.as_of_tools(PRESETS), elem_id="as-of-pick", padding=False)
            self.note = gr.HTML(as_of_note(""), elem_id="as-of-note", padding=False)

    def wire(self) -> None:
        self.box.change(as_of_note, [self.box], [self.note], trigger_mode="always_last", **QUIET)


class Filters:
    """Outlets (offered by the Library's refresh) and the publication-date range, folded away."""

    def build(self) -> None:
        with gr.Accordion("Filters", open=False, elem_id="filters"):
            self.outlets = gr.Dropdown(label="Outlets", choices=[], multiselect=True, elem_id="outlets")
            with gr.Row():
                self.date_from = gr.Textbox(label="Published from", placeholder="YYYY-MM-DD", elem_id="date-from")
                self.date_to = gr.Textbox(label="Published to", placeholder="YYYY-MM-DD", elem_id="date-to")


class Conversation:
    """The chat, the question box with Send, the note under it and New chat. Its handlers answer a question
    (streamed, the sources panel following), start a new chat, fill the question from an example and say
    in the empty chat what the index holds."""

    def __init__(self, assistant: Assistant, condenser: Condenser, library: Library, readiness: Readiness,
                 examples: Sequence[str], example_articles: frozenset[str] | None = None) -> None:
        """`example_articles`: the articles the example questions are about (the bundled samples); the
        examples are offered only while the index holds one of them, or is still getting ready (None: always)."""
        self.assistant = assistant
        self.condenser = condenser
        self.library = library
        self.readiness = readiness
        self.examples = list(examples)
        self.example_articles = example_articles

    def build_chatbot(self) -> None:
        self.chatbot = gr.Chatbot(
            label="Conversation", show_label=False, elem_id="chat", height=560, latex_delimiters=[],
            sanitize_html=True, render_markdown=True, line_breaks=True, autoscroll=False,
            feedback_options=FEEDBACK_OPTIONS, buttons=[],
            examples=[{"text": q} for q in self.examples] or None,
            placeholder=render.empty_chat(),
        )

    def build_question(self) -> None:
        self.question = gr.Textbox(label="Question", placeholder="Ask a question about the articles",
                                   show_label=False, scale=5, elem_id="question", max_lines=4)

    def build_send(self) -> None:
        self.send = gr.Button("Send", variant="primary", scale=1, elem_id="send")

    def build_note(self) -> None:
        self.note = gr.HTML("", elem_id="chat-note", padding=False)

    def build_new_chat(self) -> None:
        with gr.Row():
            self.clear = gr.Button("New chat", elem_id="new-chat", size="sm")

    def wire(self, session: gr.State, as_of: AsOfControl, filters: Filters, sources: SourcesColumn,
             save_form: gr.Group) -> None:
        inputs = [self.question, session, filters.outlets, filters.date_from, filters.date_to, as_of.box]
        outputs = [self.question, self.chatbot, sources.html, session, self.note]
        self.question.submit(self.respond, inputs, outputs, api_name="chat")
        self.send.click(self.respond, inputs, outputs, **PRIVATE)
        self.chatbot.example_select(self.pick_example, None, self.question, **PRIVATE).then(
            self.respond, inputs, outputs, **PRIVATE)
        cleared = [self.question, self.chatbot, sources.html, session, save_form, self.note]
        self.clear.click(self.new_chat, None, cleared, api_name="new_chat")
        self.chatbot.clear(self.new_chat, None, cleared, **PRIVATE)

    def follows_the_corpus(self, event: Any) -> Any:
        """After `event` changed the index: the empty chat's line about what it holds follows."""
        return event.then(self.corpus_changed, None, [self.chatbot], **QUIET)

    # ------------------------------------------------------------------ handlers

    def respond(self, message: str, session: ChatSession, outlets: list[str] | None, date_from: str,
                date_to: str, as_of: str | None = None) -> Iterator[tuple]:  # None: /chat callers may omit it
        """Outputs: the question box, the chat, the sources panel, the session and the note under the box."""
        session = session if isinstance(session, ChatSession) else ChatSession()
        try:
            question = clean_question(message)
            filters = parse_filters(outlets, date_from, date_to)
            day = understand_date(as_of)  # "" = today, resolved now: the whole turn uses one day
        except (AssistantError, IndexingError) as exc:
            # change nothing else: a generator that ends without yielding would blank the question and the chat
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), chat_note(str(exc), error=True)
            return
        turn_no = len(session.turns) + 1
        placeholder = Answer(question=question, answer="", abstained=False)
        uploads = self.library.upload_dates()
        if not self.readiness.is_ready:
            yield ("", messages(session, (question, WAITING), uploads),
                   render.sources_panel(session.answers, pending=placeholder, uploads=uploads), gr.skip(), "")
            try:
                wait_until_ready(self.readiness)
            except AssistantError as exc:
                yield (message, messages(session, uploads=uploads), render.sources_panel(session.answers),
                       session, chat_note(str(exc), error=True))
                return
            uploads = self.library.upload_dates()
        yield ("", messages(session, (question, render.answer_message(placeholder, turn_no, final=False)), uploads),
               render.sources_panel(session.answers, pending=placeholder, uploads=uploads), gr.skip(), "")
        try:
            final, live = yield from self._written(question, session, filters, day, turn_no, uploads)
        except (AssistantError, IndexingError) as exc:
            yield (message, messages(session, uploads=uploads), render.sources_panel(session.answers, uploads=uploads),
                   session, chat_note(str(exc), error=True))
            return
        if final is None:  # pragma: no cover - ask_stream always yields a final answer
            return
        if live:
            session.add(final)
            yield self._closing(session, uploads)
        else:  # written at once: shown at a pace a reader can follow, the short answer first
            yield from self._revealed(final, question, session, turn_no, uploads)

    def _closing(self, session: ChatSession, uploads: render.Uploads) -> tuple:
        """The turn's last update: the whole conversation, its sources, the session."""
        return ("", messages(session, uploads=uploads), render.sources_panel(session.answers, uploads=uploads),
                session, gr.skip())

    def _written(self, question: str, session: ChatSession, filters: Any, day: Any, turn_no: int,
                 uploads: render.Uploads) -> Iterator[tuple]:
        """The answer as the assistant writes it: the words of a slow writer (an LLM) shown as they come.
        Returns (the final answer, whether its words were shown live)."""
        final: Answer | None = None
        live = False  # True once the writer proved slow: its words are then shown as they come
        first_words = None
        standalone = self.condenser.condense(question, session.turns)  # may call an LLM: after the echo
        for final in self.assistant.ask_stream(question, filters=filters, standalone=standalone, as_of=day):
            if final.citations or final.abstained:
                break  # the last item: revealed and rendered by the caller with its sources
            first_words = first_words or time.perf_counter()
            if live or time.perf_counter() - first_words > LIVE_AFTER_S:
                live = True
                yield (gr.skip(), messages(session, (question, render.answer_message(final, turn_no, final=False)),
                                           uploads), gr.skip(), gr.skip(), gr.skip())
        return final, live

    def _revealed(self, final: Answer, question: str, session: ChatSession, turn_no: int,
                  uploads: render.Uploads) -> Iterator[tuple]:
        """An answer written at once, revealed from the moment it is known: the short answer (when there is
        one), then the sentences a few words at a time, each step REVEAL_STEP_S after the one before; the
        last step is the turn's closing update (the whole answer with its sources), rendered during the
        first pause so that the reveal hides its cost instead of adding to it."""
        earlier = messages(session, uploads=uploads)  # the turns before this one, rendered once
        steps = reveal_steps(render.word_count(final.answer))
        shown = ([0] if final.short_answer and not final.abstained else []) + steps[:-1]

        def close() -> tuple:
            session.add(final)
            return self._closing(session, uploads)

        started = time.perf_counter()
        closing = None if shown else close()
        for n, words in enumerate(shown, start=1):
            partial = render.answer_message(final, turn_no, uploads=uploads, words=words)
            yield (gr.skip(), [*earlier, *messages(ChatSession(), (question, partial))], gr.skip(), gr.skip(),
                   gr.skip())
            closing = closing or close()
            time.sleep(max(0.0, started + n * REVEAL_STEP_S - time.perf_counter()))
        yield closing

    def new_chat(self) -> tuple:
        return "", [], render.sources_panel([]), ChatSession(), gr.Group(visible=False), ""

    def pick_example(self, evt: gr.SelectData) -> str:
        value = evt.value
        return value.get("text", "") if isinstance(value, dict) else str(value or "")

    def placeholder(self) -> str:
        """The empty chat: what the index holds, or the "getting ready" note."""
        note = self.readiness.note()
        summary = corpus_summary(self.library.articles()) if self.readiness.is_ready else ""
        return render.empty_chat(summary, note, failed=bool(self.readiness.error),
                                 examples=bool(self.offered_examples()))

    def watch_ready(self) -> Iterator[Any]:
        """The empty chat's "getting ready" note, then the line saying what the index holds once the first
        question can be answered."""
        yield gr.Chatbot(placeholder=self.placeholder(), examples=self.offered_examples())
        if self.readiness.note():
            self.readiness.wait()
            yield gr.Chatbot(placeholder=self.placeholder(), examples=self.offered_examples())

    def corpus_changed(self) -> gr.Chatbot:
        return gr.Chatbot(placeholder=self.placeholder(), examples=self.offered_examples())

    def offered_examples(self) -> list[dict[str, str]]:
        """The example questions, as the chat takes them, when they can be answered: they ask about the
        bundled samples, so over a user's own archive (or an empty index) none is offered."""
        if self.example_articles is not None and self.readiness.is_ready:
            held = {a.article_id for a in self.library.articles()}
            if not held & self.example_articles:
                return []
        return [{"text": q} for q in self.examples]


# ---------------------------------------------------------------------------------------------- the tab


class ChatTab:
    """The sections of the Chat tab, placed: the conversation with the as-of control in its question row,
    the save form and the filters under it, the sources panel beside it."""

    def __init__(self, assistant: Assistant, *, condenser: Condenser, library: Library, readiness: Readiness,
                 feedback: FeedbackStore, examples: Sequence[str], example_articles: frozenset[str] | None = None
                 ) -> None:
        self.conversation = Conversation(assistant, condenser, library, readiness, examples, example_articles)
        self.as_of = AsOfControl()
        self.save_form = SaveForm(feedback)
        self.filters = Filters()
        self.sources = SourcesColumn()

    def build(self) -> None:
        chat = self.conversation
        with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat.build_chatbot()
                with gr.Row():
                    chat.build_question()
                    self.as_of.build_box()
                    chat.build_send()
                self.as_of.build_row()
                chat.build_note()
                self.save_form.build()
                chat.build_new_chat()
                self.filters.build()
            with gr.Column(scale=2, elem_id="sources-col"):
                self.sources.build()

    def wire(self, session: gr.State, download: gr.DownloadButton) -> None:
        """`download`: the Library's button, which a saved question brings up to date."""
        chat = self.conversation
        chat.wire(session, self.as_of, self.filters, self.sources, self.save_form.group)
        self.as_of.wire()
        self.save_form.wire(session, chat.chatbot, chat.note, download)
