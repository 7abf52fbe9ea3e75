"""The one place that sets the offline environment: no telemetry, no model-hub lookups, no progress bars.

Called before chromadb, gradio, huggingface_hub or transformers are imported (they read these at import)
by every entry point: the CLI, the app, the model loaders and the benchmarks. A value the user already set
is kept. The tokenizer's bundled cache (TIKTOKEN_CACHE_DIR) is set where it is found, in `index.text.tokens`.
"""

from __future__ import annotations

import os
import sys

OFFLINE_ENV = {
    "ANONYMIZED_TELEMETRY": "False",  # chromadb
    "GRADIO_ANALYTICS_ENABLED": "False",
    "HF_HUB_OFFLINE": "1",  # a hub model name fails at once instead of retrying for a minute
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "TOKENIZERS_PARALLELISM": "false",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",  # transformers' "Loading weights" bar on every model load
}


def offline_environment() -> None:
    for key, value in OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
    skip_override_checks()


def skip_override_checks() -> None:
    """Make the `overrides` package's decorators mark methods without checking them.

    chromadb decorates about 160 methods with `@override`/`@overrides`, whose check (find the base class by
    disassembling the calling frame, then compare signatures) runs at import time: 0.2-0.3 s of a bare
    `import chromadb`'s 0.6-0.9 s on this project's 2-core machine, paid by every command that opens the
    index. The check is a development aid for chromadb's authors (it raises on a mismatched signature
    that their own tests would catch); the `__override__` mark that `EnforceOverrides` classes look for is
    still set. Done before chromadb is first imported, and only when `overrides` is the version checked
    here (7.x), so a different release keeps its own behaviour. ASSISTANT_CHECK_OVERRIDES=1 keeps the checks.
    """
    if os.environ.get("ASSISTANT_CHECK_OVERRIDES") == "1":
        return
    try:
        import overrides
    except ImportError:
        return
    module = sys.modules.get("overrides.overrides")  # (`overrides.overrides` is the decorator, not the module)
    if module is None or not str(getattr(overrides, "__VERSION__", "")).startswith("7.") or overrides.override is _mark:
        return
    overrides.override = overrides.overrides = module.override = module.overrides = _mark


def _mark(method=None, *, check_signature: bool = True, check_at_runtime: bool = False):
    """`@override` / `@override(...)` that only sets the mark `EnforceOverrides` looks for."""
    if method is None:
        return _mark
    method.__override__ = True
    return method
