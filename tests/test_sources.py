"""Saved sources and refresh against a real HTTP server on 127.0.0.1 and a real embedded Chroma: polling is
cheap (checked on the server side: a second refresh with nothing new transfers no page bodies, new entries
are the only pages fetched and the only articles embedded), feeds keep what falls off them, folders are
pruned, failures are named and retried, the commands print what `assistant index` prints, nothing reaches
the network without a source, and a refresh killed with SIGKILL recovers to exactly a clean refresh."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, run_cli
from tests.web_support import Route, WebServer, article_page, rss_feed, story

HASHING = ("--embedding", "hashing")


@pytest.fixture
def web():
    with WebServer() as server:
        yield server


def _serve_feed(web: WebServer, name: str, numbers: list[int], *, revision: int = 0, etag: bool = True,
                pages: bool = True, delay: float = 0.0) -> str:
    if pages:
        for n in numbers:
            web.routes[f"/{name}/{n}"] = Route(article_page(n, revision=revision), etag=etag, delay=delay)
    web.routes[f"/{name}.xml"] = Route(rss_feed([(n, web.url(f"/{name}/{n}")) for n in numbers], revision=revision,
                                                title=f"{name.title()} News"), content_type="application/rss+xml",
                                       etag=etag)
    return web.url(f"/{name}.xml")


@pytest.fixture
def app(settings):
    from assistant.factory import build_assistant, build_sources

    settings = settings.model_copy(update={"fetch_timeout": 2.0, "fetch_deadline": 5.0})
    assistant = build_assistant(settings)
    return assistant, build_sources(settings, assistant.indexer)


def test_second_refresh_transfers_no_bodies_and_new_entries_cost_only_themselves(web, app):
    assistant, sources = app
    feeds = {name: _serve_feed(web, name, list(range(i * 10, i * 10 + 10)))
             for i, name in enumerate(["harbour", "valley", "metro"])}
    no_etag = _serve_feed(web, "plain", list(range(40, 45)), etag=False)  # a server without validators
    for url in [*feeds.values(), no_etag]:
        sources.add(url)
    first = sources.refresh().summary
    assert (first.added, first.failed) == (35, 0), first.failures
    assert assistant.store.count() == 35

    web.clear()
    second = sources.refresh().summary
    assert (second.added, second.updated, second.unchanged, second.chunks_embedded) == (0, 0, 35, 0)
    bodies = web.page_hits()
    assert [h.path for h in bodies] == ["/plain.xml"], bodies  # the feed without ETag: no page behind it
    conditional = [h for h in web.hits if h.path in ("/harbour.xml", "/valley.xml", "/metro.xml")]
    assert len(conditional) == 3 and all(h.status == 304 and "if-none-match" in h.headers for h in conditional)

    _serve_feed(web, "valley", [*range(10, 20), 90, 91], pages=False)
    web.routes["/valley/90"] = Route(article_page(90))
    web.routes["/valley/91"] = Route(article_page(91))
    web.clear()
    third = sources.refresh().summary
    assert (third.added, third.updated, third.chunks_embedded, third.failed) == (2, 0, 2, 0)
    assert third.unchanged == 35
    assert sorted(h.path for h in web.page_hits()) == ["/plain.xml", "/valley.xml", "/valley/90", "/valley/91"]
    infos = {i.location: i for i in sources.list()}
    assert infos[feeds["valley"]].articles_added == 12 and infos[feeds["valley"]].kind == "feed"
    assert all(i.last_check and not i.last_error for i in infos.values())


def test_changed_entries_are_reindexed_and_fallen_off_ones_kept(web, app):
    assistant, sources = app
    url = _serve_feed(web, "coast", [1, 2, 3])
    sources.add(url)
    sources.refresh()
    _serve_feed(web, "coast", [2, 3, 4], revision=1)  # 1 falls off, 2 and 3 corrected, 4 is new
    summary = sources.refresh().summary
    assert (summary.added, summary.updated, summary.removed) == (1, 2, 0)
    ids = [f"127.0.0.1:{web.port}/coast/{n}" for n in (1, 2, 3, 4)]
    assert set(assistant.store.article_states(ids)) == set(ids)  # the story that fell off is kept
    assert sorted(summary.updated_ids) == ids[1:3] and summary.added_ids == ids[3:]


def test_a_page_source(web, app):
    _assistant, sources = app
    web.routes["/story"] = Route(article_page(12))
    sources.add(web.url("/story"))
    assert sources.refresh().summary.added == 1
    web.clear()
    again = sources.refresh().summary
    assert (again.added, again.unchanged) == (0, 1) and [h.status for h in web.hits] == [304]
    web.routes["/story"] = Route(article_page(12, revision=3))
    assert sources.refresh().summary.updated == 1
    (info,) = sources.list()
    assert info.kind == "page" and info.articles == 1


def test_folder_source_prunes_what_is_gone(tmp_path, app):
    assistant, sources = app
    folder = tmp_path / "drop"
    folder.mkdir()
    for n in range(3):
        s = story(n)
        (folder / f"s{n}.md").write_text(f"# {s['title']}\n\n" + "\n\n".join(s["paragraphs"]))
    sources.add(str(folder))
    assert sources.refresh().summary.added == 3
    (folder / "s0.md").unlink()
    (folder / "broken.txt").write_bytes(b"\xff\xfe not utf-8 \x00")
    kept = sources.refresh().summary
    assert kept.removed == 0 and kept.failed == 1 and any("not pruning" in n for n in kept.notes)
    (folder / "broken.txt").unlink()
    pruned = sources.refresh().summary
    assert (pruned.removed, pruned.removed_ids) == (1, ["s0"])
    assert assistant.store.count() == 2


def test_failures_are_named_counted_and_retried(web, app):
    _assistant, sources = app
    good = _serve_feed(web, "good", [1, 2])
    flaky = _serve_feed(web, "flaky", [3, 4])
    web.routes["/flaky/4"] = Route(b"down for maintenance", status=503)
    sources.add(good)
    sources.add(flaky)
    sources.add(web.url("/missing.xml"))
    report = sources.refresh()
    s = report.summary
    assert (s.added, s.failed) == (3, 2)
    lines = sorted(str(f) for f in s.failures)
    assert lines == [f"{web.url('/flaky/4')}: HTTP 503 Service Unavailable",
                     f"{web.url('/missing.xml')}: HTTP 404 Not Found"]
    errors = {i.location: i.last_error for i in report.sources}
    assert errors[good] == "" and "HTTP 503" in errors[flaky] and "HTTP 404" in errors[web.url("/missing.xml")]
    web.routes["/flaky/4"] = Route(article_page(4))
    web.clear()
    retry = sources.refresh().summary
    assert (retry.added, retry.failed) == (1, 1)
    assert "/flaky/3" not in {h.path for h in web.hits}  # only the failed entry is fetched again


def test_sources_add_list_remove(tmp_path, web, app):
    from index.sources import SourceError

    _, sources = app
    url = _serve_feed(web, "harbour", [1])
    info, new = sources.add(url)
    assert new and info.kind == "url"
    assert sources.add(url)[1] is False
    folder = tmp_path / "in"
    folder.mkdir()
    sources.add(str(folder))
    assert [i.location for i in sources.list()] == [url, str(folder.resolve())]
    for bad, reason in [("file:///etc", "only http:// and https://"), ("ftp://x/feed", "only http"),
                        (str(tmp_path / "nope"), "not a folder")]:
        with pytest.raises(SourceError, match=reason):
            sources.add(bad)
    sources.remove(url)
    with pytest.raises(SourceError, match="not a saved source"):
        sources.remove(url)
    assert [i.kind for i in sources.list()] == ["folder"]
    assert json.loads(sources.registry_path.read_text())["version"] == 1


# --------------------------------------------------------------------------------------------- the CLI


def _env(data: Path) -> dict[str, str]:
    return {"ASSISTANT_DATA_DIR": str(data), "ASSISTANT_EMBEDDING": "hashing",
            "ASSISTANT_FETCH_TIMEOUT": "2", "ASSISTANT_FETCH_DEADLINE": "5"}


def test_cli_refresh_prints_the_index_summary_then_one_line_per_failure(tmp_path, web):
    data = tmp_path / "data"
    good = _serve_feed(web, "good", [1, 2, 3])
    env = _env(data)
    assert run_cli("sources", "add", good, web.url("/gone.xml"), env=env).returncode == 0
    listing = run_cli("sources", "list", "--json", env=env)
    assert listing.returncode == 0, listing.stderr
    listed = json.loads(listing.stdout)
    assert [s["location"] for s in listed] == [good, web.url("/gone.xml")]
    done = run_cli("refresh", env=env)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("added 3, updated 0, unchanged 0, removed 0, failed 1 ("), lines
    assert lines[1:] == [f"{web.url('/gone.xml')}: HTTP 404 Not Found"]
    assert "Traceback" not in done.stderr
    again = run_cli("refresh", "--json", env=env)
    assert again.returncode == 1 and again.stdout.strip(), again.stderr
    as_json = json.loads(again.stdout)
    assert (as_json["unchanged"], as_json["failed"]) == (3, 1)
    assert [s["kind"] for s in as_json["sources"]] == ["feed", "url"]
    assert run_cli("sources", "remove", web.url("/gone.xml"), env=env).returncode == 0
    clean = run_cli("refresh", env=env)
    assert clean.returncode == 0 and clean.stdout.splitlines() == [
        line for line in clean.stdout.splitlines() if line.startswith("added 0, updated 0, unchanged 3")]
    bad = run_cli("sources", "remove", web.url("/gone.xml"), env=env)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and len(bad.stderr.splitlines()) == 1


def test_cli_index_mixes_paths_and_urls(tmp_path, web):
    data = tmp_path / "data"
    feed = _serve_feed(web, "mix", [5, 6])
    web.routes["/page"] = Route(article_page(7))
    text = tmp_path / "local.txt"
    text.write_text("Local paper reports the ferry timetable change for the winter months ahead of the storms.")
    done = run_cli("index", str(text), feed, web.url("/page"), web.url("/nothing"), "file:///etc/hosts",
                   env=_env(data))
    assert done.returncode == 1
    assert done.stdout.startswith("added 4, updated 0, unchanged 0, removed 0, failed 2"), done.stdout
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: skipped {web.url('/nothing')}: HTTP 404 Not Found",
                        "warning: skipped file:///etc/hosts: only http:// and https:// URLs are fetched, not file://"]


_LIST_MODULES = (
    "import sys, json\n"
    "net = []\n"
    "def hook(event, args):\n"
    "    if event == 'socket.connect' and isinstance(args[1], tuple):\n"
    "        net.append(str(args[1]))\n"
    "    elif event == 'socket.getaddrinfo':\n"
    "        net.append(str(args[0]))\n"
    "sys.addaudithook(hook)\n"
    "from assistant.cli import main\n"
    "try:\n    rc = main(sys.argv[1:])\nexcept SystemExit as exc:\n    rc = exc.code\n"
    "mods = sorted({m.split('.')[0] for m in sys.modules} & {'feedparser', 'watchfiles'})\n"
    "print('MODULES=' + json.dumps(mods + ['connect:' + a for a in net]))\n"
    "sys.exit(rc)\n"
)


def _modules_loaded(args: list[str], data: Path) -> tuple[int, list[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    done = subprocess.run([sys.executable, "-c", _LIST_MODULES, *args], capture_output=True, text=True, cwd=ROOT,
                          env={**env, **_env(data)}, timeout=120, check=False)
    line = [x for x in done.stdout.splitlines() if x.startswith("MODULES=")]
    assert line, done.stdout + done.stderr
    return done.returncode, json.loads(line[-1][len("MODULES="):]), done.stderr


def test_nothing_reaches_the_network_unless_a_source_was_given(tmp_path):
    from tests.conftest import SAMPLES

    data = tmp_path / "data"
    rc, loaded, _ = _modules_loaded(["--help"], data)
    assert rc == 0 and loaded == []
    rc, loaded, err = _modules_loaded(["index", str(SAMPLES)], data)
    assert rc == 0 and loaded == [], (loaded, err)  # no connection, no lookup, no feed parser
    rc, loaded, err = _modules_loaded(["refresh"], data)
    assert rc == 0 and "no saved sources" in err and loaded == []
    # the check sees a connection when there is one: a URL given is fetched
    rc, loaded, err = _modules_loaded(["index", "http://127.0.0.1:9/feed.xml"], data)
    assert rc == 1 and "connect:('127.0.0.1', 9)" in loaded, (loaded, err)


# --------------------------------------------------------------------------------------------- crash safety


def _kill_when(proc: subprocess.Popen, web: WebServer, n_pages: int, timeout: float = 60) -> bool:
    """SIGKILL `proc` once the server has answered `n_pages` page requests; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if len([h for h in web.hits if "/" in h.path[1:] and h.sent]) >= n_pages:
            proc.send_signal(signal.SIGKILL)
            proc.wait(30)
            return True
        time.sleep(0.005)
    proc.kill()
    raise TimeoutError("refresh did not get that far")


@pytest.mark.slow
def test_a_killed_refresh_reruns_to_exactly_a_clean_refresh(tmp_path, web):
    from tests.reliability_support import snapshot

    env = {**os.environ, **_env(tmp_path / "killed")}
    numbers = {name: list(range(i * 12, i * 12 + 12)) for i, name in enumerate(["north", "south", "east", "west"])}
    urls = [_serve_feed(web, name, nums, delay=0.01) for name, nums in numbers.items()]
    for url in urls:
        assert run_cli("sources", "add", url, env=env).returncode == 0
    rng = random.Random(int(os.environ.get("RELIABILITY_SEED", "13")))
    kills = 0
    for _ in range(3):
        web.clear()
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "refresh"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kills += _kill_when(proc, web, rng.randint(1, 40))
    assert kills >= 2, "the refresh finished before it could be killed; the test proved nothing"
    rerun = run_cli("refresh", env=env)
    assert rerun.returncode == 0, rerun.stderr
    clean_env = {**os.environ, **_env(tmp_path / "clean")}
    for url in urls:
        run_cli("sources", "add", url, env=clean_env)
    assert run_cli("refresh", env=clean_env).returncode == 0
    killed, clean = snapshot(tmp_path / "killed"), snapshot(tmp_path / "clean")
    assert sorted(killed.ids) == sorted(clean.ids)
    assert killed.texts == clean.texts and not killed.writing
    assert killed.lexical_ids == set(killed.ids)
    assert {k: killed.stats[k] for k in ("articles", "chunks")} == {k: clean.stats[k] for k in ("articles", "chunks")}
    # and the state is whole: one more refresh transfers no page body and embeds nothing
    web.clear()
    again = json.loads(run_cli("refresh", "--json", env=env).stdout)
    assert (again["added"], again["updated"], again["chunks_embedded"]) == (0, 0, 0)
    assert web.page_hits() == []
