"""Data-saver twins of every feed, the feeds each page names, the subscribe pages (#14).

Recordings from tests/data are taken in and processed for real (MP3, Opus and, once the
audio step makes it, AAC); topics and chapters are written as the rows they are. Which
rendition a saver feed encloses is read from the renditions table, so these tests hold
the rule (AAC when the episode has it, else Opus) whichever kinds the pipeline makes.
Feed XML and pages are checked with XPath.
"""

from __future__ import annotations

import re

import pytest
import segno
from flask import Flask
from lxml import etree, html

from feeds.podcast import podcast_guid
from radio import create_app
from radio.data.tags import replace_computed
from radio.db import connect, database_path
from radio.web.http.mediafiles import MEDIA_FILE_OF_KIND
from radio.web.lan import lan_addresses
from tests.conftest import clip, require, settings
from tests.test_web_browser import ARGS, CHROMIUM, SHOTS, VIEWPORTS
from tests.webserver import add_episode, live_server, write_transcript
from transcription.segments import Chapter
from transcription.topics import TopicScore

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
WATER = TopicScore("water-and-sanitation", "Water and sanitation", 0.3, ("water",), (0.0,))
BASE = "http://localhost"
TWINS = {  # each feed and its data-saver twin
    "/feeds/all.xml": "/feeds/saver/all.xml",
    "/feeds/shows/morning-talk.xml": "/feeds/saver/shows/morning-talk.xml",
    "/feeds/topics/water-and-sanitation.xml": "/feeds/saver/topics/water-and-sanitation.xml",
    "/feeds/search.xml?q=ask": "/feeds/saver/search.xml?q=ask",
}
SMALL = ("aac", "opus")  # the saver kinds, best first
CODECS = {"mp3": "mp3", "aac": "mp4a.40.2", "opus": "opus"}
LABELS = {"mp3": "Standard (MP3", "aac": "Data saver (AAC", "opus": "Data saver (Opus"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """Three processed recordings in two shows, each transcribed (made-up words) with
    chapters, two about water."""
    home = tmp_path_factory.mktemp("saver") / "home"
    app = create_app(settings(home, STATION_NAME="Radio Ñ"))
    shows = ("Morning Talk", "Morning Talk", "Night Owls")
    clips = ("jfk.flac", "LJ001-0001.wav", "LJ001-0002.wav")
    db = connect(database_path(app))
    try:
        for n, (name, show) in enumerate(zip(clips, shows, strict=True)):
            episode = add_episode(app, clip(name), title=f"Ask not {n}", show=show)
            write_transcript(db, episode["id"], minutes=0.2, seed=n)
            replace_computed(
                db,
                episode["id"],
                topics=[WATER] if n < 2 else [],
                keyphrases=[],
                chapters=[Chapter(0.0, 4.0, "Opening"), Chapter(4.0, 8.0, "The question")],
                taxonomy_slugs={WATER.slug},
            )
    finally:
        db.conn.close()
    return app


def files_of(app: Flask) -> dict[str, dict[str, dict]]:
    """Each episode's renditions by guid and kind: the rows the feeds are made from."""
    db = connect(database_path(app))
    try:
        rows = db.query(
            "select e.guid, r.kind, r.bytes, r.mime, r.bitrate, r.path from renditions r "
            "join episodes e on e.id = r.episode_id"
        )
        found: dict[str, dict[str, dict]] = {}
        for row in rows:
            found.setdefault(row["guid"], {})[row["kind"]] = row
        return found
    finally:
        db.conn.close()


def expected_saver(kinds) -> str:  # noqa: ANN001
    """The rule: AAC if the episode has one (and the archive serves it), else Opus."""
    return next(k for k in SMALL if k in kinds and k in MEDIA_FILE_OF_KIND)


def rss(app: Flask, url: str) -> etree._Element:
    response = app.test_client().get(url)
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "application/rss+xml"
    return etree.fromstring(response.data)


def one(node, path: str):  # noqa: ANN001, ANN201
    found = node.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {found!r}"
    return found[0]


def alternates(item) -> dict[str, etree._Element]:  # noqa: ANN001
    """An item's alternate enclosures by the rendition kind their URL names."""
    return {
        kind_of(one(alt, "podcast:source/@uri")): alt
        for alt in item.xpath("podcast:alternateEnclosure", namespaces=NS)
    }


def kind_of(url: str) -> str:
    """The rendition kind a media URL names by its file type (the stem is the episode's
    meaningful name, #15)."""
    suffixes = {name.value.rsplit(".", 1)[1]: kind for kind, name in MEDIA_FILE_OF_KIND.items()}
    return suffixes[url.rsplit(".", 1)[1]]


def test_every_feed_has_a_twin_enclosing_each_episodes_small_rendition(archive):
    files = files_of(archive)
    for standard_url, saver_url in TWINS.items():
        standard, saver = rss(archive, standard_url), rss(archive, saver_url)
        guids = standard.xpath("//item/guid/text()")
        assert guids and saver.xpath("//item/guid/text()") == guids  # the same episodes
        for item in saver.xpath("//item"):
            kinds = files[item.findtext("guid")]
            small = expected_saver(kinds)
            enclosure = item.find("enclosure")
            assert kind_of(enclosure.get("url")) == small
            assert int(enclosure.get("length")) == kinds[small]["bytes"]
            assert enclosure.get("type") == kinds[small]["mime"]
            others = alternates(item)
            served = {k for k in kinds if k in MEDIA_FILE_OF_KIND}
            assert set(others) == served - {small}  # the MP3 and any other small one
            assert others["mp3"].get("title") == "Standard (MP3, 48 kbps)"
        for item in standard.xpath("//item"):
            kinds = files[item.findtext("guid")]
            assert kind_of(item.find("enclosure").get("url")) == "mp3"
            others = alternates(item)
            assert set(others) == {k for k in kinds if k in SMALL and k in MEDIA_FILE_OF_KIND}
            assert "opus" in others


def test_alternates_say_size_bitrate_codecs_and_a_title_and_none_is_default(archive):
    files = files_of(archive)
    for url in ("/feeds/all.xml", "/feeds/saver/all.xml"):
        for item in rss(archive, url).xpath("//item"):
            kinds = files[item.findtext("guid")]
            for kind, alt in alternates(item).items():
                row = kinds[kind]
                assert int(alt.get("length")) == row["bytes"]
                assert alt.get("type") == row["mime"]
                assert int(alt.get("bitrate")) == row["bitrate"]
                assert alt.get("codecs") == CODECS[kind]
                assert alt.get("default") is None
                assert alt.get("title") == f"{LABELS[kind]}, {row['bitrate'] // 1000} kbps)"
                source = one(alt, "podcast:source")
                assert source.get("contentType") == f'{row["mime"]}; codecs="{CODECS[kind]}"'


def test_twins_have_their_own_podcast_guid_and_titles_and_link_each_other(archive):
    for standard_url, saver_url in TWINS.items():
        standard, saver = rss(archive, standard_url), rss(archive, saver_url)
        s_guid = one(standard, "/rss/channel/podcast:guid/text()")
        d_guid = one(saver, "/rss/channel/podcast:guid/text()")
        assert s_guid == podcast_guid(BASE + standard_url)
        assert d_guid == podcast_guid(BASE + saver_url) != s_guid
        s_title = one(standard, "/rss/channel/title/text()")
        d_title = one(saver, "/rss/channel/title/text()")
        assert d_title == f"{s_title} (data saver)"
        twin = one(standard, "/rss/channel/atom:link[@rel='alternate']")
        assert (twin.get("href"), twin.get("title")) == (BASE + saver_url, d_title)
        assert twin.get("type") == "application/rss+xml"
        back = one(saver, "/rss/channel/atom:link[@rel='alternate']")
        assert (back.get("href"), back.get("title")) == (BASE + standard_url, s_title)
        assert one(saver, "/rss/channel/atom:link[@rel='self']/@href") == BASE + saver_url
        # the same web page, which is where a listener goes from either
        assert one(saver, "/rss/channel/link/text()") == one(standard, "/rss/channel/link/text()")
        assert "Data saver" in one(saver, "/rss/channel/description/text()")


def test_saver_feeds_are_cached_apart_with_their_own_etag_and_paging(archive):
    client = archive.test_client()
    standard, saver = client.get("/feeds/all.xml"), client.get("/feeds/saver/all.xml")
    assert standard.headers["ETag"] != saver.headers["ETag"]
    again = client.get("/feeds/saver/all.xml", headers={"If-None-Match": saver.headers["ETag"]})
    assert again.status_code == 304
    archive.config["FEED_LIMIT"] = 2  # a new cache key: three episodes on two pages
    try:
        first = rss(archive, "/feeds/saver/all.xml")
        assert one(first, "//atom:link[@rel='next']/@href") == f"{BASE}/feeds/saver/all.xml?page=2"
        last = rss(archive, "/feeds/saver/all.xml?page=2")
        assert one(last, "//atom:link[@rel='first']/@href") == f"{BASE}/feeds/saver/all.xml"
        assert len(last.xpath("//item")) == 1
        # the twin link names the other feed's first page, the feed's guid its own
        assert one(last, "//atom:link[@rel='alternate']/@href") == f"{BASE}/feeds/all.xml"
        guid = podcast_guid(f"{BASE}/feeds/saver/all.xml")
        assert one(last, "//podcast:guid/text()") == guid
    finally:
        archive.config.pop("FEED_LIMIT")


def test_an_episode_without_aac_is_enclosed_as_opus(archive):
    """Older episodes have no AAC copy: their saver enclosure is the Opus one."""
    db = connect(database_path(archive))
    try:
        guid = db.execute("select guid from episodes order by id limit 1").fetchone()[0]
        episode_id = db.execute("select id from episodes where guid = ?", [guid]).fetchone()[0]
        kept = list(db["renditions"].rows_where("episode_id = ? and kind = 'aac'", [episode_id]))
        db["renditions"].delete_where("episode_id = ? and kind = 'aac'", [episode_id])
        db.conn.commit()
        try:
            feed = rss(archive, "/feeds/saver/all.xml")
            item = one(feed, f"//item[guid='{guid}']")
            assert kind_of(item.find("enclosure").get("url")) == "opus"
            assert set(alternates(item)) == {"mp3"}
        finally:
            if kept:
                db["renditions"].insert_all(kept)
                db.conn.commit()
    finally:
        db.conn.close()


def test_a_missing_saver_feed_is_the_same_404_and_a_search_needs_words(archive):
    client = archive.test_client()
    for url in ("/feeds/saver/shows/nope.xml", "/feeds/saver/topics/nope.xml"):
        assert client.get(url).status_code == 404
    assert client.get("/feeds/saver/all.xml?page=9").status_code == 404
    empty = client.get("/feeds/saver/search.xml?q=")
    assert empty.status_code == 400 and b"/feeds/saver/search.xml?q=water" in empty.data


def page_links(app: Flask, url: str) -> list[tuple[str, str]]:
    response = app.test_client().get(url)
    assert response.status_code == 200, url
    doc = html.fromstring(response.data)
    found = doc.xpath("/html/head/link[@rel='alternate'][@type='application/rss+xml']")
    return [(link.get("title"), link.get("href")) for link in found]


def test_every_page_names_the_feeds_it_is_about_and_each_is_that_feed(archive):
    guid = rss(archive, "/feeds/shows/morning-talk.xml").findtext("channel/item/guid")
    show = ["/feeds/shows/morning-talk.xml", "/feeds/saver/shows/morning-talk.xml"]
    everything = ["/feeds/all.xml", "/feeds/saver/all.xml"]
    expected = {
        "/": everything,
        "/shows/morning-talk": show,
        "/topics/water-and-sanitation": [
            "/feeds/topics/water-and-sanitation.xml",
            "/feeds/saver/topics/water-and-sanitation.xml",
        ],
        "/search?q=ask": ["/feeds/search.xml?q=ask", "/feeds/saver/search.xml?q=ask"],
        f"/episodes/{guid}": show + everything,
        "/topics": everything,  # a page about nothing in particular: the whole archive
        "/subscribe": everything,
        "/subscribe/shows/morning-talk": show,
    }
    for page, feeds in expected.items():
        links = page_links(archive, page)
        assert [href for _, href in links] == feeds, page
        for title, href in links:  # each is the feed, named as the feed names itself
            assert one(rss(archive, href), "/rss/channel/title/text()") == title


def test_the_footer_of_every_page_links_the_subscribe_page_and_the_opml(archive):
    for page in ("/", "/topics", "/search", "/shows/morning-talk"):
        doc = html.fromstring(archive.test_client().get(page).data)
        links = doc.xpath("//footer//a/@href")
        assert links[:2] == ["/subscribe", "/feeds.opml"], page  # then the language switcher
    show = html.fromstring(archive.test_client().get("/shows/morning-talk").data)
    assert show.xpath("//a[@class='subscribe']/@href") == ["/subscribe/shows/morning-talk"]
    topic = html.fromstring(archive.test_client().get("/topics/water-and-sanitation").data)
    subscribe = "/subscribe/topics/water-and-sanitation"
    assert topic.xpath("//a[@class='subscribe']/@href") == [subscribe]
    found = html.fromstring(archive.test_client().get("/search?q=ask").data)
    assert found.xpath("//a[@class='subscribe']/@href") == ["/subscribe/search?q=ask"]


def qr_modules(svg: etree._Element) -> list[list[bool]]:
    """The dark modules an inline SVG QR code draws (segno's horizontal strokes, one row of
    modules each, inside a 2-module border), read from the path as a browser would."""
    size = int(svg.get("viewbox").split()[2])  # lxml.html lowercases attribute names
    grid = [[False] * size for _ in range(size)]
    (path,) = [p.get("d") for p in svg.iter("{*}path", "path") if p.get("stroke")]
    x = y = 0.0
    for op, a, b in re.findall(r"([MmHh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            end = x + float(a) if op == "h" else float(a)
            for col in range(int(x), int(end)):
                grid[int(y)][col] = True
            x = end
    return [row[2:-2] for row in grid[2:-2]]


def test_subscribe_pages_show_each_feed_copyable_with_a_qr_code_of_that_address(archive):
    doc = html.fromstring(archive.test_client().get("/subscribe").data)
    urls = doc.xpath("//code[@class='url']/text()")
    paths = [
        "/feeds/all.xml",
        "/feeds/saver/all.xml",
        "/feeds/shows/morning-talk.xml",
        "/feeds/saver/shows/morning-talk.xml",
        "/feeds/shows/night-owls.xml",
        "/feeds/saver/shows/night-owls.xml",
        "/feeds/topics/water-and-sanitation.xml",
        "/feeds/saver/topics/water-and-sanitation.xml",
    ]
    hosts = {"localhost"} | set(lan_addresses()[:1])  # localhost shows phones the Wi-Fi address
    assert [u.split("/", 3)[3] for u in urls] == [p.lstrip("/") for p in paths]
    assert {u.split("/")[2] for u in urls} <= hosts
    assert len(doc.xpath("//svg[@class='qr']")) == 2  # the whole archive's; others on their pages
    assert doc.xpath("//a[@href='/subscribe/shows/night-owls']")
    page = html.fromstring(archive.test_client().get("/subscribe/shows/night-owls").data)
    shown = page.xpath("//code[@class='url']/text()")
    assert [u.split("/", 3)[3] for u in shown] == [p.lstrip("/") for p in paths[4:6]]
    codes = page.xpath("//svg[@class='qr']")
    assert len(codes) == 2 and not page.xpath("//script[not(@src)][not(@type='application/json')]")
    for url, svg in zip(shown, codes, strict=True):
        drawn = [[bool(m) for m in row] for row in segno.make(url, error="m").matrix]
        assert qr_modules(svg) == drawn
        assert svg.xpath("string(title)") == f"QR code of {page_title(page, url)}"


def page_title(page, url: str) -> str:  # noqa: ANN001
    """The feed's title as the page links it next to its address."""
    return page.xpath(f"string(//a[@href='{url}'])")


def test_subscribe_addresses_follow_base_url_and_a_search_gets_its_own_page(archive):
    archive.config["BASE_URL"] = "https://radio.example/archive/"
    try:
        page = html.fromstring(archive.test_client().get("/subscribe/search?q=ask").data)
    finally:
        archive.config.pop("BASE_URL")
    assert page.xpath("//code[@class='url']/text()") == [
        "https://radio.example/archive/feeds/search.xml?q=ask",
        "https://radio.example/archive/feeds/saver/search.xml?q=ask",
    ]
    client = archive.test_client()
    assert client.get("/subscribe/search?q=").status_code == 400
    assert client.get("/subscribe/shows/nope").status_code == 404
    on_lan = html.fromstring(client.get("/subscribe", base_url="http://192.168.1.20:8080").data)
    assert (
        on_lan.xpath("//code[@class='url']/text()")[0] == "http://192.168.1.20:8080/feeds/all.xml"
    )


@pytest.mark.slow
def test_a_phone_shows_the_subscribe_page_whole_with_codes_it_can_scan(archive):
    """Chromium at 360 px: nothing wider than the screen, each code a scannable size, no
    Content-Security-Policy complaint (the codes are inline SVG, no script, no style)."""
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with live_server(archive) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(**VIEWPORTS["phone"]).new_page()
            complaints: list[str] = []
            page.on("console", lambda m: complaints.append(m.text) if m.type == "error" else None)
            for path, shot in (
                ("/subscribe/shows/morning-talk", "subscribe-show"),
                ("/subscribe", "subscribe"),
            ):
                page.goto(server.url + path)
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= 360, f"{path} is {width} px wide"
                sizes = page.eval_on_selector_all(
                    "svg.qr", "codes => codes.map(c => c.getBoundingClientRect().width)"
                )
                assert len(sizes) == 2 and all(150 <= s <= 360 for s in sizes), sizes
                page.screenshot(path=str(SHOTS / f"{shot}-phone.png"), full_page=True)
            assert not [c for c in complaints if "Content Security Policy" in c], complaints
        finally:
            browser.close()
