"""Generative answers from an LLM, with citations verified rather than trusted, and an LLM condenser.

`GenerativeAnswerer` implements the `Answerer` interface over any llama-index LLM (an OpenAI-compatible
endpoint or a local llama.cpp model; `assistant.factory` builds it). It fills `prompts/answer.txt` with
the question and the numbered passages (each fenced between lines carrying a random per-request token, so
article text cannot close its fence or pose as instructions), streams the model's answer through
`assistant.verify.AnswerAssembler` (markers checked, moved, removed, renumbered) and yields the verified
text as it is settled. When the model cannot be used - endpoint unreachable, timeout, HTTP error, a
malformed, cut-off or empty stream - it yields the extractive answer instead, with a one-line `notice`
saying why; it never raises for those.

`LLMCondenser` rewrites a chat follow-up into a standalone question with `prompts/condense.txt`
(interface: `assistant.chat.Condenser`), falling back to the rule-based condenser on any failure.
It does not pick or build backends (`assistant.factory`) and does not retrieve (`assistant.retrieval.hybrid`).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from assistant.answering import defaults
from assistant.answering.interfaces import Answerer, Draft
from assistant.answering.prompts import Prompt
from assistant.answering.verify import (
    AnswerAssembler,
    Bounds,
    CitationVerifier,
    EmbedFn,
    sentence_checks,
    strip_markers,
)
from assistant.retrieval.defaults import TOP_K
from assistant.types import Passage
from index.text.sentences import split_sentences
from index.text.terms import tokenize
from index.text.tokens import get_encoding

if TYPE_CHECKING:
    from llama_index.core.llms import LLM

    from assistant.answering.chat import Turn

NO_ANSWER = "The articles don't cover this."


class LLMFailure(Exception):
    """The model could not produce an answer; `str()` is the one-line reason."""


def describe_failure(exc: BaseException, where: str, timeout: float) -> str:
    """One line saying what went wrong with the LLM, without a traceback."""
    if isinstance(exc, LLMFailure):
        return str(exc)
    names = {cls.__name__ for cls in type(exc).__mro__}
    status = getattr(exc, "status_code", None)
    detail = " ".join(str(exc).split())[:160]
    if "APITimeoutError" in names or any(n.endswith("Timeout") or n == "TimeoutError" for n in names):
        return f"the LLM at {where} did not answer within {timeout:g} s"
    if status is not None:
        hint = "; check ASSISTANT_LLM_API_KEY" if status in (401, 403) else (
            "; check ASSISTANT_LLM_MODEL" if status == 404 else "")
        return f"the LLM at {where} answered HTTP {status}{hint} ({detail})"
    if "APIConnectionError" in names or "ConnectError" in names or isinstance(exc, ConnectionError):
        if "RemoteProtocolError" in names or "incomplete" in detail.lower() or "peer closed" in detail.lower():
            return f"the answer stream from {where} was cut off"
        return f"cannot reach the LLM at {where} ({detail or type(exc).__name__}); is the server running?"
    if "RemoteProtocolError" in names or "ReadError" in names:
        return f"the answer stream from {where} was cut off ({detail or type(exc).__name__})"
    if "JSONDecodeError" in names or isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):
        return f"the LLM at {where} sent a malformed response ({type(exc).__name__}: {detail})"
    return f"the LLM at {where} failed ({type(exc).__name__}: {detail})"


def _finish_reason(raw: Any) -> str | None:
    """finish_reason of a streamed chunk (OpenAI objects or llama.cpp dicts), if it has one."""
    choices = raw.get("choices") if isinstance(raw, dict) else getattr(raw, "choices", None)
    if not choices:
        return None
    choice = choices[0]
    return choice.get("finish_reason") if isinstance(choice, dict) else getattr(choice, "finish_reason", None)


def chat_messages(system: str, user: str) -> list:
    from llama_index.core.llms import ChatMessage, MessageRole

    messages = [ChatMessage(role=MessageRole.SYSTEM, content=system)] if system.strip() else []
    return [*messages, ChatMessage(role=MessageRole.USER, content=user)]


def focus(passage: Passage, question: str, max_tokens: int, center: int | None = None) -> Passage:
    """The part of a long passage an LLM is shown: the reader's best sentence of it (`center`, an offset
    in the article), else the sentence sharing most terms with the question, and whole sentences around
    it, within `max_tokens` (cl100k). Chunks are long (retrieval ranks 1,024-token chunks); five whole ones
    would not fit a small model's context. Offsets stay exact, so citations into the shown part point into
    the article."""
    chunk = passage.chunk
    enc = get_encoding()
    if len(enc.encode_ordinary(chunk.text)) <= max_tokens:
        return passage
    spans = split_sentences(chunk.text)
    if not spans:
        return passage
    wanted = set(tokenize(question))
    sizes = [len(enc.encode_ordinary(chunk.text[s.start:s.end])) + 1 for s in spans]
    at = None if center is None else center - chunk.start
    holding = [i for i, s in enumerate(spans) if at is not None and s.start <= at < s.end]
    best = holding[0] if holding else max(
        range(len(spans)), key=lambda i: (len(wanted & set(tokenize(chunk.text[spans[i].start:spans[i].end]))), -i))
    lo = hi = best
    used = sizes[best]
    while True:
        grown = False
        for side in (hi + 1, lo - 1):  # after first: a sentence is usually explained by what follows
            if 0 <= side < len(spans) and not lo <= side <= hi and used + sizes[side] <= max_tokens:
                used += sizes[side]
                lo, hi = min(lo, side), max(hi, side)
                grown = True
        if not grown:
            break
    a, b = spans[lo].start, spans[hi].end
    return replace(passage, chunk=replace(chunk, text=chunk.text[a:b], start=chunk.start + a, end=chunk.start + a + (b - a)))


class GenerativeAnswerer:
    """Answer with an LLM; verify its citations; fall back to `fallback` when the LLM fails."""

    def __init__(
        self,
        llm: LLM,
        *,
        name: str,
        prompt: Prompt,
        fallback: Answerer,
        embed_texts: EmbedFn | None,
        idf: Callable[[str], float] | None = None,
        where: str = "the configured endpoint",
        timeout: float = defaults.LLM_TIMEOUT,
        max_passages: int = TOP_K,
        passage_tokens: int = defaults.LLM_PASSAGE_TOKENS,
        max_sentences: int = 4,
        require_finish: bool = True,
        bounds: Bounds | None = None,
    ) -> None:
        self.llm = llm
        self.name = name
        self.prompt = prompt
        self.fallback = fallback
        self.embed_texts = embed_texts
        self.idf = idf
        self.where = where
        self.timeout = timeout
        self.max_passages = max_passages
        self.passage_tokens = passage_tokens
        self.max_sentences = max_sentences
        self.require_finish = require_finish
        self.bounds = bounds or Bounds()

    def build_prompt(self, question: str, passages: Sequence[Passage]) -> tuple[str, str]:
        """(system, user) texts: numbered, fenced passages and the question."""
        fence = secrets.token_hex(6)
        blocks = []
        for n, passage in enumerate(passages, start=1):
            chunk = passage.chunk
            meta = ", ".join(x for x in (chunk.source, chunk.published_at) if x) or "unknown"
            blocks.append(self.prompt.section(
                "passage", n=str(n), fence=fence, title=_one_line(chunk.title) or chunk.article_id,
                source=meta, text=chunk.text.replace(fence, "").strip()))
        return self.prompt.messages(passages="\n\n".join(blocks), question=question,
                                    max_sentences=str(self.max_sentences), no_answer=NO_ANSWER, fence=fence)

    def answer(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None = None
               ) -> Draft:
        final = None
        for final in self.stream(question, passages, query_embedding):
            pass
        assert isinstance(final, Draft)
        return final

    def stream(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None = None
               ) -> Iterator[str | Draft]:
        centers = self._reader_centers(question, passages[: self.max_passages])
        shown = [focus(p, question, self.passage_tokens, centers.get(p.chunk.chunk_id))
                 for p in passages[: self.max_passages]]
        if not shown:  # nothing retrieved: nothing to ground an answer on, no need to ask the model
            yield self._fallback(question, passages, query_embedding, "")
            return
        assembler = AnswerAssembler(CitationVerifier(shown, self.embed_texts, self.idf, self.bounds))
        try:
            system, user = self.build_prompt(question, shown)
            yield from self._generate(system, user, assembler)
        except Exception as exc:  # noqa: BLE001 - any failure of the model or its transport: fall back, never crash
            yield self._fallback(question, passages, query_embedding,
                                 describe_failure(exc, self.where, self.timeout))
            return
        abstained = assembler.abstained
        yield Draft(assembler.text, abstained, () if abstained else assembler.citations(),
                    sentences=tuple(assembler.sentences), backend=self.name)

    def _reader_centers(self, question: str, passages: Sequence[Passage]) -> dict[str, int]:
        """Chunk id -> article offset of the fitted reader's best sentence in it, when the fallback answerer
        has a reader (`assistant.answering.reader`): the model is shown the sentences the reader found."""
        read = getattr(self.fallback, "read", None)
        if read is None or getattr(self.fallback, "model", None) is None or not passages:
            return {}
        centers: dict[str, int] = {}
        for sentence in read(question, passages).sentences:  # best first
            centers.setdefault(sentence.passage.chunk.chunk_id, sentence.start)
        return centers

    def _generate(self, system: str, user: str, assembler: AnswerAssembler) -> Iterator[str]:
        stream = self.llm.stream_chat(chat_messages(system, user))
        finished = False
        last: float | None = None
        try:
            for response in stream:
                # Gaps between tokens (in-process models have no transport timeout). The wait for the first
                # token includes loading the client and reading the prompt: the HTTP timeout bounds that.
                if last is not None and time.monotonic() - last > self.timeout:
                    raise LLMFailure(f"the LLM at {self.where} went silent for over {self.timeout:g} s")
                finished = finished or bool(_finish_reason(getattr(response, "raw", None)))
                piece = assembler.feed(response.delta or "")
                if piece:
                    yield piece
                last = time.monotonic()  # time spent verifying or by the consumer is not the model's
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        if self.require_finish and not finished:
            raise LLMFailure(f"the answer stream from {self.where} was cut off before the model finished")
        piece = assembler.finish()
        if not assembler.text.strip():
            raise LLMFailure(f"the LLM at {self.where} returned an empty answer")
        if piece:
            yield piece

    def _fallback(self, question: str, passages: Sequence[Passage], query_embedding: list[float] | None,
                  reason: str) -> Draft:
        draft = self.fallback.answer(question, passages, query_embedding)
        return Draft(draft.text, draft.abstained, draft.citations, sentences=sentence_checks(draft),
                     notice=f"{reason}; showing the extractive answer instead" if reason else "",
                     backend=self.fallback.name if reason else self.name)


def _one_line(text: str) -> str:
    return " ".join(text.split())


class LLMCondenser:
    """Rewrite follow-ups with the LLM (`prompts/condense.txt`); rules when the LLM fails or rambles."""

    def __init__(self, llm: LLM, *, prompt: Prompt, name: str = "llm", timeout: float = defaults.LLM_TIMEOUT,
                 max_turns: int = 4, fallback: Any = None) -> None:
        from assistant.answering.chat import RuleCondenser

        self.llm = llm
        self.prompt = prompt
        self.name = name
        self.timeout = timeout
        self.max_turns = max_turns
        self.fallback = fallback or RuleCondenser()
        self.last_error = ""

    def history_text(self, history: Sequence[Turn]) -> str:
        lines = []
        for turn in history[-self.max_turns :]:
            answer = strip_markers(turn.answer.answer)
            lines.append(f"User: {_one_line(turn.standalone)}")
            lines.append(f"Assistant: {answer[:400] + ('...' if len(answer) > 400 else '')}")
        return "\n".join(lines)

    def condense(self, question: str, history: Sequence[Turn]) -> str | None:
        if not history:
            return None
        system, user = self.prompt.messages(history=self.history_text(history), question=_one_line(question))
        try:
            text = self.llm.chat(chat_messages(system, user)).message.content or ""
        except Exception as exc:  # noqa: BLE001 - the chat must go on without the LLM
            self.last_error = describe_failure(exc, self.name, self.timeout)
            return self.fallback.condense(question, history)
        lines = [line for line in text.strip().splitlines() if line.strip()]
        rewritten = re.sub(r"^(?:standalone question\s*:\s*)", "", lines[0].strip(), flags=re.IGNORECASE) if lines else ""
        rewritten = rewritten.strip().strip("\"'\u201c\u201d").strip()
        if not rewritten or len(rewritten) > 300:
            return self.fallback.condense(question, history)
        if _one_line(rewritten).lower() == _one_line(question).lower():
            return None
        return rewritten
