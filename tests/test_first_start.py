"""First start: `ensure_samples()` indexes the bundled samples when the index is empty, and only then."""

from __future__ import annotations

from assistant.factory import build_assistant
from index.intake.articles import Article
from tests.conftest import SAMPLES


def _assistant(settings, **changes):
    return build_assistant(settings.model_copy(update=changes))


def test_empty_index_gets_the_samples(settings):
    assistant = _assistant(settings, index_samples_on_start=True)
    assert assistant.store.count() == 0
    summary = assistant.ensure_samples()
    assert summary is not None
    n_samples = len(list(SAMPLES.glob("*.md")))
    assert (summary.added, summary.failed) == (n_samples, 0)
    assert assistant.stats()["articles"] == n_samples
    answer = assistant.ask("What did Venezuela ask Iran for?")
    assert answer.citations and not answer.abstained


def test_second_start_does_nothing(settings):
    first = _assistant(settings, index_samples_on_start=True)
    first.ensure_samples()
    chunks = first.store.count()
    generation = first.store.generation()
    again = _assistant(settings, index_samples_on_start=True)  # a new process on the same data
    assert again.ensure_samples() is None
    assert again.store.count() == chunks and again.store.generation() == generation


def test_a_user_index_is_left_alone(settings):
    assistant = _assistant(settings, index_samples_on_start=True)
    assistant.indexer.index_items([Article(id="mine", text="My own article about the harbour strike.")])
    assert assistant.ensure_samples() is None
    assert assistant.stats()["articles"] == 1


def test_samples_on_start_can_be_switched_off(settings):
    assistant = _assistant(settings, index_samples_on_start=False)
    assert assistant.ensure_samples() is None
    assert assistant.store.count() == 0


def test_missing_samples_folder_is_not_an_error(settings, tmp_path):
    assistant = _assistant(settings, index_samples_on_start=True, samples_dir=tmp_path / "no-samples")
    assert assistant.ensure_samples() is None
