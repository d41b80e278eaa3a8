"""radio.data.facets' lists kept by episode (migration 0029): after every kind of change,
for listeners and for editors, each list is the one its own query makes from scratch,
whether it was read again for the touched episodes only or whole."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlite_utils

from radio.data import facets
from radio.data.episodes import languages
from radio.data.requests import ask_takedown
from radio.data.shows import shows
from radio.data.tags import TagKind, list_topics
from tests.archive import Seeder


def expected(db: sqlite_utils.Database, hidden: bool) -> dict[str, list]:
    return {
        "shows": shows(db, include_hidden=hidden),
        "languages": languages(db, include_hidden=hidden),
        "topics": list_topics(db, public_only=not hidden, kind=TagKind.TAXONOMY),
        "all topics": list_topics(db, public_only=not hidden),
        "speakers": facets.archive_speakers(db, include_hidden=hidden),
    }


def kept(db: sqlite_utils.Database, hidden: bool) -> dict[str, list]:
    return {
        "shows": facets.shows_listed(db, hidden),
        "languages": facets.languages_listed(db, hidden),
        "topics": facets.station_topics_listed(db, hidden),
        "all topics": facets.topics_listed(db, hidden),
        "speakers": facets.speakers_listed(db, hidden),
    }


def tag(db: sqlite_utils.Database, episode_id: int, slug: str, kind: str = "taxonomy") -> int:
    found = db.execute("select id from tags where slug = ?", [slug]).fetchone()
    tag_id = found[0] if found else db["tags"].insert(
        {"slug": slug, "label": slug.title(), "kind": kind}).last_pk  # fmt: skip
    db["episode_tags"].insert({"episode_id": episode_id, "tag_id": tag_id, "source": "manual",
                               "score": 1.0, "removed": 0})  # fmt: skip
    return tag_id


@pytest.fixture
def archive(seed: Seeder, db: sqlite_utils.Database) -> list[int]:
    facets.forget()
    ids = [
        seed.episode("Morning", [(0, 4, "the well", "Amina"), (4, 8, "yes", "Speaker 2")],
                     show="Talk"),
        seed.episode("Evening", [(0, 4, "market", "Joseph")], show="News", language="fr"),
        seed.episode("Noon", [(0, 4, "rain", "Émile")], show="talk back"),
        seed.episode("Draft", [(0, 4, "secret", "Zainab")], show="Hidden", visibility="draft"),
    ]  # fmt: skip
    tag(db, ids[0], "water"), tag(db, ids[1], "water"), tag(db, ids[2], "health")
    tag(db, ids[3], "farming")
    return ids


def changes(db: sqlite_utils.Database, seed: Seeder, ids: list[int]) -> list[Callable[[], object]]:
    """Every kind of write a list depends on, each touching one episode or the whole."""
    return [
        lambda: db["episodes"].update(ids[0], {"title": "Renamed"}),  # lists unchanged
        lambda: db["episodes"].update(ids[1], {"visibility": "private"}),  # hidden
        lambda: db["episodes"].update(ids[3], {"visibility": "public"}),  # published
        lambda: db["participants"].insert(
            {"episode_id": ids[3], "idx": 0, "name": "Zainab", "consent": "pending"}
        ),  # fmt: skip
        lambda: db["participants"].update((ids[3], 0), {"consent": "yes"}),
        lambda: ask_takedown(db, ids[2], "please"),  # held while open
        lambda: db.execute("update requests set status = 'refused'"),
        lambda: db.execute(
            "update segments set speaker = 'Amina K' where episode_id = ?", [ids[0]]
        ),  # fmt: skip
        lambda: db.execute("update episode_tags set removed = 1 where episode_id = ?", [ids[2]]),
        lambda: tag(db, ids[2], "farming"),
        lambda: tag(db, ids[0], "solar pumps", kind="keyphrase"),
        lambda: tag(db, ids[1], "solar pumps", kind="keyphrase"),
        lambda: db["episodes"].update(ids[2], {"language": "sw", "recorded_at": "2026-01-02"}),
        lambda: db["episodes"].update(
            ids[0], {"show_id": ids and db["episodes"].get(ids[1])["show_id"]}
        ),  # moved to another show  # fmt: skip
        lambda: db["shows"].update(db["episodes"].get(ids[1])["show_id"], {"title": "A news"}),
        lambda: db.execute("update tags set label = 'Agriculture' where slug = 'farming'"),
        lambda: db["episodes"].update(ids[2], {"deleted_at": "2026-12-01T00:00:00+00:00"}),
        lambda: seed.episode("Late", [(0, 3, "hello", "Kofi")], show="Talk", language="pt"),
        lambda: db.execute("delete from episode_tags where episode_id = ?", [ids[1]]),
    ]


@pytest.mark.parametrize("hidden", [False, True])
def test_each_list_is_the_one_made_from_scratch_after_every_change(
    archive: list[int], seed: Seeder, db: sqlite_utils.Database, hidden: bool
) -> None:
    assert kept(db, hidden) == expected(db, hidden)
    for change in changes(db, seed, archive):
        change()
        assert kept(db, hidden) == expected(db, hidden), change
        assert kept(db, hidden) == expected(db, hidden)  # and when nothing changed since


def test_a_hidden_episodes_people_and_show_leave_at_once(
    archive: list[int], db: sqlite_utils.Database
) -> None:
    assert "Amina" in facets.speakers_listed(db, False)
    assert "Talk" in [s.title for s in facets.shows_listed(db, False)]
    db["episodes"].update(archive[0], {"visibility": "private"})
    assert "Amina" not in facets.speakers_listed(db, False)
    assert "Talk" not in [s.title for s in facets.shows_listed(db, False)]
    assert "Amina" in facets.speakers_listed(db, True)  # editors still see it


def test_many_episodes_touched_at_once_are_read_whole(
    archive: list[int], seed: Seeder, db: sqlite_utils.Database
) -> None:
    before = facets.shows_listed(db, False)
    more = [seed.episode(f"Extra {n}", show="Bulk") for n in range(facets.MAX_TOUCHED + 5)]
    assert facets.shows_listed(db, False) == shows(db) != before
    db.execute(f"update episodes set visibility = 'private' where id >= {more[0]}")
    assert facets.shows_listed(db, False) == shows(db) == before


@pytest.mark.parametrize(("show", "since"), [(None, None), ("talk", None), (None, "2026-01")])
def test_a_searchs_filtered_episodes_follow_every_change(
    archive: list[int],
    seed: Seeder,
    db: sqlite_utils.Database,
    show: str | None,
    since: str | None,
) -> None:
    from radio.data.search import _filters
    from radio.data.search_common import _read_filtered, filtered_episodes

    where, named = _filters(show, None, since, None, None, None, False)
    listed = []

    def same() -> None:
        kept, fresh = filtered_episodes(db, where, named), _read_filtered(db, where, named)
        listed.append(len(fresh))
        assert [r for r in kept if r.hi is not None] == [r for r in fresh if r.hi is not None]
        assert sorted(r.episode_id for r in kept) == sorted(r.episode_id for r in fresh)

    same()
    for change in changes(db, seed, archive):
        change()
        same()
    assert max(listed) > 0 and len(set(listed)) > 1  # the changes changed what it lists


def test_a_feeds_total_follows_every_change(
    archive: list[int], seed: Seeder, db: sqlite_utils.Database
) -> None:
    from radio.data.feeds import FeedNotFound, FeedSpec, feed_page
    from tests.test_data_search_feed import with_mp3

    for episode_id in archive:
        with_mp3(db, episode_id)
    specs = [FeedSpec("all"), FeedSpec("show", "talk"), FeedSpec("topic", "water"),
             FeedSpec("search", "well OR market OR rain OR secret")]  # fmt: skip

    def pages(spec: FeedSpec) -> int | None:
        try:
            return feed_page(db, spec, limit=1).pages
        except FeedNotFound:
            return None

    def from_scratch(spec: FeedSpec) -> int | None:
        kept = dict(facets._kept)
        facets._kept.clear()
        try:
            return pages(spec)
        finally:
            facets._kept.clear()
            facets._kept.update(kept)

    seen = set()
    for change in [lambda: None, *changes(db, seed, archive)]:
        change()
        for spec in specs:
            assert pages(spec) == from_scratch(spec), (spec, change)
            seen.add((spec.kind, pages(spec)))
    assert len(seen) > len(specs)  # the totals did change
