"""Settings stop at the factory: what it builds holds no `Settings` (looked for in the built objects
themselves, closures included), each part's config carries what the settings say, and a constructor's
defaults are the values the settings ship with."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from pathlib import Path

import pytest

from assistant.configs import Configs, DatesConfig
from assistant.settings import Settings


def _defaults(func) -> dict:
    return {name: p.default for name, p in inspect.signature(func).parameters.items()
            if p.default is not inspect.Parameter.empty}


def _settings_in(root: object, kind: type = Settings, limit: int = 20_000) -> list[str]:
    """Paths from `root` to every `kind` reachable through our own objects (assistant.*, index.*, this
    module's), containers, functions' closures and defaults, bound methods and partials."""
    found, seen = [], set()
    todo = [(root, "root")]
    while todo and len(seen) < limit:
        obj, path = todo.pop()
        if id(obj) in seen or isinstance(obj, (str, bytes, int, float, bool, Path, type(None), type)):
            continue
        seen.add(id(obj))
        if isinstance(obj, kind):
            found.append(path)
            continue
        if isinstance(obj, dict):
            todo += [(v, f"{path}[{k!r}]") for k, v in obj.items()]
        elif isinstance(obj, (list, tuple, set, frozenset)):
            todo += [(v, f"{path}[{i}]") for i, v in enumerate(obj)]
        elif isinstance(obj, functools.partial):
            todo += [(obj.func, f"{path}.func"), (obj.args, f"{path}.args"), (obj.keywords, f"{path}.keywords")]
        elif inspect.ismethod(obj):
            todo.append((obj.__self__, f"{path}.__self__"))
        elif inspect.isfunction(obj):
            cells = obj.__closure__ or ()
            todo += [(c.cell_contents, f"{path}<closure {n}>")
                     for n, c in zip(obj.__code__.co_freevars, cells) if _filled(c)]
            todo += [(obj.__defaults__ or (), f"{path}.__defaults__"), (obj.__kwdefaults__ or {}, f"{path}.__kwdefaults__")]
        elif type(obj).__module__.split(".")[0] in ("assistant", "index") or type(obj).__module__ == __name__:
            attrs = dict(getattr(obj, "__dict__", {}))
            for slot in getattr(type(obj), "__slots__", ()):
                if hasattr(obj, slot):
                    attrs[slot] = getattr(obj, slot)
            todo += [(v, f"{path}.{k}") for k, v in attrs.items()]
    return found


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def test_the_walk_finds_settings_kept_anywhere(settings):
    """The walk below must be able to see a Settings where the old code kept one: an attribute, a closure
    (the saved sources' fetcher factory was `lambda: build_fetcher(settings)`), a bound method's object."""

    class Part:  # defined in tests.*, so the walk looks inside it
        def __init__(self, value):
            self.value = value

    def closure():
        return settings

    assert _settings_in(Part(settings)) == ["root.value"]
    assert _settings_in(Part([{"k": closure}])) == ["root.value[0]['k']<closure settings>"]
    assert _settings_in(Part(Part(settings).__init__)) == ["root.value.__self__.value"]
    assert _settings_in(functools.partial(print, settings)) == ["root.args[0]"]
    assert _settings_in(Part(settings.data_dir)) == []


def test_the_assistant_and_the_web_parts_hold_no_settings(settings):
    from assistant.factory import build_assistant, build_web_parts

    assistant = build_assistant(settings)
    assert _settings_in(assistant) == []
    parts = build_web_parts(settings, assistant)
    assert _settings_in(parts) == []
    assert not hasattr(assistant, "settings")


def test_the_saved_sources_hold_no_settings(settings):
    from assistant.factory import build_sources

    sources = build_sources(settings, None)
    assert _settings_in(sources) == []
    fetcher = sources._fetcher_factory()  # what a refresh will fetch with: the settings' limits
    try:
        assert fetcher.policy.timeout == settings.fetch_timeout
        assert fetcher.policy.max_bytes == int(settings.fetch_max_mb * 1024 * 1024)
    finally:
        fetcher.close()


def test_each_config_carries_what_the_settings_say(tmp_path):
    settings = Settings(data_dir=tmp_path, top_k=7, recency_prior=False, time_windows=False, llm_timeout=12.0,
                        upload_max_files=3, host="0.0.0.0", auth_username="a", auth_password="b",
                        index_samples_on_start=False, feed_max_entries=9, allow_link_local=True)
    configs = Configs.from_settings(settings)
    assert configs.retrieval.top_k == 7 and configs.llm.top_k == 7
    assert configs.retrieval.recency_weight == 0.0  # the prior off
    assert configs.dates == DatesConfig(recency_prior=False, time_windows=False)
    assert configs.llm.timeout == 12.0 and configs.web.upload_max_files == 3
    assert configs.web.login_configured and configs.web.host == "0.0.0.0"
    assert configs.samples_dir is None
    assert configs.sources.max_entries == 9 and configs.sources.fetch.allow_link_local
    assert configs.record.answerer == settings.llm_label and configs.record.store == settings.store_label
    assert "api_key" not in repr(Configs.from_settings(settings.model_copy(update={"llm_api_key": "sk-x"})).llm)
    with pytest.raises(dataclasses.FrozenInstanceError):
        configs.retrieval.top_k = 3  # type: ignore[misc]


def test_the_assistant_answers_with_its_configs(tmp_path):
    """What `Assistant` used to read from the settings while answering now comes from its configs: the
    top-k (the retriever's), the date planning and the first-start samples."""
    from assistant.factory import build_assistant

    settings = Settings(data_dir=tmp_path / "data", embedding="hashing", top_k=2, time_windows=False,
                        index_samples_on_start=False)
    assistant = build_assistant(settings)
    assistant.index([Path(__file__).parent.parent / "samples" / "articles"])
    retrieval, plan = assistant.retrieve("What happened this week?", as_of="2025-11-01")
    assert len(retrieval.passages) == 2
    assert plan.window is None  # time windows off
    assert assistant.ensure_samples() is None  # samples off


@pytest.fixture
def shipped(monkeypatch, tmp_path):
    """The configs of a plain `Settings()`, no ASSISTANT_* variable set."""
    import os

    for key in [k for k in os.environ if k.startswith("ASSISTANT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    return Configs.from_settings(Settings())


def test_constructor_defaults_are_what_ships(shipped):
    from assistant.answering.generative import GenerativeAnswerer, LLMCondenser
    from assistant.retrieval.dates import plan_dates
    from assistant.retrieval.hybrid import HybridRetriever, NewsQuery
    from assistant.web.library import Library
    from assistant.web.sources_panel import SourcesPanel
    from index.intake.fetch import FetchPolicy

    retriever = _defaults(HybridRetriever.__init__)
    for field in dataclasses.fields(shipped.retrieval):
        if field.name != "postprocessors":
            assert retriever[field.name] == getattr(shipped.retrieval, field.name), field.name
    assert (NewsQuery.candidates, NewsQuery.top_k) == (shipped.retrieval.candidates, shipped.retrieval.top_k)
    planning = _defaults(plan_dates)
    assert (planning["recency"], planning["windows"]) == (shipped.dates.recency_prior, shipped.dates.time_windows)
    assert DatesConfig() == shipped.dates
    generative = _defaults(GenerativeAnswerer.__init__)
    assert (generative["timeout"], generative["max_passages"], generative["passage_tokens"]) == \
        (shipped.llm.timeout, shipped.llm.top_k, shipped.llm.passage_tokens)
    assert _defaults(LLMCondenser.__init__)["timeout"] == shipped.llm.timeout
    library = _defaults(Library.__init__)
    assert (library["max_file_mb"], library["max_files"]) == (shipped.web.upload_max_mb, shipped.web.upload_max_files)
    panel = _defaults(SourcesPanel.__init__)
    assert (panel["allow_link_local"], panel["refresh_minutes"]) == \
        (shipped.sources.fetch.allow_link_local, shipped.web.refresh_minutes)
    assert FetchPolicy() == shipped.sources.fetch


def test_index_constructor_defaults_are_what_ships(shipped):
    """The index side owns its defaults (index/ never imports assistant/; the chunk size and overlap are
    `index.text.chunking`'s, which the settings read): the chunker's, the indexer's and the shipped settings
    agree."""
    from index.indexer import Indexer
    from index.sources import Sources
    from index.text.chunking import CHUNK_OVERLAP, CHUNK_SIZE, chunk_text

    indexer = _defaults(Indexer.__init__)
    assert (indexer["chunk_size"], indexer["chunk_overlap"], indexer["group_copies"]) == \
        (shipped.indexing.chunk_size, shipped.indexing.chunk_overlap, shipped.indexing.group_copies)
    chunker = _defaults(chunk_text)
    assert (chunker["chunk_size"], chunker["chunk_overlap"]) == (CHUNK_SIZE, CHUNK_OVERLAP) == \
        (shipped.indexing.chunk_size, shipped.indexing.chunk_overlap)
    assert _defaults(Sources.__init__)["max_entries"] == shipped.sources.max_entries
