"""The one place that builds: the embedding model, the Chroma client and store, the retriever, the answerers,
the indexer, the condenser, and the `Assistant` that receives them all through its constructor.

Everything else receives built objects and never replaces their parts. Each backend is imported lazily
inside its branch, so a command pays only for what it uses (`assistant stats` loads no model).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from assistant.settings import Settings
from index.errors import StoreError
from index.offline import offline_environment

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from assistant.answering.chat import Condenser
    from assistant.answering.extractive import Answerer
    from assistant.retrieval.hybrid import HybridRetriever
    from assistant.service import Assistant
    from index.fetch import Fetcher
    from index.indexer import Indexer
    from index.sources import Sources
    from index.store import Corpus


def _log(line: str) -> None:
    """Progress lines of one-off work (distilling the static model) go to stderr, out of --json output."""
    print(line, file=sys.stderr, flush=True)


def build_embedding(settings: Settings) -> BaseEmbedding:
    match settings.embedding:
        case "minilm":
            from index.embedding import MiniLMEmbedding

            return MiniLMEmbedding(batch_size=settings.embed_batch_size, device=settings.device)
        case "static":
            from index.static_embedding import load_static

            return load_static(settings.models_path, batch_size=max(settings.embed_batch_size, 256), log=_log)
        case "hashing":
            from index.embedding import HashingEmbedding

            return HashingEmbedding()
    raise ConfigError(f"unknown embedding {settings.embedding!r}")  # pragma: no cover


def build_chroma_client(settings: Settings) -> Any:
    offline_environment()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        from urllib.parse import urlparse

        url = urlparse(settings.chroma_url)
        try:
            client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1", port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https", settings=chroma_settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {settings.chroma_url} ({type(exc).__name__}); "
                "is `chroma run` up?"
            ) from exc
        return client
    path = settings.chroma_path
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-probe"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        raise StoreError(f"data directory {settings.data_dir} is not writable ({exc.strerror or exc}); "
                         "set --data-dir or ASSISTANT_DATA_DIR") from exc
    try:
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:
        raise StoreError(f"cannot open the Chroma store at {path}: {exc}") from exc


def build_store(settings: Settings, client: Any | None = None) -> Corpus:
    from index.store import Corpus

    # An embedded client caches the vector index per process; the store reopens it after another
    # process wrote (a Chroma server needs no such thing). Not for a client the caller built.
    embedded_own_client = client is None and not settings.chroma_url
    return Corpus(
        client if client is not None else build_chroma_client(settings),
        settings.collection_name,
        embedding_model=settings.embedding_model_name,
        lexical_path=settings.lexical_path,
        location=settings.store_label,
        reopen=(lambda: build_chroma_client(settings)) if embedded_own_client else None,
        # writers on other machines share a server: they take turns through a lease kept in it
        lease_seconds=settings.server_lease_seconds if settings.chroma_url else None,
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


def build_answer_models(settings: Settings, embed_model: BaseEmbedding) -> tuple[Any, Any]:
    """(shortlist model, sentence model) for the extractive answerer, both lazy, or (None, None).

    The static model distilled from MiniLM ranks every candidate sentence; MiniLM embeds the question with
    the best `sentences_embedded`: an int8 copy of the PyTorch model (the float one when this PyTorch
    cannot quantize), or the NumPy model with `fast_start` (no PyTorch import). With the static embedding
    the index's own model shortlists. Hashing (tests) and `sentence_shortlist=False` keep the plain path:
    the main model embeds 16 sentences.
    """
    from index.embedding import MiniLMEmbedding

    if settings.embedding == "hashing" or not settings.sentence_shortlist:
        return None, None
    if settings.embedding == "minilm" and not isinstance(embed_model, MiniLMEmbedding) \
            and not hasattr(embed_model, "_model"):
        return None, None  # a caller's own model that is not MiniLM: the plain path
    from index.embedding import QuantizedSentenceModel, SentenceModel
    from index.static_embedding import load_static

    def sentence_model() -> Any:
        minilm = embed_model if settings.embedding == "minilm" else MiniLMEmbedding(device=settings.device)
        if isinstance(minilm, MiniLMEmbedding):
            # One model for every path (the app, `/ask`, `assistant ask`): the same question over the same
            # data gets the same similarities, hence the same answer. The reader was fitted on these vectors.
            return minilm.numpy_model()  # NumpyMiniLM.embed(texts) -> unit vectors
        return QuantizedSentenceModel.from_embedding(minilm) or SentenceModel(minilm)

    if settings.embedding == "static":
        shortlist: Any = embed_model
    else:
        shortlist = LazyModel(lambda: load_static(settings.models_path, log=_log))
    return shortlist, LazyModel(sentence_model)


def build_retriever(settings: Settings, store: Corpus, embed_model: BaseEmbedding) -> HybridRetriever:
    from assistant.retrieval.hybrid import HybridRetriever

    return HybridRetriever(
        store, embed_model, candidates=settings.candidates, max_per_article=settings.max_per_article,
        fusion=settings.fusion, dense_weight=settings.dense_weight,
        recency_weight=settings.recency_weight if settings.recency_prior else 0.0,
        recency_days=settings.recency_days, top_k=settings.top_k,
        postprocessors=build_postprocessors(settings.postprocessors),
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


def build_extractive_answerer(settings: Settings, store: Corpus, embed_model: BaseEmbedding,
                              ) -> tuple[Answerer, list[Any]]:
    """The extractive answerer and the lazy models it will need (for `Assistant.warm_up`).

    The shortlist model (a fast static embedding) ranks every candidate sentence so that only
    `settings.sentences_embedded` of them are embedded by the sentence model (an int8 MiniLM) or, without
    one, 16 by the main model."""
    from assistant.answering.extractive import ExtractiveAnswerer

    shortlist, sentence_model = build_answer_models(settings, embed_model)
    parts = {
        "embed_texts": embed_model.get_text_embedding_batch,
        "idf": store.idf,
        "shortlist_embed": shortlist.embed if shortlist is not None else None,
        "sentence_embed": sentence_model.embed if sentence_model is not None else None,
    }
    lazy = [m for m in (shortlist, sentence_model) if isinstance(m, LazyModel)]
    reader = build_reader(settings) if shortlist is not None and sentence_model is not None else None
    if reader is not None:
        from assistant.answering.reader import ReaderAnswerer

        return ReaderAnswerer(model=reader, sentences_embedded=settings.sentences_embedded, **parts), lazy + [reader]
    answerer = ExtractiveAnswerer(
        **parts, sentences_embedded=settings.sentences_embedded if shortlist is not None else 16)
    return answerer, lazy


def build_reader(settings: Settings) -> Any:
    """The fitted reader model, loaded lazily, or None when off. A missing or unreadable file gives a
    one-line notice at the first question, and the rule-based answerer answers."""
    if not settings.reader:
        return None
    from assistant.answering.reader import MODEL_PATH, load_model

    path = settings.reader_model or MODEL_PATH
    # Loaded (and a missing or broken file reported, once) at the first question, not by `index` or `stats`.
    return LazyModel(lambda: load_model(path, log=_log) or False)  # False: tried once, unreadable


def build_indexer(settings: Settings, store: Corpus, embed_model: BaseEmbedding | None) -> Indexer:
    """The indexer; `embed_model=None` gives one that can only remove articles (no model is loaded)."""
    from index.indexer import Indexer

    return Indexer(
        store, embed_model, chunk_size=settings.chunk_size, chunk_overlap=settings.chunk_overlap,
        # the static model embeds 256 texts a call; writing batches that size amortises Chroma's overhead
        batch_size=max(getattr(embed_model, "embed_batch_size", 0), settings.embed_batch_size, 32),
        lock_path=settings.lock_path, lock_wait=settings.lock_wait, group_copies=settings.group_copies,
    )


def build_fetcher(settings: Settings) -> Fetcher:
    """The one HTTP fetcher, under the settings' limits (timeouts, size cap, link-local rule)."""
    from index.fetch import Fetcher, FetchPolicy

    return Fetcher(FetchPolicy(
        timeout=settings.fetch_timeout, deadline=settings.fetch_deadline,
        max_bytes=int(settings.fetch_max_mb * 1024 * 1024), allow_link_local=settings.allow_link_local,
    ))


def build_sources(settings: Settings, indexer: Indexer) -> Sources:
    """Saved sources (feeds, pages, folders) of the data dir, refreshed into `indexer`'s index. The Library
    tab and `assistant sources/refresh/watch` use this: `.add(loc)`, `.list()`, `.remove(loc)`,
    `.refresh()`."""
    from index.sources import Sources

    return Sources(settings.sources_path, indexer, lambda: build_fetcher(settings),
                   max_entries=settings.feed_max_entries, lock_wait=settings.lock_wait)


def build_assistant(settings: Settings, *, store: Corpus | None = None,
                    embed_model: BaseEmbedding | None = None) -> Assistant:
    """The whole assistant for `settings`: store, embedding, retriever, answerer (a generative one falls back
    to the extractive one), indexer and follow-up condenser. `store`/`embed_model` let tests and benchmarks
    share already-built ones."""
    from assistant.service import Assistant

    store = store or build_store(settings)
    embed_model = embed_model or build_embedding(settings)
    answerer, lazy_models = build_extractive_answerer(settings, store, embed_model)
    llm = None
    if settings.llm != "extractive":
        llm, where = build_llm(settings)
        answerer = build_answerer(settings, store=store, embed_model=embed_model, fallback=answerer,
                                  llm=llm, where=where)
    return Assistant(settings, store=store, embed_model=embed_model,
                     retriever=build_retriever(settings, store, embed_model), answerer=answerer,
                     indexer=build_indexer(settings, store, embed_model),
                     condenser=build_condenser(settings, llm), lazy_models=lazy_models)


def build_llm(settings: Settings) -> tuple[Any, str]:
    """The llama-index LLM for `settings.llm` and a short description of where it runs (for messages)."""
    match settings.llm:
        case "openai":
            if not settings.llm_model:
                raise ConfigError("ASSISTANT_LLM_MODEL is empty: set the model name the endpoint serves "
                                  "(e.g. gpt-4o-mini, or the name your local server loaded)")
            try:
                from llama_index.llms.openai_like import OpenAILike
            except ImportError as exc:
                raise ConfigError("the openai backend needs llama-index-llms-openai-like; run: "
                                  "pip install -e '.[openai]'") from exc
            llm = OpenAILike(
                model=settings.llm_model, api_base=settings.llm_url, api_key=settings.llm_api_key or "none",
                is_chat_model=True, is_function_calling_model=False, temperature=settings.llm_temperature,
                max_tokens=settings.llm_max_tokens, timeout=settings.llm_timeout, max_retries=0,
                context_window=settings.llm_context_window,
            )
            return llm, settings.llm_url
        case "llamacpp":
            path = settings.llm_model_path
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
                    model_path=str(path), temperature=settings.llm_temperature,
                    max_new_tokens=settings.llm_max_tokens, context_window=settings.llm_context_window,
                    generate_kwargs={}, model_kwargs={"n_gpu_layers": 0}, verbose=False,
                )
            except Exception as exc:
                raise ConfigError(f"cannot load the GGUF model {path}: {' '.join(str(exc).split())[:200]}") from exc
            return llm, f"llama.cpp ({Path(path).name})"
    raise ConfigError(f"unknown llm backend {settings.llm!r}")


def build_answerer(settings: Settings, *, store: Corpus, embed_model: BaseEmbedding, fallback: Answerer,
                   llm: Any, where: str) -> Answerer:
    """A generative answerer writing with `llm` (from `build_llm`), falling back to `fallback`."""
    from assistant.answering.generative import GenerativeAnswerer
    from assistant.answering.prompts import load_prompt
    from assistant.answering.verify import Bounds

    return GenerativeAnswerer(
        llm, name=settings.llm_label, prompt=load_prompt(settings.prompts_dir, "answer"), fallback=fallback,
        embed_texts=embed_model.get_text_embedding_batch,
        idf=store.idf, where=where, timeout=settings.llm_timeout,
        max_passages=settings.top_k, passage_tokens=settings.llm_passage_tokens,
        require_finish=settings.llm == "openai",
        bounds=Bounds.for_embedding(settings.embedding),
    )


def build_condenser(settings: Settings, llm: Any = None) -> Condenser:
    """How the chat rewrites follow-up questions before retrieval: with the answering LLM and
    prompts/condense.txt when there is one, else by rules (no model needed)."""
    from assistant.answering.chat import RuleCondenser

    if settings.llm != "extractive" and llm is not None:
        from assistant.answering.generative import LLMCondenser
        from assistant.answering.prompts import load_prompt

        return LLMCondenser(llm, prompt=load_prompt(settings.prompts_dir, "condense"), name=settings.llm_label,
                            timeout=settings.llm_timeout)
    return RuleCondenser()
