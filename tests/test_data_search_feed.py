"""radio.data.search_feed: a saved search's episodes, kept between feed builds, always the
ones matching_episodes_sql finds (new transcripts, corrections, cuts, titles)."""

from __future__ import annotations

import sqlite_utils

from radio.data.search import matching_episodes_sql
from radio.data.search_feed import search_feed_sql
from radio.data.transcripts import delete_segments
from radio.db import transaction
from tests.archive import Seeder


def found(db: sqlite_utils.Database, text: str, sql_of=search_feed_sql) -> set[int]:  # noqa: ANN001
    where, params = sql_of(db, text) if sql_of is search_feed_sql else sql_of(text)
    rows = db.execute(f"select e.id from episodes e where {where}", params).fetchall()
    return {r[0] for r in rows}


def check(db: sqlite_utils.Database, text: str) -> set[int]:
    expected = found(db, text, lambda t: matching_episodes_sql(t))
    assert found(db, text) == expected
    return expected


def test_kept_matches_follow_every_change_to_transcripts_and_titles(
    seed: Seeder, db: sqlite_utils.Database
) -> None:
    well = seed.episode("Morning", [(0, 5, "the well is dry"), (5, 9, "rain soon")])
    seed.episode("Evening", [(0, 5, "market prices")])
    assert check(db, "well") == {well}
    fresh = seed.episode("Noon", [(0, 4, "a new well opened")])  # appended: added to kept
    assert check(db, "well") == {well, fresh}
    segment_id = db.execute("select id from segments where episode_id = ?", [well]).fetchone()[0]
    db["segments"].update(segment_id, {"text": "the borehole is dry"})  # a correction
    assert check(db, "well") == {fresh}
    titled = seed.episode("Well repairs", [(0, 3, "nothing said of it")])
    assert check(db, "well") == {fresh, titled}
    with transaction(db) as conn:  # a redaction's cut
        delete_segments(conn, [r[0] for r in db.execute(
            "select id from segments where episode_id = ?", [fresh]).fetchall()])  # fmt: skip
    assert check(db, "well") == {titled}


def with_mp3(db: sqlite_utils.Database, episode_id: int) -> int:
    db["renditions"].insert({"episode_id": episode_id, "kind": "mp3", "path": "x.mp3",
                             "bytes": 1000, "mime": "audio/mpeg"})  # fmt: skip
    return episode_id


def test_a_feeds_kept_total_follows_what_it_lists(seed: Seeder, db: sqlite_utils.Database) -> None:
    from radio.data.feeds import FeedSpec, feed_page

    def pages(key: str = "") -> int:
        spec = FeedSpec("search", key) if key else FeedSpec("all")
        return feed_page(db, spec, limit=1).pages

    first = with_mp3(db, seed.episode("Morning", [(0, 4, "the well")]))
    with_mp3(db, seed.episode("Evening", [(0, 4, "the well again")]))
    assert pages() == 2 and pages("well") == 2
    db["episodes"].update(first, {"title": "Morning (edited)"})
    assert pages() == 2
    db["episodes"].update(first, {"visibility": "private"})
    assert pages() == 1 and pages("well") == 1
    third = seed.episode("Noon", [(0, 4, "a well")])
    assert pages() == 1  # no MP3 yet: not listed
    with_mp3(db, third)
    assert pages() == 2 and pages("well") == 2
