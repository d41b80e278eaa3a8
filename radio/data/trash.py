"""The trash: deleted episodes, kept (rows and files) until it is emptied.

Deleting marks the row (``episodes.deleted_at``, ``deleted_by``); the one visibility rule
(``radio.data.episodes.public_sql``, ``live_sql``) and ``find_episode`` leave it out of every
page, feed, search and media URL from that commit on. Restoring clears the mark. Emptying
(``remove_rows``) deletes the episode's rows from every table that references it, found
from the schema's foreign keys so a table added later is never forgotten; the search
indexes follow through their triggers. Its files are ``radio.upkeep.trash``'s to remove.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlite_utils

from radio.data import audit
from radio.data.episodes import Episode, EpisodeNotFound, get_episode
from radio.data.errors import Invalid, NotFound
from radio.db import transaction, utcnow
from radio.i18n import _


class NotInTrash(NotFound):
    def __init__(self, ref: object) -> None:
        super().__init__(
            _("Episode {episode} isn't in the trash. `radio trash` lists what is.").format(
                episode=ref
            )
        )


@dataclass(frozen=True)
class Trashed:
    """A deleted episode as the trash lists it."""

    id: int
    guid: str
    title: str
    show_title: str | None
    deleted_at: str
    deleted_by: str | None  # the account's name; None: from the command line
    source_path: str | None
    source_sha256: str
    artwork: str | None


def move_to_trash(db: sqlite_utils.Database, episode_id: int, user_id: int | None) -> Episode:
    """Delete an episode: gone for everyone at once, kept in the trash until emptied."""
    episode = get_episode(db, episode_id)
    if episode.deleted_at:
        raise Invalid(_("Episode {episode} is already in the trash.").format(episode=episode_id))
    with transaction(db) as conn:
        conn.execute(
            "update episodes set deleted_at = ?, deleted_by = ? "
            "where id = ? and deleted_at is null",
            [utcnow(), user_id, episode_id],
        )
        audit.record(
            conn,
            audit.account(conn, user_id),
            "episode.delete",
            audit.subject("episode", episode_id),
            before={"guid": episode.guid, "title": episode.title},
            after={"in_trash": True},
        )
    return get_episode(db, episode_id)


def restore(db: sqlite_utils.Database, ref: int | str) -> Episode:
    """Take an episode out of the trash, as it was."""
    try:
        episode = get_episode(db, ref)
    except EpisodeNotFound:
        raise NotInTrash(ref) from None
    if not episode.deleted_at:
        raise NotInTrash(ref)
    try:
        db.execute(
            "update episodes set deleted_at = null, deleted_by = null where id = ?", [episode.id]
        )
    except sqlite3.IntegrityError:  # the live-episode unique index on source_sha256
        (other,) = db.execute(
            "select id from episodes where source_sha256 = ? and deleted_at is null",
            [episode.source_sha256],
        ).fetchone()
        raise Invalid(
            _(
                "Episode {episode} can't come back: the same recording was taken in again "
                "since, as episode {other}. Delete that one first, or keep it."
            ).format(episode=episode.id, other=other)
        ) from None
    return get_episode(db, episode.id)


_TRASHED = (
    "select e.id, e.guid, e.title, s.title as show_title, e.deleted_at, u.name as deleted_by, "
    "e.source_path, e.source_sha256, e.artwork from episodes e "
    "left join shows s on s.id = e.show_id left join users u on u.id = e.deleted_by "
    "where e.deleted_at is not null"
)


def trashed(db: sqlite_utils.Database, *, older_than_days: float | None = None) -> list[Trashed]:
    """What the trash holds, longest there first; with ``older_than_days``, only what was
    deleted at least that long ago."""
    sql, params = _TRASHED, []
    if older_than_days is not None:
        cutoff = datetime.now(UTC) - timedelta(days=older_than_days)
        sql += " and e.deleted_at <= ?"
        params.append(cutoff.strftime("%Y-%m-%dT%H:%M:%SZ"))
    return [Trashed(**row) for row in db.query(sql + " order by e.deleted_at, e.id", params)]


def find_trashed(db: sqlite_utils.Database, ref: int | str) -> Trashed:
    try:
        episode = get_episode(db, ref)
    except EpisodeNotFound:
        raise NotInTrash(ref) from None
    found = [t for t in db.query(_TRASHED + " and e.id = ?", [episode.id])]
    if not found:
        raise NotInTrash(ref)
    return Trashed(**found[0])


def shares_original(db: sqlite_utils.Database, item: Trashed) -> bool:
    """Whether another episode (live or in the trash) uses the same original file."""
    return bool(
        db.execute(
            "select 1 from episodes where id != ? and (source_path = ? or source_sha256 = ?) "
            "limit 1",
            [item.id, item.source_path, item.source_sha256],
        ).fetchone()
    )


def remove_rows(
    db: sqlite_utils.Database, episode_id: int, actor: audit.Actor = audit.SYSTEM
) -> None:
    """Delete a trashed episode's rows everywhere, in one transaction. The audit history
    names episodes by text, not by foreign key, so it stays (and records this)."""
    tables = referencing_tables(db)
    with transaction(db) as conn:
        row = conn.execute(
            "select guid, title from episodes where id = ? and deleted_at is not null",
            [episode_id],
        ).fetchone()
        if row is None:
            raise NotInTrash(episode_id)
        audit.record(
            conn,
            actor,
            "trash.empty",
            audit.subject("episode", episode_id),
            before={"guid": row[0], "title": row[1]},
            after={"removed": True},
        )
        for table, columns in tables:
            for column in columns:
                conn.execute(f'delete from "{table}" where "{column}" = ?', [episode_id])
        conn.execute("delete from episodes where id = ?", [episode_id])


def referencing_tables(db: sqlite_utils.Database) -> list[tuple[str, list[str]]]:
    """(table, its columns naming an episode) for every table with a foreign key to
    ``episodes``, those referenced by others of them last (``transcript_edits`` before
    ``segments``), so the deletes never break a foreign key."""
    refs: dict[str, list[str]] = {}
    parents: dict[str, set[str]] = {}
    for table in db.table_names():
        keys = db[table].foreign_keys
        columns = [k.column for k in keys if k.other_table == "episodes"]
        if columns:
            refs[table] = columns
        parents[table] = {k.other_table for k in keys}
    ordered: list[str] = []
    pending = set(refs)
    while pending:
        # a table goes once no pending table still points at it
        ready = sorted(t for t in pending if not any(t in parents[o] for o in pending - {t}))
        if not ready:  # a cycle: delete in name order and let the transaction tell
            ready = sorted(pending)
        ordered += ready
        pending -= set(ready)
    return [(table, refs[table]) for table in ordered]
