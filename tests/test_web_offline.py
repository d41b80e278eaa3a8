"""The archive as an installable web app that plays saved episodes with no connection (#14).

Real Chromium (Debian's, through Playwright) at a phone's 360 px, a real service worker and
Cache Storage, a real recording processed and transcribed by the real pipeline, then the
network cut with ``context.set_offline(True)``. Screenshots go to test-output/browser/.
"""

from __future__ import annotations

import json
import re
import runpy
import struct
from pathlib import Path

import pytest

from radio import create_app
from radio.data.renditions import renditions
from radio.db import connect, database_path
from radio.web.http.mediafiles import MEDIA_FILE_OF_KIND, MediaFile
from radio.web.templating import size
from tests.archive import Seeder
from tests.browser import launched_browser
from tests.conftest import clip, require, settings
from tests.test_web_browser import ARGS, CHROMIUM, shot
from tests.webserver import live_server

pytestmark = pytest.mark.slow

PHONE = {
    "viewport": {"width": 360, "height": 740},
    "is_mobile": True,
    "has_touch": True,
    "service_workers": "allow",
}
ICONS = Path(__file__).resolve().parent.parent / "static"
CONTROLLED = "() => navigator.serviceWorker.controller !== null"
CACHED_URLS = """name => caches.open(name).then(c => c.keys())
  .then(keys => keys.map(k => new URL(k.url).pathname))"""


@pytest.fixture(scope="module")
def archive(tmp_path_factory):  # noqa: ANN201
    """A live archive with three episodes: one to save (real speech, transcribed), one a
    listener only opens, and one nobody opens."""
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("offline") / "home"
    app = create_app(settings(home, TRANSCRIBE=True, SECRET_KEY="o"))
    db = connect(database_path(app))
    try:
        seed = Seeder(app, db)
        saved = seed.recording(
            clip("basic-pbx-ivr-main.wav"), title="Calling the company", show="Phone-in"
        )
        opened = seed.episode("Water committee", [(0.0, 4.0, "The borehole was fixed.")])
        never = seed.episode("Market prices", [(0.0, 3.0, "Maize is dearer this week.")])
        files = {r["kind"]: r for r in renditions(db, saved.id)}
        segments = list(
            db.query(
                "select start, text from segments where episode_id = ? order by idx", [saved.id]
            )
        )
        guids = {
            "opened": db["episodes"].get(opened)["guid"],
            "never": db["episodes"].get(never)["guid"],
        }
    finally:
        db.conn.close()
    assert len(segments) >= 3, segments  # a later segment to seek to
    with live_server(app) as live:
        live.app, live.saved, live.files, live.segments = app, saved, files, segments
        live.guids = guids
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    # a listener's tap starts the player; a test has no tap to give
    yield from launched_browser([*ARGS, "--autoplay-policy=no-user-gesture-required"])


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def wait_until_kept(page, cache: str, path: str) -> None:  # noqa: ANN001
    for _ in range(300):
        if path in page.evaluate(CACHED_URLS, cache):
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"{path} never reached the {cache} cache")


def test_the_manifest_is_valid_and_its_icons_load(archive):
    status, headers, body = archive.request("GET", "/")
    html = body.decode()
    assert 'rel="manifest" href="/manifest.webmanifest"' in html
    theme = re.search(r'<meta name="theme-color" content="([^"]+)">', html).group(1)
    status, headers, body = archive.request("GET", "/manifest.webmanifest")
    assert status == 200 and headers["content-type"] == "application/manifest+json"
    manifest = json.loads(body)
    assert manifest["name"] == "Community Radio Archive"
    assert 0 < len(manifest["short_name"]) <= 12
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["theme_color"] == theme
    sizes = {}
    for icon in manifest["icons"]:
        status, headers, data = archive.request("GET", icon["src"])
        assert status == 200 and headers["content-type"] == "image/png", icon
        width, height = png_size(data)
        assert icon["sizes"] == f"{width}x{height}", icon
        sizes.setdefault(icon["purpose"], set()).add(width)
    assert sizes == {"any": {192, 512}, "maskable": {512}}
    # the committed icons are what the script draws (it is deterministic)
    draw = runpy.run_path(str(ICONS.parent / "scripts" / "make_icons.py"))["png"]
    assert (ICONS / "icon-192.png").read_bytes() == draw(192, False)
    # the worker: from the root (its scope is the whole archive), never from a stale cache
    status, headers, body = archive.request("GET", "/sw.js")
    assert status == 200 and "javascript" in headers["content-type"]
    assert headers["cache-control"] == "no-cache"
    assert body.startswith(b"const RADIO = {")


def test_without_javascript_there_is_no_save_button_and_the_page_works(archive, browser):
    context = browser.new_context(java_script_enabled=False, **PHONE)
    page = context.new_page()
    page.goto(f"{archive.url}/episodes/{archive.saved.guid}")
    assert page.locator("#save-offline").count() == 1
    assert not page.locator("#save-offline").is_visible()  # nothing that can't work
    assert page.locator("#player").is_visible()
    assert page.locator("#transcript p[id^='t=']").count() == len(archive.segments)
    page.goto(f"{archive.url}/saved")
    assert page.locator(".saved-nojs").is_visible()  # says what to use instead
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    context.close()


def test_a_saved_episode_plays_and_seeks_with_no_connection(archive, browser):
    base, guid = archive.url, archive.saved.guid
    context = browser.new_context(**PHONE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/")
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    page.wait_for_function(CONTROLLED)
    # the page that came before the worker is kept too, once the worker is there
    wait_until_kept(page, "radio-pages", "/")
    opened = f"{base}/episodes/{archive.guids['opened']}"
    page.goto(opened)  # opened once, never saved
    # the worker keeps its copy once the page has been answered, not before
    wait_until_kept(page, "radio-pages", page.evaluate("location.pathname"))

    page.goto(f"{base}/episodes/{guid}")
    form = page.locator("#save-offline")
    form.wait_for(state="visible")
    # the choice says what each costs before anything is fetched, from the renditions table
    by_file = {
        MEDIA_FILE_OF_KIND[k]: r for k, r in archive.files.items() if k in MEDIA_FILE_OF_KIND
    }
    saver = by_file.get("audio.m4a") or by_file[MediaFile.OPUS]  # AAC where it was made
    standard = by_file[MediaFile.MP3]
    choices = page.locator("#save-offline label")
    assert choices.count() == 2
    assert "Data saver" in choices.nth(0).inner_text()
    assert size(saver["bytes"]) in choices.nth(0).inner_text()
    assert size(standard["bytes"]) in choices.nth(1).inner_text()
    assert saver["bytes"] < standard["bytes"]
    shot(page, "phone-offline-0-save-choice")
    page.check("input[name=quality][value=saver]")
    page.click("#save-offline .save-choose button")
    page.locator(".save-done").wait_for(state="visible")
    assert "Data saver" in page.inner_text(".save-done")
    kept = page.evaluate(CACHED_URLS, "radio-saved")
    audio = page.get_attribute("input[name=quality][value=saver]", "data-url")
    for url in (
        audio,
        f"/episodes/{guid}",
        f"/episodes/{guid}/transcript.vtt",
        f"/media/{guid}/peaks.json",
    ):
        assert url in kept, (url, kept)
    standard_url = page.get_attribute("input[name=quality][value=standard]", "data-url")
    assert standard_url not in kept  # only the size the listener chose

    context.set_offline(True)
    # really cut: what the worker asks the network for fails too
    reached = page.evaluate("fetch('/health').then(() => 'reached', () => 'cut')")
    assert reached == "cut"

    answers: list[tuple[int, bool]] = []  # the audio's, as the player got them
    page.on(
        "response",
        lambda r: answers.append((r.status, r.from_service_worker)) if audio in r.url else None,
    )
    page.goto(f"{base}/episodes/{guid}")
    assert page.inner_text("h1") == "Calling the company"
    sources = page.eval_on_selector_all("#player source", "s => s.map(x => x.src)")
    assert [s.removeprefix(base) for s in sources] == [audio]  # the saved file, only
    page.evaluate("document.getElementById('player').play()")
    page.wait_for_function(
        "() => document.getElementById('player').currentTime > 1", timeout=20_000
    )
    # a tap on a later line of the transcript seeks there, from the cached file
    middle = len(archive.segments) // 2
    target = archive.segments[middle]["start"]
    assert target > 5, archive.segments
    link = page.locator("#transcript p[id^='t='] a").nth(middle)
    link.click()
    page.wait_for_function(
        "t => { const p = document.getElementById('player');"
        " return Math.abs(p.currentTime - t) < 1 && !p.paused; }",
        arg=target,
    )
    page.wait_for_function(
        "t => document.getElementById('player').currentTime > t + 0.5", arg=target
    )  # and plays on from there
    assert page.locator("#transcript p.now").count() == 1
    # every byte of audio came from the worker's cache, in the ranges the player asked for
    assert answers and all(worker for _status, worker in answers), answers
    assert 206 in {status for status, _worker in answers}, answers
    assert page.evaluate("document.scrollingElement.scrollWidth") <= 360
    stopped = page.evaluate(
        "(() => { const p = document.getElementById('player'); p.pause();"
        " return Math.floor(p.currentTime); })()"
    )
    shot(page, "phone-offline-1-episode")

    # where the listener stopped is remembered, offline too
    page.goto(f"{base}/episodes/{guid}")
    resume = page.locator(".resume a")
    assert resume.is_visible() and resume.get_attribute("href") == f"?t={stopped}#t={stopped}"

    page.goto(f"{base}/saved")
    items = page.locator("#saved ol li")
    items.first.wait_for()
    assert items.count() == 1
    item = items.first.inner_text()
    assert "Calling the company" in item and "Data saver" in item and "stopped at" in item
    # the total is written once the browser has said how much storage it grants
    page.wait_for_function("document.querySelector('.saved-total').textContent !== ''")
    total = page.inner_text(".saved-total")
    assert total.startswith("1 episode, ") and ("MB" in total or "KB" in total), total
    shot(page, "phone-offline-2-saved")
    page.click("#saved ol li a")  # opens the episode where it was left, offline too
    page.wait_for_url(re.compile(rf"/episodes/{guid}\?t={stopped}"))
    page.wait_for_function(
        "t => Math.abs(document.getElementById('player').currentTime - t) < 1", arg=stopped
    )

    page.goto(base + "/")  # the home page, as last seen
    assert page.locator(".episodes li", has_text="Calling the company").count() == 1
    page.goto(opened)  # opened before, not saved: kept anyway
    assert page.inner_text("h1") == "Water committee"
    page.goto(f"{base}/episodes/{archive.guids['never']}")  # never opened
    assert page.inner_text("h1") == "No connection"
    # the list of kept pages is read from the cache after the page has loaded
    page.locator("#kept-pages li", has_text="Water committee").wait_for()
    shot(page, "phone-offline-3-never-opened")

    page.goto(f"{base}/saved")
    page.locator("#saved ol li button").first.click()
    page.locator(".saved-empty").wait_for(state="visible")
    assert page.locator("#saved ol li").count() == 0
    assert audio not in page.evaluate(CACHED_URLS, "radio-saved")
    assert errors == []
    context.close()
