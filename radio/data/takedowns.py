"""Takedowns (#16 item 4): the SQL for the episodes' takedown columns and for erasing a
taken-down episode's content.

Taking an episode down marks its row (``taken_down_at``, ``taken_down_by``,
``takedown_reason``); the one visibility rule (``radio.data.episodes.live_sql``, which
``public_sql`` includes) leaves it out of every page, feed, search and media URL for
everyone, editors included, from that commit on. The row stays as a tombstone, so its URLs
answer 410 and the audit history can name it.

Destroying it (``erase_content``) deletes its rows from every table that refers to it
(found from the schema's foreign keys, as the trash does, so a table added later is never
forgotten) but the records about it (``KEPT_TABLES``: its receipt, the requests and the
redactions, which hold who and why, never content), and empties the row down to the
tombstone: guid, title, when, by whom, why. A backup's copy of the database gets the same
treatment (``scrub_copy``), so a restore never brings a taken-down episode back.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import requests
from radio.data.episodes import Episode, get_episode
from radio.data.errors import Invalid
from radio.data.trash import referencing_tables
from radio.db import connect
from radio.i18n import _

MAX_REASON_CHARS = 500  # as the audit keeps a why
# Records about the episode, not its content: a takedown keeps them (the receipt still opens).
KEPT_TABLES = frozenset({"receipts", "requests", "redactions"})


@dataclass(frozen=True)
class Withheld:
    """A taken-down episode's files, as a backup leaves them out."""

    guid: str
    original: str | None  # path under media/; None: none, or another live episode shares it


def check_reason(reason: str | None) -> str:
    text = " ".join((reason or "").split())
    if not text:
        raise Invalid(str(_("Say why it is taken down: the reason is kept in the audit history.")))
    if len(text) > MAX_REASON_CHARS:
        raise Invalid(
            _("The reason is too long; use at most {limit} characters.").format(
                limit=MAX_REASON_CHARS
            )
        )
    return text


def by_guid(db: sqlite_utils.Database, guid: str) -> Episode | None:
    """The episode with exactly this guid, taken down or not (not in the trash)."""
    row = db.execute(
        "select id from episodes where guid = ? and deleted_at is null", [guid]
    ).fetchone()
    return get_episode(db, row[0]) if row else None


def find_taken_down(db: sqlite_utils.Database, guid: str) -> Episode | None:
    """The taken-down episode with this guid, or None (no such episode, or not taken down)."""
    row = db.execute(
        "select id from episodes where guid = ? and taken_down_at is not null", [guid]
    ).fetchone()
    return get_episode(db, row[0]) if row else None


def mark(conn: Any, episode_id: int, by: str, reason: str, now: str) -> None:
    """Take it down, inside the caller's transaction (with its audit entry)."""
    conn.execute(
        "update episodes set taken_down_at = coalesce(taken_down_at, ?), taken_down_by = ?, "
        "takedown_reason = ?, updated_at = ? where id = ?",
        [now, by, reason, now, episode_id],
    )


def unmark(conn: Any, episode_id: int, now: str) -> None:
    """Bring a kept (not destroyed) takedown back, inside the caller's transaction."""
    conn.execute(
        "update episodes set taken_down_at = null, taken_down_by = null, "
        "takedown_reason = null, updated_at = ? where id = ? and takedown_destroyed = 0",
        [now, episode_id],
    )


def shares_original(db: sqlite_utils.Database | Any, episode: Episode, *, live: bool) -> bool:
    """Whether another episode uses the same original file (``live``: only one that is
    neither taken down nor in the trash, as a backup asks)."""
    alive = " and taken_down_at is null and deleted_at is null" if live else ""
    return bool(
        db.execute(
            "select 1 from episodes where id != ? and (source_path = ? or source_sha256 = ?)"
            f"{alive} limit 1",
            [episode.id, episode.source_path, episode.source_sha256],
        ).fetchone()
    )


def erase_content(db: sqlite_utils.Database, conn: Any, episode_id: int) -> None:
    """Delete the episode's content rows everywhere and empty its row down to the
    tombstone, inside the caller's transaction (``conn``; ``db`` reads the schema)."""
    for table, columns in referencing_tables(db):
        if table in KEPT_TABLES:
            continue
        for column in columns:
            conn.execute(f'delete from "{table}" where "{column}" = ?', [episode_id])
    requests.forget_texts(conn, episode_id)  # kept, but their quotes of it go
    conn.execute(
        "update episodes set description = '', speakers = null, peaks_path = null, "
        "source_path = null, source_name = null, artwork = null, review_note = null, "
        "error = null, takedown_destroyed = 1 where id = ?",
        [episode_id],
    )
    # Keyphrases (and editors' own tags) come from its words: those nothing else uses go
    # too. The station's topics (taxonomy) are not its content and stay.
    conn.execute(
        "delete from tags where kind in ('keyphrase', 'manual') "
        "and not exists (select 1 from episode_tags et where et.tag_id = tags.id)"
    )


def taken_down(db: sqlite_utils.Database) -> list[Episode]:
    rows = db.execute("select id from episodes where taken_down_at is not null").fetchall()
    return [get_episode(db, row[0]) for row in rows]


def scrub_copy(path: str | Path) -> list[Withheld]:
    """In a backup's copy of the database: erase every taken-down episode's content (the
    tombstone stays), purge the search indexes and free pages of it, and say which files
    the backup must leave out. The copy stays a single file (rollback journal)."""
    db = connect(path)
    try:
        gone = taken_down(db)
        withheld = [
            Withheld(e.guid, None if shares_original(db, e, live=True) else e.source_path)
            for e in gone
        ]
        if gone:
            db.conn.execute("PRAGMA secure_delete=ON")
            db.conn.execute("begin immediate")
            try:
                for episode in gone:
                    erase_content(db, db.conn, episode.id)
            except BaseException:
                db.conn.execute("rollback")
                raise
            db.conn.execute("commit")
            _optimize_search_indexes(db.conn)
        db.conn.execute("PRAGMA journal_mode=DELETE")
        if gone:
            db.conn.execute("VACUUM")  # no page of the copy keeps a deleted row
    finally:
        db.conn.close()
    return withheld


def _optimize_search_indexes(conn: sqlite3.Connection) -> None:
    """FTS5 keeps a deleted row's words in its older index segments until they merge;
    'optimize' merges them all now, so the words are gone from the file too."""
    names = [
        row[0]
        for row in conn.execute(
            # fts5( and not fts5vocab(: a vocabulary table is a read-only view of an index
            "select name from sqlite_master where type = 'table' and sql like '%using fts5(%'"
        )
    ]
    for name in names:
        conn.execute(f'insert into "{name}"("{name}") values (\'optimize\')')
