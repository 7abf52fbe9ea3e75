"""Shared pieces of the reliability tests: a generated corpus that can change between runs, running and
killing the real `assistant` command, and an exactness check of an index against its input.

`RELIABILITY_FULL=1` switches the tests from the CI counts to the full run (more trials, a larger corpus,
more fuzz examples); `trials()` and `examples()` pick the number.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL = os.environ.get("RELIABILITY_FULL", "") not in ("", "0")

# Every subprocess uses the deterministic hashing embedding so a run takes seconds, not minutes.
# Crash safety is about articles written in several chunks: the reliability tests chunk at 256/32 tokens
# (the default 1,024 makes most generated articles one chunk). tests/conftest.py sets the same for the
# tests' own process.
CHUNK_ENV = {"ASSISTANT_CHUNK_SIZE": "256", "ASSISTANT_CHUNK_OVERLAP": "32"}
CLI_ENV = {"ASSISTANT_EMBEDDING": "hashing", "ASSISTANT_INDEX_SAMPLES_ON_START": "false", **CHUNK_ENV}

_WORDS = ("council", "budget", "river", "bridge", "election", "court", "ruling", "minister", "port",
    "strike", "vaccine", "drought", "harvest", "satellite", "launch", "festival", "museum", "border",
    "treaty", "police", "storm", "flood", "school", "teachers", "union", "mayor", "railway", "airport",
    "tariff", "export", "factory", "bank", "inflation", "rates", "housing", "rent", "protest", "senate",
    "governor", "wildfire", "coast", "fishermen", "hospital", "nurses", "energy", "grid", "solar",
    "wind", "turbines", "mine", "copper", "lithium", "orchestra", "stadium", "league", "coach",
    "transfer", "record", "drought", "reservoir", "pipeline", "refinery", "ferry", "island", "volcano",
    "earthquake", "aid", "convoy", "ceasefire", "talks", "summit", "delegation", "embassy", "sanctions",
    "ballot", "turnout")
SOURCES = ("Harbor Times", "Valley Post", "Metro Wire", "Daily Ledger", "Coast Herald")


def trials(ci: int, full: int) -> int:
    return full if FULL else ci


def examples(ci: int, full: int) -> int:
    return full if FULL else ci


# --------------------------------------------------------------------------------------------- corpus


def _sentence(rng: random.Random) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 22))
    number = rng.randint(2, 9999)
    return f"{' '.join(words).capitalize()} with {number} {rng.choice(_WORDS)}s."


def make_article(rng: random.Random, article_id: str, version: int = 0) -> dict:
    """One article of 1 to about 4 chunks (at 256 tokens); `version` is written into its text."""
    n_sentences = rng.choice([3, 6, 12, 25, 40])
    text = " ".join(_sentence(rng) for _ in range(n_sentences)) + f" Revision {version}."
    return {
        "id": article_id,
        "title": f"{rng.choice(_WORDS).capitalize()} {rng.choice(_WORDS)} report {article_id}",
        "text": text,
        "url": f"https://news.example/{article_id}",
        "source": rng.choice(SOURCES),
        "published_at": f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }


@dataclass
class Corpus:
    """A set of articles held in memory and written out as one JSONL file plus a folder of Markdown files."""

    articles: dict[str, dict]
    rng: random.Random
    md_ids: frozenset[str] = frozenset()
    version: int = 0

    @classmethod
    def generate(cls, n: int, seed: int, n_markdown: int = 12) -> Corpus:
        rng = random.Random(seed)
        articles = {f"gen-{i:04d}": make_article(rng, f"gen-{i:04d}") for i in range(n)}
        md_ids = frozenset(f"md/story-{i:03d}" for i in range(n_markdown))
        for aid in md_ids:
            articles[aid] = make_article(rng, aid)
        return cls(articles, rng, md_ids)

    def copy(self) -> Corpus:
        return Corpus({k: dict(v) for k, v in self.articles.items()}, random.Random(self.rng.random()),
                      self.md_ids, self.version)

    def mutate(self, *, update: int = 0, retitle: int = 0, remove: int = 0, add: int = 0) -> dict[str, list]:
        """Change the corpus in place: new text (often another chunk count), new title only, gone, new."""
        self.version += 1
        ids = sorted(self.articles)
        picked = self.rng.sample(ids, min(len(ids), update + retitle + remove))
        changed = {"updated": picked[:update], "retitled": picked[update : update + retitle],
                   "removed": picked[update + retitle :], "added": []}
        for aid in changed["updated"]:
            fresh = make_article(self.rng, aid, self.version)
            self.articles[aid]["text"] = fresh["text"]
        for aid in changed["retitled"]:
            self.articles[aid]["title"] += f" (corrected {self.version})"
        for aid in changed["removed"]:
            del self.articles[aid]
        for i in range(add):
            aid = f"new-{self.version:02d}-{i:03d}"
            self.articles[aid] = make_article(self.rng, aid, self.version)
            changed["added"].append(aid)
        return changed

    def write(self, folder: Path) -> list[Path]:
        """Write the corpus to `folder` (replacing what was there); returns the paths to index."""
        jsonl = folder / "articles.jsonl"
        md_root = folder / "docs"
        md_root.mkdir(parents=True, exist_ok=True)
        if md_root.exists():
            for old in md_root.rglob("*.md"):
                old.unlink()
        lines = [json.dumps(a) for aid, a in sorted(self.articles.items()) if aid not in self.md_ids]
        tmp = jsonl.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
        tmp.replace(jsonl)
        for aid in self.md_ids:
            if aid not in self.articles:
                continue
            a = self.articles[aid]
            path = md_root / f"{aid}.md"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(
                f"---\ntitle: {a['title']}\nsource: {a['source']}\nurl: {a['url']}\n"
                f"published_at: {a['published_at']}\n---\n{a['text']}\n", encoding="utf-8")
        return [jsonl, md_root]


# --------------------------------------------------------------------------------------------- the CLI


def cli_command(*args: str, module: str = "assistant.cli") -> list[str]:
    """`module`: tests.paced_cli runs the same command with a slowed embedding (see there)."""
    return [sys.executable, "-m", module, *args]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, **CLI_ENV, "ASSISTANT_DATA_DIR": str(data_dir), **extra}


def run(args: list[str], data_dir: Path, timeout: float = 240, env: dict[str, str] | None = None,
        module: str = "assistant.cli") -> subprocess.CompletedProcess:
    return subprocess.run(cli_command(*args, module=module), check=False, capture_output=True, text=True,
                          env=cli_env(data_dir, **(env or {})), timeout=timeout, cwd=ROOT)


def run_ok(args: list[str], data_dir: Path, timeout: float = 240, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess:
    proc = run(args, data_dir, timeout, env)
    assert proc.returncode == 0, f"assistant {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}"
    return proc


@dataclass
class Killed:
    """How a killed run went: when it was killed and how far its progress bar had got."""

    seconds: float
    progress: tuple[int, int] | None  # (done, total) chunks last reported, None if embedding had not begun
    finished: bool  # the process had already exited by itself


def _last_progress(stderr: str) -> tuple[int, int] | None:
    import re

    found = re.findall(r"(\d+)/(\d+) \[", stderr)
    return (int(found[-1][0]), int(found[-1][1])) if found else None


def run_and_kill(args: list[str], data_dir: Path, *, at_fraction: float | None = None,
                 after_seconds: float | None = None, linger: float = 0.0, timeout: float = 120,
                 env: dict[str, str] | None = None, module: str = "assistant.cli") -> Killed:
    """Start `assistant ARGS` and SIGKILL it `linger` seconds after its progress bar passes `at_fraction` of
    the chunks, or `after_seconds` after the start. stderr is read as it comes, so the moment follows the
    real work. `env`: more environment variables for the command; `module`: see `cli_command`."""
    import selectors

    started = time.monotonic()
    proc = subprocess.Popen(cli_command(*args, module=module), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=cli_env(data_dir, **(env or {})), cwd=ROOT)
    assert proc.stderr is not None
    os.set_blocking(proc.stderr.fileno(), False)
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    buf = b""
    try:
        while True:
            elapsed = time.monotonic() - started
            if elapsed > timeout:
                raise TimeoutError(f"assistant {' '.join(args)} still running after {timeout} s")
            if after_seconds is not None and elapsed >= after_seconds:
                break
            if at_fraction is not None:
                progress = _last_progress(buf.decode(errors="replace"))
                if progress and progress[1] and progress[0] >= at_fraction * progress[1]:
                    break
            for _key, _ in sel.select(timeout=0.01):
                chunk = proc.stderr.read(65536)
                if chunk:
                    buf += chunk
            if proc.poll() is not None:
                return Killed(time.monotonic() - started, _last_progress(buf.decode(errors="replace")), True)
        if linger:
            time.sleep(linger)
            if proc.poll() is not None:
                return Killed(time.monotonic() - started, _last_progress(buf.decode(errors="replace")), True)
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        return Killed(time.monotonic() - started, _last_progress(buf.decode(errors="replace")), False)
    finally:
        sel.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        proc.stderr.close()


# --------------------------------------------------------------------------------------------- checking


def expected_chunks(paths: list[Path], chunk_size: int | None = None, chunk_overlap: int | None = None,
                    allow_failures: bool = False) -> dict[str, tuple[str, str]]:
    """What a correct index of `paths` holds: chunk id -> (article id, chunk text), computed without any
    store from the readers and the chunker the indexer uses (at the environment's settings unless given)."""
    from assistant.settings import Settings
    from index.indexer import Indexer
    from index.intake.articles import Article, read_articles
    from index.storage.store import chunk_id_for
    from index.text.chunking import chunk_text

    current = Settings()  # the environment's settings, as the CLI under test reads them
    chunk_size = chunk_size if chunk_size is not None else current.chunk_size
    chunk_overlap = chunk_overlap if chunk_overlap is not None else current.chunk_overlap
    fingerprinter = Indexer(store=None, embed_model=None, chunk_size=chunk_size,  # type: ignore[arg-type]
                            chunk_overlap=chunk_overlap)
    out: dict[str, tuple[str, str]] = {}
    for item in read_articles(paths):
        if allow_failures and not isinstance(item, Article):
            continue
        assert isinstance(item, Article), f"test corpus failed to read: {item}"
        fp = fingerprinter.fingerprint(item)
        texts: set[str] = set()
        for span in chunk_text(item.text, chunk_size, chunk_overlap):
            text = item.text[span.start : span.end]
            if text not in texts:  # a chunk repeating an earlier one of the article is not stored
                texts.add(text)
                out[chunk_id_for(item.id, fp, span.index)] = (item.id, text)
    return out


@dataclass
class IndexSnapshot:
    """Everything an exactness check needs from one data directory, read by a fresh Chroma client."""

    ids: list[str]  # from Chroma's records (the metadata segment)
    vectors: dict[str, list[float]]  # read back from the vector segment (a missing one is an error there)
    reachable: set[str]  # what a nearest-neighbour query over the whole collection returns
    lexical_ids: set[str]  # the BM25 index after it synced itself with Chroma
    articles: Counter  # article id -> chunks
    texts: dict[str, str]
    meta: dict[str, dict]
    stats: dict
    writing: bool  # the collection is still marked as being written


def snapshot(data_dir: Path) -> IndexSnapshot:
    """Open the index in this process (as the app would), read it whole, and close the client again."""
    from assistant.factory import build_assistant, build_chroma_client, build_store
    from assistant.settings import Settings
    from index.models.embedding import HashingEmbedding

    settings = Settings(data_dir=data_dir, embedding="hashing", index_samples_on_start=False)
    client = build_chroma_client(settings)
    try:
        store = build_store(settings, client=client)
        chroma = client.get_collection(settings.collection_name)  # Chroma itself, not the store's view
        got = chroma.get(include=["documents", "metadatas"])
        ids = list(got["ids"])
        n = len(ids)
        # Embeddings come from the vector segment: a record it lacks fails the read ("Error finding id").
        vec = chroma.get(ids=ids, include=["embeddings"]) if n else {"ids": [], "embeddings": []}
        vectors = {cid: list(map(float, e)) for cid, e in zip(vec["ids"], vec["embeddings"])}
        reachable: set[str] = set()
        if n:
            probe = HashingEmbedding().get_query_embedding("council river election")
            reachable = set(chroma.query(query_embeddings=[probe], n_results=n, include=[])["ids"][0])
        assistant = build_assistant(settings, store=store, embed_model=HashingEmbedding())
        stats = assistant.stats()
        lexical_ids = set(store.lexical().chunk_ids())
        metas = [m or {} for m in got["metadatas"]]
        return IndexSnapshot(
            ids=ids, vectors=vectors, reachable=reachable, lexical_ids=lexical_ids,
            articles=Counter(str(m.get("article_id")) for m in metas),
            texts=dict(zip(ids, got["documents"])), meta=dict(zip(ids, metas)), stats=stats,
            writing=store.state()[1],
        )
    finally:
        client.close()


def assert_exact(data_dir: Path, paths: list[Path], *, context: str = "", allow_failures: bool = False
                 ) -> IndexSnapshot:
    """The index in `data_dir` holds exactly the chunks of the articles in `paths`: each chunk once, no chunk
    of a removed or older version, the same ids in Chroma's records, its vector index and the BM25 index,
    and stats that count the same."""
    import numpy as np

    from index.models.embedding import HashingEmbedding

    want = expected_chunks(paths, allow_failures=allow_failures)
    snap = snapshot(data_dir)
    where = f" ({context})" if context else ""
    assert len(snap.ids) == len(set(snap.ids)), f"duplicate chunk ids{where}"
    assert not snap.writing, f"the index is still marked as being written{where}"
    got = set(snap.ids)
    orphans = sorted(got - set(want))
    missing = sorted(set(want) - got)
    assert not orphans and not missing, (
        f"index is not exact{where}: {len(orphans)} orphan chunk(s) e.g. {orphans[:3]} of "
        f"{sorted({snap.meta[o].get('article_id') for o in orphans})[:5]}; {len(missing)} missing e.g. "
        f"{missing[:3]} of {sorted({want[m][0] for m in missing})[:5]}")
    wrong_text = [cid for cid, (_, text) in want.items() if snap.texts[cid] != text]
    assert not wrong_text, f"stored text differs from the article{where}: {wrong_text[:3]}"
    wrong_owner = [cid for cid, (aid, _) in want.items() if snap.meta[cid].get("article_id") != aid]
    assert not wrong_owner, f"chunks filed under the wrong article{where}: {wrong_owner[:3]}"
    assert set(snap.vectors) == got, f"vector segment disagrees with the records{where}"
    embed = HashingEmbedding()
    texts = [f"{snap.meta[cid].get('title')}\n{snap.texts[cid]}" for cid in snap.ids]
    expected = dict(zip(snap.ids, embed.get_text_embedding_batch(texts)))
    for cid, vector in expected.items():
        if not np.allclose(snap.vectors[cid], vector, atol=1e-5):
            owner = [o for o, v in expected.items() if np.allclose(snap.vectors[cid], v, atol=1e-5)]
            raise AssertionError(f"vector of {cid} ({snap.meta[cid].get('article_id')}) is not its text's{where}; "
                                 f"it is the vector of {owner or 'no stored chunk'}")
    # HNSW is approximate: with these near-duplicate texts even a clean build can leave a node or two that
    # no query reaches (and re-upserting existing ids makes more, chroma-core/chroma#7758). Allow 1 %,
    # not counting chunks whose vector a reachable chunk has too (an article repeating one word).
    found = {tuple(np.round(snap.vectors[cid], 4)) for cid in snap.reachable}
    unreachable = {cid for cid in got - snap.reachable if tuple(np.round(snap.vectors[cid], 4)) not in found}
    assert len(unreachable) <= max(2, len(got) // 100), f"{len(unreachable)} chunks unreachable{where}"
    assert snap.lexical_ids == got, (
        f"BM25 index disagrees with Chroma{where}: {len(snap.lexical_ids - got)} extra, "
        f"{len(got - snap.lexical_ids)} missing")
    n_articles = len({aid for aid, _ in want.values()})
    assert snap.stats["chunks"] == len(want) and snap.stats["lexical_chunks"] == len(want), snap.stats
    assert snap.stats["articles"] == n_articles, snap.stats
    return snap


def stats_json(data_dir: Path) -> dict:
    out = json.loads(run_ok(["stats", "--json"], data_dir).stdout)
    return {k: out[k] for k in ("articles", "chunks", "lexical_chunks")}
