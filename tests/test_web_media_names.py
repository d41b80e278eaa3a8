"""Downloads with names that say what they are (#15): ``morning-talk-2026-11-02-...mp3``.

The names themselves (odd titles: accents, emoji, other scripts, very long, empty); both
URL forms, the meaningful name and the fixed ``audio.mp3`` of before (and a name made from
an old title), answered alike through the real server, by the WSGI fast path for listeners
and by Flask's view for a request with a session, with ranges, HEAD, 304 and one ETag;
``?download=1`` saving under the name while players still play inline; private episodes
404 under any name; feeds and the episode page handing out the new names.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import etree, html

from radio import create_app
from radio.db import connect, database_path
from radio.web.http.mediacache import PublicMedia
from radio.web.http.mediafiles import (
    MAX_NAME,
    MAX_STEM,
    MediaFile,
    download_stem,
    file_name,
    media_file,
)
from tests.conftest import clip, require, settings
from tests.webserver import add_episode, live_server

NS = {"podcast": "https://podcastindex.org/namespace/1.0"}
TITLE = "Água & Café: été 🎙️"
STEM = "morning-talk-2026-11-02-agua-and-cafe-ete"
CHROMIUM = Path("/usr/bin/chromium")


# --- the names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("show", "day", "title", "stem"),
    [
        ("morning-talk", "2026-11-02", "Water committee",
         "morning-talk-2026-11-02-water-committee"),
        ("morning-talk", "2026-11-02T09:30", TITLE, STEM),  # a recording time: its day
        ("voces", "2026-01-05", "Niño, señor, Łódź, Straße, Ærø",
         "voces-2026-01-05-nino-senor-lodz-strasse-aero"),
        ("voces", "2026-01-05", "🎙️🔥", "voces-2026-01-05"),  # no word: show and day say it
        (None, "2026-01-05", "", "2026-01-05"),
        (None, None, "", "episode"),
        (None, None, "中文 مرحبا", "episode"),  # no ASCII spelling without a dictionary
        ("morning-talk", "2026-11-02", "Morning Talk: the budget",
         "morning-talk-2026-11-02-the-budget"),
        ("morning-talk", "2026-11-02", "News 2026-11-02", "morning-talk-2026-11-02-news"),
        ("morning-talk", "not a date", "Water", "morning-talk-water"),
    ],
)  # fmt: skip
def test_a_stem_is_show_day_and_title_in_plain_ascii(show, day, title, stem):
    assert download_stem(show, day, title) == stem


def test_a_very_long_title_is_cut_between_words_and_the_name_stays_short():
    title = "The council's long meeting about water, roads, schools and the market " * 5
    show = "a-show-whose-name-goes-on-much-longer-than-anyone-would-type"
    stem = download_stem(show, "2026-11-02", title)
    assert len(stem) <= MAX_STEM and len(file_name(stem, MediaFile.OPUS)) <= MAX_NAME
    assert stem.startswith("a-show-whose-name-goes-on-much-2026-11-02-the-council")
    words = set(re.split(r"[^a-z]+", title.lower().replace("'", "")))
    assert stem.rsplit("-", 1)[1] in words  # whole words: nothing cut in the middle
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", stem)
    assert download_stem(show, "2026-11-02", title) == stem  # the same facts, the same name


def test_every_name_the_archive_makes_is_one_it_serves():
    for title in ("", "x", TITLE, "é" * 300, "a-" * 200, "--", "Ünïcödé " * 30):
        stem = download_stem("morning-talk", "2026-11-02", title)
        for file in (MediaFile.MP3, MediaFile.OPUS, MediaFile.AAC):
            name = file_name(stem, file)
            assert name.isascii() and name == name.lower() and len(name) <= MAX_NAME
            assert media_file(name) == file


@pytest.mark.parametrize(
    ("name", "file"),
    [
        ("audio.mp3", MediaFile.MP3),  # the fixed names of before are stems too
        ("audio.opus", MediaFile.OPUS),
        ("audio.m4a", MediaFile.AAC),
        ("peaks.json", MediaFile.PEAKS),
        ("original", MediaFile.ORIGINAL),
        (f"{STEM}.m4a", MediaFile.AAC),
        ("x.mp3", MediaFile.MP3),
        ("Water.mp3", None),  # the archive never makes capitals
        ("-x.mp3", None),
        (".mp3", None),
        ("x.aac", None),
        ("x.json", None),
        ("audio", None),
        ("a" * (MAX_STEM + 1) + ".mp3", None),
        ("../audio.mp3", None),
        ("x.mp3.mp3", None),
    ],
)
def test_which_names_name_a_file(name, file):
    assert media_file(name) == file


# --- serving -----------------------------------------------------------------------------


@pytest.fixture
def episode(app):
    return add_episode(
        app, clip("jfk.flac"), title=TITLE, show="Morning Talk", recorded_at="2026-11-02"
    )


def on_disk(app, episode, name: str) -> bytes:
    return (Path(app.config["HOME"]) / "media" / "episodes" / episode["guid"] / name).read_bytes()


def fast_path_files(app) -> set[str]:
    """What the media layer in front of Flask keeps open: it answered those requests."""
    layer = app.wsgi_app
    while not isinstance(layer, PublicMedia):
        layer = layer.wsgi_app  # SecurityHeaders, outermost, wraps it
    return set(layer._files)


COMPARED = ("etag", "last-modified", "content-type", "content-length", "content-range",
            "accept-ranges", "cache-control", "content-disposition")  # fmt: skip


def test_every_name_of_a_file_answers_alike_on_both_paths(app, episode):
    """The new name, the fixed one and a stale one (an old title's): one file, one ETag,
    with the same answers from the fast path (no cookie) and Flask's view (a session)."""
    guid = episode["guid"]
    data = on_disk(app, episode, "audio.mp3")
    names = (f"{STEM}.mp3", "audio.mp3", "morning-talk-2026-11-02-an-old-title.mp3")
    flask_path = {"Cookie": "session=nobody"}  # any session goes past the fast path
    with live_server(app) as server:
        etags = set()
        for name in names:
            url = f"/media/{guid}/{name}"
            answers = {}
            for path, extra in (("fast", {}), ("flask", flask_path)):
                whole = server.request("GET", url, extra)
                assert whole[0] == 200 and whole[2] == data, (name, path)
                etag = whole[1]["etag"]
                etags.add(etag)
                part = server.request("GET", url, {"Range": "bytes=1000-1999", **extra})
                assert part[0] == 206 and part[2] == data[1000:2000]
                assert part[1]["content-range"] == f"bytes 1000-1999/{len(data)}"
                tail = server.request("GET", url, {"Range": "bytes=-128", **extra})
                assert tail[0] == 206 and tail[2] == data[-128:]
                head = server.request("HEAD", url, extra)
                assert head[0] == 200 and head[2] == b""
                assert int(head[1]["content-length"]) == len(data)
                same = server.request("GET", url, {"If-None-Match": etag, **extra})
                assert same[0] == 304 and same[2] == b""
                saved = server.request("GET", url + "?download=1", {"Range": "bytes=0-9", **extra})
                assert saved[0] == 206 and saved[2] == data[:10]
                answers[path] = [
                    (
                        r[0],
                        {k: r[1].get(k) for k in COMPARED if r[0] != 304 or k != "last-modified"},
                    )
                    for r in (whole, part, tail, head, same, saved)
                ]  # (werkzeug drops Last-Modified from a 304 with an ETag, as RFC 9110 advises)
                assert "content-disposition" not in whole[1]  # inline unless asked
                assert saved[1]["content-disposition"] == (
                    f"attachment; filename=\"{name}\"; filename*=UTF-8''{name}"
                )
            assert answers["fast"] == answers["flask"], name
        assert len(etags) == 1  # every name is the same file to a cache
        # the fast path answered the listener's requests, and kept one open file for all
        # the names (an arbitrary stem can't fill its cache with copies)
        assert fast_path_files(app) == {f"{guid}/audio.mp3"}
        for kind, ext in (("opus", "opus"), ("aac", "m4a")):
            stored = on_disk(app, episode, f"audio.{ext}")
            for name in (f"{STEM}.{ext}", f"audio.{ext}"):
                got = server.request("GET", f"/media/{guid}/{name}", {"Range": "bytes=0-99"})
                assert got[0] == 206 and got[2] == stored[:100], (kind, name)
        for name in ("Audio.mp3", f"{STEM}.aac", f"{STEM}.json", "x.mp3.mp3", STEM):
            assert server.request("GET", f"/media/{guid}/{name}")[0] == 404, name


def test_a_private_episode_is_404_to_listeners_under_every_name(app):
    private = add_episode(app, clip("LJ001-0002.wav"), title="Budget draft", visibility="private")
    guid = private["guid"]
    assert on_disk(app, private, "audio.mp3")  # it is there, only not for listeners
    stem = download_stem(None, private["recorded_at"], "Budget draft")
    names = [file_name(stem, f) for f in (MediaFile.MP3, MediaFile.OPUS, MediaFile.AAC)]
    names += ["audio.mp3", "audio.opus", "audio.m4a", "peaks.json", "original", "x.mp3"]
    with live_server(app) as server:
        for name in names:
            for query in ("", "?download=1"):
                for extra in ({}, {"Cookie": "session=nobody"}, {"Range": "bytes=0-9"}):
                    status, headers, _ = server.request(
                        "GET", f"/media/{guid}/{name}{query}", extra
                    )
                    assert status == 404, (name, query, extra)
                    assert "content-disposition" not in headers
                assert server.request("HEAD", f"/media/{guid}/{name}")[0] == 404


def test_an_original_downloads_under_the_name_it_came_with(app, client, auth, copy_clip):
    """The original keeps its uploaded name; ``filename*`` carries its accents."""
    original = add_episode(app, copy_clip("LJ001-0002.wav", "Émission d'été.wav"), title="Été")
    auth.login()
    r = client.get(f"/media/{original['guid']}/original?download=1")
    assert r.status_code == 200
    assert r.headers["Content-Disposition"] == (
        'attachment; filename="Emission d\'ete.wav"; '
        "filename*=UTF-8''%C3%89mission%20d%27%C3%A9t%C3%A9.wav"
    )
    assert unquote(r.headers["Content-Disposition"].split("''", 1)[1]) == "Émission d'été.wav"


# --- where the names are handed out -------------------------------------------------------


def enclosures(xml: bytes, guid: str) -> tuple[str, list[str]]:
    item = etree.fromstring(xml).xpath(f"/rss/channel/item[guid='{guid}']")[0]
    alternates = item.xpath("podcast:alternateEnclosure/podcast:source/@uri", namespaces=NS)
    return item.find("enclosure").get("url"), alternates


def test_feeds_enclose_the_named_files_and_old_feeds_still_download(app, episode):
    guid = episode["guid"]
    with live_server(app) as server:
        base = f"{server.url}/media/{guid}/"
        status, _, xml = server.request("GET", "/feeds/all.xml")
        assert status == 200
        main, alternates = enclosures(xml, guid)
        assert main == f"{base}{STEM}.mp3"
        assert sorted(alternates) == [f"{base}{STEM}.m4a", f"{base}{STEM}.opus"]
        saver_main, saver_alternates = enclosures(
            server.request("GET", "/feeds/saver/all.xml")[2], guid
        )
        assert saver_main == f"{base}{STEM}.m4a"
        assert sorted(saver_alternates) == [f"{base}{STEM}.mp3", f"{base}{STEM}.opus"]
        show_main, _ = enclosures(server.request("GET", "/feeds/shows/morning-talk.xml")[2], guid)
        assert show_main == main
        for url, ext in ((main, "mp3"), (saver_main, "m4a")):
            got = server.request("GET", url.removeprefix(server.url))
            assert got[0] == 200 and got[2] == on_disk(app, episode, f"audio.{ext}")

        # An editor renames the episode: the feed names it anew; an app that read the
        # feed before still downloads the file under the name it was given.
        db = connect(database_path(app))
        db["episodes"].update(episode["id"], {"title": "Water committee, part 2"})
        db.conn.close()
        renamed, _ = enclosures(server.request("GET", "/feeds/all.xml")[2], guid)
        assert renamed == f"{base}morning-talk-2026-11-02-water-committee-part-2.mp3"
        before = server.request("GET", main.removeprefix(server.url), {"Range": "bytes=0-99"})
        after = server.request("GET", renamed.removeprefix(server.url), {"Range": "bytes=0-99"})
        assert before[0] == after[0] == 206 and before[2] == after[2]
        assert before[1]["etag"] == after[1]["etag"]


def test_the_episode_page_plays_and_downloads_the_named_files(app, client, episode):
    guid = episode["guid"]
    doc = html.fromstring(client.get(f"/episodes/{guid}").data)
    sources = doc.xpath("//audio[@id='player']//source/@src")
    assert sources == [f"/media/{guid}/{STEM}.opus", f"/media/{guid}/{STEM}.mp3"]
    links = doc.xpath("//details[@class='downloads']//a[contains(@href, '/media/')]")
    assert [(a.get("href"), a.get("download")) for a in links] == [
        (f"/media/{guid}/{STEM}.mp3?download=1", f"{STEM}.mp3"),
        (f"/media/{guid}/{STEM}.opus?download=1", f"{STEM}.opus"),
    ]
    # "Save for offline" keeps the file the player plays: the worker answers by URL
    saves = doc.xpath("//form[@id='save-offline']//input[@name='quality']/@data-url")
    assert saves == [f"/media/{guid}/{STEM}.m4a", f"/media/{guid}/{STEM}.mp3"]
    for href in (*sources, *saves, links[0].get("href")):
        assert client.get(href, headers={"Range": "bytes=0-9"}).status_code == 206


@pytest.mark.slow
def test_chromium_plays_a_download_link_inline_and_saves_it_under_its_name(tmp_path):
    """Content-Disposition: attachment is for saving; an <audio> element still plays the
    same URL, and a click on the page's download link saves the named file."""
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from tests.test_web_media_aac import ARGS

    app = create_app(settings(tmp_path / "home"))
    episode = add_episode(
        app, clip("jfk.flac"), title=TITLE, show="Morning Talk", recorded_at="2026-11-02"
    )
    guid = episode["guid"]
    with live_server(app) as live, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(accept_downloads=True)
            page.goto(f"{live.url}/episodes/{guid}")
            page.evaluate(
                """url => {
                    const a = document.createElement('audio');
                    a.id = 'inline';
                    a.src = url;
                    document.body.append(a);
                    window.played = a.play().then(() => 'playing', e => String(e));
                }""",
                f"/media/{guid}/{STEM}.mp3?download=1",
            )
            assert page.evaluate("window.played") == "playing"
            page.wait_for_function(
                "() => document.getElementById('inline').currentTime > 1.0", timeout=20_000
            )
            page.click("details.downloads summary")
            with page.expect_download() as saving:
                page.click(f"a[download='{STEM}.mp3']")
            download = saving.value
            assert download.suggested_filename == f"{STEM}.mp3"
            saved = tmp_path / "saved.mp3"
            download.save_as(saved)
            assert saved.read_bytes() == on_disk(app, episode, "audio.mp3")
        finally:
            browser.close()
