"""Several writers on one Chroma server, each machine with its own data dir (so its own file lock and its own
BM25 copy), against a real `chroma run`.

The first tests interleave two writers in this process deterministically: writer 1 is paused in the middle
of its write (after its first batch is stored) while writer 2 runs, then resumed. Whatever the mechanism,
the result must be one of the serial outcomes (1 then 2, or 2 then 1), exactly as a clean build of that
outcome, and each machine's BM25 side must agree with Chroma after its next catch-up: a removal racing an
update of the same article, two versions of one article written at once, and a disjoint write while
another is under way. Then the write lease itself (`index.storage.lock.ServerLease`): a holder on another machine
that stops beating is taken over after its time to live, a dead holder on this machine at once, a live one
never. Last, real `assistant index` / `refresh` / `remove` processes with their own data dirs run at once
on overlapping articles, some are killed with SIGKILL mid-batch and rerun, and the server must then hold
exactly what a single clean build holds, as seen from every data dir (its stats and its BM25 side).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from assistant.factory import build_chroma_client, build_store
from assistant.settings import Settings
from index.indexer import Indexer
from index.intake.articles import Article, read_articles
from index.models.embedding import HashingEmbedding
from index.storage.lexical import LexicalIndex
from index.storage.records import StoredChunk, chunk_id_for
from index.text.chunking import chunk_text
from tests.reliability_support import expected_chunks, make_article, run, run_and_kill, run_ok

pytestmark = pytest.mark.slow

CHUNK, OVERLAP = 64, 8  # small chunks: a dozen per article, so a write spans several batches
_WORDS = ("harbour", "council", "ferry", "tariff", "glacier", "orchard", "senate", "reservoir", "quarry",
          "lighthouse", "vineyard", "tramway", "observatory", "brewery", "archive", "foundry", "bakery",
          "shipyard", "meadow", "canal", "lantern", "museum", "violin", "granary", "cathedral", "aqueduct")


def story(article_id: str, version: int = 0, sentences: int = 30) -> Article:
    """An article in plain generated sentences; `version` changes every sentence (a real update)."""
    rng = random.Random(f"{article_id}/{version}")
    lines = []
    for i in range(sentences):
        words = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 12)))
        lines.append(f"{words.capitalize()} counted {rng.randint(10, 9999)} visitors in week {i}.")
    lines.append(f"This is revision {version} of the report.")
    return Article(id=article_id, text=" ".join(lines), title=f"Report on {article_id} (rev {version})",
                   source="Test Wire", published_at="2025-03-14")


class PausingEmbedding(HashingEmbedding):
    """The hashing embedding that, at its `pause_at`-th call, says so and waits until told to go on."""

    def __init__(self, pause_at: int = 0, **kwargs):
        super().__init__(embed_batch_size=2048, **kwargs)  # one call per indexer batch
        self._pause = [pause_at, 0]
        self._events = (threading.Event(), threading.Event())

    @property
    def paused(self) -> threading.Event:
        return self._events[0]

    @property
    def resume(self) -> threading.Event:
        return self._events[1]

    def _get_text_embeddings(self, texts):
        self._pause[1] += 1
        if self._pause[1] == self._pause[0]:
            self.paused.set()
            assert self.resume.wait(300), "never resumed"
        return super()._get_text_embeddings(texts)


@dataclass
class Machine:
    """One machine: its own data dir (file lock, BM25 copy) on the shared server's collection, and that
    collection as Chroma itself serves it (`chroma`), to check the store against."""

    settings: Settings
    embed: PausingEmbedding
    store: object = None
    indexer: Indexer = None  # type: ignore[assignment]
    chroma: object = None

    @classmethod
    def open(cls, server: str, collection: str, data_dir: Path, pause_at: int = 0) -> Machine:
        settings = Settings(data_dir=data_dir, chroma_url=server, collection=collection, embedding="hashing",
                            index_samples_on_start=False)
        embed = PausingEmbedding(pause_at)
        client = build_chroma_client(settings)
        store = build_store(settings, client=client)
        indexer = Indexer(store, embed, chunk_size=CHUNK, chunk_overlap=OVERLAP, batch_size=2,
                          lock_path=settings.lock_path)
        return cls(settings, embed, store, indexer, client.get_collection(settings.collection_name))


@dataclass
class Outcome:
    result: object = None
    error: BaseException | None = None
    waited: threading.Event = field(default_factory=threading.Event)


def in_thread(fn, *args, **kwargs) -> tuple[threading.Thread, Outcome]:
    outcome = Outcome()

    def body():
        try:
            outcome.result = fn(*args, on_wait=lambda _msg: outcome.waited.set(), **kwargs)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            outcome.error = exc

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, outcome


def interleave(first: Machine, run_first, run_second) -> None:
    """Start `run_first` (on a machine whose embedding pauses), run `run_second` while it is paused until it
    finishes or says it waits for the first, then let the first go on; both must end without error."""
    t1, o1 = in_thread(run_first)
    assert first.embed.paused.wait(120), f"writer 1 never reached its pause: {o1.error!r}"
    t2, o2 = in_thread(run_second)
    while t2.is_alive() and not o2.waited.is_set():
        t2.join(0.05)
    first.embed.resume.set()
    for thread in (t1, t2):
        thread.join(300)
        assert not thread.is_alive(), "a writer never finished"
    assert o1.error is None, repr(o1.error)
    assert o2.error is None, repr(o2.error)


def clean_chunks(articles: list[Article]) -> dict[str, tuple[str, str]]:
    """chunk id -> (article id, text) of a clean build of `articles` at this file's chunk settings."""
    fingerprinter = Indexer(store=None, embed_model=None, chunk_size=CHUNK, chunk_overlap=OVERLAP)  # type: ignore[arg-type]
    out = {}
    for article in articles:
        fp = fingerprinter.fingerprint(article)
        seen: set[str] = set()
        for span in chunk_text(article.text, CHUNK, OVERLAP):
            text = article.text[span.start:span.end]
            if text not in seen:
                seen.add(text)
                out[chunk_id_for(article.id, fp, span.index)] = (article.id, text)
    return out


def stored(chroma) -> dict[str, tuple[str, str]]:
    """chunk id -> (article id, text) of what the Chroma collection `chroma` holds."""
    got = chroma.get(include=["documents", "metadatas"])
    assert len(got["ids"]) == len(set(got["ids"])), "duplicate chunk ids"
    return {cid: (str((m or {}).get("article_id")), doc)
            for cid, doc, m in zip(got["ids"], got["documents"], got["metadatas"])}


def lexical_agrees(store, chroma, label: str, queries: tuple[str, ...] = (
        "harbour council ferry", "revision 1 report", "glacier visitors week 3", "archive museum")) -> None:
    """The machine's BM25 side, after its catch-up, holds what a fresh build from Chroma's chunks (read from
    the collection `chroma`) holds: the same chunks per article, and the same chunks matching queries over the
    whole vocabulary. Scores are not compared: tantivy, as Lucene does, counts removed chunks in its term
    statistics until their segment is merged, so an index that saw removals scores a little apart from a
    fresh build."""
    store.catch_up()
    mine = store.lexical()
    got = chroma.get(include=["documents", "metadatas"])
    reference = LexicalIndex()
    reference.add(StoredChunk.from_record(cid, doc, m or {}).lexical_doc()
                  for cid, doc, m in zip(got["ids"], got["documents"], got["metadatas"]))
    assert mine.article_chunk_counts() == reference.article_chunk_counts(), f"{label}: BM25 articles differ"
    assert len(mine) == len(reference) == len(got["ids"]), f"{label}: BM25 holds {len(mine)} chunks"
    assert all(cid in mine for cid in got["ids"]), f"{label}: BM25 lacks chunks Chroma has"
    for query in queries:
        ours = {cid for cid, _ in store.search_lexical(query, 1000)}
        theirs = {cid for cid, _ in reference.search(query, 1000)}
        assert ours == theirs, f"{label}: BM25 matches {query!r} with other chunks than Chroma's give"


def assert_one_of(machines: list[Machine], outcomes: dict[str, list[Article]]) -> str:
    """The server holds exactly a clean build of one of `outcomes` (no writing mark left), and every
    machine's BM25 side agrees with it; returns the outcome's name."""
    store = machines[0].store
    have = stored(machines[0].chroma)
    assert not store.state()[1], "the collection is still marked as being written"
    matches = [name for name, articles in outcomes.items() if clean_chunks(articles) == have]
    by_article = Counter(aid for aid, _ in have.values())
    assert matches, f"not a serial outcome: chunks per article {dict(sorted(by_article.items()))}"
    reachable_by_vector_search(machines[0].chroma)
    for i, machine in enumerate(machines, 1):
        lexical_agrees(machine.store, machine.chroma, f"machine {i}")
    return matches[0]


def reachable_by_vector_search(chroma) -> None:
    """Each chunk stored in the collection `chroma` is found by a nearest-neighbour query with its own vector
    (a stored id written again can drop out of Chroma's vector index, chroma-core/chroma#7758)."""
    got = chroma.get(include=["embeddings"])
    if not len(got["ids"]):
        return
    found = chroma.query(query_embeddings=list(got["embeddings"]), n_results=3, include=[])["ids"]
    lost = [cid for cid, hits in zip(got["ids"], found) if cid not in hits]
    assert not lost, f"{len(lost)} stored chunk(s) unreachable by vector search, e.g. {lost[:3]}"


@pytest.fixture
def machines(chroma_server, tmp_path):
    collection = f"writers-{uuid.uuid4().hex[:8]}"

    def make(n: int, pause_first_at: int = 3) -> list[Machine]:
        return [Machine.open(chroma_server, collection, tmp_path / f"m{i}", pause_first_at if i == 1 else 0)
                for i in range(1, n + 1)]

    return make


BASE = [story(f"story-{i}") for i in range(5)]


def test_a_removal_racing_an_update_of_the_same_article_ends_as_one_of_them(machines):
    m1, m2 = machines(2)
    m2.indexer.index_items(BASE)
    updated = story("story-0", version=1)
    interleave(m1, lambda on_wait: m1.indexer.index_items([updated], on_wait=on_wait),
               lambda on_wait: m2.indexer.remove(["story-0"], on_wait=on_wait))
    assert_one_of([m1, m2], {"update, then removal": BASE[1:], "removal, then update": [updated, *BASE[1:]]})


def test_two_versions_of_one_article_written_at_once_leave_one_version(machines):
    m1, m2 = machines(2)
    m2.indexer.index_items(BASE)
    v1, v2 = story("story-2", version=1), story("story-2", version=2, sentences=18)
    interleave(m1, lambda on_wait: m1.indexer.index_items([v1], on_wait=on_wait),
               lambda on_wait: m2.indexer.index_items([v2], on_wait=on_wait))
    rest = [a for a in BASE if a.id != "story-2"]
    assert_one_of([m1, m2], {"v1 then v2": [v2, *rest], "v2 then v1": [v1, *rest]})


def test_a_write_under_way_elsewhere_is_followed_by_every_bm25_copy(machines):
    """Writer 2 adds an article while writer 1 is mid-write; writer 1's own BM25 copy, current when its
    write began, must not be declared current afterwards without writer 2's chunks."""
    m1, m2, m3 = machines(3)
    m2.indexer.index_items(BASE)
    for m in (m1, m2, m3):
        m.store.catch_up()  # every copy current before the race
    updated, added = story("story-1", version=1), story("story-9")
    interleave(m1, lambda on_wait: m1.indexer.index_items([updated], on_wait=on_wait),
               lambda on_wait: m2.indexer.index_items([added], on_wait=on_wait))
    rest = [a for a in BASE if a.id != "story-1"]
    assert_one_of([m1, m2, m3], {"both": [updated, added, *rest]})


def test_identical_input_from_two_machines_at_once_is_stored_once(machines):
    m1, m2 = machines(2)
    articles = [*BASE, story("story-7", sentences=40)]
    interleave(m1, lambda on_wait: m1.indexer.index_items(articles, on_wait=on_wait),
               lambda on_wait: m2.indexer.index_items(articles, on_wait=on_wait))
    assert_one_of([m1, m2], {"once": articles})


def test_without_the_lease_a_bm25_copy_is_still_not_declared_current_over_another_write(chroma_server, tmp_path):
    """The generation check alone (a store not told it is shared takes no lease): writer 1's copy, current
    when its write began, is re-synced after it because writer 2 bumped the generation in between."""
    from assistant.factory import build_chroma_client
    from index.storage.store import Corpus

    collection = f"writers-{uuid.uuid4().hex[:8]}"
    ms = [Machine.open(chroma_server, collection, tmp_path / f"m{i}", 3 if i == 1 else 0) for i in (1, 2)]
    for m in ms:
        s = m.settings
        m.store = Corpus(build_chroma_client(s), s.collection_name, embedding_model=s.embedding_model_name,
                         lexical_path=s.lexical_path, location=s.store_label)  # no lease_seconds
        m.indexer = Indexer(m.store, m.embed, chunk_size=CHUNK, chunk_overlap=OVERLAP, batch_size=2,
                            lock_path=s.lock_path)
    m1, m2 = ms
    m2.indexer.index_items(BASE)
    m1.store.catch_up()
    added = story("story-9")
    interleave(m1, lambda on_wait: m1.indexer.index_items([story("story-1", version=1)], on_wait=on_wait),
               lambda on_wait: m2.indexer.index_items([added], on_wait=on_wait))
    lexical_agrees(m1.store, m1.chroma, "writer 1")


# --------------------------------------------------------------------------------------------- the lease


@pytest.fixture
def lease_for(chroma_server):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from index.storage.lock import ServerLease

    client = chromadb.HttpClient(host="127.0.0.1", port=int(chroma_server.rsplit(":", 1)[1]),
                                 settings=ChromaSettings(anonymized_telemetry=False))
    name = f"lease-{uuid.uuid4().hex[:8]}"
    made = []

    def make(ttl: float = 30.0) -> ServerLease:
        lease = ServerLease(lambda: client, name, ttl=ttl, poll=0.05)
        made.append(lease)
        return lease

    yield make
    for lease in made:
        lease._stop.set()


def test_a_silent_holder_on_another_machine_is_taken_over_after_its_time_to_live(lease_for):
    from index.storage.lock import LeaseLostError

    frozen = lease_for(ttl=2.0)
    frozen.host = "elsewhere/00000000"
    frozen.acquire()
    frozen._stop.set()  # the machine froze: no more heartbeats, and it never gives the lease back
    frozen._thread.join()
    told: list[str] = []
    taker = lease_for(ttl=2.0)
    taker.acquire(on_wait=told.append)
    assert len(told) == 1 and "elsewhere" in told[0], told
    taker.check()
    with pytest.raises(LeaseLostError):
        frozen.check()  # it wakes up: it must not write over its successor
    taker.release()


def test_a_holder_that_died_on_this_machine_is_taken_over_at_once(lease_for):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    dead = lease_for()
    dead.pid = gone.pid
    dead.acquire()
    dead._stop.set()
    taker = lease_for()
    taker.acquire(wait=0)  # no waiting: the holder's pid is gone on this host
    taker.check()
    taker.release()


def test_a_live_holder_is_waited_for_and_a_released_lease_is_free(lease_for):
    from index.errors import IndexLockedError

    holder, other = lease_for(), lease_for()
    with holder.held():
        with pytest.raises(IndexLockedError, match="holds its write lease"):
            other.acquire(wait=0.3)
        holder.check()
    other.acquire(wait=0)
    other.check()
    with pytest.raises(Exception, match="took over|without holding"):
        holder.check()
    other.release()


# --------------------------------------------------------------------------------------------- real processes

SEED = int(os.environ.get("RELIABILITY_SEED", random.SystemRandom().randrange(1 << 30)))
CLI_CHUNKS = {"ASSISTANT_CHUNK_SIZE": "128", "ASSISTANT_CHUNK_OVERLAP": "16"}  # several batches per run


def _write_jsonl(path: Path, articles: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(a) + "\n" for a in sorted(articles, key=lambda a: a["id"])))
    return path


def _write_wire(folder: Path, articles: list[dict]) -> None:
    """The folder machine 3 follows (`assistant sources add`): one .txt file per article, named by its id."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.txt"):
        old.unlink()
    for a in articles:
        (folder / f"{a['id']}.txt").write_text(
            f"---\ntitle: {a['title']}\nsource: {a['source']}\nurl: {a['url']}\npublished_at: {a['published_at']}"
            f"\n---\n{a['text']}")


class Writers:
    """Commands run at once on their own machines (data dirs), through tests.paced_cli so that their writes
    overlap in time. A machine's first command can be SIGKILLed when its progress bar passes a drawn share of
    its chunks; it is then rerun at once, while the other machines go on. Every command (a killed one, on its
    rerun) must exit 0; `log` says what happened."""

    MODULE = "tests.paced_cli"

    def __init__(self, env: dict[str, str], rng: random.Random) -> None:
        self.env, self.rng = {**env, "RELIABILITY_PACE": "0.12"}, rng
        self.log: list[str] = []
        self.mid_write = 0

    def run_at_once(self, jobs: list[tuple[Path, list[list[str]], bool]]) -> None:
        """`jobs`: (data dir, commands run one after another there, whether to kill its first command)."""
        failures: list[str] = []
        shares = {data_dir: self.rng.uniform(0.15, 0.85) for data_dir, _, kill in jobs if kill}

        def machine(data_dir: Path, commands: list[list[str]], kill: bool) -> None:
            for i, args in enumerate(commands):
                if kill and i == 0:
                    killed = run_and_kill(args, data_dir, at_fraction=shares[data_dir], env=self.env,
                                          timeout=240, module=self.MODULE)
                    self.mid_write += bool(killed.progress and not killed.finished)
                    self.log.append(f"{data_dir.name} {args[0]} killed at {shares[data_dir]:.2f}: progress "
                                    f"{killed.progress}, finished by itself {killed.finished}; rerun")
                proc = run(args, data_dir, env=self.env, module=self.MODULE)
                self.log.append(f"{data_dir.name} {' '.join(args[:2])}: exit {proc.returncode}")
                if proc.returncode != 0:
                    failures.append(f"{data_dir.name} assistant {' '.join(args)}: {proc.stderr[-2000:]}")

        threads = [threading.Thread(target=machine, args=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not failures, "\n".join(failures)


def _differences(want: dict[str, tuple[str, str]], have: dict[str, tuple[str, str]], name: str) -> str:
    """Which articles differ between a clean build (`want`) and the server (`have`), chunk ids and texts."""
    def per_article(chunks):
        out: dict[str, set] = {}
        for cid, (aid, text) in chunks.items():
            out.setdefault(aid, set()).add((cid, text))
        return out

    w, h = per_article(want), per_article(have)
    wrong = {aid: f"{len(h.get(aid, ()))} stored chunk(s), {len(w.get(aid, ()))} expected, "
                  f"{len(h.get(aid, set()) & w.get(aid, set()))} in common"
             for aid in sorted(set(w) | set(h)) if w.get(aid) != h.get(aid)}
    return f"{name}: {wrong}"


def _seen_from(data_dir: Path, env: dict[str, str]) -> dict:
    out = json.loads(run_ok(["stats", "--json"], data_dir, env=env).stdout)
    return {k: out[k] for k in ("articles", "chunks", "lexical_chunks")}


def test_index_refresh_and_remove_processes_on_several_machines_end_as_one_clean_build(
        chroma_server, tmp_path, monkeypatch):
    for key, value in CLI_CHUNKS.items():
        monkeypatch.setenv(key, value)  # expected_chunks reads the settings the commands run with
    print(f"\nseveral-writers trial: RELIABILITY_SEED={SEED}")
    rng = random.Random(SEED)
    collection = f"machines-{uuid.uuid4().hex[:8]}"
    env = {**CLI_CHUNKS, "ASSISTANT_CHROMA_URL": chroma_server, "ASSISTANT_COLLECTION": collection}
    m1, m2, m3, reader = (tmp_path / name for name in ("m1", "m2", "m3", "reader"))
    inputs = tmp_path / "inputs"
    articles = {f"w-{i:03d}": make_article(rng, f"w-{i:03d}") for i in range(40)}
    ids = sorted(articles)
    one, two, wire = ids[:28], ids[12:], ids[20:32]  # overlapping: 12-27 in both files, 20-31 also in the folder

    def write_inputs() -> None:
        _write_jsonl(inputs / "m1.jsonl", [articles[a] for a in one if a in articles])
        _write_jsonl(inputs / "m2.jsonl", [articles[a] for a in two if a in articles])
        _write_wire(inputs / "wire", [articles[a] for a in wire if a in articles])

    def check(expected: dict[str, list[dict]]) -> str:
        """Every data dir sees exactly a clean build of one of `expected`; returns which."""
        want = {name: expected_chunks([_write_jsonl(tmp_path / "expected" / f"{name}.jsonl", arts)])
                for name, arts in expected.items()}
        settings = Settings(data_dir=m1, chroma_url=chroma_server, collection=collection, embedding="hashing",
                            index_samples_on_start=False)
        client = build_chroma_client(settings)
        store = build_store(settings, client=client)
        chroma = client.get_collection(settings.collection_name)
        have = stored(chroma)
        assert not store.state()[1], "the collection is still marked as being written"
        matches = [name for name, chunks in want.items() if chunks == have]
        assert matches, "not a clean build of any serial outcome; closest: " + min(
            (_differences(chunks, have, name) for name, chunks in want.items()), key=len)
        reachable_by_vector_search(chroma)
        clean = tmp_path / f"clean-{matches[0]}"
        run_ok(["index", str(tmp_path / "expected" / f"{matches[0]}.jsonl")], clean, env=CLI_CHUNKS)
        clean_stats = _seen_from(clean, CLI_CHUNKS)
        for data_dir in (m1, m2, m3, reader):
            assert _seen_from(data_dir, env) == clean_stats, f"stats from {data_dir.name}"
            seen = build_store(Settings(data_dir=data_dir, chroma_url=chroma_server, collection=collection,
                                        embedding="hashing", index_samples_on_start=False))
            lexical_agrees(seen, chroma, data_dir.name, queries=(
                "council budget river", "election court ruling", "revision 1", "harbor ferry island"))
        return matches[0]

    # Round 1: three machines build at once from overlapping input; machine 1 is killed mid-batch.
    write_inputs()
    run_ok(["sources", "add", str(inputs / "wire")], m3, env=env)
    by_file = {a.id: a.content_hash for a in read_articles([inputs / "wire"])}
    by_line = {a.id: a.content_hash for name in ("m1", "m2") for a in read_articles([inputs / f"{name}.jsonl"])}
    assert by_file and all(by_line[aid] == h for aid, h in by_file.items()), "the folder must hold the same versions"
    writers = Writers(env, rng)
    writers.run_at_once([(m1, [["index", str(inputs / "m1.jsonl")]], True),
                         (m2, [["index", str(inputs / "m2.jsonl")]], False),
                         (m3, [["refresh"]], False)])
    check({"all": list(articles.values())})

    # Round 2: updates from all three machines, removals on machine 2 and a refresh that prunes a deleted file,
    # with two conflicts whose result depends on who writes last: article X is updated to version 1 on
    # machine 1, to version 2 on machine 3 and removed on machine 2; article Y is updated to version 1 on
    # machine 1 and to version 2 on machine 2. Machines 1 and 3 are killed mid-batch and rerun at once.
    removed, x, y = ["w-007", "w-030"], "w-025", "w-016"
    for aid in [f"w-{i:03d}" for i in (3, 5, 12, 14, 15, 18, 21, 22, 24, 26, 35)]:
        articles[aid] = {**articles[aid], "text": make_article(rng, aid, version=1)["text"]}
    for aid in removed:
        del articles[aid]
    versions = {(aid, v): {**articles[aid], "text": make_article(rng, aid, version=v)["text"]}
                for aid in (x, y) for v in (1, 2)}
    write_inputs()
    _write_jsonl(inputs / "m1.jsonl", [versions.get((a, 1), articles[a]) for a in one if a in articles])
    _write_jsonl(inputs / "m2.jsonl", [versions.get((a, 2), articles[a]) for a in two if a in articles and a != x])
    _write_wire(inputs / "wire", [versions.get((a, 2), articles[a]) if a == x else articles[a]
                                  for a in wire if a in articles])
    writers.run_at_once([(m1, [["index", str(inputs / "m1.jsonl")]], True),
                         (m2, [["remove", *removed, x], ["index", str(inputs / "m2.jsonl")]], False),
                         (m3, [["refresh"]], True)])
    print("\n".join(writers.log))
    assert writers.mid_write >= 1, f"no kill landed while chunks were being written: {writers.log}"
    rest = [a for aid, a in articles.items() if aid not in (x, y)]
    outcomes = {f"x-{f'v{vx}' if vx else 'removed'}_y-v{vy}": rest + [versions[(y, vy)]] + ([versions[(x, vx)]] if vx else [])
                for vx in (1, 2, 0) for vy in (1, 2)}
    print(f"outcome: {check(outcomes)}")


def test_of_eight_writers_taking_a_free_lease_at_once_exactly_one_gets_it(lease_for):
    from index.errors import IndexLockedError

    leases = [lease_for() for _ in range(8)]
    start = threading.Barrier(len(leases))
    won: list[int] = []

    def take(i: int) -> None:
        start.wait()
        try:
            leases[i].acquire(wait=0)
            won.append(i)
        except IndexLockedError:
            pass

    threads = [threading.Thread(target=take, args=(i,)) for i in range(len(leases))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1, won
    leases[won[0]].check()
    leases[won[0]].release()
