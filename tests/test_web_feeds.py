"""The feed routes on real processed recordings: what is listed, URLs, HTTP caching, paging.

Episodes are ingested from tests/data and processed for real (audio renditions); an
editor's changes (title, visibility, tags, chapters) are written as the database rows
they are. Feed XML is checked with XPath.
"""

import gzip
import json
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

import pytest
from lxml import etree, html

from feeds.podcast import podcast_guid
from radio.data.episodes import update_episode
from radio.jobs import pipeline
from radio.jobs.ingest import Limits, Metadata, ingest_file
from radio.web.http.mediafiles import download_stem
from tests.conftest import clip

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
    "atom": "http://www.w3.org/2005/Atom",
}
CLIPS = ("jfk.flac", "LJ001-0001.wav", "LJ001-0002.wav", "61-70968-0000.flac")


def publish(app, db, name="jfk.flac", *, process=True, **meta) -> dict:
    result = ingest_file(db, app.config["HOME"], clip(name), Metadata(**meta), Limits())
    if process:
        assert pipeline.process(db, app.config, result.episode_id) == "ready"
    return db["episodes"].get(result.episode_id)


def feed(client, url="/feeds/all.xml", **kwargs) -> etree._Element:
    response = client.get(url, **kwargs)
    assert response.status_code == 200, response.data[:500]
    assert response.mimetype == "application/rss+xml"
    return etree.fromstring(response.data)


def guids(rss) -> list[str]:
    return rss.xpath("/rss/channel/item/guid/text()")


def one(node, path):
    found = node.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {found!r}"
    return found[0]


def test_lists_public_finished_episodes_only_newest_first(app, db, client):
    first = publish(app, db, "jfk.flac")
    second = publish(app, db, "LJ001-0001.wav")
    publish(app, db, "LJ001-0002.wav", visibility="draft")
    publish(app, db, "61-70968-0000.flac", visibility="private")
    publish(app, db, "cannot-complete-as-dialed.wav", process=False)  # still queued
    assert guids(feed(client)) == [second["guid"], first["guid"]]


def test_items_carry_exact_lengths_duration_date_and_stable_guid(app, db, client, home):
    episode = publish(app, db, title="Morning news", description="Town council, then weather.")
    entry = one(feed(client), "/rss/channel/item")
    files = {
        r["kind"]: home / "media" / r["path"]
        for r in db["renditions"].rows_where("episode_id = ?", [episode["id"]])
    }
    assert one(entry, "guid/text()") == episode["guid"]
    assert one(entry, "guid/@isPermaLink") == "false"
    enclosure = one(entry, "enclosure")
    assert int(enclosure.get("length")) == files["mp3"].stat().st_size
    assert enclosure.get("type") == "audio/mpeg"
    stem = download_stem(None, episode["recorded_at"], "Morning news")  # named files (#15)
    assert enclosure.get("url") == f"http://localhost/media/{episode['guid']}/{stem}.mp3"
    # the small renditions (Opus, and AAC once made) are alternates; their twin feed
    # encloses them (tests/test_web_feeds_saver.py)
    opus = f"http://localhost/media/{episode['guid']}/{stem}.opus"
    alt = one(entry, f"podcast:alternateEnclosure[podcast:source/@uri='{opus}']")
    assert int(alt.get("length")) == files["opus"].stat().st_size
    assert alt.get("type") == "audio/ogg" and alt.get("bitrate") == "24000"
    assert alt.get("title") == "Data saver (Opus, 24 kbps)" and alt.get("codecs") == "opus"
    assert len(entry.xpath("podcast:alternateEnclosure", namespaces=NS)) == len(files) - 1
    h, m, s = map(int, one(entry, "itunes:duration/text()").split(":"))
    assert abs(h * 3600 + m * 60 + s - episode["duration"]) <= 0.5
    published = datetime.fromisoformat(episode["published_at"].replace("Z", "+00:00"))
    assert parsedate_to_datetime(one(entry, "pubDate/text()")) == published
    page = html.fromstring(one(entry, "description/text()"))
    assert "Town council, then weather." in page.text_content()
    assert page.xpath("//a/@href") == [f"http://localhost/episodes/{episode['guid']}"]
    assert entry.xpath("podcast:transcript", namespaces=NS) == []  # not transcribed here
    # An editor renames the episode: it is the same item for every podcast app.
    update_episode(db, episode["id"], title="Morning news (corrected)")
    entry = one(feed(client), "/rss/channel/item")
    assert one(entry, "title/text()") == "Morning news (corrected)"
    assert one(entry, "guid/text()") == episode["guid"]


def test_unicode_and_markup_in_titles_survive(app, db, client):
    title = "Café ñandú 中文 🎙️ <script>x</script> & co"
    show_title = "Voces & <Ecos> ñ 中文"
    episode = publish(app, db, show=show_title)
    update_episode(db, episode["id"], title=title, description=f"Dijo: {title}")
    rss = feed(client)
    assert one(rss, "/rss/channel/item/title/text()") == title
    text = html.fromstring(one(rss, "/rss/channel/item/description/text()")).text_content()
    assert f"Dijo: {title}" in text
    slug = db["shows"].get(episode["show_id"])["slug"]
    show_feed = feed(client, f"/feeds/shows/{slug}.xml")
    assert one(show_feed, "/rss/channel/title/text()") == show_title


def test_urls_come_from_the_request_host_unless_base_url_is_set(app, db, client):
    publish(app, db)
    app.config["FEED_IMAGE_URL"] = "/static/cover.png"  # a path on the archive
    on_lan = feed(client, base_url="http://192.168.1.20:8080")
    urls = on_lan.xpath("//@url | //@uri | //@href | //link/text()")
    assert urls and all(u.startswith("http://192.168.1.20:8080/") for u in urls)
    cover = "http://192.168.1.20:8080/static/cover.png"
    assert one(on_lan, "/rss/channel/itunes:image/@href") == cover
    app.config["BASE_URL"] = "https://radio.example/archive/"
    configured = feed(client, base_url="http://192.168.1.20:8080")
    urls = configured.xpath("//@url | //@uri | //@href | //link/text()")
    assert urls and all(u.startswith("https://radio.example/archive/") for u in urls)
    assert one(configured, "/rss/channel/podcast:guid/text()") == podcast_guid(
        "https://radio.example/archive/feeds/all.xml"
    )


def test_etag_last_modified_304_head_and_gzip(app, db, client):
    publish(app, db)
    first = client.get("/feeds/all.xml")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert "Accept-Encoding" in first.headers["Vary"]
    again = client.get("/feeds/all.xml", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    since = client.get("/feeds/all.xml", headers={"If-Modified-Since": modified})
    assert since.status_code == 304
    head = client.head("/feeds/all.xml")
    assert head.status_code == 200 and head.data == b""
    assert int(head.headers["Content-Length"]) == len(first.data)
    assert head.headers["ETag"] == etag
    zipped = client.get("/feeds/all.xml", headers={"Accept-Encoding": "gzip, deflate"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.data) == first.data
    assert zipped.headers["ETag"] != etag  # another representation, another validator
    revalidated = client.get(
        "/feeds/all.xml",
        headers={"Accept-Encoding": "gzip", "If-None-Match": zipped.headers["ETag"]},
    )
    assert revalidated.status_code == 304
    # A new episode is a new feed: the old validators no longer match.
    publish(app, db, "LJ001-0001.wav")
    changed = client.get("/feeds/all.xml", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert len(guids(etree.fromstring(changed.data))) == 2


def test_an_edit_changes_the_etag(app, db, client):
    episode = publish(app, db)
    etag = client.get("/feeds/all.xml").headers["ETag"]
    db["episodes"].update(episode["id"], {"visibility": "private"})  # no updated_at touched
    hidden = client.get("/feeds/all.xml", headers={"If-None-Match": etag})
    assert hidden.status_code == 200
    assert guids(etree.fromstring(hidden.data)) == []


def test_a_large_archive_is_paged_rfc5005(app, db, client):
    app.config["FEED_LIMIT"] = 2
    episodes = [publish(app, db, name) for name in CLIPS[:3]]
    newest_first = [e["guid"] for e in reversed(episodes)]
    page1 = feed(client)
    assert guids(page1) == newest_first[:2]
    links = {a.get("rel"): a.get("href") for a in page1.xpath("//atom:link", namespaces=NS)}
    assert links == {
        "self": "http://localhost/feeds/all.xml",
        "first": "http://localhost/feeds/all.xml",
        "next": "http://localhost/feeds/all.xml?page=2",
        "last": "http://localhost/feeds/all.xml?page=2",
        "alternate": "http://localhost/feeds/saver/all.xml",  # its data-saver twin
    }
    assert one(page1, "/rss/channel/link/text()") == "http://localhost/"  # the web archive
    page2 = feed(client, "/feeds/all.xml?page=2")
    assert guids(page2) == newest_first[2:]
    links = {a.get("rel"): a.get("href") for a in page2.xpath("//atom:link", namespaces=NS)}
    assert links["previous"] == "http://localhost/feeds/all.xml" and "next" not in links
    guid_of = "/rss/channel/podcast:guid/text()"
    assert one(page1, guid_of) == one(page2, guid_of)
    assert client.get("/feeds/all.xml?page=3").status_code == 404
    assert client.get("/feeds/all.xml?page=0").status_code == 400
    assert client.get("/feeds/all.xml?page=two").status_code == 400


def test_show_feed_has_its_episodes_and_hosts(app, db, client):
    a = publish(app, db, "jfk.flac", show="Morning Show", speakers=["Ana", "Bo"])
    b = publish(app, db, "LJ001-0001.wav", show="Morning Show", speakers=["Ana", "Chidi"])
    publish(app, db, "LJ001-0002.wav", show="Night Owls")
    rss = feed(client, "/feeds/shows/morning-show.xml")
    assert guids(rss) == [b["guid"], a["guid"]]
    assert one(rss, "/rss/channel/title/text()") == "Morning Show"
    hosts = rss.xpath("/rss/channel/podcast:person[@role='host']/text()", namespaces=NS)
    assert "Ana" in hosts
    item_b = rss.xpath(f"/rss/channel/item[guid='{b['guid']}']")[0]
    roles = {p.text: p.get("role") for p in item_b.xpath("podcast:person", namespaces=NS)}
    assert roles["Ana"] == "host"
    response = client.get("/feeds/shows/nobody.xml", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert "/feeds/all.xml" in response.get_json()["error"]["detail"]


def test_topic_feed_follows_tags_and_skips_removed_ones(app, db, client):
    kept = publish(app, db, "jfk.flac")
    removed = publish(app, db, "LJ001-0001.wav")
    publish(app, db, "LJ001-0002.wav")
    tag_id = db["tags"].insert({"slug": "water", "label": "Agua & water 💧"}).last_pk
    db["episode_tags"].insert_all(
        [
            {"episode_id": kept["id"], "tag_id": tag_id, "source": "manual", "score": 1.0},
            {
                "episode_id": removed["id"],
                "tag_id": tag_id,
                "source": "keyphrase",
                "score": 0.5,
                "removed": 1,
            },
        ]
    )
    rss = feed(client, "/feeds/topics/water.xml")
    assert guids(rss) == [kept["guid"]]
    assert "Agua & water 💧" in one(rss, "/rss/channel/title/text()")
    assert one(rss, "/rss/channel/link/text()") == "http://localhost/topics/water"
    assert "Agua & water 💧" in rss.xpath("/rss/channel/item/category/text()")
    assert client.get("/feeds/topics/fire.xml").status_code == 404


def test_search_feed_subscribes_to_a_subject(app, db, client):
    match = publish(app, db, "jfk.flac", title="Water rights at the river")
    publish(app, db, "LJ001-0001.wav", title="Printing history")
    hidden = publish(app, db, "LJ001-0002.wav", title="Water board", visibility="draft")
    rss = feed(client, "/feeds/search.xml?q=water")
    assert guids(rss) == [match["guid"]]
    assert hidden["guid"] not in guids(rss)
    self_link = one(rss, "/rss/channel/atom:link[@rel='self']/@href")
    assert self_link == "http://localhost/feeds/search.xml?q=water"
    assert client.get("/feeds/search.xml").status_code == 400
    assert client.get("/feeds/search.xml?q=" + "x " * 400).status_code == 400
    assert guids(feed(client, '/feeds/search.xml?q="unbalanced')) == []


def test_chapters_json_and_link(app, db, client):
    episode = publish(app, db)
    url = f"/feeds/chapters/{episode['guid']}.json"
    assert client.get(url).status_code == 404
    assert one(feed(client), "/rss/channel/item").xpath("podcast:chapters", namespaces=NS) == []
    db["chapters"].insert_all(
        [
            {"episode_id": episode["id"], "idx": 0, "start": 0.0, "end": 5.5, "title": "Ask not"},
            {"episode_id": episode["id"], "idx": 1, "start": 5.5, "title": "Tu país 🇺🇸 & <you>"},
        ]
    )
    chapters = one(feed(client), "/rss/channel/item/podcast:chapters")
    assert chapters.get("url") == f"http://localhost{url}"
    assert chapters.get("type") == "application/json+chapters"
    response = client.get(url)
    assert response.mimetype == "application/json+chapters"
    doc = json.loads(response.data)
    assert doc["version"] == "1.2.0"
    assert [c["title"] for c in doc["chapters"]] == ["Ask not", "Tu país 🇺🇸 & <you>"]
    assert doc["chapters"][1]["startTime"] == 5.5
    assert client.get(url, headers={"If-None-Match": response.headers["ETag"]}).status_code == 304
    db["episodes"].update(episode["id"], {"visibility": "draft"})
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("path", ["/feeds/all.xml", "/feeds/search.xml?q=anything"])
def test_an_empty_archive_has_valid_feeds(client, path):
    rss = feed(client, path)
    assert guids(rss) == []
    assert one(rss, "/rss/channel/lastBuildDate/text()") == format_datetime(
        datetime(1970, 1, 1, tzinfo=UTC)
    ).replace("-0000", "+0000")
