"""The one place that picks implementations: the embedding model, the Chroma client, the store, the answerer.

Everything else receives built objects. Each backend is imported lazily inside its branch.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from assistant.errors import ConfigError
from assistant.settings import Settings
from index.errors import StoreError

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from assistant.service import Assistant
    from index.store import ChunkStore


def quiet_environment() -> None:
    """No telemetry, no hub lookups: set before chromadb, gradio or transformers are imported."""
    for key, value in {
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "HF_HUB_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(key, value)


def build_embedding(settings: Settings) -> "BaseEmbedding":
    match settings.embedding:
        case "minilm":
            from index.embedding import load_minilm

            return load_minilm(batch_size=settings.embed_batch_size)
        case "hashing":
            from index.embedding import HashingEmbedding

            return HashingEmbedding()
    raise ConfigError(f"unknown embedding {settings.embedding!r}")  # pragma: no cover


def build_chroma_client(settings: Settings) -> Any:
    quiet_environment()
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


def build_store(settings: Settings, client: Any | None = None) -> "ChunkStore":
    from index.store import ChunkStore

    return ChunkStore(
        client if client is not None else build_chroma_client(settings),
        settings.collection_name,
        embedding_model=settings.collection_name.split("-", 1)[1],
        lexical_path=settings.lexical_path,
        location=settings.store_label,
    )


def build_assistant(settings: Settings, *, store: "ChunkStore | None" = None,
                    embed_model: "BaseEmbedding | None" = None) -> "Assistant":
    from assistant.service import Assistant

    return Assistant(settings, store=store or build_store(settings),
                     embed_model=embed_model or build_embedding(settings))
