"""The AAC data saver (#14) as listeners get it: served like the other renditions (ranges,
``audio/mp4``) and played by a real browser, Debian's Chromium through Playwright."""

from __future__ import annotations

from pathlib import Path

import pytest

from radio import create_app
from tests.conftest import clip, require, settings
from tests.webserver import add_episode, live_server

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    # play() from a script with no click, as a listener's tap would allow
    "--autoplay-policy=no-user-gesture-required",
]
AAC_TYPE = 'audio/mp4; codecs="mp4a.40.2"'  # AAC-LC in MP4, as the feeds describe it


@pytest.fixture
def episode(app):  # noqa: ANN001, ANN201
    return add_episode(app, clip("jfk.flac"), title="Ask not", show="Morning Talk")


def m4a_path(app, episode) -> Path:  # noqa: ANN001
    return Path(app.config["HOME"]) / "media" / "episodes" / episode["guid"] / "audio.m4a"


def test_the_m4a_is_served_whole_and_in_ranges(app, client, episode):
    data = m4a_path(app, episode).read_bytes()
    url = f"/media/{episode['guid']}/audio.m4a"
    whole = client.get(url)
    assert whole.status_code == 200 and whole.data == data
    assert whole.headers["Content-Type"] == "audio/mp4"
    assert whole.headers["Accept-Ranges"] == "bytes" and "ETag" in whole.headers
    assert data[4:8] == b"ftyp" and b"moov" in data[:4096]  # fast start: index first
    part = client.get(url, headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.data == data[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(data)}"
    assert part.headers["Content-Type"] == "audio/mp4"
    head = client.head(url)
    assert head.status_code == 200 and int(head.headers["Content-Length"]) == len(data)
    assert client.get(f"/media/{episode['guid']}/audio.aac").status_code == 404


def test_a_private_episode_keeps_its_m4a_from_listeners(app, client, home):
    private = add_episode(app, clip("LJ001-0002.wav"), title="Draft", visibility="private")
    assert m4a_path(app, private).is_file()
    assert client.get(f"/media/{private['guid']}/audio.m4a").status_code == 404


@pytest.mark.slow
def test_chromium_plays_the_aac_rendition(tmp_path):
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    app = create_app(settings(tmp_path / "home"))
    episode = add_episode(app, clip("jfk.flac"), title="Ask not", show="Morning Talk")
    with live_server(app) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page()
            media: list[tuple[str | None, int]] = []
            page.on(
                "response",
                lambda r: (
                    media.append((r.request.headers.get("range"), r.status))
                    if r.url.endswith("/audio.m4a")
                    else None
                ),
            )
            page.goto(f"{live.url}/episodes/{episode['guid']}")
            assert page.evaluate(f"document.createElement('audio').canPlayType('{AAC_TYPE}')") in (
                "probably",
                "maybe",
            ), "this Chromium has no AAC decoder (a build without proprietary codecs)"
            page.evaluate(
                """url => {
                    const a = document.createElement('audio');
                    a.id = 'aac';
                    a.src = url;
                    document.body.append(a);
                    window.aacPlay = a.play().then(() => 'playing', e => String(e));
                }""",
                f"/media/{episode['guid']}/audio.m4a",
            )
            assert page.evaluate("window.aacPlay") == "playing"
            page.wait_for_function(
                "() => document.getElementById('aac').currentTime > 1.0", timeout=20_000
            )
            state = page.evaluate(
                """() => { const a = document.getElementById('aac');
                    return {error: a.error && a.error.message, duration: a.duration,
                            paused: a.paused}; }"""
            )
        finally:
            browser.close()
    assert state["error"] is None and not state["paused"]
    assert state["duration"] == pytest.approx(11.0, abs=0.1)
    assert media and all(status in (200, 206) for _, status in media)
    assert any(rng and status == 206 for rng, status in media), media  # it asked in ranges
