"""The form under the question box that turns a rated answer into a test question to check later
(`saved-questions.jsonl` in the data folder, read as is by `assistant eval`). 👍/👎 on an answer are kept
(`feedback.jsonl`); 👎 and "Save as test question" open the form, filled from the answer: the question,
its short answer (empty after 👎: the right one is asked for), the articles it cites and its as-of day."""

from __future__ import annotations

from typing import Any

from assistant.service import clean_question, offline_environment

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.answering.chat import ChatSession
from assistant.errors import AssistantError, IndexingError
from assistant.types import Answer
from assistant.web.dates import understand_date
from assistant.web.feedback import FeedbackStore, SavedQuestion, article_choices
from assistant.web.widgets import PRIVATE, chat_note, download_button

FEEDBACK_OPTIONS = ("Like", "Dislike", "Save as test question")


def hidden_group() -> gr.Group:
    return gr.Group(visible=False)


class SaveForm:
    """The form, hidden until an answer is rated 👎 or offered as a test question."""

    def __init__(self, feedback: FeedbackStore) -> None:
        self.feedback = feedback

    def build(self) -> None:
        with gr.Group(visible=False, elem_id="save-form") as self.group:
            gr.Markdown("**Save this question so we can check the answer later.** Say what the right "
                        "answer is and which article has it; whenever the answers are checked, this "
                        "question is asked again and its answer compared with yours.",
                        elem_classes=["save-intro"])
            self.turn = gr.State(None)
            self.question = gr.Textbox(label="Question", elem_id="save-question", max_lines=3)
            self.answer = gr.Textbox(label="The right answer, in a few words",
                                     placeholder="leave empty if the articles don't answer it",
                                     elem_id="save-answer", max_lines=2)
            with gr.Row():
                self.evidence = gr.Dropdown(label="Which article has it", choices=[], multiselect=True,
                                            elem_id="save-evidence", scale=3)
                self.asked = gr.Textbox(label="Asked as of", elem_id="save-asked", scale=1, min_width=140)
            with gr.Row():
                self.save = gr.Button("Save question", variant="primary", elem_id="save-confirm", size="sm")
                self.cancel = gr.Button("Cancel", elem_id="save-cancel", size="sm")

    def wire(self, session: gr.State, chatbot: gr.Chatbot, note: gr.HTML, download: gr.DownloadButton) -> None:
        """`chatbot`: where answers are rated; `note`: the line under the question box; `download`: the
        Library's button, which a saved question brings up to date."""
        fields = [self.group, self.turn, self.question, self.answer, self.evidence, self.asked, note]
        chatbot.like(self.on_feedback, [session], fields, **PRIVATE).then(
            None, None, None, js="() => window.newsAssistant.showSaveForm()", **PRIVATE)
        self.save.click(self.save_from_form, [session, self.turn, self.question, self.answer, self.evidence,
                                              self.asked], [self.group, download, note], **PRIVATE)
        self.cancel.click(hidden_group, None, [self.group], **PRIVATE)

    # ------------------------------------------------------------------ handlers

    @staticmethod
    def _turn_of(session: ChatSession, index: Any) -> Answer | None:
        """The answer of the chat message at `index` (Gradio's message index), or None."""
        index = index[0] if isinstance(index, (list, tuple)) else index
        turns = session.turns if isinstance(session, ChatSession) else []
        if not isinstance(index, int) or index % 2 != 1 or not 0 <= index // 2 < len(turns):
            return None
        return turns[index // 2].answer

    def on_feedback(self, session: ChatSession, evt: gr.LikeData) -> tuple:
        """A 👍/👎 or "Save as test question" on an answer. Outputs: the form, its fields, the note."""
        answer = self._turn_of(session, evt.index)
        thanks = ""
        hidden = (gr.Group(visible=False), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip())
        if answer is None:
            return (*hidden, "")
        if evt.liked in (True, False):
            self.feedback.record_feedback(answer, "up" if evt.liked else "down")
            thanks = "Thanks: your rating is kept on this machine (feedback.jsonl in the data folder)."
            if evt.liked:
                return (*hidden, chat_note(thanks))
            expected = ""  # a thumbs-down: offer to save the right answer as a question to check later
        elif evt.liked == FEEDBACK_OPTIONS[2]:
            expected = answer.short_answer
        else:
            return (*hidden, "")
        case = SavedQuestion.from_answer(answer)
        return (gr.Group(visible=True), evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index,
                case.question, expected,
                gr.Dropdown(choices=article_choices(answer), value=list(case.evidence_ids)), case.asked_at,
                chat_note(thanks))

    def save_from_form(self, session: ChatSession, index: Any, question: str, expected: str,
                       evidence: list[str] | None, asked_at: str) -> tuple:
        """Outputs: the form (hidden once saved), the Library's download button, the note."""
        answer = self._turn_of(session, index)
        if answer is None:
            return gr.Group(visible=False), gr.skip(), chat_note("That answer is no longer in the chat.", error=True)
        base = SavedQuestion.from_answer(answer, correction=expected)
        chosen = tuple(e for e in evidence or [] if e) or base.evidence_ids
        try:
            text = clean_question(question)
            day = understand_date(asked_at).isoformat() if (asked_at or "").strip() else ""
            line = self.feedback.save_test_question(SavedQuestion(text, base.answer, chosen if not base.unanswerable
                                                                  else (), day, base.unanswerable))
        except (AssistantError, IndexingError) as exc:
            return gr.skip(), gr.skip(), chat_note(str(exc), error=True)
        count = self.feedback.saved_count()
        return (gr.Group(visible=False), download_button(self.feedback),
                chat_note(f"Saved: question {count} to check ({line['id']}). The Library tab offers the saved "
                          "questions for download."))
