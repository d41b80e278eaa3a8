"""Every link a feed hands out is a route of this archive that answers 200 (#10).

Feed URLs are built from Flask's url map (``radio.web.urls``); this renders the feeds of an
archive of processed recordings with transcripts, chapters and a topic, collects every URL
in them (channel and item links, atom self and paging links, enclosures, alternate
enclosures' sources, transcripts, chapters, the image, and the links in item descriptions)
and follows each through the app as a listener would, feeds linked from feeds included.
It does so with the archive at the root of its host, behind a path prefix, and with
``BASE_URL`` naming the address a proxy serves it at. And an item names the people heard
in its episode (podcast:person), as the transcripts it links to do.
"""

from __future__ import annotations

from collections import Counter

import pytest
from flask import Flask, url_for
from lxml import etree, html
from werkzeug.routing import BuildError

from radio import create_app
from radio.data.feeds import FeedKind, FeedSpec
from radio.data.tags import replace_computed
from radio.db import connect, database_path
from radio.web.http.mediafiles import MediaFile
from radio.web.urls import Urls
from tests.conftest import clip, settings
from tests.webserver import add_episode, write_transcript
from transcription.segments import Chapter
from transcription.topics import TopicScore

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
URLS_IN_FEED = "//@url | //@uri | //@href | //link/text() | //image/url/text()"
WATER = TopicScore("water-and-sanitation", "Water and sanitation", 0.3, ("water",), (0.0,))
FEEDS = (
    "feeds/all.xml",
    "feeds/shows/morning-talk.xml",
    "feeds/topics/water-and-sanitation.xml",
    "feeds/search.xml?q=ask",
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    """Three processed recordings, two shows; each transcribed, with chapters; two about
    water. Two items a feed page, so the all-episodes feed has paging links."""
    home = tmp_path_factory.mktemp("links") / "home"
    # Any file on the archive does as the image: the point is that the path becomes a link.
    app = create_app(settings(home, FEED_LIMIT=2, FEED_IMAGE_URL="/static/style.css"))
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


def archive_urls(rss: etree._Element, root: str) -> set[str]:
    """Every URL in the feed (item descriptions are HTML with links of their own); each
    must be on this archive."""
    found = [str(u).strip() for u in rss.xpath(URLS_IN_FEED, namespaces=NS)]
    for description in rss.xpath("/rss/channel/item/description/text()"):
        found += html.fromstring(description).xpath("//a/@href")
    assert found and all(u.startswith(root) for u in found), [u for u in found if root not in u]
    return set(found)


def follow_every_link(app: Flask, root: str) -> dict[str, int]:
    """Fetch each feed, then every URL in it, breadth first; returns URL -> status."""
    client = app.test_client()  # a listener: no session
    queue = [root + path for path in FEEDS]
    status: dict[str, int] = {}
    while queue:
        url = queue.pop(0)
        if url in status:
            continue
        response = client.get(url.removeprefix(root.rstrip("/")), base_url=root)
        status[url] = response.status_code
        if response.status_code == 200 and response.mimetype == "application/rss+xml":
            queue += sorted(archive_urls(etree.fromstring(response.data), root))
    return status


def kinds(urls: list[str]) -> Counter[str]:
    """How many links of each kind were followed, to show none was missed."""
    checks = {
        "feed page 2": lambda u: "page=2" in u,
        "episode page": lambda u: "/episodes/" in u and "/transcript." not in u,
        "mp3": lambda u: "/media/" in u and u.endswith(".mp3"),
        "opus": lambda u: "/media/" in u and u.endswith(".opus"),
        "transcript": lambda u: "/transcript." in u,
        "chapters": lambda u: "/feeds/chapters/" in u,
        "image": lambda u: u.endswith("/static/style.css"),
        "show page": lambda u: "/shows/" in u and not u.endswith(".xml"),
        "topic page": lambda u: "/topics/" in u and not u.endswith(".xml"),
        "search page": lambda u: "/search?" in u,
    }
    return Counter(kind for u in urls for kind, test in checks.items() if test(u))


@pytest.mark.parametrize(
    ("root", "base_url"),
    [
        ("http://localhost/", None),  # the archive at the root of its host
        ("http://192.168.1.20:8080/radio/", None),  # under a path prefix (SCRIPT_NAME)
        ("https://radio.example/archive/", "https://radio.example/archive/"),  # behind a proxy
    ],
)
def test_every_link_in_the_feeds_answers_200(archive: Flask, root: str, base_url: str | None):
    archive.config["BASE_URL"] = base_url
    try:
        status = follow_every_link(archive, root)
    finally:
        archive.config["BASE_URL"] = None
    broken = {url: code for url, code in status.items() if code != 200}
    assert not broken, broken
    followed = kinds(list(status))
    expected = {"mp3": 3, "opus": 3, "transcript": 9, "chapters": 3, "episode page": 3}
    assert {kind: followed[kind] for kind in expected} == expected, followed
    for kind in ("feed page 2", "image", "show page", "topic page", "search page"):
        assert followed[kind] >= 1, (kind, followed)


def test_a_route_that_is_gone_fails_the_build_instead_of_a_dead_link(archive: Flask):
    urls = Urls("http://localhost/", archive.url_map)
    with pytest.raises(BuildError):
        urls.build("feeds.no_such_feed")


def test_the_feed_urls_are_the_routes_the_pages_use(archive: Flask):
    """Feeds and pages name the same endpoints: the same paths, one absolute."""
    urls = Urls("http://localhost/", archive.url_map)
    with archive.test_request_context("/"):
        pairs = [
            (urls.episode("g"), url_for("archive.episode", guid="g")),
            (urls.media("g", MediaFile.MP3), url_for("media.media", guid="g", name="audio.mp3")),
            (urls.transcript("g", "vtt"), url_for("archive.transcript", guid="g", fmt="vtt")),
            (urls.chapters("g"), url_for("feeds.chapters", guid="g")),
            (urls.feed(FeedSpec(FeedKind.TOPIC, "water"), 3), "/feeds/topics/water.xml?page=3"),
            (urls.page(FeedSpec(FeedKind.SHOW, "morning-talk")), "/shows/morning-talk"),
        ]
    for absolute, path in pairs:
        assert absolute == "http://localhost" + path


def test_an_item_names_the_people_heard_and_its_transcripts_say_who_spoke(app, db, client):
    """podcast:person for the named speakers of an episode (given at upload or heard in its
    transcript), not for the "Speaker 2" voices nobody has named yet; the VTT the item links
    to carries the same names as voice spans."""
    episode = add_episode(
        app, clip("jfk.flac"), title="Call", show="Morning Talk", speakers=["Amina"]
    )
    db["segments"].insert_all(
        {
            "episode_id": episode["id"],
            "idx": idx,
            "start": start,
            "end": start + 2,
            "text": text,
            "speaker": who,
        }
        for idx, (start, text, who) in enumerate(
            [
                (0.0, "Welcome to the call.", "AMINA"),
                (2.0, "Thank you.", "Speaker 2"),
                (4.0, "The borehole works.", "Joseph"),
                (6.0, "Good.", "Amina"),
            ]
        )
    )
    rss = etree.fromstring(client.get("/feeds/all.xml").data)
    (item,) = rss.xpath("/rss/channel/item")
    persons = [(p.text, p.get("role")) for p in item.xpath("podcast:person", namespaces=NS)]
    assert persons == [("Amina", "host"), ("Joseph", "guest")]
    (vtt_url,) = item.xpath("podcast:transcript[@type='text/vtt']/@url", namespaces=NS)
    vtt = client.get(vtt_url.removeprefix("http://localhost")).get_data(as_text=True)
    assert "<v AMINA>Welcome to the call." in vtt and "<v Speaker 2>Thank you." in vtt
    assert "<v Joseph>The borehole works." in vtt


def test_an_item_names_its_licence_and_all_rights_reserved_links_to_the_episode(app, db, client):
    """podcast:license: the licence's SPDX name and legal text; "all rights reserved" is no
    licence SPDX lists, so its URL is the episode page, which says so; none stated, no tag."""
    shared = add_episode(app, clip("jfk.flac"), title="Shared", licence="CC BY-SA")
    kept = add_episode(app, clip("LJ001-0001.wav"), title="Kept", licence="all-rights-reserved")
    unstated = add_episode(app, clip("LJ001-0002.wav"), title="Unstated")
    rss = etree.fromstring(client.get("/feeds/all.xml").data)
    licences = {
        item.findtext("guid"): [
            (tag.text, tag.get("url")) for tag in item.xpath("podcast:license", namespaces=NS)
        ]
        for item in rss.xpath("/rss/channel/item")
    }
    kept_page = f"http://localhost/episodes/{kept['guid']}"
    assert licences == {
        shared["guid"]: [("cc-by-sa-4.0", "https://creativecommons.org/licenses/by-sa/4.0/")],
        kept["guid"]: [("all-rights-reserved", kept_page)],
        unstated["guid"]: [],
    }
    page = html.fromstring(client.get(kept_page.removeprefix("http://localhost")).data)
    assert page.xpath("string(//p[@id='licence'])") == "Licence: All rights reserved"
