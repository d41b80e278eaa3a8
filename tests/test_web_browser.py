"""The archive in a real browser (Debian's Chromium through Playwright), as people use it.

One server per module: the real app behind waitress with the in-process worker and
real transcription (Whisper tiny.en). Screenshots go to test-output/browser/ for a
person to look at.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from radio import create_app
from radio.db import connect, database_path
from radio.jobs import tasks
from tests.audiofiles import convert
from tests.conftest import clip, require, settings
from tests.webserver import add_account, live_server

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "browser"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PROCESSING_TIMEOUT_MS = 240_000  # real transcription on a slow CI machine

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("browser") / "home"
    app = create_app(settings(home, TRANSCRIBE=True, SECRET_KEY="b"))
    add_account(app, "joseph", "uploader", "correct horse")
    with live_server(app) as live:
        tasks.start_in_process(app)
        live.app = app
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
}


def word_start(app, guid: str, word: str) -> list[float]:  # noqa: ANN001
    """When the transcriber heard ``word`` in the episode, from the stored word timings."""
    db = connect(database_path(app))
    try:
        rows = db.query(
            "select s.words from segments s join episodes e on e.id = s.episode_id "
            "where e.guid = ? order by s.idx",
            [guid],
        )
        starts = []
        for row in rows:
            for start, _end, text, _p in json.loads(row["words"]):
                if re.sub(r"\W", "", text).lower() == word:
                    starts.append(start)
        return starts
    finally:
        db.conn.close()


def shot(page, name: str) -> None:  # noqa: ANN001
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page, base: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/upload")
    assert "/login" in page.url  # uploads need a login
    page.fill("input[name=name]", "joseph")
    page.fill("input[name=password]", "correct horse")
    page.click("form.stack button")
    page.wait_for_url(f"{base}/upload")


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_upload_follow_progress_search_and_jump_to_the_word(server, browser, device, tmp_path):
    base = server.url
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    log_in(page, base)
    # the phone uploads the same speech as an MP3, so each run makes its own episode
    recording = (
        clip("jfk.flac")
        if device == "desktop"
        else convert(clip("jfk.flac"), tmp_path / "jfk-phone.mp3")
    )
    title = f"Inaugural address ({device})"
    page.set_input_files("input[name=files]", str(recording))
    assert recording.name in page.inner_text("#chosen")
    page.fill("input[name=title]", title)
    page.fill("input[name=show]", "Speeches")
    page.select_option("select[name=language]", "en")
    page.fill("textarea[name=description]", "Uploaded from the browser test.")
    page.click("#upload button")
    # the XHR upload swaps in the results; the file's line follows processing live
    job = page.locator(".results-files li.added .job")
    job.wait_for()
    assert recording.name in page.inner_text(".results-files")
    shot(page, f"{device}-1-uploaded")
    page.wait_for_selector(".job[data-status=ready]", timeout=PROCESSING_TIMEOUT_MS)
    assert page.eval_on_selector(".job progress", "p => p.value") == 1
    shot(page, f"{device}-2-processed")
    page.click(".job [data-field=link]")  # the processing page, now done
    page.wait_for_selector("[data-field=done]:not([hidden])")
    assert page.inner_text("[data-field=percent]") == "100%"
    shot(page, f"{device}-3-progress-page")

    page.goto(base + "/")
    page.fill("form[role=search] input[name=q]", "country")
    page.press("form[role=search] input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=country"))
    result = page.locator("ol.results > li", has_text=title)
    assert result.count() == 1
    shot(page, f"{device}-4-search")
    hit = result.locator(".hits a").first
    href = hit.get_attribute("href")
    guid = re.search(r"/episodes/([0-9a-f-]+)", href).group(1)
    heard = word_start(server.app, guid, "country")
    # "ask not what your country can do for you, ask what you can do for your country"
    assert len(heard) == 2 and 4.0 < heard[0] < heard[1] < 11.0, heard
    hit.click()
    page.wait_for_url(re.compile(rf"/episodes/{guid}\?t="))
    page.wait_for_function(
        "w => { const p = document.getElementById('player');"
        " return p.readyState >= 1 && Math.abs(p.currentTime - w) < 1; }",
        arg=heard[0],
    )
    current = page.eval_on_selector("#player", "p => p.currentTime")
    assert abs(current - heard[0]) < 1, (current, heard)
    assert page.locator("#transcript p.now").count() == 1
    shot(page, f"{device}-5-episode-at-word")

    # a transcript timestamp seeks the player in place
    first = page.locator("#transcript p a").first
    target = float(first.get_attribute("href").split("#t=")[1])
    first.click()
    page.wait_for_function(
        "t => Math.abs(document.getElementById('player').currentTime - t) < 1", arg=target
    )
    assert page.url.endswith(f"#t={first.get_attribute('href').split('#t=')[1]}")
    if device == "phone":  # nothing wider than the screen
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360, width
    assert errors == []
    context.close()


def test_pages_work_without_javascript(server, browser):
    """The plain forms and links do everything, just without live updates."""
    base = server.url
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    page = context.new_page()
    log_in(page, base)
    page.set_input_files("input[name=files]", str(clip("LJ001-0001.wav")))
    page.fill("input[name=title]", "Printing")
    page.click("#upload button")
    page.wait_for_selector(".results-files li.added")
    progress_url = page.get_attribute(".job [data-field=link]", "href")
    page.goto(base + progress_url)
    # the page reloads itself (<noscript> meta refresh) until the work is done
    page.wait_for_selector("[data-field=done]:not([hidden])", timeout=PROCESSING_TIMEOUT_MS)
    shot(page, "nojs-1-progress-done")
    page.goto(base + "/search?q=exhibition")
    hit = page.locator("ol.results > li", has_text="Printing").locator(".hits a").first
    href = hit.get_attribute("href")
    t = float(re.search(r"\?t=([\d.]+)", href).group(1))
    hit.click()
    # without JavaScript the time travels in the URL: the player starts there when played
    sources = page.eval_on_selector_all("audio source", "s => s.map(x => x.getAttribute('src'))")
    assert all(s.endswith(f"#t={href.split('?t=')[1].split('#')[0]}") for s in sources)
    assert page.locator("#transcript p.now").count() == 1
    assert 5.0 < t < 10.5, t  # "exhibition" ends the sentence
    shot(page, "nojs-2-episode")
    context.close()
