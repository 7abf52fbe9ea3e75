"""The one place that sets the offline environment: no telemetry, no model-hub lookups, no progress bars.

Called before chromadb, gradio, huggingface_hub or transformers are imported (they read these at import)
by every entry point: the CLI, the app, the model loaders and the benchmarks. A value the user already set
is kept. The tokenizer's bundled cache (TIKTOKEN_CACHE_DIR) is set where it is found, in `index.tokens`.
"""

from __future__ import annotations

import os

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
