"""`python -m tests.paced_cli ARGS`: the `assistant` command with each call of the hashing embedding slowed by
`RELIABILITY_PACE` seconds, so that commands started together really write at the same time (with the fast
hashing model a whole write takes less than a process takes to start). Test scaffolding: the product has no
such hook."""

from __future__ import annotations

import os
import sys
import time

from index.models.offline import offline_environment

offline_environment()

from index.models.embedding import HashingEmbedding  # after the offline environment

_PACE = float(os.environ.get("RELIABILITY_PACE", "0") or 0)
_embed = HashingEmbedding._get_text_embeddings


def _paced(self, texts):
    time.sleep(_PACE)
    return _embed(self, texts)


HashingEmbedding._get_text_embeddings = _paced

if __name__ == "__main__":
    from assistant.cli import main

    sys.exit(main())
