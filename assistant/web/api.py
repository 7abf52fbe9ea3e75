"""The app's named API endpoints beside the chat: `/ask` (the same JSON as `assistant ask --json`) and
`/save_test_question` (a line of the data folder's saved-questions.jsonl). Their docstrings and type hints
are what Gradio's "Use via API" page shows."""

from __future__ import annotations

from assistant.service import Assistant, clean_question, offline_environment

offline_environment()  # before gradio and huggingface_hub read their environment at import: no telemetry
import gradio as gr

from assistant.retrieval.timewindow import parse_as_of
from assistant.web.feedback import FeedbackStore, SavedQuestion
from assistant.web.startup import Readiness
from assistant.web.widgets import parse_filters, shown_as_error, wait_until_ready


class Api:
    def __init__(self, assistant: Assistant, readiness: Readiness, feedback: FeedbackStore) -> None:
        self.assistant = assistant
        self.readiness = readiness
        self.feedback = feedback

    def register(self) -> None:
        """Declare both endpoints (inside the app's `gr.Blocks`)."""
        gr.api(self.ask, api_name="ask")
        gr.api(self.save_test_question, api_name="save_test_question")

    def ask(self, question: str, sources: list[str] | None = None, date_from: str = "", date_to: str = "",
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
        with shown_as_error():
            filters = parse_filters(sources, date_from, date_to)
            day = parse_as_of(as_of)
            wait_until_ready(self.readiness)
            return self.assistant.ask(question, filters=filters, as_of=day).to_json()

    def save_test_question(self, question: str, answer: str = "", evidence_ids: list[str] | None = None,
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
        with shown_as_error():
            text = clean_question(question)
            day = parse_as_of(asked_at)
            evidence = tuple(e.strip() for e in evidence_ids or [] if e and e.strip())
            expected = " ".join((answer or "").split())
            if expected and evidence:
                case = SavedQuestion(text, expected, evidence, day.isoformat())
            else:
                wait_until_ready(self.readiness)
                case = SavedQuestion.from_answer(self.assistant.ask(text, as_of=day), correction=expected)
                if evidence:
                    case = SavedQuestion(case.question, case.answer, evidence, case.asked_at)
            return self.feedback.save_test_question(case)
