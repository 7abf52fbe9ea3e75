"""The static embedding distilled from MiniLM (`index/models/static_embedding.py`): shipped in the package and
loaded without distilling when it is the table this MiniLM and recipe make; else distilled for real from the
bundled model, cached once, never mixed with another recipe's vectors, and good enough to answer the seed
question end to end through the CLI. Also the answerer's static shortlist (which sentences MiniLM embeds)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from assistant.answering.extractive import ExtractiveAnswerer
from assistant.settings import Settings
from index.models import static_embedding as se
from tests.conftest import SEEDS, run_cli


@pytest.fixture(scope="module")
def distilled(tmp_path_factory):
    """A table distilled for real into a fresh cache directory (the module's other tests reuse it)."""
    cache = tmp_path_factory.mktemp("models")
    lines: list[str] = []
    table = se.load_table(cache, log=lines.append, shipped=False)
    return cache, table, lines


def test_distilling_writes_one_cached_table_and_reuses_it(distilled):
    cache, table, lines = distilled
    files = list(cache.glob("*.npy"))
    assert len(files) == 1 and files[0] == se.table_path(cache)
    assert table.shape == (30522, 256) and table.dtype == np.float32
    assert any("distilling" in line for line in lines), lines
    assert not list(cache.glob("*.tmp")), "no temporary file left behind"
    before = files[0].stat().st_mtime_ns
    again: list[str] = []
    reloaded = se.load_table(cache, log=again.append, shipped=False)
    assert again == [], "a cached table is loaded, not distilled again"
    assert files[0].stat().st_mtime_ns == before
    np.testing.assert_array_equal(reloaded, table)


def test_a_damaged_cache_is_rebuilt(distilled, tmp_path):
    _, table, _ = distilled
    path = se.table_path(tmp_path)
    path.write_bytes(b"not a numpy file")
    rebuilt = se.load_table(tmp_path, shipped=False)
    np.testing.assert_allclose(rebuilt, table, atol=1e-4)
    assert np.load(path).shape == table.shape


def test_a_cached_table_of_the_wrong_shape_is_not_used(tmp_path, monkeypatch):
    path = se.table_path(tmp_path)
    np.save(path, np.zeros((10, 3), dtype=np.float32))
    fresh = np.ones((30522, 256), dtype=np.float32)
    monkeypatch.setattr(se, "distill", lambda model_dir, dims: fresh)  # the cache logic, not distillation
    np.testing.assert_array_equal(se.load_table(tmp_path, shipped=False), fresh)
    assert np.load(path).shape == (30522, 256)


def _row_cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine of each pair of rows, over the rows that are not all zeros (the special tokens)."""
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    used = np.linalg.norm(b, axis=1) > 0
    assert (norms[used] > 0).all(), "a row the float32 table has is zero in the other"
    return (a * b).sum(axis=1)[used] / norms[used]


def _no_distilling(*args, **kwargs):
    raise AssertionError("the shipped table should have been used, not a distillation")


def test_the_shipped_table_loads_without_distilling(tmp_path, monkeypatch):
    monkeypatch.setattr(se, "distill", _no_distilling)
    lines: list[str] = []
    table = se.load_table(tmp_path, log=lines.append)
    assert table.shape == (30522, 256) and table.dtype == np.float32
    assert lines == [] and list(tmp_path.iterdir()) == [], "nothing distilled, nothing cached"
    assert se.SHIPPED_TABLE.stat().st_size < 16_000_000  # float16 on disk
    np.testing.assert_array_equal(table, np.load(se.SHIPPED_TABLE).astype(np.float32))


def test_the_shipped_table_is_the_float32_table_of_this_machine():
    """Against the float32 table distilled and cached on this machine, when there is one: the shipped copy
    of it must be that table (the learned reader was fitted with it), only rounded to float16."""
    from assistant.settings import Settings

    cached = se.table_path(Settings().models_path)
    if not cached.is_file():
        pytest.skip(f"no float32 table cached on this machine ({cached})")
    shipped = se.shipped_table(se.SHIPPED_KEY)
    assert shipped is not None
    float32 = np.load(cached)
    assert shipped.shape == float32.shape
    assert _row_cosines(shipped, float32).min() >= 0.999
    np.testing.assert_allclose(shipped, float32, rtol=1e-3, atol=1e-4)


def test_the_shipped_table_matches_a_fresh_distillation(distilled):
    """The recipe in the module's model card reproduces the shipped table (up to float rounding)."""
    shipped = se.shipped_table(se.SHIPPED_KEY)
    assert shipped is not None and se.table_path(distilled[0]).name.endswith(f"-{se.SHIPPED_KEY}.npy")
    assert _row_cosines(shipped, distilled[1]).min() >= 0.999


def test_another_recipe_or_a_damaged_shipped_table_falls_back_to_distilling(tmp_path, monkeypatch):
    fresh = np.ones((30522, 256), dtype=np.float32)
    monkeypatch.setattr(se, "distill", lambda model_dir, dims: fresh)
    lines: list[str] = []
    monkeypatch.setattr(se, "RECIPE_VERSION", se.RECIPE_VERSION + 1)  # the key changes: not the shipped table
    np.testing.assert_array_equal(se.load_table(tmp_path / "a", log=lines.append), fresh)
    assert any("distilling" in line for line in lines) and not any("shipped" in line for line in lines), lines
    monkeypatch.undo()
    monkeypatch.setattr(se, "distill", lambda model_dir, dims: fresh)
    damaged = tmp_path / "damaged.npy"
    damaged.write_bytes(se.SHIPPED_TABLE.read_bytes()[:-4096])  # e.g. a truncated copy
    monkeypatch.setattr(se, "SHIPPED_TABLE", damaged)
    lines.clear()
    np.testing.assert_array_equal(se.load_table(tmp_path / "b", log=lines.append), fresh)
    assert "shipped static embedding damaged.npy is unusable" in lines[0], lines
    assert (tmp_path / "b" / se.table_path(tmp_path).name).is_file(), "the distilled table is cached"


def test_the_cache_key_and_the_model_name_follow_the_recipe(distilled, monkeypatch):
    cache, table, _ = distilled
    name = se.StaticEmbedding(table).model_name
    old_path = se.table_path(cache)
    monkeypatch.setattr(se, "RECIPE_VERSION", se.RECIPE_VERSION + 1)
    assert se.table_path(cache) != old_path
    assert se.StaticEmbedding(table).model_name != name
    # The collection the settings open is named after the model the factory builds, so an index built
    # with another recipe's vectors is never searched with this one's.
    monkeypatch.undo()
    assert Settings(embedding="static").collection_name == f"news-{name}"


def test_vectors_are_unit_length_deterministic_and_batch_independent(distilled):
    _, table, _ = distilled
    model = se.StaticEmbedding(table)
    texts = ["Venezuela asked Iran for drones and GPS jammers.", "", "   ", "a", "Tehran " * 3000]
    batch = model.embed(texts)
    assert batch.shape == (5, 256)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, rtol=1e-5)
    singles = np.array([model.get_text_embedding(t) for t in texts], dtype=np.float32)
    np.testing.assert_allclose(batch, singles, atol=1e-5)
    np.testing.assert_allclose(model.embed(texts * 30)[:5], batch, atol=1e-5)  # large, threaded batch
    assert model.get_query_embedding(texts[0]) == model.get_text_embedding(texts[0])


def test_paraphrases_are_closer_than_unrelated_news(distilled):
    model = se.StaticEmbedding(distilled[1])
    q, para, other_topic, same_words = model.embed([
        "What military equipment did Venezuela request from Iran?",
        "Caracas sought drones and radar jammers from Tehran's armed forces.",
        "The central bank raised interest rates to curb inflation in the eurozone.",
        "Iran request Venezuela equipment military did what",
    ])
    assert q @ para > q @ other_topic + 0.1
    assert q @ same_words > q @ other_topic


def test_index_and_ask_with_the_static_embedding_through_the_cli(distilled, tmp_path):
    cache, _, _ = distilled
    common = ["--data-dir", str(tmp_path / "data"), "--embedding", "static"]
    env = {"ASSISTANT_MODELS_DIR": str(cache)}
    proc = run_cli("index", str(SEEDS), "--json", *common, env=env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["added"] == 2 and summary["chunks_embedded"] >= 2  # one 1,024-token chunk or more each
    proc = run_cli("ask", "What did Venezuela ask Iran for?", "--json", *common, env=env)
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert not answer["abstained"] and "drone" in answer["answer"].lower(), answer["answer"]
    assert {c["article_id"] for c in answer["citations"]} <= {"000_583d8edab110d701", "004_04393ed08951e6b7"}
    # A separate collection: the MiniLM index of the same data dir is untouched (still empty).
    stats = json.loads(run_cli("stats", "--json", "--data-dir", str(tmp_path / "data"), "--embedding",
                               "hashing").stdout)
    assert stats["articles"] == 0
    stats = json.loads(run_cli("stats", "--json", *common, env=env).stdout)
    assert stats["articles"] == 2 and stats["embedding_model"].startswith("static-minilm-256-r")


def test_the_models_dir_defaults_to_a_user_cache_shared_by_data_dirs(tmp_path, monkeypatch):
    monkeypatch.delenv("ASSISTANT_MODELS_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    a = Settings(data_dir=tmp_path / "a").models_path
    b = Settings(data_dir=tmp_path / "b").models_path
    assert a == b == tmp_path / "xdg" / "news-assistant" / "models"
    assert Settings(models_dir=tmp_path / "m").models_path == tmp_path / "m"
    assert os.environ["XDG_CACHE_HOME"] == str(tmp_path / "xdg")


# ----------------------------------------------------------------------------- answerer shortlist

class _Recorder:
    """Wraps an embedding function and records which texts it was asked to embed."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[list[str]] = []

    def __call__(self, texts: list[str]):
        self.calls.append(list(texts))
        return self.inner(texts)


def _passage(text: str, article: str = "a1", rank: int = 1):
    from assistant.types import Passage
    from index.storage.store import StoredChunk

    chunk = StoredChunk(chunk_id=f"{article}::0", article_id=article, text=text, start=0, end=len(text),
                        title="Talks")
    return Passage(chunk, 1.0, None, None, rank)


def test_the_shortlist_decides_which_sentences_the_main_model_embeds(distilled):
    fast = se.StaticEmbedding(distilled[1])
    filler = [f"The committee met on day {i} to discuss the weather and the harvest in the region." for i in range(12)]
    answer = "Venezuela asked Iran to supply armed drones and satellite jammers for its air force."
    text = " ".join(filler[:9] + [answer] + filler[9:])
    main = _Recorder(fast.get_text_embedding_batch)
    answerer = ExtractiveAnswerer(main, idf=lambda term: 1.0, shortlist_embed=fast.embed, sentences_embedded=3)
    draft = answerer.answer("What did Venezuela ask Iran to supply?", [_passage(text)],
                            fast.get_query_embedding("What did Venezuela ask Iran to supply?"))
    assert len(main.calls) == 1 and len(main.calls[0]) == 3, main.calls
    assert answer in main.calls[0]
    assert not draft.abstained and "drones" in draft.text

    # Without a shortlist the main model embeds up to `sentences_embedded` sentences picked by coverage.
    main = _Recorder(fast.get_text_embedding_batch)
    plain = ExtractiveAnswerer(main, idf=lambda term: 1.0, sentences_embedded=16)
    plain.answer("What did Venezuela ask Iran to supply?", [_passage(text)],
                 fast.get_query_embedding("What did Venezuela ask Iran to supply?"))
    assert len(main.calls[0]) == 13


def test_with_a_sentence_model_the_question_and_the_shortlist_are_embedded_together(distilled):
    fast = se.StaticEmbedding(distilled[1])
    sentences = [f"Officials in town number {i} discussed the budget for roads and schools this year." for i in range(9)]
    answer = "Venezuela asked Iran to supply armed drones and satellite jammers for its air force."
    text = " ".join(sentences[:4] + [answer] + sentences[4:])
    main = _Recorder(fast.get_text_embedding_batch)
    sentence_embed = _Recorder(fast.embed)
    calls = sentence_embed.calls
    answerer = ExtractiveAnswerer(main, idf=lambda term: 1.0, shortlist_embed=fast.embed,
                                  sentence_embed=sentence_embed, sentences_embedded=4)
    question = "What did Venezuela ask Iran to supply?"
    draft = answerer.answer(question, [_passage(text)], None)  # no query embedding needed
    assert main.calls == [], "the main model embeds nothing when a sentence model is given"
    assert len(calls) == 1 and calls[0][0] == question and len(calls[0]) == 1 + 4
    assert answer in calls[0][1:]
    assert not draft.abstained and "drones" in draft.text


@pytest.mark.slow
def test_the_int8_sentence_model_stays_close_to_minilm(minilm):
    from index.models.embedding import QuantizedSentenceModel, SentenceModel

    quantized = QuantizedSentenceModel.from_embedding(minilm)
    assert quantized is not None, "this PyTorch build should quantize (x86-64, torch 2.13)"
    texts = ["Venezuela asked Iran for drones, GPS scramblers and passive detection equipment.",
             "The central bank kept interest rates unchanged for a third month.",
             "Who won the chess championship in Astana?"]
    a, b = SentenceModel(minilm).embed(texts), quantized.embed(texts)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, rtol=1e-4)
    assert (a * b).sum(axis=1).min() > 0.9
    # It ranks sentences against a question the way the float model does.
    question = "What did Venezuela ask Iran for?"
    for model in (SentenceModel(minilm), quantized):
        q, *rows = model.embed([question, *texts])
        assert q @ rows[0] > q @ rows[1] + 0.2 and q @ rows[0] > q @ rows[2] + 0.2
