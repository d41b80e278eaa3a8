"""Takedown that really removes (#16 item 4), the must-show test: a real clip processed by
the real pipeline (Whisper tiny.en), published, in every feed and at every media URL; taken
down, it is gone from the next feed build, every media URL answers 410, its transcript and
chapters are gone from pages and search, the audit names who and why; destroyed, its files
and original are gone from disk; a backup made afterwards holds none of it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from radio import create_app
from radio.data import audit, search, trash
from radio.data.episodes import get_episode
from radio.db import connect, database_path
from radio.jobs.takedown import take_down, undo_takedown
from radio.media.store import episode_dir, media_root
from radio.upkeep.backup import backup
from radio.upkeep.restore import restore
from radio.upkeep.verify import verify_backup, verify_home
from radio.web.http.mediacache import PublicMedia
from tests.conftest import clip, settings
from tests.webserver import add_episode, live_server

WHO = audit.Actor("root", None)
WHY = "The speaker withdrew consent"
SAID = "country"  # JFK: "ask not what your country can do for you"


@pytest.fixture
def archive(home: Path):  # noqa: ANN201
    """A real recording, transcribed, published in the show "Speeches", with a chapter."""
    app = create_app(settings(home, TRANSCRIBE=True))
    row = add_episode(app, clip("jfk.flac"), title="Inaugural address", show="Speeches")
    db = connect(database_path(app))
    db.execute("delete from chapters where episode_id = ?", [row["id"]])  # one we know
    db["chapters"].insert(
        {"episode_id": row["id"], "idx": 0, "start": 0.0, "end": 11.0, "title": "Ask not"}
    )
    yield app, db, get_episode(db, row["id"])
    db.conn.close()


FEEDS = (
    "/feeds/all.xml",
    "/feeds/shows/speeches.xml",
    "/feeds/saver/all.xml",
    "/feeds/saver/shows/speeches.xml",
    f"/feeds/search.xml?q={SAID}",
    f"/feeds/saver/search.xml?q={SAID}",
)


def feed_items(server, guid: str) -> dict[str, bool]:  # noqa: ANN001
    found = {}
    for path in FEEDS:
        status, _, body = server.request("GET", path)
        assert status in (200, 404), path  # a show with no public episode left has no feed
        found[path] = status == 200 and guid in etree.fromstring(body).xpath("//item/guid/text()")
    return found


def media_urls(server, guid: str) -> list[str]:  # noqa: ANN001
    """Every address of the episode's media, as its page and feeds hand them out."""
    _, _, body = server.request("GET", "/feeds/all.xml")
    item = next(i for i in etree.fromstring(body).iter("item") if i.findtext("guid") == guid)
    named = item.find("enclosure").get("url").split(server.url, 1)[1]
    stem = named.rsplit("/", 1)[1].rsplit(".", 1)[0]
    urls = [named, f"{named}?download=1"]
    for name in ("audio.mp3", "audio.opus", "audio.m4a", f"{stem}.opus", f"{stem}.m4a"):
        urls.append(f"/media/{guid}/{name}")
    urls.append(f"/media/{guid}/peaks.json")
    urls += [f"/episodes/{guid}/transcript.{fmt}" for fmt in ("vtt", "srt", "json", "txt")]
    urls += [f"/feeds/chapters/{guid}.json", f"/episodes/{guid}/clip.opus?from=0&to=3"]
    return urls


def statuses(server, urls: list[str]) -> dict[str, int]:  # noqa: ANN001
    return {url: server.request("GET", url)[0] for url in urls}


def test_taken_down_gone_from_feeds_media_pages_and_search_at_once(archive):
    app, db, ep = archive
    assert ep.is_public and ep.status == "ready"
    with live_server(app) as server:
        assert all(feed_items(server, ep.guid).values())
        urls = media_urls(server, ep.guid)
        assert set(statuses(server, urls).values()) == {200}
        page = server.request("GET", f"/episodes/{ep.guid}")[2].decode()
        assert SAID in page.lower() and "Ask not" in page
        assert search.search(db, SAID).total == 1

        done = take_down(db, app.config, ep.id, actor=WHO, reason=WHY, destroy=False)
        time.sleep(PublicMedia.RECHECK_S * 5)  # the media fast path's recheck

        assert done.destroyed is False and done.reason == WHY and done.by == "root"
        assert not any(feed_items(server, ep.guid).values())  # the very next build
        gone = statuses(server, urls)
        assert set(gone.values()) == {410}, gone
        status, _, body = server.request("GET", f"/episodes/{ep.guid}")
        assert status == 410
        text = body.decode()
        assert "taken down" in text and SAID not in text.lower() and "Ask not" not in text
        assert WHY not in text  # listeners get the short page; the reason is for the team
        for path in ("/", "/shows/speeches", f"/search?q={SAID}", "/search?q=inaugural"):
            assert ep.guid not in server.request("GET", path)[2].decode(), path
    assert search.search(db, SAID).total == 0
    assert search.search(db, SAID, include_hidden=True).total == 0  # editors' search too
    assert search.search(db, "inaugural", include_hidden=True).total == 0
    # kept: the files and rows are still on this machine, unreachable
    assert episode_dir(app.config["HOME"], ep.guid).is_dir()
    assert db.execute("select count(*) from segments where episode_id = ?", [ep.id]).fetchone()[0]
    # the audit history names who and why, never the content
    (entry,) = audit.entries(db, action="episode.takedown")
    assert (entry.actor, entry.why, entry.subject) == ("root", WHY, f"episode:{ep.id}")
    assert '"destroyed": false' in entry.summary_after
    assert SAID not in (entry.summary_before or "") + (entry.summary_after or "")

    back = undo_takedown(db, ep.id, actor=WHO)
    assert back.is_public and search.search(db, SAID).total == 1
    assert [e.action for e in audit.entries(db, action="episode")][:2] == [
        "episode.takedown_undo",
        "episode.takedown",
    ]


def files_of(home: Path, guid: str) -> list[Path]:
    return [p for p in home.rglob("*") if guid in p.as_posix() and p.is_file()]


def restored_from_backup(home: Path, tmp_path: Path) -> Path:
    """A backup made now, restored into an empty folder; both check out whole."""
    backup(home, tmp_path / "backups")
    assert verify_backup(tmp_path / "backups").problems == []
    assert verify_home(home).problems == []  # the kept files are no problem here either
    target = tmp_path / "restored"
    restore(tmp_path / "backups", target)
    assert verify_home(target).problems == []  # it refers to nothing it lacks
    return target


def assert_nothing_of_it(home: Path, ep, word: str) -> None:  # noqa: ANN001
    """The data folder holds the tombstone only: no file, no content row, no word."""
    assert files_of(home, ep.guid) == []
    assert not (media_root(home) / ep.source_path).exists()
    db = connect(home / "archive.db")
    try:
        for table in ("segments", "renditions", "chapters", "episode_tags", "words"):
            if table in db.table_names():
                found = db.execute(f"select count(*) from {table} where episode_id = ?", [ep.id])
                assert found.fetchone()[0] == 0, table
        assert search.search(db, word, include_hidden=True).total == 0
        assert db.execute("select count(*) from segments_fts where segments_fts match ?",
                          [word]).fetchone()[0] == 0  # fmt: skip
        tomb = get_episode(db, ep.id)
        assert tomb.taken_down_at and tomb.takedown_reason == WHY and tomb.guid == ep.guid
    finally:
        db.conn.close()
    assert word.encode() not in (home / "archive.db").read_bytes()


def test_a_backup_after_a_kept_takedown_holds_none_of_it(archive, tmp_path):
    app, db, ep = archive
    home = Path(app.config["HOME"])
    take_down(db, app.config, ep.id, actor=WHO, reason=WHY, destroy=False)
    assert files_of(home, ep.guid)  # kept here...
    restored = restored_from_backup(home, tmp_path)
    assert_nothing_of_it(restored, ep, SAID)  # ...but not in the backup


def test_destroy_removes_files_original_and_content(archive, tmp_path):
    app, db, ep = archive
    home = Path(app.config["HOME"])
    original = media_root(home) / ep.source_path
    assert original.is_file() and files_of(home, ep.guid)
    done = take_down(db, app.config, ep.id, actor=WHO, reason=WHY, destroy=True)
    assert done.destroyed and done.freed_bytes > 0 and not done.original_kept
    assert not original.exists()
    assert_nothing_of_it_live(db, home, ep)
    (entry,) = audit.entries(db, action="episode.takedown")
    assert '"destroyed": true' in entry.summary_after
    with pytest.raises(Exception, match="destroyed"):
        undo_takedown(db, ep.id, actor=WHO)
    restored = restored_from_backup(home, tmp_path)
    assert_nothing_of_it(restored, ep, SAID)


def assert_nothing_of_it_live(db, home: Path, ep) -> None:  # noqa: ANN001
    assert files_of(home, ep.guid) == []
    for table in ("segments", "renditions", "chapters", "episode_tags"):
        found = db.execute(f"select count(*) from {table} where episode_id = ?", [ep.id])
        assert found.fetchone()[0] == 0, table
    assert search.search(db, SAID, include_hidden=True).total == 0
    tomb = get_episode(db, ep.id)
    assert (tomb.guid, tomb.title, tomb.takedown_reason) == (ep.guid, ep.title, WHY)
    assert tomb.source_path is None and tomb.peaks_path is None and tomb.takedown_destroyed


def test_destroy_keeps_an_original_another_episode_shares(app, db, seed):
    home = Path(app.config["HOME"])
    a = seed.recording(clip("jfk.flac"), title="First")
    trash.move_to_trash(db, a.id, None)  # the same bytes again make a new episode
    b = seed.recording(clip("jfk.flac"), title="Second")
    assert a.source_path == b.source_path
    done = take_down(db, app.config, b.id, actor=WHO, reason=WHY, destroy=True)
    assert done.original_kept
    assert (media_root(home) / a.source_path).is_file()
    assert get_episode(db, a.id).source_path == a.source_path  # the other is untouched


def test_a_reason_is_required(app, db, seed):
    episode_id = seed.episode("Market day", [(0.0, 2.0, "maize prices")])
    with pytest.raises(Exception, match="Say why"):
        take_down(db, app.config, episode_id, actor=WHO, reason="  ", destroy=False)
    assert get_episode(db, episode_id).taken_down_at is None
