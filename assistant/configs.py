"""The small typed configurations the factory hands each part instead of `Settings`.

`Configs.from_settings` is the one place that reads a `Settings` for the assistant: `build_assistant` calls
it once and gives each builder only its own config, and no part keeps a `Settings` or reads one while it
runs. Each config is a frozen dataclass; where a part's constructor has defaults, they come from the same
modules `Settings` takes its defaults from (`assistant/retrieval/defaults.py`,
`assistant/answering/defaults.py`, `assistant/web/defaults.py`, `index.intake.fetch.FetchPolicy`), so both ship
the same values. The configs here have no defaults of their own, apart from `DatesConfig` (the
`Assistant`'s default): everything else is always filled in from the settings.

Light on purpose: no model, Chroma or llama-index import (`assistant stats` builds these too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant.retrieval import defaults as retrieval_defaults
from index.intake.fetch import FetchPolicy

if TYPE_CHECKING:
    from assistant.settings import Settings


def llm_label(backend: str, model: str, model_path: Path | None) -> str:
    """Backend and model, as reports show it: `extractive`, `openai:<model>`, `llamacpp:<file>`."""
    if backend == "openai":
        return f"openai:{model}"
    if backend == "llamacpp":
        return f"llamacpp:{model_path.name if model_path else ''}"
    return "extractive"


@dataclass(frozen=True)
class StoreConfig:
    """Where the index lives: an embedded Chroma under `chroma_path`, or the server at `chroma_url`."""

    chroma_url: str  # "" = the embedded store
    chroma_path: Path
    data_dir: Path  # named in the message when the embedded store cannot be written
    collection_name: str
    embedding_model_name: str
    lexical_path: Path
    label: str  # "embedded chroma at ..." or "chroma server ...", for messages and `stats`
    lease_seconds: float  # writers' lease in a shared server (used only with chroma_url)


@dataclass(frozen=True)
class EmbeddingConfig:
    kind: str  # "minilm", "static" or "hashing"
    batch_size: int
    device: str
    models_path: Path  # where the distilled static table is cached


@dataclass(frozen=True)
class RetrievalConfig:
    """`HybridRetriever`'s keyword arguments (its defaults are `assistant.retrieval.defaults`)."""

    top_k: int
    candidates: int
    max_per_article: int
    fusion: str
    dense_weight: float
    recency_weight: float  # 0 when the recency prior is off
    recency_days: float
    postprocessors: tuple[str, ...] = ()  # `module:callable` names, built by the factory


@dataclass(frozen=True)
class DatesConfig:
    """How `Assistant` plans a question's dates (`assistant.retrieval.dates.plan_dates`)."""

    recency_prior: bool = retrieval_defaults.RECENCY_PRIOR
    time_windows: bool = retrieval_defaults.TIME_WINDOWS


@dataclass(frozen=True)
class AnsweringConfig:
    """The extractive side: the sentence shortlist, the fitted reader, how many sentences are embedded."""

    sentence_shortlist: bool
    reader: bool
    reader_model: Path | None  # None: the file shipped in assistant/answering/
    sentences_embedded: int


@dataclass(frozen=True)
class LLMConfig:
    """Who writes answers and, for an LLM, how it is reached."""

    backend: str  # "extractive", "openai" or "llamacpp"
    url: str
    model: str
    api_key: str = field(repr=False)
    timeout: float
    temperature: float
    max_tokens: int
    passage_tokens: int
    model_path: Path | None
    context_window: int
    top_k: int  # passages shown to the LLM: those retrieved
    prompts_dir: Path

    @property
    def label(self) -> str:
        return llm_label(self.backend, self.model, self.model_path)


@dataclass(frozen=True)
class IndexingConfig:
    chunk_size: int
    chunk_overlap: int
    batch_size: int  # texts per embedding call (the indexer writes at least this many at a time)
    lock_path: Path
    lock_wait: float | None
    group_copies: bool


@dataclass(frozen=True)
class SourcesConfig:
    """Saved sources (`index.sources.Sources`) and the limits of every fetch."""

    path: Path
    max_entries: int
    lock_wait: float | None
    fetch: FetchPolicy


@dataclass(frozen=True)
class IndexRecord:
    """How the index was built and who answers, as `stats` and the eval report show it."""

    store: str
    collection: str
    chunk_size: int
    chunk_overlap: int
    answerer: str


@dataclass(frozen=True)
class WebConfig:
    """What the app's Library and saved-sources sections and its feedback store need."""

    uploads_dir: Path
    upload_max_mb: float
    upload_max_files: int
    feedback_dir: Path  # saved test questions and 👍/👎 (the data dir)
    host: str  # the address the app binds to: beyond loopback, adding a source needs a login
    login_configured: bool
    refresh_minutes: float


@dataclass(frozen=True)
class Configs:
    """Every part's config, read from one `Settings` (`from_settings`)."""

    store: StoreConfig
    embedding: EmbeddingConfig
    retrieval: RetrievalConfig
    dates: DatesConfig
    answering: AnsweringConfig
    llm: LLMConfig
    indexing: IndexingConfig
    sources: SourcesConfig
    record: IndexRecord
    web: WebConfig
    samples_dir: Path | None  # indexed on first start when the index is empty; None: never

    @classmethod
    def from_settings(cls, s: Settings) -> Configs:
        return cls(
            store=StoreConfig(
                chroma_url=s.chroma_url, chroma_path=s.chroma_path, data_dir=s.data_dir,
                collection_name=s.collection_name, embedding_model_name=s.embedding_model_name,
                lexical_path=s.lexical_path, label=s.store_label, lease_seconds=s.server_lease_seconds),
            embedding=EmbeddingConfig(kind=s.embedding, batch_size=s.embed_batch_size, device=s.device,
                                      models_path=s.models_path),
            retrieval=RetrievalConfig(
                top_k=s.top_k, candidates=s.candidates, max_per_article=s.max_per_article, fusion=s.fusion,
                dense_weight=s.dense_weight, recency_weight=s.recency_weight if s.recency_prior else 0.0,
                recency_days=s.recency_days, postprocessors=tuple(s.postprocessors)),
            dates=DatesConfig(recency_prior=s.recency_prior, time_windows=s.time_windows),
            answering=AnsweringConfig(sentence_shortlist=s.sentence_shortlist, reader=s.reader,
                                      reader_model=s.reader_model, sentences_embedded=s.sentences_embedded),
            llm=LLMConfig(
                backend=s.llm, url=s.llm_url, model=s.llm_model, api_key=s.llm_api_key, timeout=s.llm_timeout,
                temperature=s.llm_temperature, max_tokens=s.llm_max_tokens, passage_tokens=s.llm_passage_tokens,
                model_path=s.llm_model_path, context_window=s.llm_context_window, top_k=s.top_k,
                prompts_dir=s.prompts_dir),
            indexing=IndexingConfig(chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap,
                                    batch_size=s.embed_batch_size, lock_path=s.lock_path, lock_wait=s.lock_wait,
                                    group_copies=s.group_copies),
            sources=SourcesConfig(path=s.sources_path, max_entries=s.feed_max_entries, lock_wait=s.lock_wait,
                                  fetch=FetchPolicy(timeout=s.fetch_timeout, deadline=s.fetch_deadline,
                                                    max_bytes=int(s.fetch_max_mb * 1024 * 1024),
                                                    allow_link_local=s.allow_link_local)),
            record=IndexRecord(store=s.store_label, collection=s.collection_name, chunk_size=s.chunk_size,
                               chunk_overlap=s.chunk_overlap, answerer=s.llm_label),
            web=WebConfig(uploads_dir=s.uploads_path, upload_max_mb=s.upload_max_mb,
                          upload_max_files=s.upload_max_files, feedback_dir=s.data_dir, host=s.host,
                          login_configured=bool(s.auth_username and s.auth_password),
                          refresh_minutes=s.refresh_minutes),
            samples_dir=s.samples_dir if s.index_samples_on_start else None,
        )
