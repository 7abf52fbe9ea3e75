"""Exposure: the app binds to loopback unless told otherwise, warns when it is opened up without a login,
caps uploads, and - in a real browser - outlet names and questions carrying XSS payloads stay text (the
article body, title and URL cases are in test_ui_e2e.py)."""

from __future__ import annotations

import os
import time

import pytest

from tests.conftest import run_cli, running_app
from tests.reliability_support import CLI_ENV

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
PAYLOAD = "<img src=x onerror=\"alert('q-img')\"><script>alert('q-script')</script><svg onload=alert('q-svg')>"
EVIL_OUTLET = "<img src=x onerror=alert('outlet')>Evil Outlet<script>alert('outlet-script')</script>"


def test_default_bind_is_loopback(monkeypatch, tmp_path):
    from assistant.settings import Settings
    from assistant.web.ui import is_loopback, launch_options, serving_warnings

    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            monkeypatch.delenv(key)
    settings = Settings(data_dir=tmp_path)
    assert settings.host == "127.0.0.1" and is_loopback(settings.host)
    options = launch_options(settings)
    assert options["server_name"] == "127.0.0.1" and options["auth"] is None
    assert options["max_file_size"] == int(settings.upload_max_mb * 1_000_000)
    assert serving_warnings(settings) == []
    for host in ("0.0.0.0", "::", "192.168.1.20", "example.org"):
        assert not is_loopback(host)
        [warning] = serving_warnings(Settings(data_dir=tmp_path, host=host))
        assert "without a login" in warning and "\n" not in warning
        assert serving_warnings(Settings(data_dir=tmp_path, host=host, auth_username="u", auth_password="p")) == []


@pytest.mark.parametrize("env, message", [
    ({"ASSISTANT_AUTH_USERNAME": "only-user"}, "auth_username and auth_password"),
    ({"ASSISTANT_UPLOAD_MAX_MB": "100000"}, "ASSISTANT_UPLOAD_MAX_MB"),
    ({"ASSISTANT_PORT": "99999"}, "ASSISTANT_PORT"),
])
def test_bad_serving_settings_stop_the_app_with_one_line(monkeypatch, capsys, tmp_path, env, message):
    """What `python app.py` does with them (its main), before anything is built or bound."""
    from assistant.web import ui

    for key, value in {**CLI_ENV, "ASSISTANT_DATA_DIR": str(tmp_path / "d"), **env}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(ui, "build_ui", lambda *a, **k: pytest.fail("the app started despite a bad setting"))
    with pytest.raises(SystemExit) as stop:
        ui.main()
    assert stop.value.code == 1
    err = capsys.readouterr().err
    assert message in err and err.startswith("error: ") and err.count("\n") == 1, err


@pytest.mark.slow
def test_outlet_names_and_questions_with_xss_stay_text_in_a_browser(tmp_path, monkeypatch):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium is not installed at {CHROMIUM} (./scripts/test.sh installs it)")
    from playwright.sync_api import sync_playwright

    data = tmp_path / "data"
    article = tmp_path / "evil.md"
    article.write_text(f"---\ntitle: Harbour gala draws crowds\nsource: {EVIL_OUTLET}\n"
                       "url: https://example.org/gala\npublished_at: 2025-10-10\n---\n"
                       "The harbour gala drew 12,000 visitors, organisers said.\n")
    env = {**os.environ, **CLI_ENV, "ASSISTANT_DATA_DIR": str(data)}
    indexed = run_cli("index", str(article), env=env)
    assert indexed.returncode == 0, indexed.stderr
    monkeypatch.setenv("ASSISTANT_INDEX_SAMPLES_ON_START", CLI_ENV["ASSISTANT_INDEX_SAMPLES_ON_START"])
    with running_app(data, embedding=CLI_ENV["ASSISTANT_EMBEDDING"], timeout=180) as (url, _, _):
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(60_000)
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.goto(url)
            page.wait_for_selector("#chat")

            question = f"How many visitors did the harbour gala draw? {PAYLOAD}"
            page.fill("#question textarea", question)
            page.press("#question textarea", "Enter")
            page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=bot]').length >= 1 && "
                                   "!!document.querySelector('#chat [data-testid=bot] a.cite-marker, .abstained')")
            assert "<script>alert('q-script')</script>" in page.inner_text("#chat [data-testid=user]")

            page.click("#filters")  # the outlet filter lists every outlet name
            page.click("#outlets input")
            option = page.get_by_role("option").first
            option.wait_for()
            assert "Evil Outlet<script>" in option.inner_text()
            time.sleep(1.0)  # time for any injected handler to fire
            injected = page.evaluate("""() => ({
                imgs: [...document.querySelectorAll('img')].filter(i => i.getAttribute('src') === 'x').length,
                svgs: document.querySelectorAll('svg[onload]').length,
                handlers: document.querySelectorAll('[onerror], [onload]').length,
            })""")
            browser.close()
        assert dialogs == []
        assert injected["imgs"] == injected["svgs"] == injected["handlers"] == 0, injected
