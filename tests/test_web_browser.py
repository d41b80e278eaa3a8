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
from tests.archive import Seeder
from tests.audiofiles import convert
from tests.browser import launched_browser
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
    yield from launched_browser(ARGS)


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


# --- who said what: speaker turns and search by speaker (#12) --------------------------------


@pytest.fixture(scope="module")
def call(server):  # noqa: ANN201
    """A real two-party stereo call, transcribed channel by channel with the names given at
    upload: Amina on the left ("He began a confused complaint against the wizard..."),
    Joseph on the right ("The horizon seems extremely distant.")."""
    db = connect(database_path(server.app))
    try:
        episode = Seeder(server.app, db).recording(
            clip("stereo_diarization.wav"),
            title="Call with Joseph",
            show="Phone-in",
            language="en",
            speakers=["Amina", "Joseph"],
        )
        spoken = {
            r["speaker"]
            for r in db.query("select speaker from segments where episode_id = ?", [episode.id])
        }
    finally:
        db.conn.close()
    assert spoken == {"Amina", "Joseph"}, spoken
    return episode


LONG_NAME = "Mwanaisha Abdallah Kassim-Mohamednyamwezi"


@pytest.fixture(scope="module")
def long_turns(server):  # noqa: ANN201
    """A transcript of many short turns, with a long name and a word longer than a phone."""
    said = [
        (0.0, 3.0, "Karibu, welcome to the committee of the water users.", "Amina"),
        (3.0, 6.0, "Asante. " + "Maji" * 20 + " is how the children wrote it.", LONG_NAME),
        (6.0, 8.0, "Thank you both.", "Joseph"),
        (8.0, 11.0, "The borehole in the north was fixed on Tuesday.", "Amina"),
    ]
    db = connect(database_path(server.app))
    try:
        episode_id = Seeder(server.app, db).episode("Water users", said, show="Phone-in")
        return db["episodes"].get(episode_id)["guid"]
    finally:
        db.conn.close()


TURNS_JS = """() => [...document.querySelectorAll('#transcript .turn')].map(turn => {
  const who = turn.querySelector('.who'), box = who.getBoundingClientRect();
  const segs = [...turn.querySelectorAll("p[id^='t=']")];
  return {name: who.textContent, colour: getComputedStyle(who).color,
          border: getComputedStyle(turn).borderLeftColor, visible: box.width > 0,
          left: box.left, right: box.right, segs: segs.map(p => p.id),
          widths: segs.map(p => p.getBoundingClientRect().width)};
})"""


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_turns_are_readable_and_a_search_hit_names_its_speaker(server, browser, call, device):
    base, width = server.url, VIEWPORTS[device]["viewport"]["width"]
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/episodes/{call.guid}")
    turns = page.evaluate(TURNS_JS)
    shot(page, f"{device}-6-speaker-turns")
    assert {t["name"] for t in turns} == {"Amina", "Joseph"}, turns
    transcript = page.locator("#transcript").bounding_box()
    for turn in turns:
        assert turn["visible"] and turn["left"] >= 0 and turn["right"] <= width, turn
        # the name is above the words, not a column beside them: the words keep the width
        assert all(w >= 0.85 * transcript["width"] for w in turn["widths"]), turn
    colours = {t["name"]: (t["colour"], t["border"]) for t in turns}
    assert colours["Amina"] != colours["Joseph"]
    for turn in turns:  # one colour per speaker, every turn of theirs
        assert (turn["colour"], turn["border"]) == colours[turn["name"]]
    overflow = page.evaluate("document.scrollingElement.scrollWidth")
    assert overflow <= width, overflow

    # a timestamp inside a turn still seeks the player and marks its segment
    k, joseph = next((k, t) for k, t in enumerate(turns) if t["name"] == "Joseph")
    target = float(joseph["segs"][0].removeprefix("t="))
    page.locator("#transcript .turn").nth(k).locator("p a").first.click()
    page.wait_for_function(
        "t => Math.abs(document.getElementById('player').currentTime - t) < 1", arg=target
    )
    assert page.locator("#transcript .turn p.now").count() == 1

    page.goto(f"{base}/search?q=horizon")
    result = page.locator("ol.results > li", has_text="Call with Joseph")
    moment = result.locator(".hits .ts").first.inner_text()
    assert re.fullmatch(r"Joseph at 0:0\d", moment), moment
    shot(page, f"{device}-7-search-names-the-speaker")
    page.goto(f"{base}/search?q=horizon&speaker=amina")  # Amina never said it
    assert page.locator("ol.results > li", has_text="Call with Joseph").count() == 0
    page.select_option("select[name=speaker]", "Joseph")
    page.click("form.search .searchbox button")
    page.wait_for_url(re.compile(r"speaker=Joseph"))
    assert page.locator("ol.results > li", has_text="Call with Joseph").count() == 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    assert errors == []
    context.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_long_names_and_words_fit_the_screen(server, browser, long_turns, device):
    width = VIEWPORTS[device]["viewport"]["width"]
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    page.goto(f"{server.url}/episodes/{long_turns}")
    turns = page.evaluate(TURNS_JS)
    shot(page, f"{device}-8-long-names")
    assert [t["name"] for t in turns] == ["Amina", LONG_NAME, "Joseph", "Amina"]
    assert len({t["border"] for t in turns}) == 3 and turns[0]["border"] == turns[3]["border"]
    for turn in turns:
        assert turn["visible"] and turn["left"] >= 0 and turn["right"] <= width, turn
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    context.close()
