"""The one place that builds: the embedding model, the Chroma client and store, the retriever, the answerers,
the indexer, the condenser, the app's web parts, and the `Assistant` that receives them all through its
constructor.

Settings stop here. Each public `build_*` turns the `Settings` it is given into the typed configs of
`assistant.configs` (`Configs.from_settings`, once) and the private builders below it see only the config
of their own part, so no part holds a `Settings` or comes back here with one. Everything else receives
built objects and never replaces their parts. Each backend is imported lazily inside its branch, so a
command pays only for what it uses (`assistant stats` loads no model). It is longer than most modules
because every backend choice lives here and nowhere else.

Over 300 lines because it is the one builder: each part's typed config is made here from `Settings`, so its
length is the number of parts, and each `build_*` stays short.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.configs import (
    AnsweringConfig,
    Configs,
    EmbeddingConfig,
    IndexingConfig,
    LLMConfig,
    RetrievalConfig,
    SourcesConfig,
    StoreConfig,
)
from assistant.errors import ConfigError
from index.errors import StoreError
from index.models.offline import offline_environment

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from assistant.answering.chat import Condenser
    from assistant.answering.interfaces import Answerer
    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.service import Assistant
    from assistant.settings import Settings
    from assistant.web.parts import WebParts
    from index.indexer import Indexer
    from index.intake.fetch import Fetcher
    from index.sources import Sources
    from index.storage.store import Corpus


def _log(line: str) -> None:
    """Progress lines of one-off work (distilling the static model) go to stderr, out of --json output."""
    print(line, file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------ from settings


def build_assistant(settings: Settings, *, store: Corpus | None = None,
                    embed_model: BaseEmbedding | None = None) -> Assistant:
    """The whole assistant for `settings`: store, embedding, retriever, answerer (a generative one falls back
    to the extractive one), indexer and follow-up condenser. `store`/`embed_model` let tests and benchmarks
    share already-built ones."""
    return _assistant(Configs.from_settings(settings), store=store, embed_model=embed_model)


def build_store(settings: Settings, client: Any | None = None) -> Corpus:
    return _store(Configs.from_settings(settings).store, client)


def build_chroma_client(settings: Settings) -> Any:
    return _chroma_client(Configs.from_settings(settings).store)


def build_embedding(settings: Settings) -> BaseEmbedding:
    return _embedding(Configs.from_settings(settings).embedding)


def build_indexer(settings: Settings, store: Corpus, embed_model: BaseEmbedding | None) -> Indexer:
    """The indexer; `embed_model=None` gives one that can only remove articles (no model is loaded)."""
    return _indexer(Configs.from_settings(settings).indexing, store, embed_model)


def build_fetcher(settings: Settings) -> Fetcher:
    """The one HTTP fetcher, under the settings' limits (timeouts, size cap, link-local rule)."""
    return _fetcher(Configs.from_settings(settings).sources)


def build_sources(settings: Settings, indexer: Indexer | None) -> Sources:
    """Saved sources (feeds, pages, folders) of the data dir, refreshed into `indexer`'s index. The Library
    tab and `assistant sources/refresh/watch` use this: `.add(loc)`, `.list()`, `.remove(loc)`,
    `.refresh()`."""
    return _sources(Configs.from_settings(settings).sources, indexer)


def build_web_parts(settings: Settings, assistant: Assistant) -> WebParts:
    """What the app's sections work on besides `assistant` (built by `build_assistant` from the same
    settings): the Library, the saved sources panel with its URL probe, and the feedback store."""
    from assistant.web.feedback import FeedbackStore
    from assistant.web.library import Library
    from assistant.web.parts import WebParts
    from assistant.web.sources_panel import SourcesPanel, is_loopback, url_probe

    configs = Configs.from_settings(settings)
    web, sources = configs.web, configs.sources
    panel = SourcesPanel(
        _sources(sources, assistant.indexer), exposed=not is_loopback(web.host),
        login_configured=web.login_configured, allow_link_local=sources.fetch.allow_link_local,
        refresh_minutes=web.refresh_minutes, host=web.host,
        probe=url_probe(lambda: _fetcher(sources), max_entries=sources.max_entries))
    library = Library(assistant, uploads_dir=web.uploads_dir, max_file_mb=web.upload_max_mb,
                      max_files=web.upload_max_files, samples_dir=configs.samples_dir)
    return WebParts(library=library, sources_panel=panel, feedback=FeedbackStore(web.feedback_dir))


# ------------------------------------------------------------------------------------ from configs


def _assistant(configs: Configs, *, store: Corpus | None = None, embed_model: BaseEmbedding | None = None,
               ) -> Assistant:
    from assistant.service import Assistant

    store = store or _store(configs.store)
    embed_model = embed_model or _embedding(configs.embedding)
    answerer, lazy_models = _extractive_answerer(configs.answering, configs.embedding, store, embed_model)
    llm = None
    if configs.llm.backend != "extractive":
        llm, where = _llm(configs.llm)
        answerer = _generative_answerer(configs.llm, configs.embedding, store=store, embed_model=embed_model,
                                        fallback=answerer, llm=llm, where=where)
    return Assistant(store=store, embed_model=embed_model,
                     retriever=_retriever(configs.retrieval, store, embed_model), answerer=answerer,
                     indexer=_indexer(configs.indexing, store, embed_model),
                     condenser=_condenser(configs.llm, llm), lazy_models=lazy_models,
                     dates=configs.dates, samples_dir=configs.samples_dir, record=configs.record)


def _embedding(config: EmbeddingConfig) -> BaseEmbedding:
    match config.kind:
        case "minilm":
            from index.models.embedding import MiniLMEmbedding

            return MiniLMEmbedding(batch_size=config.batch_size, device=config.device)
        case "static":
            from index.models.static_embedding import load_static

            return load_static(config.models_path, batch_size=max(config.batch_size, 256), log=_log)
        case "hashing":
            from index.models.embedding import HashingEmbedding

            return HashingEmbedding()
    raise ConfigError(f"unknown embedding {config.kind!r}")  # pragma: no cover


def _chroma_client(config: StoreConfig) -> Any:
    offline_environment()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if config.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(config.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https", settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {config.chroma_url} ({type(exc).__name__}); "
                "is `chroma run` up?"
            ) from exc
        return client
    path = config.chroma_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"data directory {config.data_dir} is not writable ({exc.strerror or exc}); "
                         "set --data-dir or ASSISTANT_DATA_DIR") from exc
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"cannot open the Chroma store at {path}: {exc}") from exc


def _store(config: StoreConfig, client: Any | None = None) -> Corpus:
    from index.storage.store import Corpus

    # An embedded client caches the vector index per process; the store reopens it after another
    # process wrote (a Chroma server needs no such thing). Not for a client the caller built.
    embedded_own_client = client is None and not config.chroma_url
    return Corpus(
        client if client is not None else _chroma_client(config),
        config.collection_name,
        embedding_model=config.embedding_model_name,
        lexical_path=config.lexical_path,
        location=config.label,
        reopen=(lambda: _chroma_client(config)) if embedded_own_client else None,
        # writers on other machines share a server: they take turns through a lease kept in it
        lease_seconds=config.lease_seconds if config.chroma_url else None,
    )


class LazyModel:
    """Builds a model on first use (thread-safe), so commands that never answer (index, stats) never pay
    for it; `Assistant.warm_up` builds it ahead of the first question in the app."""

    def __init__(self, build: Callable[[], Any]) -> None:
        self._build = build
        self._model: Any = None
        self._lock = threading.Lock()

    def get(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._build()
        return self._model

    def embed(self, texts: list[str]) -> Any:
        return self.get().embed(texts)


def _answer_models(config: AnsweringConfig, embedding: EmbeddingConfig, embed_model: BaseEmbedding,
                   ) -> tuple[Any, Any]:
    """(shortlist model, sentence model) for the extractive answerer, both lazy, or (None, None).

    The static model distilled from MiniLM ranks every candidate sentence; MiniLM embeds the question with
    the best `sentences_embedded`: an int8 copy of the PyTorch model (the float one when this PyTorch
    cannot quantize), or the NumPy model with `fast_start` (no PyTorch import). With the static embedding
    the index's own model shortlists. Hashing (tests) and `sentence_shortlist=False` keep the plain path:
    the main model embeds 16 sentences.
    """
    from index.models.embedding import MiniLMEmbedding

    if embedding.kind == "hashing" or not config.sentence_shortlist:
        return None, None
    if embedding.kind == "minilm" and not isinstance(embed_model, MiniLMEmbedding) \
            and not hasattr(embed_model, "_model"):
        return None, None  # a caller's own model that is not MiniLM: the plain path
    from index.models.embedding import QuantizedSentenceModel, SentenceModel
    from index.models.static_embedding import load_static

    def sentence_model() -> Any:
        minilm = embed_model if embedding.kind == "minilm" else MiniLMEmbedding(device=embedding.device)
        if isinstance(minilm, MiniLMEmbedding):
            # One model for every path (the app, `/ask`, `assistant ask`): the same question over the same
            # data gets the same similarities, hence the same answer. The reader was fitted on these vectors.
            return minilm.numpy_model()  # NumpyMiniLM.embed(texts) -> unit vectors
        return QuantizedSentenceModel.from_embedding(minilm) or SentenceModel(minilm)

    if embedding.kind == "static":
        shortlist: Any = embed_model
    else:
        shortlist = LazyModel(lambda: load_static(embedding.models_path, log=_log))
    return shortlist, LazyModel(sentence_model)


def _retriever(config: RetrievalConfig, store: Corpus, embed_model: BaseEmbedding) -> HybridRetriever:
    from assistant.retrieval.hybrid import HybridRetriever

    return HybridRetriever(
        store, embed_model, candidates=config.candidates, max_per_article=config.max_per_article,
        fusion=config.fusion, dense_weight=config.dense_weight, recency_weight=config.recency_weight,
        recency_days=config.recency_days, top_k=config.top_k,
        postprocessors=build_postprocessors(config.postprocessors),
    )


def build_postprocessors(names: Sequence[str]) -> list[Any]:
    """Each `module:callable` called with no argument; it must return a llama-index BaseNodePostprocessor."""
    import importlib

    from llama_index.core.postprocessor.types import BaseNodePostprocessor

    built = []
    for name in names:
        module_name, _, attr = name.partition(":")
        try:
            factory = getattr(importlib.import_module(module_name), attr)
            postprocessor = factory()
        except Exception as exc:  # any failure of user code is a configuration error
            raise ConfigError(f"postprocessor {name!r} could not be built: {type(exc).__name__}: {exc}") from exc
        if not isinstance(postprocessor, BaseNodePostprocessor):
            raise ConfigError(f"postprocessor {name!r} gave a {type(postprocessor).__name__}, "
                              "not a llama-index BaseNodePostprocessor")
        built.append(postprocessor)
    return built


def _extractive_answerer(config: AnsweringConfig, embedding: EmbeddingConfig, store: Corpus,
                         embed_model: BaseEmbedding) -> tuple[Answerer, list[Any]]:
    """The extractive answerer and the lazy models it will need (for `Assistant.warm_up`).

    The shortlist model (a fast static embedding) ranks every candidate sentence so that only
    `config.sentences_embedded` of them are embedded by the sentence model (an int8 MiniLM) or, without
    one, the answerer's default number by the main model."""
    from assistant.answering.extractive import ExtractiveAnswerer

    shortlist, sentence_model = _answer_models(config, embedding, embed_model)
    parts = {
        "embed_texts": embed_model.get_text_embedding_batch,
        "idf": store.idf,
        "shortlist_embed": shortlist.embed if shortlist is not None else None,
        "sentence_embed": sentence_model.embed if sentence_model is not None else None,
    }
    lazy = [m for m in (shortlist, sentence_model) if isinstance(m, LazyModel)]
    reader = _reader(config) if shortlist is not None and sentence_model is not None else None
    if reader is not None:
        from assistant.answering.reader import ReaderAnswerer

        return ReaderAnswerer(model=reader, sentences_embedded=config.sentences_embedded, **parts), lazy + [reader]
    if shortlist is None:  # the plain path: the answerer's own number of sentences, by the main model
        return ExtractiveAnswerer(**parts), lazy
    return ExtractiveAnswerer(**parts, sentences_embedded=config.sentences_embedded), lazy


def _reader(config: AnsweringConfig) -> Any:
    """The fitted reader model, loaded lazily, or None when off. A missing or unreadable file gives a
    one-line notice at the first question, and the rule-based answerer answers."""
    if not config.reader:
        return None
    from assistant.answering.reader import MODEL_PATH, load_model

    path = config.reader_model or MODEL_PATH
    # Loaded (and a missing or broken file reported, once) at the first question, not by `index` or `stats`.
    return LazyModel(lambda: load_model(path, log=_log) or False)  # False: tried once, unreadable


def _indexer(config: IndexingConfig, store: Corpus, embed_model: BaseEmbedding | None) -> Indexer:
    from index.indexer import Indexer

    return Indexer(
        store, embed_model, chunk_size=config.chunk_size, chunk_overlap=config.chunk_overlap,
        # the static model embeds 256 texts a call; writing batches that size amortises Chroma's overhead
        batch_size=max(getattr(embed_model, "embed_batch_size", 0), config.batch_size, 32),
        lock_path=config.lock_path, lock_wait=config.lock_wait, group_copies=config.group_copies,
    )


def _fetcher(config: SourcesConfig) -> Fetcher:
    from index.intake.fetch import Fetcher

    return Fetcher(config.fetch)


def _sources(config: SourcesConfig, indexer: Indexer | None) -> Sources:
    from index.sources import Sources

    return Sources(config.path, indexer, lambda: _fetcher(config),  # type: ignore[arg-type]
                   max_entries=config.max_entries, lock_wait=config.lock_wait)


def _llm(config: LLMConfig) -> tuple[Any, str]:
    """The llama-index LLM for `config.backend` and a short description of where it runs (for messages)."""
    match config.backend:
        case "openai":
            if not config.model:
                raise ConfigError("ASSISTANT_LLM_MODEL is empty: set the model name the endpoint serves "
                                  "(e.g. gpt-4o-mini, or the name your local server loaded)")
            try:
                from llama_index.llms.openai_like import OpenAILike
            except ImportError as exc:
                raise ConfigError("the openai backend needs llama-index-llms-openai-like; run: "
                                  "pip install -e '.[openai]'") from exc
            llm = OpenAILike(
                model=config.model, api_base=config.url, api_key=config.api_key or "none",
                is_chat_model=True, is_function_calling_model=False, temperature=config.temperature,
                max_tokens=config.max_tokens, timeout=config.timeout, max_retries=0,
                context_window=config.context_window,
            )
            return llm, config.url
        case "llamacpp":
            path = config.model_path
            if path is None or not Path(path).is_file():
                raise ConfigError(f"llm=llamacpp needs a GGUF model file: ASSISTANT_LLM_MODEL_PATH="
                                  f"{path or '(unset)'} is not a file")
            try:
                from llama_index.llms.llama_cpp import LlamaCPP
            except ImportError as exc:
                raise ConfigError("the llamacpp backend needs llama-cpp-python and llama-index-llms-llama-cpp; "
                                  "run: pip install -e '.[local]'") from exc
            try:
                llm = LlamaCPP(
                    model_path=str(path), temperature=config.temperature,
                    max_new_tokens=config.max_tokens, context_window=config.context_window,
                    generate_kwargs={}, model_kwargs={"n_gpu_layers": 0}, verbose=False,
                )
            except Exception as exc:
                raise ConfigError(f"cannot load the GGUF model {path}: {' '.join(str(exc).split())[:200]}") from exc
            return llm, f"llama.cpp ({Path(path).name})"
    raise ConfigError(f"unknown llm backend {config.backend!r}")


def _generative_answerer(config: LLMConfig, embedding: EmbeddingConfig, *, store: Corpus,
                         embed_model: BaseEmbedding, fallback: Answerer, llm: Any, where: str) -> Answerer:
    """A generative answerer writing with `llm` (from `_llm`), falling back to `fallback`."""
    from assistant.answering.generative import GenerativeAnswerer
    from assistant.answering.prompts import load_prompt
    from assistant.answering.verify import Bounds

    return GenerativeAnswerer(
        llm, name=config.label, prompt=load_prompt(config.prompts_dir, "answer"), fallback=fallback,
        embed_texts=embed_model.get_text_embedding_batch,
        idf=store.idf, where=where, timeout=config.timeout,
        max_passages=config.top_k, passage_tokens=config.passage_tokens,
        require_finish=config.backend == "openai",
        bounds=Bounds.for_embedding(embedding.kind),
    )


def _condenser(config: LLMConfig, llm: Any = None) -> Condenser:
    """How the chat rewrites follow-up questions before retrieval: with the answering LLM and
    prompts/condense.txt when there is one, else by rules (no model needed)."""
    from assistant.answering.chat import RuleCondenser

    if config.backend != "extractive" and llm is not None:
        from assistant.answering.generative import LLMCondenser
        from assistant.answering.prompts import load_prompt

        return LLMCondenser(llm, prompt=load_prompt(config.prompts_dir, "condense"), name=config.label,
                            timeout=config.timeout)
    return RuleCondenser()
