"""`index.models.offline.skip_override_checks`: chromadb imports faster, and what the checks would do is gone only
where asked (each case in a fresh interpreter: the decorators are replaced process-wide)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
from index.models.offline import offline_environment
offline_environment()
from overrides import EnforceOverrides, override

class Base(EnforceOverrides):
    def size(self, a: int) -> int:
        return a

try:
    class Child(Base):
        @override
        def size(self, a: int, b: int) -> int:  # an incompatible signature: the check raises on it
            return a + b
    print("unchecked", Child.size.__override__)
except TypeError:
    print("checked")
import chromadb
client = chromadb.EphemeralClient(settings=chromadb.config.Settings(anonymized_telemetry=False))
collection = client.get_or_create_collection("probe", embedding_function=None)
collection.add(ids=["a"], embeddings=[[1.0, 0.0]], documents=["x"])
print("chroma", collection.count())
"""


def _probe(**env: str) -> list[str]:
    full = {**os.environ, **env}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True,
                         timeout=120, check=True)
    return out.stdout.split("\n")


def test_the_checks_are_skipped_and_chroma_still_works():
    full = {k: v for k, v in os.environ.items() if k != "ASSISTANT_CHECK_OVERRIDES"}
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=full, capture_output=True, text=True,
                         timeout=120, check=True).stdout.split("\n")
    assert out[0] == "unchecked True"  # the mark EnforceOverrides looks for is still set
    assert out[1] == "chroma 1"


def test_assistant_check_overrides_keeps_the_checks():
    out = _probe(ASSISTANT_CHECK_OVERRIDES="1")
    assert out[0] == "checked"
    assert out[1] == "chroma 1"
