"""Share a moment in a real browser (Debian's Chromium through Playwright) on a 360 px phone:
select words of the transcript, share them, open the link, download the voice note (#14).

The episode is a real recording taken in and rendered by the real pipeline; its transcript
is written as the rows the transcriber stores (no model needed for this page).
"""

from __future__ import annotations

import re

import av
import pytest

from radio import create_app
from radio.data import transcripts
from radio.db import connect, database_path
from tests.archive import Seeder, as_segment
from tests.browser import launched_browser
from tests.conftest import clip, require, settings
from tests.test_web_browser import ARGS, CHROMIUM, shot
from tests.webserver import live_server

pytestmark = pytest.mark.slow

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "accept_downloads": True,
}
SAID = [  # basic-pbx-ivr-main.wav, 25.4 s
    (0.0, 5.2, "Thank you for calling Super Awesome Company, Waldo's premier provider."),
    (5.2, 9.8, "If you know your party's extension, you may dial it at any time."),
    (9.8, 14.0, "To establish a sales partnership, press one."),
    (14.0, 17.5, "To speak with a customer advocate, press two."),
    (17.5, 21.0, "For accounting and other receivables, press three."),
    (21.0, 25.3, "For a company directory, press four. For an operator, press zero."),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("share") / "home"
    app = create_app(settings(home, SECRET_KEY="s"))
    db = connect(database_path(app))
    try:
        episode = Seeder(app, db).recording(clip("basic-pbx-ivr-main.wav"), title="Phone menu")
        transcripts.add_segments(db, episode.id, [as_segment(s) for s in SAID], 0)
    finally:
        db.conn.close()
    with live_server(app) as live:
        live.guid = episode.guid
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


WORD_JS = """([n, word]) => {
  const p = document.querySelectorAll("#transcript p[id^='t=']")[n];
  p.scrollIntoView({block: "center"});
  const walker = document.createTreeWalker(p, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const at = node.data.indexOf(word);
    if (at < 0) continue;
    const range = document.createRange();
    range.setStart(node, at);
    range.setEnd(node, at + word.length);
    const box = range.getBoundingClientRect();
    return [box.x + box.width / 2, box.y + box.height / 2];
  }
  return null;
}"""


def word_at(page, segment: int, word: str) -> tuple[float, float]:  # noqa: ANN001
    """Where on the screen a word of the transcript is, to click it as a person would."""
    found = page.evaluate(WORD_JS, [segment, word])
    assert found, word
    return found[0], found[1]


def player_at(page, seconds: float) -> None:  # noqa: ANN001
    page.wait_for_function(
        "t => { const p = document.getElementById('player');"
        " return p.readyState >= 1 && Math.abs(p.currentTime - t) < 0.5; }",
        arg=seconds,
    )


def test_select_words_share_the_link_and_download_the_voice_note(server, browser, tmp_path):
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/episodes/{server.guid}")
    page.wait_for_selector("#share-bar:not([hidden])")
    assert page.locator("#share-moment").is_hidden()  # the dialog replaces the plain form

    # select words: a double-click takes a word of the second segment, a shift-click
    # stretches the selection into the third
    x, y = word_at(page, 1, "extension")
    page.mouse.dblclick(x, y)
    x, y = word_at(page, 2, "partnership")
    page.keyboard.down("Shift")
    page.mouse.click(x, y)
    page.keyboard.up("Shift")
    selected = page.evaluate("String(window.getSelection())")
    assert "extension" in selected and "partnership" in selected, selected
    page.click("#share-selection")
    dialog = page.locator("#share-dialog")
    dialog.wait_for(state="visible")
    assert page.input_value("#share-from") == "0:05.2"  # the second segment's start...
    assert page.input_value("#share-to") == "0:14"  # ...to the third's end
    assert page.inner_text("#share-length") == "9 seconds"
    link = page.input_value("#share-link")
    assert link == f"{server.url}/episodes/{server.guid}?t=5.2#t=5.2"
    assert page.evaluate("document.activeElement.id") == "share-link"  # focus moved in
    assert page.evaluate("document.getElementById('share-dialog').open")
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    shot(page, "phone-share-1-dialog")

    # the voice note: fetched, saved with its name, and a real Ogg Opus voice note
    with page.expect_download() as download:
        page.click("#share-clip")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert re.fullmatch(r"phone-menu-0m05s-0m14s\.opus", saved.name), saved.name
    with av.open(str(saved)) as f:
        codec = f.streams.audio[0].codec_context
        assert (codec.name, codec.channels, codec.sample_rate) == ("opus", 1, 48_000)
        assert abs(f.duration / 1e6 - 8.8) < 0.1
    assert saved.stat().st_size / (8.8 / 60) < 100_000
    # "Making the voice note…" until the file is fetched and handed to the browser
    page.locator("#share-status", has_text="Voice note downloaded").wait_for()
    assert "Voice note downloaded" in page.inner_text("#share-status")

    # Escape closes the dialog and gives the focus back
    page.keyboard.press("Escape")
    dialog.wait_for(state="hidden")

    # the link opens the episode at that second
    other = context.new_page()
    other.on("pageerror", lambda e: errors.append(str(e)))
    other.goto(link)
    player_at(other, 5.2)
    assert other.locator("#transcript p.now").get_attribute("id") == "t=5.2"
    assert other.evaluate("document.scrollingElement.scrollWidth") <= 360
    shot(other, "phone-share-2-link-opened")
    other.close()

    # from the player: "Start here" at 3 s, "End here" at 9 s
    page.evaluate(
        "() => { const p = document.getElementById('player'); p.preload = 'metadata'; p.load(); }"
    )
    page.wait_for_function("() => document.getElementById('player').readyState >= 1")
    page.evaluate("document.getElementById('player').currentTime = 3")
    player_at(page, 3)
    page.click("#share-bar button[data-share=start]")
    assert "Starts at 0:03" in page.inner_text("#share-bar .share-mark")
    page.evaluate("document.getElementById('player').currentTime = 9")
    player_at(page, 9)
    page.click("#share-bar button[data-share=end]")
    dialog.wait_for(state="visible")
    assert page.input_value("#share-from") == "0:03"
    assert page.input_value("#share-to") == "0:09"
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    assert errors == []
    context.close()


def test_without_javascript_the_form_downloads_the_voice_note(server, browser, tmp_path):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(f"{server.url}/episodes/{server.guid}")
    assert page.locator("#share-bar").is_hidden()
    page.click("#share-moment summary")
    page.fill("#share-moment input[name=from]", "0:10")
    page.fill("#share-moment input[name=to]", "0:20")
    shot(page, "phone-share-3-no-javascript")
    with page.expect_download() as download:
        page.click("#share-moment button")
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with av.open(str(saved)) as f:
        assert f.streams.audio[0].codec_context.name == "opus"
        assert abs(f.duration / 1e6 - 10.0) < 0.1
    context.close()
