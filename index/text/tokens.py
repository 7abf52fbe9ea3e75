"""Offline token counting with tiktoken's `cl100k_base`.

tiktoken downloads its BPE files on first use; llama-index-core ships them in its package, so we point
`TIKTOKEN_CACHE_DIR` there before loading (unless the user already set a cache of their own).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import tiktoken

ENCODING_NAME = "cl100k_base"


def _bundled_cache_dir() -> Path | None:
    try:
        from llama_index import core
    except ImportError:  # pragma: no cover - llama-index-core is a hard dependency
        return None
    path = Path(core.__file__).parent / "_static" / "tiktoken_cache"
    return path if path.is_dir() else None


@functools.lru_cache(maxsize=1)
def get_encoding() -> tiktoken.Encoding:
    """Return the cl100k_base encoding without touching the network."""
    if not os.environ.get("TIKTOKEN_CACHE_DIR"):
        bundled = _bundled_cache_dir()
        if bundled is not None:
            os.environ["TIKTOKEN_CACHE_DIR"] = str(bundled)
    return tiktoken.get_encoding(ENCODING_NAME)


def count_tokens(text: str) -> int:
    return len(get_encoding().encode_ordinary(text))
