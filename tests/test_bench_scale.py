"""The corpus `benchmarks/bench_scale.py` grows to 1M chunks: copies of real chunks under new ids, later dates
and changed numbers, and dated questions whose as-of dates fall inside the copies' span."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest

from tests.conftest import REALTIMEQA, ROOT


@pytest.fixture
def scale(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "benchmarks"))
    return importlib.import_module("bench_scale")


def _base(scale):
    text = "In 2023 the council spent 45 million on 3 bridges."
    return [scale.BaseChunk("realtimeqa-2023/a1", "Budget of 2023", "https://x.test/a1", "X", "2023-01-10",
                            "f" * 64, i, 2, 0, len(text), text) for i in range(2)]


def test_copies_change_ids_dates_and_numbers_but_copy_zero_is_the_article(scale):
    base = _base(scale)
    n0, first = scale.chunk_at(0, base)
    assert n0 == 2 and first.article_id == "realtimeqa-2023/a1" and first.text == base[0].text
    assert first.published_at == "2023-01-10"

    _, again = scale.chunk_at(2 * 3 + 1, base)  # copy 3 of the second base chunk
    assert again.article_id == "realtimeqa-2023/a1~3"
    assert again.chunk_index == 1
    assert again.published_at == (dt.date(2023, 1, 10) + dt.timedelta(days=3 * scale.COPY_DAYS)).isoformat()
    assert again.text == "In 2026 the council spent 48 million on 6 bridges."
    assert again.title == "Budget of 2026"

    ids = {scale.chunk_at(i, base)[1].chunk_id for i in range(20)}
    assert len(ids) == 20  # every chunk of every copy is its own chunk


def test_reused_vectors_are_unit_length_and_the_same_for_the_same_chunks(scale):
    import numpy as np

    vectors = scale.Vectors.__new__(scale.Vectors)
    vectors.np, vectors.noise = np, 0.35
    vectors.base = np.eye(4, 8, dtype=np.float32)
    a, b = vectors.at(100, 5), vectors.at(100, 5)
    assert a.shape == (5, 8) and np.allclose(a, b)
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0)


def test_dated_questions_are_asked_inside_the_span_of_whole_copies(scale):
    assert REALTIMEQA.is_dir()  # names the shared folder: skipped with a reason without it
    dated = scale.dated_questions(100_000, 29_174, 500)
    assert len(dated) == 190
    days = [dt.date.fromisoformat(day) for _, day in dated]
    # the dev questions are asked from 2023-01-06 to 2023-03-10; three whole copies move them up to 140 days
    assert min(days) >= dt.date(2023, 1, 6)
    assert max(days) <= dt.date(2023, 3, 10) + dt.timedelta(days=2 * scale.COPY_DAYS)
    assert len(set(days)) >= 20  # the dev set's weekly dates (10) moved into different copies
