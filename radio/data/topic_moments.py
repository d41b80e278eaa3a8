"""Where each episode talks about each of its topics, stored when it is tagged (#17).

A topic page quotes, for each of its episodes, the moments the topic comes up; finding them
scores the episode's whole transcript (about 50 ms an episode at 10,000 hours' length of
segments, ten a page). They are stored here by ``radio.jobs.topics`` when an episode is
tagged or retagged, and read by the topic page. Migration 0026's triggers delete an
episode's rows as soon as any of its segments is added, removed, or changes its text or
timing (corrections, redaction, retranscription) and a topic's rows when its tag is deleted
or renamed; each row also keeps ``basis``, a digest of what it was computed from (the
topic's words or the tag's label, and the episode's language), and a row whose basis
differs is not used. So a stored moment is either true or absent, never stale.

``topic_moments`` is this module's table.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable

import sqlite_utils

logger = logging.getLogger(__name__)

Found = list[tuple[float, str]]  # (seconds into the episode, what was said there)


def basis(*parts: object) -> str:
    """A short digest of what moments are computed from."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:24]


def stored(db: sqlite_utils.Database, slug: str, wanted: dict[int, str]) -> dict[int, Found]:
    """The stored moments of ``slug`` in the episodes of ``wanted`` (episode id -> the basis
    they must have been computed from); an episode without them is missing."""
    if not wanted:
        return {}
    marks = ",".join("?" * len(wanted))
    rows = db.execute(
        f"select episode_id, basis, moments from topic_moments "
        f"where slug = ? and episode_id in ({marks})",
        [slug, *wanted],
    ).fetchall()
    return {
        episode_id: [(float(at), text) for at, text in json.loads(moments)]
        for episode_id, made_from, moments in rows
        if wanted[episode_id] == made_from
    }


def store(
    db: sqlite_utils.Database, episode_id: int, found: Iterable[tuple[str, str, Found]]
) -> None:
    """Keep an episode's moments: (slug, basis, moments) for each topic."""
    rows = [
        (episode_id, slug, made_from, json.dumps([[at, text] for at, text in moments]))
        for slug, made_from, moments in found
    ]
    with db.conn:
        db.conn.executemany(
            "insert or replace into topic_moments (episode_id, slug, basis, moments) "
            "values (?, ?, ?, ?)",
            rows,
        )


def store_quietly(
    db: sqlite_utils.Database, episode_id: int, found: Iterable[tuple[str, str, Found]]
) -> None:
    """``store`` from a listener's request: the archive busy writing (a worker holding the
    lock) only means they are computed again next time."""
    try:
        store(db, episode_id, found)
    except sqlite3.OperationalError as e:
        logger.info("topic moments of episode %d not stored now: %s", episode_id, e)
