"""The edit page in a real browser (Debian's Chromium through Playwright) at a phone's and a
desktop's width (#15): an editor changes show, title, recorded date and language, renames,
adds, removes and moves chapters, and the episode page, the chapters file and the feed say
so. Screenshots of the edit page go to test-output/browser/."""

from __future__ import annotations

import pytest
from lxml import etree

from feeds.podlove import PSC_NS
from radio import create_app
from radio.db import connect, database_path
from tests.audiofiles import convert
from tests.browser import launched_browser
from tests.conftest import clip, require, settings
from tests.test_web_browser import ARGS, CHROMIUM, SHOTS, VIEWPORTS
from tests.webserver import add_account, add_episode, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("edit-browser") / "home"
    app = create_app(settings(home, SECRET_KEY="e"))
    add_account(app, "amina", "editor", "correct horse")
    with live_server(app) as live:
        live.app = app
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


def chapters_of(server, guid: str) -> list[tuple[float, str]]:  # noqa: ANN001
    import json

    status, _, body = server.request("GET", f"/feeds/chapters/{guid}.json")
    assert status == 200
    return [(c["startTime"], c["title"]) for c in json.loads(body)["chapters"]]


def feed_chapters(server, guid: str) -> list[tuple[str, str]]:  # noqa: ANN001
    status, _, body = server.request("GET", "/feeds/all.xml")
    assert status == 200
    rss = etree.fromstring(body)
    (item,) = [i for i in rss.xpath("//item") if guid in i.findtext("guid")]
    marks = item.xpath("psc:chapters/psc:chapter", namespaces={"psc": PSC_NS})
    return [(m.get("start"), m.get("title")) for m in marks]


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_an_editor_edits_everything_and_listeners_see_it(server, browser, device, tmp_path):
    app = server.app
    # the phone's is the same speech as an MP3: the same bytes would be the same episode
    recording = (
        clip("jfk.flac") if device == "desktop" else convert(clip("jfk.flac"), tmp_path / "jfk.mp3")
    )
    ep = add_episode(app, recording, title=f"Ask not ({device})", show="Morning Talk")
    add_episode(app, clip("LJ001-0001.wav"), title=f"Printing ({device})", show="Evening News")
    guid = ep["guid"]
    base = server.url
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/episodes/{guid}/edit")
    assert "/login" in page.url
    page.fill("input[name=name]", "amina")
    page.fill("input[name=password]", "correct horse")
    page.click("form.stack button")
    page.wait_for_url(f"{base}/episodes/{guid}/edit")

    # the details, by their labels
    page.get_by_label("Pick a show").select_option(label="Evening News")
    page.locator("#details").get_by_label("Title", exact=True).fill(f"Ask not, 1961 ({device})")
    page.get_by_label("Recorded on").fill("1961-01-20")
    page.get_by_label("Language spoken").select_option("fr")
    with page.expect_navigation():
        page.get_by_role("button", name="Save details").click()
    assert "Saved" in page.inner_text("main")

    # chapters: three added one at a time, one with the player's current time (edit.js)
    page.get_by_label("New chapter Starts at").fill("0:00")
    page.get_by_label("New chapter Title").fill("Opening")
    page.get_by_role("button", name="Add chapter").click()
    page.wait_for_selector("input[name=start-0]")
    page.locator("input[name=new-start]").fill("0:03")
    page.locator("input[name=new-title]").fill("Ask not")
    page.locator("input[name=new-title]").press("Enter")  # Enter saves, with the new row
    page.wait_for_selector("input[name=start-1]")
    page.eval_on_selector("#edit-player", "a => { a.muted = true; return a.play(); }")
    page.wait_for_function("() => document.getElementById('edit-player').currentTime > 0.5")
    page.eval_on_selector("#edit-player", "a => { a.pause(); a.currentTime = 7.2; }")
    page.wait_for_function(
        "Math.abs(document.getElementById('edit-player').currentTime - 7.2) < .1"
    )
    page.get_by_role("button", name="Use the player's current time for the new chapter").click()
    assert page.input_value("input[name=new-start]") == "0:07"
    page.locator("input[name=new-title]").fill("Ask what")
    page.get_by_role("button", name="Add chapter").click()
    page.wait_for_selector("input[name=start-2]")
    # rename one, move another, then remove the first
    page.fill("input[name=title-1]", "Ask not what your country")
    page.fill("input[name=start-2]", "0:08")
    with page.expect_navigation():
        page.get_by_role("button", name="Save chapters", exact=True).click()
    assert page.input_value("input[name=title-1]") == "Ask not what your country"
    shot_width = "1280" if device == "desktop" else "360"
    page.screenshot(path=str(SHOTS / f"edit-{shot_width}.png"), full_page=True)
    with page.expect_navigation():
        page.get_by_role("button", name="Remove chapter 1: Opening").click()
    assert page.locator("input[name=start-2]").count() == 0, page.inner_text("main")[:600]
    assert page.input_value("input[name=title-0]") == "Ask not what your country"
    # nothing wider than the phone
    assert (
        page.evaluate("document.documentElement.scrollWidth")
        <= VIEWPORTS[device]["viewport"]["width"]
    )

    # the episode page, the chapters file and the feed all say it
    page.goto(f"{base}/episodes/{guid}")
    assert page.inner_text("h1") == f"Ask not, 1961 ({device})"
    meta = page.inner_text(".meta")
    assert "Evening News" in meta and "French" in meta and "1961" in meta
    chapters = page.inner_text("ol.chapters")
    assert "Ask not what your country" in chapters and "Opening" not in chapters
    assert chapters_of(server, guid) == [(3, "Ask not what your country"), (8, "Ask what")]
    assert feed_chapters(server, guid) == [
        ("00:00:03.000", "Ask not what your country"),
        ("00:00:08.000", "Ask what"),
    ]
    db = connect(database_path(app))
    try:
        fields = {r["field"] for r in db["episode_edits"].rows_where("episode_id = ?", [ep["id"]])}
    finally:
        db.conn.close()
    assert {"show", "title", "recorded date", "language", "chapters"} <= fields
    assert errors == []
    context.close()
