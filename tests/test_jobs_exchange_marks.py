"""An incremental export builds again only what changed (#17, migration 0030): an episode
whose change mark is as recorded when it was sent is neither built nor carried; every kind
of write that travels (an edit, a correction, chapters, a tag, consent, artwork, its show, a
new licence) moves its mark and travels; a write that changes nothing is built once; a
renamed station sends everything again."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlite_utils

from radio import create_app
from radio.data import artwork as artworks
from radio.data import trash
from radio.data.consent import Consent, Participant, set_participants
from radio.data.edits import edit_episode, edit_segments, save_chapters
from radio.data.shows import update_show
from radio.data.tags import tag_episode
from radio.jobs import exchange as exchange_job
from radio.jobs.exchange import ExportResult, export_bundle
from radio.media.artwork import check_image, keep_image
from tests.conftest import settings
from tests.exchange_archives import SOURCE, build_source, copy_home, database
from tests.test_jobs_exchange import shared_guids
from transcription.segments import Chapter

ICON = Path(__file__).resolve().parent.parent / "static" / "icon-192.png"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_source(tmp_path_factory.mktemp("alpha") / "home")


class Alpha:
    """The source archive, exporting to one target, with the episodes each export built."""

    def __init__(self, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.home, self.built, self.writes = home, [], 0
        real = exchange_job.episode_document

        def counted(db, home, station, episode, with_originals):  # noqa: ANN001, ANN202
            self.built.append(episode.guid)
            return real(db, home, station, episode, with_originals)

        monkeypatch.setattr(exchange_job, "episode_document", counted)  # a spy: it still builds

    def export(self, station: str = SOURCE) -> ExportResult:
        self.built.clear()
        config = create_app(settings(self.home, STATION_NAME=station)).config
        db = database(self.home)
        try:
            return export_bundle(db, config, self.home.parent / "to-beta.radio")
        finally:
            self.writes = db.conn.total_changes
            db.conn.close()

    def change(self, write: Callable[[sqlite_utils.Database, int], object], guid: str) -> None:
        db = database(self.home)
        try:
            episode_id = db.execute("select id from episodes where guid = ?", [guid]).fetchone()[0]
            write(db, episode_id)
        finally:
            db.conn.close()


@pytest.fixture
def alpha(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Alpha:
    return Alpha(copy_home(built, tmp_path / "alpha"), monkeypatch)


def first(home: Path) -> str:
    return min(shared_guids(home))


def test_nothing_changed_builds_nothing(alpha):
    everything = alpha.export()
    assert sorted(everything.guids) == sorted(shared_guids(alpha.home))
    again = alpha.export()
    assert again.path is None and again.guids == [] and alpha.built == []
    assert alpha.writes == 0, "nothing to export, nothing written: a backup sees no change"


def _correct(db: sqlite_utils.Database, episode_id: int) -> None:
    segment = db.execute("select id from segments where episode_id = ? limit 1", [episode_id])
    assert edit_segments(db, episode_id, None, {segment.fetchone()[0]: "Corrected words."})


def _artwork(db: sqlite_utils.Database, episode_id: int, icon: Path = ICON) -> None:
    image = check_image(icon.read_bytes())
    keep_image(str(database_home(db)), image)
    artworks.record_image(db, image)
    artworks.set_episode_artwork(db, episode_id, image.name)


def database_home(db: sqlite_utils.Database) -> Path:
    return Path(db.execute("pragma database_list").fetchone()[2]).parent


CHANGES = {
    "title": lambda db, i: edit_episode(db, i, None, {"title": "Water committee"}),
    "licence": lambda db, i: edit_episode(db, i, None, {"licence": "cc-by-sa"}),
    "correction": _correct,
    "chapters": lambda db, i: save_chapters(db, i, None, [Chapter(0.0, None, "Opening")]),
    "tag": lambda db, i: tag_episode(db, i, add=["market day"]),
    "consent": lambda db, i: set_participants(db, i, [Participant("Amina", Consent.YES)], None),
    "artwork": _artwork,
}


@pytest.mark.parametrize("kind", CHANGES)
def test_a_change_that_travels_builds_and_carries_only_its_episode(alpha, kind):
    alpha.export()
    guid = first(alpha.home)
    alpha.change(CHANGES[kind], guid)
    again = alpha.export()
    assert alpha.built == [guid], "only the changed episode is built again"
    assert again.guids == again.updated == [guid]
    assert alpha.export().guids == [] and alpha.built == []


def test_a_new_picture_of_the_same_kind_travels(alpha):
    guid = first(alpha.home)
    alpha.change(_artwork, guid)
    alpha.export()
    alpha.change(lambda db, i: _artwork(db, i, ICON.with_name("icon-512.png")), guid)
    again = alpha.export()
    assert again.guids == [guid], "png for png: the picture's name in the bundle moved"
    pictures = [n for n in again_listing(alpha.home) if "/artwork-" in n]
    assert len(pictures) == 1


def again_listing(home: Path) -> list[str]:
    import tarfile

    with tarfile.open(home.parent / "to-beta.radio") as tar:
        return tar.getnames()


def test_a_show_s_new_description_carries_its_episodes(alpha):
    alpha.export()
    alpha.change(
        lambda db, i: update_show(
            db,
            db.execute("select show_id from episodes where id = ?", [i]).fetchone()[0],
            description="Talk every morning.",
        ),
        first(alpha.home),
    )
    again = alpha.export()
    assert sorted(again.guids) == sorted(alpha.built) == sorted(shared_guids(alpha.home))


def test_a_write_that_changes_nothing_that_travels_is_built_once(alpha):
    alpha.export()
    guid = first(alpha.home)
    alpha.change(
        lambda db, i: db.execute("update episodes set title = title where id = ?", [i]), guid
    )
    again = alpha.export()
    assert alpha.built == [guid] and again.guids == [] and again.path is None
    alpha.export()
    assert alpha.built == [], "its new mark was recorded: not built a second time"


def test_a_renamed_station_sends_everything_again(alpha):
    alpha.export()
    again = alpha.export(station="Radio Alpha FM")
    assert sorted(again.guids) == sorted(shared_guids(alpha.home))
    assert alpha.export(station="Radio Alpha FM").guids == []


def test_a_withdrawal_still_travels_without_building_anything(alpha):
    alpha.export()
    guid = first(alpha.home)
    alpha.change(
        lambda db, i: db.execute("update episodes set visibility = 'private' where id = ?", [i]),
        guid,
    )
    again = alpha.export()
    assert again.withdrawn == [guid] and again.guids == [] and alpha.built == []


def test_the_newest_mark_still_moves_after_an_export(alpha):
    """The episode written last holds the newest mark, which a further write leaves as it
    is; the line each export draws makes the next write move it all the same."""
    alpha.export()
    guid = first(alpha.home)
    alpha.change(CHANGES["title"], guid)
    assert alpha.export().guids == [guid]
    alpha.change(_correct, guid)  # the same episode again, nothing written in between
    assert alpha.export().guids == [guid] and alpha.built == [guid]


def test_the_http_catalogue_builds_again_only_what_changed(alpha):
    import hashlib
    import json

    from radio.jobs.exchange import catalogue, served_file

    config = create_app(settings(alpha.home, STATION_NAME=SOURCE)).config
    guid = first(alpha.home)

    def listed() -> dict:
        alpha.built.clear()
        db = database(alpha.home)
        try:
            return json.loads(catalogue(db, config)[0])["files"]
        finally:
            db.conn.close()

    def served_sha256() -> str:
        db = database(alpha.home)
        try:
            return hashlib.sha256(served_file(db, config, guid, "episode.json")).hexdigest()
        finally:
            db.conn.close()

    alpha.export()  # draws a line: no episode's mark is the newest
    first_time = listed()
    assert sorted(alpha.built) == sorted(shared_guids(alpha.home))
    # each request opens the database anew, as after a restart: the parts are kept there
    assert listed() == first_time and alpha.built == []
    alpha.change(CHANGES["title"], guid)
    alpha.change(_correct, guid)  # its mark is the newest now: never kept
    for _ in range(2):
        now = listed()
        assert alpha.built == [guid]
        name = f"episodes/{guid}/episode.json"
        assert now[name]["sha256"] == served_sha256() != first_time[name]["sha256"]
    other = (shared_guids(alpha.home) - {guid}).pop()
    alpha.change(CHANGES["licence"], other)
    listed()
    assert sorted(alpha.built) == sorted([guid, other]), "built once more, kept from now on"
    listed()
    assert alpha.built == [other], "only the newest mark's episode is built at each request"
    db = database(alpha.home)
    try:  # emptying the trash and a destroying takedown delete the kept parts too
        assert "exchange_listed" in dict(trash.referencing_tables(db))
    finally:
        db.conn.close()
