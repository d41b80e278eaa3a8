"""feeds.opml on its own (dataclasses in, OPML 2.0 out) and the archive's ``/feeds.opml``.

Checked with XPath; gPodder imports the served file for real in
tests/test_feeds_saver_clients.py.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest
from lxml import etree

from feeds import FeedError
from feeds.opml import OPML_MIME, OpmlFeed, OpmlGroup, OpmlHead, build_opml, feed_urls
from radio.data.tags import replace_computed
from tests.conftest import clip
from tests.webserver import add_episode
from transcription.topics import TopicScore

BASE = "http://radio.local:5000"
TRICKY = "Voces & <Ecos> ñ 中文 🎙️ “quotes”"
WATER = TopicScore("water-and-sanitation", "Water and sanitation", 0.3, ("water",), (0.0,))


def outlines() -> list[OpmlFeed | OpmlGroup]:
    return [
        OpmlGroup(
            "Standard (MP3)",
            (
                OpmlFeed("Radio", f"{BASE}/feeds/all.xml", f"{BASE}/", language="sw"),
                OpmlFeed(TRICKY, f"{BASE}/feeds/shows/voces.xml", f"{BASE}/shows/voces"),
            ),
        ),
        OpmlGroup(
            "Data saver",
            (OpmlFeed("Radio (data saver)", f"{BASE}/feeds/saver/all.xml", description="Small"),),
        ),
    ]


def test_feeds_are_rss_outlines_with_text_title_and_urls_in_groups():
    created = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)
    head = OpmlHead("Radio feeds", "Radio Ñ", "studio@radio.example", created)
    doc = etree.fromstring(build_opml(head, outlines()))
    assert doc.tag == "opml" and doc.get("version") == "2.0"
    assert doc.xpath("string(head/title)") == "Radio feeds"
    assert doc.xpath("string(head/ownerName)") == "Radio Ñ"
    assert doc.xpath("string(head/ownerEmail)") == "studio@radio.example"
    assert parsedate_to_datetime(doc.xpath("string(head/dateCreated)")) == created
    groups = doc.xpath("body/outline")
    assert [g.get("text") for g in groups] == ["Standard (MP3)", "Data saver"]
    assert all(g.get("type") is None for g in groups)  # a folder, not a feed
    feeds = doc.xpath("//outline[@type='rss']")
    assert [f.get("xmlUrl") for f in feeds] == feed_urls(outlines())
    assert [f.get("text") for f in feeds] == ["Radio", TRICKY, "Radio (data saver)"]
    assert all(f.get("title") == f.get("text") and f.get("version") == "RSS2" for f in feeds)
    assert feeds[0].get("htmlUrl") == f"{BASE}/" and feeds[0].get("language") == "sw"
    assert feeds[2].get("htmlUrl") is None and feeds[2].get("description") == "Small"


def test_same_input_same_bytes_and_no_clock_unless_given():
    one = build_opml(OpmlHead("Radio feeds"), outlines())
    assert one == build_opml(OpmlHead("Radio feeds"), outlines())
    assert etree.fromstring(one).xpath("head/dateCreated") == []
    assert one.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_bad_input_raises_feed_error_saying_what_to_fix():
    with pytest.raises(FeedError, match="absolute"):
        build_opml(OpmlHead("x"), [OpmlFeed("Radio", "/feeds/all.xml")])
    with pytest.raises(FeedError, match="title"):
        build_opml(OpmlHead("x"), [OpmlFeed(" \x01", f"{BASE}/feeds/all.xml")])
    with pytest.raises(FeedError, match="time zone"):
        build_opml(OpmlHead("x", date_created=datetime(2026, 1, 1)), [])


def test_the_archive_serves_every_feed_in_both_qualities(app, db, client):
    first = add_episode(app, clip("jfk.flac"), show=TRICKY)
    add_episode(app, clip("LJ001-0001.wav"), show="Night Owls", visibility="private")
    replace_computed(
        db, first["id"], topics=[WATER], keyphrases=[], chapters=[], taxonomy_slugs={WATER.slug}
    )
    response = client.get("/feeds.opml")
    assert response.status_code == 200 and response.mimetype == OPML_MIME
    doc = etree.fromstring(response.data)
    slug = db["shows"].get(first["show_id"])["slug"]
    paths = ["all.xml", f"shows/{slug}.xml", "topics/water-and-sanitation.xml"]
    standard = [f"http://localhost/feeds/{p}" for p in paths]
    saver = [f"http://localhost/feeds/saver/{p}" for p in paths]
    assert doc.xpath("//outline[@type='rss']/@xmlUrl") == standard + saver  # no private show
    titles = doc.xpath("//outline[@type='rss']/@text")
    assert titles[1] == TRICKY and titles[4] == f"{TRICKY} (data saver)"
    for url in standard + saver:  # each is a feed of this archive
        assert client.get(url).status_code == 200, url
    only = etree.fromstring(client.get("/feeds.opml?quality=saver").data)
    assert only.xpath("//outline[@type='rss']/@xmlUrl") == saver
    assert client.get("/feeds.opml?quality=hifi").status_code == 400
    etag = response.headers["ETag"]
    assert client.get("/feeds.opml", headers={"If-None-Match": etag}).status_code == 304


def test_an_empty_archive_lists_its_whole_archive_feeds(client):
    doc = etree.fromstring(client.get("/feeds.opml").data)
    assert doc.xpath("//outline[@type='rss']/@xmlUrl") == [
        "http://localhost/feeds/all.xml",
        "http://localhost/feeds/saver/all.xml",
    ]
