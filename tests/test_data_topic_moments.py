"""Topic moments stored when an episode is tagged (#17): read by topic pages, and never
stale after a correction, a redaction's cuts, a retranscription or a takedown."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlite_utils
from flask import Flask

from radio.config import load_station_taxonomy
from radio.data import topic_moments
from radio.data.edits import edit_segments
from radio.data.swaps import Provenance, swap_staged
from radio.data.tags import tag_episode
from radio.data.takedowns import erase_content
from radio.data.transcripts import add_staged, delete_segments, load_segments, rewrite_segment
from radio.db import transaction
from radio.jobs.topics import moments_for_topic
from tests.archive import Seeder
from tests.test_jobs_topics import STATION_TAXONOMY, add_episode, run_step
from transcription.segments import Segment


@pytest.fixture
def station(app: Flask, home: Path) -> Path:
    (home / "taxonomy.toml").write_text(STATION_TAXONOMY, encoding="utf-8")
    return home


def stored_slugs(db: sqlite_utils.Database, episode_id: int) -> set[str]:
    rows = db.execute("select slug from topic_moments where episode_id = ?", [episode_id])
    return {r[0] for r in rows.fetchall()}


def fresh(db: sqlite_utils.Database, slug: str, station: Path) -> list[tuple]:
    """The topic's moments computed from the transcripts now, nothing stored used."""
    db.execute("delete from topic_moments")
    db.conn.commit()
    return [(m.episode_id, m.start, m.text) for m in moments_for_topic(
        db, slug, load_station_taxonomy(station))]  # fmt: skip


def shown(db: sqlite_utils.Database, slug: str, station: Path) -> list[tuple]:
    found = moments_for_topic(db, slug, load_station_taxonomy(station))
    return [(m.episode_id, m.start, m.text) for m in found]


def tagged(seed: Seeder, app: Flask, db: sqlite_utils.Database) -> int:
    episode_id = add_episode(seed)
    run_step(app, db, episode_id)
    return episode_id


def test_tagging_stores_each_topics_moments_as_computed_from_the_transcript(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    episode_id = tagged(seed, app, db)
    assert {"printing", "telephone-service"} <= stored_slugs(db, episode_id)
    # stored: the station's topics scored together; fresh: each on its own, as before
    for slug in ("telephone-service", "printing"):
        run_step(app, db, episode_id)
        from_store = shown(db, slug, station)
        assert from_store and from_store == fresh(db, slug, station)
    # an editor's own tag: computed on first view, then stored
    tag_episode(db, episode_id, add=["movable types"])
    assert "movable-types" not in stored_slugs(db, episode_id)
    (moment,) = shown(db, "movable-types", station)
    assert "movable" in moment[2] and "movable-types" in stored_slugs(db, episode_id)


def test_a_correction_replaces_the_stored_quote(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    episode_id = tagged(seed, app, db)
    (_, at, text), *_ = shown(db, "telephone-service", station)
    segment_id = db.execute(
        "select id from segments where episode_id = ? order by abs(start - ?) limit 1",
        [episode_id, at],
    ).fetchone()[0]
    user = db["users"].insert({"name": "ed", "role": "editor", "password_hash": "x",
                               "created_at": "2026-01-01T00:00:00Z"}).last_pk  # fmt: skip
    edit_segments(db, episode_id, user, {segment_id: text + " corrected"})
    assert stored_slugs(db, episode_id) == set()  # forgotten at once, by the triggers
    assert shown(db, "telephone-service", station)[0][2] == text + " corrected"


def test_cut_and_rewritten_segments_take_their_moments_with_them(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    """What a redaction does to a transcript (radio.jobs.redact._commit): the passage's
    segments deleted or shortened; its retag stores the moments again."""
    episode_id = tagged(seed, app, db)
    before = shown(db, "telephone-service", station)
    said = {s: t for _, s, t in before}
    rows = db.execute(
        "select id, start, end from segments where episode_id = ? and start >= 58 "
        "and start < 136 order by idx", [episode_id]).fetchall()  # fmt: skip
    with transaction(db) as conn:
        first_id, start, end = rows[0]
        rewrite_segment(conn, first_id, Segment(start, end, "[removed]", ()))
        delete_segments(conn, [r[0] for r in rows[1:]])
    assert stored_slugs(db, episode_id) == set()
    after = shown(db, "telephone-service", station)
    assert all(text != said.get(at) or at < 58 for _, at, text in after)
    run_step(app, db, episode_id)  # the redaction's retag
    assert shown(db, "telephone-service", station) == fresh(db, "telephone-service", station)


def test_a_retranscription_swap_and_a_takedown_leave_no_old_moment(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    episode_id = tagged(seed, app, db)
    other = tagged(seed, app, db)
    kept = shown(db, "printing", station)
    new_words = [Segment(s.start, s.end, s.text.replace("phone", "telephone"), s.words)
                 for s in load_segments(db, episode_id)]  # fmt: skip
    add_staged(db, episode_id, new_words, 0)
    swap_staged(db, episode_id, lambda _c, _s: {}, Provenance("base", "en", 1.0, None))
    assert stored_slugs(db, episode_id) == set() and stored_slugs(db, other)
    run_step(app, db, episode_id)
    assert shown(db, "printing", station) == kept  # same words there: same moments
    with transaction(db) as conn:
        erase_content(db, conn, other)
    assert stored_slugs(db, other) == set()
    assert topic_moments.stored(db, "printing", {other: "x"}) == {}
