"""The seam through which tests reach Chroma under a `Corpus`: the Chroma client it is built on.

A `Corpus` keeps its sides to itself (`index.storage.store`); it is built from a client (`Corpus(client, ...)`,
`assistant.factory.build_store(settings, client=...)`). A test that checks what Chroma really holds builds
the client itself and reads it through chromadb's own API (`client.get_collection(name).get(...)`). A test
that injects a fault builds the Corpus on a `ChromaSeam`: a real client whose collections can have a method
intercepted and whose maximum batch size can be made small; everything else is the real client's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# An override receives the real method, then the call's arguments: `lambda real, **kw: real(**kw)` is the
# method unchanged.
Override = Callable[..., Any]


class ChromaSeam:
    """A real chromadb client with hooks: `overrides` ({method name: override}) intercept the methods of every
    collection it hands out (looked up at each call, so a fault can be armed or disarmed mid-test), and
    `max_batch` (when set) is the maximum batch size it reports."""

    def __init__(self, client: Any, *, max_batch: int | None = None,
                 overrides: dict[str, Override] | None = None) -> None:
        self.real = client
        self.max_batch = max_batch
        self.overrides: dict[str, Override] = dict(overrides or {})

    def get_max_batch_size(self) -> int:
        return self.max_batch if self.max_batch is not None else self.real.get_max_batch_size()

    def get_or_create_collection(self, *args: Any, **kwargs: Any) -> _CollectionSeam:
        return _CollectionSeam(self.real.get_or_create_collection(*args, **kwargs), self.overrides)

    def get_collection(self, *args: Any, **kwargs: Any) -> _CollectionSeam:
        return _CollectionSeam(self.real.get_collection(*args, **kwargs), self.overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class _CollectionSeam:
    """A real chromadb collection whose methods named in `overrides` go through the override."""

    def __init__(self, collection: Any, overrides: dict[str, Override]) -> None:
        self.real = collection
        self._overrides = overrides

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        override = self._overrides.get(name)
        if override is None or not callable(attr):
            return attr
        return lambda *args, **kwargs: override(attr, *args, **kwargs)
