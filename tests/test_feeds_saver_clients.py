"""Real podcast clients and the data-saver feeds (#14), against waitress on 127.0.0.1.

The archive is made for real: clips from tests/data taken in and processed by the
pipeline (MP3, Opus and, where the audio step makes it, AAC), with chapters written as
the rows an editor's split leaves. gPodder's ``gpo`` is given the archive's pages (feed
discovery), the saver feeds and the OPML file; podcastparser, feedparser and the npm
parser podcast-partytime read both feeds. Which small rendition an episode has is read
from the renditions table: the saver feed must enclose its AAC if it has one, else Opus.
"""

from __future__ import annotations

import io
import shutil
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import feedparser
import podcastparser
import pytest
import sqlite_utils
from flask import Flask

from feeds.podcast import podcast_guid
from radio import create_app
from radio.data.episodes import public_sql
from radio.db import connect, database_path
from tests.conftest import require, settings
from tests.test_feeds_clients import Gpo, partytime, publish, sha256
from tests.webserver import live_server

pytestmark = pytest.mark.slow

OWNER = "studio@radio.example"
SMALL = ("aac", "opus")  # the data-saver kinds, best first
MAGIC = {  # what each rendition's file starts with
    "aac": lambda head: head[4:8] == b"ftyp",  # an MP4 (M4A) file
    "opus": lambda head: head[:4] == b"OggS" and b"OpusHead" in head[:64],
}


@dataclass
class Archive:
    app: Flask
    db: sqlite_utils.Database
    home: Path
    base: str

    def episodes(self) -> list[dict]:
        """Public episodes, newest first, with each rendition's row and file by kind."""
        rows = list(
            self.db.query(
                f"select * from episodes where {public_sql()} order by published_at desc, id desc"
            )
        )
        for row in rows:
            row["renditions"] = {
                r["kind"]: {**r, "file": self.home / "media" / r["path"]}
                for r in self.db["renditions"].rows_where("episode_id = ?", [row["id"]])
            }
            row["saver"] = next(k for k in SMALL if k in row["renditions"])
        return rows


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    home = tmp_path_factory.mktemp("saverclients") / "home"
    app = create_app(settings(home, FEED_OWNER_EMAIL=OWNER))
    db = connect(database_path(app))
    first = publish(app, db, "jfk.flac", show="Voces", title="Ask not ñ")
    publish(app, db, "LJ001-0001.wav", show="Voces", title="Printing")
    db["chapters"].insert_all(
        [
            {"episode_id": first["id"], "idx": 0, "start": 0.0, "end": 4.0, "title": "Ask"},
            {"episode_id": first["id"], "idx": 1, "start": 4.0, "title": "País & <you>"},
        ]
    )
    db.conn.commit()
    try:
        with live_server(app) as server:
            yield Archive(app, db, home, server.url)
    finally:
        db.conn.close()


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return response.read()


def gpo_client(tmp_path: Path) -> Gpo:
    require(bool(shutil.which("gpo")), "gPodder's gpo (apt-get install gpodder; .ci/run does)")
    return Gpo(tmp_path)


def subscribed(gpo: Gpo) -> list[str]:
    """The feed URLs gPodder follows (``gpo list`` prints one per line, with its title)."""
    return sorted(line.split()[0] for line in gpo("list").splitlines() if "://" in line)


def check_small_downloads(archive: Archive, gpo: Gpo, episodes: list[dict]) -> None:
    """gPodder downloaded each episode's saver file, byte for byte, and nothing bigger."""
    got = gpo.files()
    for episode in episodes:
        small = episode["renditions"][episode["saver"]]
        assert sha256(small["file"]) in got, episode["title"]
        path = got[sha256(small["file"])]
        assert path.stat().st_size == small["bytes"] < episode["renditions"]["mp3"]["bytes"]
        assert MAGIC[episode["saver"]](path.read_bytes()[:64])
        url = f"{archive.base}/media/{episode['guid']}/{small['file'].name}"
        request = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.headers["Content-Type"] == small["mime"]
    assert len(got) == len(episodes)  # the MP3s were never fetched


def url_names(url: str, episode: dict, rendition: dict) -> bool:
    """The media URL of this episode's rendition: its guid, a meaningful name, the file's
    type (``/media/<guid>/voces-2026-12-02-printing.mp3``)."""
    path = url.split("/media/", 1)[1]
    guid, name = path.split("/")
    return guid == episode["guid"] and name.endswith(rendition["file"].suffix)


def test_gpodder_given_the_home_page_finds_the_saver_feed_and_downloads_small_files(
    archive, tmp_path
):
    """gPodder follows the last feed a page names; pages name each feed, then its twin."""
    gpo = gpo_client(tmp_path)
    assert "Successfully added" in gpo("subscribe", f"{archive.base}/")
    assert subscribed(gpo) == [f"{archive.base}/feeds/saver/all.xml"]
    feed_url = subscribed(gpo)[0]
    gpo("update", feed_url)
    episodes = archive.episodes()
    listed = gpo("episodes", "--guid", feed_url)
    assert all(e["guid"] in listed for e in episodes) and "Ask not ñ" in listed
    gpo("download", feed_url)
    check_small_downloads(archive, gpo, episodes)


def test_gpodder_from_a_show_page_and_its_saver_feed(archive, tmp_path):
    gpo = gpo_client(tmp_path)
    gpo("subscribe", f"{archive.base}/shows/voces")
    assert subscribed(gpo) == [f"{archive.base}/feeds/saver/shows/voces.xml"]
    gpo("update")
    gpo("download")
    check_small_downloads(archive, gpo, archive.episodes())


def test_gpodder_imports_the_opml_file(archive, tmp_path):
    gpo = gpo_client(tmp_path)
    gpo("import", f"{archive.base}/feeds.opml?quality=saver")
    assert subscribed(gpo) == sorted(
        [f"{archive.base}/feeds/saver/all.xml", f"{archive.base}/feeds/saver/shows/voces.xml"]
    )
    both = gpo_client(tmp_path / "both")
    both("import", f"{archive.base}/feeds.opml")
    paths = ["all.xml", "shows/voces.xml", "saver/all.xml", "saver/shows/voces.xml"]
    assert subscribed(both) == sorted(f"{archive.base}/feeds/{p}" for p in paths)


def test_podcastparser_sees_each_feeds_enclosure(archive):
    episodes = archive.episodes()
    for path, saver in (("/feeds/all.xml", False), ("/feeds/saver/all.xml", True)):
        url = archive.base + path
        parsed = podcastparser.parse(url, io.BytesIO(fetch(url)))
        assert [e["guid"] for e in parsed["episodes"]] == [e["guid"] for e in episodes]
        assert parsed["link"] == f"{archive.base}/"  # the twin link is not the web page
        for found, episode in zip(parsed["episodes"], episodes, strict=True):
            kind = episode["saver"] if saver else "mp3"
            rendition = episode["renditions"][kind]
            (enclosure,) = found["enclosures"]
            assert url_names(enclosure["url"], episode, rendition)
            assert enclosure["file_size"] == rendition["bytes"]
            assert enclosure["mime_type"] == rendition["mime"]
            assert abs(found["total_time"] - episode["duration"]) <= 1


def test_feedparser_sees_enclosure_an_alternate_chapters_and_the_twin(archive):
    episodes = archive.episodes()
    for path, twin, saver in (
        ("/feeds/all.xml", "/feeds/saver/all.xml", False),
        ("/feeds/saver/all.xml", "/feeds/all.xml", True),
    ):
        parsed = feedparser.parse(fetch(archive.base + path))
        assert not parsed.bozo, parsed.get("bozo_exception")
        assert parsed.feed.podcast_guid == podcast_guid(archive.base + path)
        assert parsed.feed.link == f"{archive.base}/"
        (link,) = [
            x for x in parsed.feed.links if x.type == "application/rss+xml" and x.rel == "alternate"
        ]
        assert link.href == archive.base + twin and link.title
        for entry, episode in zip(parsed.entries, episodes, strict=True):
            main = episode["saver"] if saver else "mp3"
            (enclosure,) = entry.enclosures
            assert int(enclosure.length) == episode["renditions"][main]["bytes"]
            assert enclosure.type == episode["renditions"][main]["mime"]
            # feedparser keeps the last alternate it reads; it is one of the others
            alternate = entry.podcast_alternateenclosure
            others = {r["mime"]: r for k, r in episode["renditions"].items() if k != main}
            other = others[alternate["type"]]
            assert int(alternate["length"]) == other["bytes"]
            title = "Standard (MP3" if other["kind"] == "mp3" else "Data saver ("
            assert alternate["title"].startswith(title)
        first = parsed.entries[-1]
        chapters = f"{archive.base}/feeds/chapters/{episodes[-1]['guid']}.json"
        assert first.podcast_chapters["url"] == chapters


def test_partytime_sees_enclosures_alternates_and_chapters_in_both_feeds(archive, tmp_path):
    episodes = archive.episodes()
    for path, saver in (("/feeds/all.xml", False), ("/feeds/saver/all.xml", True)):
        feed = partytime(fetch(archive.base + path), tmp_path)
        assert feed["guid"] == podcast_guid(archive.base + path)
        assert [i["guid"] for i in feed["items"]] == [e["guid"] for e in episodes]
        for item, episode in zip(feed["items"], episodes, strict=True):
            main = episode["saver"] if saver else "mp3"
            files = episode["renditions"]
            assert item["enclosure"]["length"] == files[main]["bytes"]
            assert url_names(item["enclosure"]["url"], episode, files[main])
            # by the file type the URL names (downloads are named after the episode, #15)
            alts = {
                a["source"][0]["uri"].rsplit(".", 1)[1]: a for a in item["alternativeEnclosures"]
            }
            assert set(alts) == {r["file"].suffix[1:] for k, r in files.items() if k != main}
            for kind, rendition in files.items():
                if kind == main:
                    continue
                alt = alts[rendition["file"].suffix[1:]]
                assert alt["length"] == rendition["bytes"] and alt["type"] == rendition["mime"]
                assert alt["bitrate"] == rendition["bitrate"]
                assert alt["title"].startswith("Standard (MP3" if kind == "mp3" else "Data saver")
                assert not alt.get("default")
        first = feed["items"][-1]
        assert first["podcastChapters"]["url"] == (
            f"{archive.base}/feeds/chapters/{episodes[-1]['guid']}.json"
        )
