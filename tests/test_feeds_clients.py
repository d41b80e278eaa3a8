"""Real podcast clients against the real server on 127.0.0.1.

The archive here is made for real: clips from tests/data ingested, rendered and
transcribed (tiny.en); then an editor's changes (a title and a transcript line with
é, ñ, 中文, emoji, ``<`` and ``&``; chapters) are written as the rows they are. The
server is waitress, as ``radio serve`` runs it, and the clients are gPodder's ``gpo``
(Debian package ``gpodder``), podcastparser, feedparser and the npm parser
podcast-partytime (``npm ci`` in tests/js; ``.ci/run`` installs both).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path

import feedparser
import podcastparser
import pytest
import sqlite_utils
from flask import Flask
from lxml import etree, html
from waitress import create_server

from feeds.podcast import podcast_guid
from radio import create_app
from radio.data import tags
from radio.data.episodes import public_sql, update_episode
from radio.db import connect, database_path
from radio.jobs import pipeline
from radio.jobs.ingest import Limits, Metadata, ingest_file
from radio.web.http.mediafiles import download_stem
from tests.conftest import clip, require, settings

pytestmark = pytest.mark.slow

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
}
TITLE = "Café ñandú 中文 🎙️ <b>bold</b> & “quotes”"
LINE = "Él dijo: niño 中文 😀 a < b & c"
JS = Path(__file__).parent / "js"
OWNER = "studio@radio.example"


@dataclass
class Archive:
    app: Flask
    db: sqlite_utils.Database
    home: Path
    base: str  # http://127.0.0.1:<port>

    @property
    def feed_url(self) -> str:
        return f"{self.base}/feeds/all.xml"

    def public(self) -> list[dict]:
        """The public episodes, newest first, with their MP3 and Opus files."""
        rows = list(
            self.db.query(
                f"select * from episodes where {public_sql()} order by published_at desc, id desc"
            )
        )
        for row in rows:
            row["files"] = {
                r["kind"]: self.home / "media" / r["path"]
                for r in self.db["renditions"].rows_where("episode_id = ?", [row["id"]])
            }
        return rows


def publish(app: Flask, db: sqlite_utils.Database, name: str, **meta) -> dict:
    result = ingest_file(db, app.config["HOME"], clip(name), Metadata(**meta), Limits())
    assert pipeline.process(db, app.config, result.episode_id) == "ready"
    return db["episodes"].get(result.episode_id)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Archive]:
    home = tmp_path_factory.mktemp("feeds") / "home"
    # podcast:locked names its owner (partytime needs it)
    app = create_app(settings(home, TRANSCRIBE=True, FEED_OWNER_EMAIL=OWNER))
    db = connect(database_path(app))
    first = publish(app, db, "jfk.flac", show="Voces", speakers=["Ana Núñez", "Bo"])
    publish(app, db, "LJ001-0001.wav", show="Voces", speakers=["Ana Núñez"])
    # What an editor does: fix the title and the first line, split into chapters.
    update_episode(db, first["id"], title=TITLE)
    segment = db.execute(
        "select id from segments where episode_id = ? order by idx limit 1", [first["id"]]
    ).fetchone()
    assert segment, "the pipeline should have transcribed jfk.flac"
    db["segments"].update(segment[0], {"text": LINE})
    db.execute("delete from chapters where episode_id = ?", [first["id"]])
    db["chapters"].insert_all(
        [
            {"episode_id": first["id"], "idx": 0, "start": 0.0, "end": 4.0, "title": "Ask"},
            {"episode_id": first["id"], "idx": 1, "start": 4.0, "title": "País & <you> 🇺🇸"},
        ]
    )
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield Archive(app, db, home, f"http://127.0.0.1:{server.effective_port}")
    finally:
        server.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=5)
        db.conn.close()


def named(episode: dict) -> str:
    """The stem of an episode's file names in feeds (#15); all of them are of Voces."""
    return download_stem("voces", episode["recorded_at"], episode["title"])


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200, url
        return response.read()


def db_has_chapters(db: sqlite_utils.Database, episode_id: int) -> bool:
    return db["chapters"].count_where("episode_id = ?", [episode_id]) > 0


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_live_feed_links_resolve_and_text_is_intact(archive):
    rss = etree.fromstring(fetch(archive.feed_url))
    episodes = archive.public()
    items = rss.xpath("/rss/channel/item")
    assert [i.findtext("guid") for i in items] == [e["guid"] for e in episodes]
    for item, episode in zip(items, episodes, strict=True):
        enclosure = item.find("enclosure")
        assert int(enclosure.get("length")) == episode["files"]["mp3"].stat().st_size
        assert fetch(enclosure.get("url")) == episode["files"]["mp3"].read_bytes()
        transcripts = item.xpath("podcast:transcript", namespaces=NS)
        assert {t.get("type") for t in transcripts} == {
            "text/vtt",
            "application/x-subrip",
            "application/json",
        }
        assert {t.get("language") for t in transcripts} == {"en"}
        vtt = item.xpath("podcast:transcript[@type='text/vtt']", namespaces=NS)[0]
        assert vtt.get("rel") == "captions"
        assert fetch(vtt.get("url")).decode().startswith("WEBVTT")
    first = items[-1]
    assert first.findtext("title") == TITLE
    assert LINE in html.fromstring(first.findtext("description")).text_content()
    vtt_url = first.xpath("podcast:transcript[@type='text/vtt']/@url", namespaces=NS)[0]
    assert LINE in unescape(fetch(vtt_url).decode())  # WebVTT writes < and & as entities
    json_url = first.xpath("podcast:transcript[@type='application/json']/@url", namespaces=NS)[0]
    assert LINE in [s["body"] for s in json.loads(fetch(json_url))["segments"]]
    chapters_url = first.xpath("podcast:chapters/@url", namespaces=NS)[0]
    chapters = json.loads(fetch(chapters_url))
    assert [c["title"] for c in chapters["chapters"]] == ["Ask", "País & <you> 🇺🇸"]
    for item, episode in zip(items, episodes, strict=True):
        has_chapters = db_has_chapters(archive.db, episode["id"])
        assert bool(item.xpath("podcast:chapters", namespaces=NS)) == has_chapters


def test_podcastparser_finds_enclosure_duration_and_guid(archive):
    with urllib.request.urlopen(archive.feed_url, timeout=30) as stream:
        parsed = podcastparser.parse(archive.feed_url, stream)
    assert parsed["title"] == "Community Radio Archive"
    episodes = archive.public()
    assert [e["guid"] for e in parsed["episodes"]] == [e["guid"] for e in episodes]
    for found, episode in zip(parsed["episodes"], episodes, strict=True):
        (enclosure,) = found["enclosures"]
        assert enclosure["url"] == f"{archive.base}/media/{episode['guid']}/{named(episode)}.mp3"
        assert enclosure["file_size"] == episode["files"]["mp3"].stat().st_size
        assert enclosure["mime_type"] == "audio/mpeg"
        assert abs(found["total_time"] - episode["duration"]) <= 1
        assert found["link"] == f"{archive.base}/episodes/{episode['guid']}"
    assert parsed["episodes"][-1]["title"] == TITLE
    assert LINE in parsed["episodes"][-1]["description"]


def test_podcastparser_reads_the_chapters_inside_the_feed(archive):
    """psc:chapters travel with the feed: gPodder sees them with no chapters file (#14)."""
    with urllib.request.urlopen(archive.feed_url, timeout=30) as stream:
        parsed = podcastparser.parse(archive.feed_url, stream)
    seen = 0
    for found, episode in zip(parsed["episodes"], archive.public(), strict=True):
        stored = tags.chapters(archive.db, episode["id"])
        got = [(c["start"], c["title"]) for c in found.get("chapters", [])]
        # podcastparser reads whole seconds
        assert got == [(int(c.start), c.title) for c in stored]
        seen += len(stored)
    assert seen >= 2


def test_feedparser_finds_enclosure_duration_guid_and_a_transcript(archive):
    parsed = feedparser.parse(fetch(archive.feed_url))
    assert not parsed.bozo, parsed.get("bozo_exception")
    episodes = archive.public()
    assert [e.id for e in parsed.entries] == [e["guid"] for e in episodes]
    for entry, episode in zip(parsed.entries, episodes, strict=True):
        (enclosure,) = entry.enclosures
        assert int(enclosure.length) == episode["files"]["mp3"].stat().st_size
        assert enclosure.type == "audio/mpeg"
        h, m, s = map(int, entry.itunes_duration.split(":"))
        assert abs(h * 3600 + m * 60 + s - episode["duration"]) <= 1
        assert entry.podcast_transcript["url"].startswith(
            f"{archive.base}/episodes/{episode['guid']}/transcript."
        )
    assert parsed.entries[-1].title == TITLE
    assert parsed.feed.podcast_guid == podcast_guid(archive.feed_url)


def partytime(xml: bytes, tmp_path: Path) -> dict:
    require(bool(shutil.which("node")), "node (.ci/run expects Node 20)")
    require(
        (JS / "node_modules" / "podcast-partytime").is_dir(),
        "podcast-partytime (run `npm ci` in tests/js; .ci/run does)",
    )
    path = tmp_path / "feed.xml"
    path.write_bytes(xml)
    env = {**os.environ, "LOG": "silent"}  # partytime's logger would write to stdout
    done = subprocess.run(
        ["node", str(JS / "parse_feed.mjs"), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_partytime_finds_transcripts_chapters_and_alternate_enclosure(archive, tmp_path):
    feed = partytime(fetch(archive.feed_url), tmp_path)
    assert feed["guid"] == podcast_guid(archive.feed_url)
    assert feed["locked"] is True and feed["podcastOwner"] == OWNER
    episodes = archive.public()
    assert [i["guid"] for i in feed["items"]] == [e["guid"] for e in episodes]
    for item, episode in zip(feed["items"], episodes, strict=True):
        base = f"{archive.base}/episodes/{episode['guid']}/transcript"
        assert item["podcastTranscripts"] == [
            {"url": f"{base}.vtt", "type": "text/vtt", "language": "en", "rel": "captions"},
            {"url": f"{base}.srt", "type": "application/srt", "language": "en"},
            {"url": f"{base}.json", "type": "application/json", "language": "en"},
        ]
        alts = {a["source"][0]["uri"].rsplit("/", 1)[1]: a for a in item["alternativeEnclosures"]}
        stem = named(episode)
        assert sorted(alts) == [f"{stem}.m4a", f"{stem}.opus"]
        alt = alts[f"{stem}.opus"]
        assert alt["type"] == "audio/ogg" and alt["codecs"] == "opus"
        assert alt["length"] == episode["files"]["opus"].stat().st_size
        assert alt["bitrate"] == 24000 and alt["title"] == "Data saver (Opus, 24 kbps)"
        assert alt["source"][0]["uri"] == f"{archive.base}/media/{episode['guid']}/{stem}.opus"
        assert item["enclosure"]["length"] == episode["files"]["mp3"].stat().st_size
    first = feed["items"][-1]
    assert first["title"] == TITLE
    assert first["podcastChapters"] == {
        "url": f"{archive.base}/feeds/chapters/{episodes[-1]['guid']}.json",
        "type": "application/json+chapters",
    }
    show = partytime(fetch(f"{archive.base}/feeds/shows/voces.xml"), tmp_path)
    assert {"name": "Ana Núñez", "role": "Host", "group": "Cast"} in show["podcastPeople"]


class Gpo:
    """gPodder's command line client in its own data and download folders."""

    def __init__(self, root: Path) -> None:
        self.downloads = root / "downloads"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.lower().endswith("_proxy") and key not in ("PYTHONPATH", "VIRTUAL_ENV")
        }
        self.env.update(
            GPODDER_HOME=str(root / "gpodder"),
            GPODDER_DOWNLOAD_DIR=str(self.downloads),
            HOME=str(root),
            LC_ALL="C.UTF-8",
            PYTHONIOENCODING="utf-8",
        )

    def __call__(self, *args: str) -> str:
        done = subprocess.run(
            ["gpo", *args], capture_output=True, text=True, env=self.env, timeout=300, check=False
        )
        assert done.returncode == 0, f"gpo {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done.stdout

    def files(self) -> dict[str, Path]:
        return {sha256(p): p for p in self.downloads.rglob("*") if p.is_file()}


def test_gpodder_subscribes_downloads_every_episode_and_sees_a_new_one(archive, tmp_path):
    require(bool(shutil.which("gpo")), "gPodder's gpo (apt-get install gpodder; .ci/run does)")
    gpo = Gpo(tmp_path)
    assert "Successfully added" in gpo("subscribe", archive.feed_url)
    gpo("update", archive.feed_url)
    listed = gpo("episodes", "--guid", archive.feed_url)
    episodes = archive.public()
    assert all(e["guid"] in listed for e in episodes)
    assert TITLE in listed
    gpo("download", archive.feed_url)
    wanted = {sha256(e["files"]["mp3"]): e["guid"] for e in episodes}
    assert set(gpo.files()) == set(wanted)  # every episode, byte for byte

    new = publish(archive.app, archive.db, "LJ001-0002.wav", title="Late news ñ")
    gpo("update", archive.feed_url)
    listed = gpo("episodes", "--guid", archive.feed_url)
    assert new["guid"] in listed and "Late news ñ" in listed
    gpo("download", archive.feed_url)
    new_mp3 = archive.public()[0]["files"]["mp3"]
    assert sha256(new_mp3) in gpo.files()
    assert len(gpo.files()) == len(episodes) + 1
