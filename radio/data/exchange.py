"""Programmes between stations (#17): the SQL of what came in (``exchange_imports``,
migration 0024), which episodes may leave the archive, and the one transaction that adds an
imported episode. What went out is ``radio.data.exchange_sent``.

An episode may be exported when listeners may have it (``public_sql``: ready, public, not
scheduled, not deleted, not taken down, everyone heard said yes) and its licence lets
another station pass it on: CC BY, CC BY-SA, CC0, and CC BY-NC (community stations are
non-commercial; the receiving station must stay so). All rights reserved, or no licence
stated, keeps it home. The import checks the same rule again (defence in depth).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data import audit, episodes, processing, renditions, tags, transcripts
from radio.data.episodes import Episode, EpisodeStatus, by_ids, public_sql
from radio.data.processing import StepName
from radio.db import transaction, utcnow
from transcription.segments import Chapter, Segment, Word

SHAREABLE_LICENCES = ("cc-by", "cc-by-sa", "cc-by-nc", "cc0")


@dataclass(frozen=True)
class Origin:
    """Where an imported episode came from."""

    station: str
    fingerprint: str  # the key that signed the bundle it came in
    guid: str
    licence: str | None
    signed_by: str | None
    imported_at: str
    origin_fingerprint: str | None = None  # the key of the station that made it (relays)


@dataclass(frozen=True)
class Selection:
    episodes: list[Episode]  # may leave, oldest first
    no_licence: int  # public, but no licence stated
    reserved: int  # public, but all rights reserved


def licence_shareable(code: str | None) -> bool:
    return code in SHAREABLE_LICENCES


def select_exportable(
    db: sqlite_utils.Database,
    *,
    show: str | None = None,
    since: str | None = None,
    leave_out: set[str] | frozenset[str] = frozenset(),
) -> Selection:
    """What listeners may have (filtered by show slug and publication date), split by
    whether its licence lets it travel; ``leave_out``: GUIDs not to load (the target has
    them as they are)."""
    where, params = [public_sql("e")], []
    if show:
        where.append("e.show_id = (select id from shows where slug = ?)")
        params.append(show)
    if since:
        where.append("coalesce(e.published_at, e.created_at) >= ?")
        params.append(since)
    rows = db.execute(
        f"select e.id, e.licence, e.guid from episodes e where {' and '.join(where)} "
        "order by coalesce(e.published_at, e.created_at), e.id",
        params,
    ).fetchall()
    ok = [r[0] for r in rows if licence_shareable(r[1]) and r[2] not in leave_out]
    found = by_ids(db, ok)
    return Selection(
        [found[i] for i in ok],
        no_licence=sum(1 for r in rows if r[1] is None),
        reserved=sum(1 for r in rows if r[1] is not None and not licence_shareable(r[1])),
    )


def origin(db: sqlite_utils.Database, episode_id: int) -> Origin | None:
    row = db.execute(
        "select source_station, source_fingerprint, source_guid, source_licence, signed_by, "
        "imported_at, origin_fingerprint from exchange_imports where episode_id = ?",
        [episode_id],
    ).fetchone()
    return Origin(*row) if row else None


def no_longer_exportable(db: sqlite_utils.Database, guids: list[str]) -> list[str]:
    """Those of ``guids`` that may not leave any more: taken down, consent withdrawn,
    made private, deleted, purged, or a licence that keeps them home."""
    rows = db.execute(
        f"select e.guid, e.licence from episodes e where {public_sql('e')} "
        "and e.guid in (select value from json_each(?))",
        [json.dumps(guids)],
    ).fetchall()
    still = {guid for guid, licence in rows if licence_shareable(licence)}
    return [guid for guid in guids if guid not in still]


def already_here(db: sqlite_utils.Database, guid: str, source_sha256: str) -> str | None:
    """Why an incoming episode is skipped ("guid", "content"), or None: the archive lacks it.
    Deleted episodes count: a station that removed one doesn't get it back by a bundle."""
    if db.execute("select 1 from episodes where guid = ?", [guid]).fetchone():
        return "guid"
    if db.execute("select 1 from episodes where source_sha256 = ?", [source_sha256]).fetchone():
        return "content"
    return None


_EPISODE_COLUMNS = (
    "guid",
    "show_id",
    "title",
    "description",
    "recorded_at",
    "published_at",
    "language",
    "transcript_language",
    "duration",
    "licence",
    "visibility",
    "source_sha256",
    "source_path",
    "source_name",
    "source_bytes",
    "source_format",
    "source_channels",
    "source_sample_rate",
    "loudness_after",
    "true_peak_after",
    "peaks_path",
    "transcript_model",
    "artwork",
)


def add_imported(
    db: sqlite_utils.Database,
    row: dict[str, Any],
    content: dict[str, Any],
    made: list[dict[str, Any]],
    came_from: Origin,
    arrived: Arrival,
    actor: audit.Actor,
) -> int:
    """One transaction: the episode (ready, every step done, so nothing processes it again),
    its renditions (``made``: rows with paths in the media folder), transcript, chapters
    (kept as the source station set them: a retag here leaves them), topics and origin; each
    through the module that owns its table."""
    now = utcnow()
    fields = {c: row.get(c) for c in _EPISODE_COLUMNS}
    fields.update(status=EpisodeStatus.READY, progress=1.0, created_at=now, updated_at=now)
    with transaction(db) as conn:
        episode_id = episodes.insert_row(conn, fields)
        _set_content(conn, episode_id, content, made, now)
        processing.mark_all_done(conn, episode_id, list(StepName), now)
        conn.execute(
            "insert into exchange_imports (episode_id, source_station, source_fingerprint, "
            "origin_fingerprint, source_guid, source_licence, signed_by, manifest_sha256, "
            "content_sha256, imported_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [episode_id, came_from.station, came_from.fingerprint, came_from.origin_fingerprint]
            + [came_from.guid, came_from.licence, came_from.signed_by]
            + [arrived.manifest_sha256, arrived.content_sha256, now],
        )
        audit.record(
            conn,
            actor,
            "episode.import",
            audit.subject("episode", episode_id),
            after={"title": row["title"], "from": came_from.station, "licence": row["licence"]},
            why=f"bundle signed by {came_from.fingerprint}",
        )
    return episode_id


@dataclass(frozen=True)
class Arrival:
    """The bundle an episode came in: its manifest's and its episode.json's sha256."""

    manifest_sha256: str
    content_sha256: str


@dataclass(frozen=True)
class Previous:
    """An episode already here under an incoming GUID, and how it came (None: made here)."""

    episode_id: int
    signer: str | None  # the key that signed the bundle it first came in
    content_sha256: str | None  # its episode.json when it last came
    taken_down: bool
    withdrawn: bool  # taken down (kept) because its station withdrew it, and still so


def previous(db: sqlite_utils.Database, guid: str) -> Previous | None:
    row = db.execute(
        "select e.id, i.source_fingerprint, i.content_sha256, e.taken_down_at is not null, "
        "i.withdrawn_at is not null and e.taken_down_at is not null and not "
        "e.takedown_destroyed from episodes e left join exchange_imports i "
        "on i.episode_id = e.id where e.guid = ?",
        [guid],
    ).fetchone()
    return Previous(row[0], row[1], row[2], bool(row[3]), bool(row[4])) if row else None


_UPDATED_COLUMNS = tuple(c for c in _EPISODE_COLUMNS if c not in ("guid", "show_id", "visibility"))


def update_imported(
    db: sqlite_utils.Database,
    episode_id: int,
    update: Update,
    actor: audit.Actor,
    swap_in: Callable[[], None],
) -> None:
    """One transaction: an episode imported earlier becomes what its station sent again
    (fields, renditions, transcript, chapters, topics: the source wins; this archive's
    show and visibility stay), audited; ``swap_in`` puts the new files in place, last."""
    now = utcnow()
    with transaction(db) as conn:
        fields = {c: update.row.get(c) for c in _UPDATED_COLUMNS}
        episodes.overwrite(conn, episode_id, fields, now)
        _set_content(conn, episode_id, update.content, update.made, now)
        conn.execute(
            "update exchange_imports set source_station = ?, source_licence = ?, "
            "manifest_sha256 = ?, content_sha256 = ?, updated_at = ? where episode_id = ?",
            [update.station, update.row.get("licence"), update.arrived.manifest_sha256]
            + [update.arrived.content_sha256, now, episode_id],
        )
        audit.record(
            conn,
            actor,
            "episode.import_update",
            audit.subject("episode", episode_id),
            before=update.before,
            after={k: update.row.get(k) for k in update.before},
            why=f"bundle signed by {update.signer}",
        )
        swap_in()


@dataclass(frozen=True)
class Update:
    row: dict[str, Any]
    content: dict[str, Any]
    made: list[dict[str, Any]]
    station: str
    signer: str
    arrived: Arrival
    before: dict[str, Any]  # what the audit shows changed (title, licence, source_sha256)


def _set_content(
    conn: Any, episode_id: int, content: dict[str, Any], made: list[dict[str, Any]], now: str
) -> None:
    renditions.replace_all(conn, episode_id, made, now)
    transcripts.replace_all(conn, episode_id, [_segment(s) for s in content["segments"]])
    tags.set_chapters_by_hand(conn, episode_id, _chapters(content["chapters"]), now)
    tags.replace_topics(conn, episode_id, content["topics"], now)


def mark_withdrawn(db: sqlite_utils.Database, episode_id: int, withdrawn: bool = True) -> None:
    """Its station withdrew it (taken down here by that), or offers it again."""
    db.execute(
        "update exchange_imports set withdrawn_at = ? where episode_id = ?",
        [utcnow() if withdrawn else None, episode_id],
    )


def original_in_use(db: sqlite_utils.Database, relpath: str) -> bool:
    """Whether an episode (in the trash too) still names this original."""
    row = db.execute("select 1 from episodes where source_path = ? limit 1", [relpath])
    return row.fetchone() is not None


def imported_from(db: sqlite_utils.Database, signer: str) -> list[str]:
    """GUIDs of the episodes here, not taken down, that came signed by this key."""
    rows = db.execute(
        "select e.guid from exchange_imports i join episodes e on e.id = i.episode_id "
        "where i.source_fingerprint = ? and e.taken_down_at is null order by e.id",
        [signer],
    )
    return [row[0] for row in rows.fetchall()]


def _segment(s: dict[str, Any]) -> Segment:
    words = tuple(Word(float(w[0]), float(w[1]), str(w[2]), float(w[3])) for w in s["words"])
    start, end = float(s["start"]), float(s["end"])
    return Segment(start, end, str(s["text"]), words, s.get("speaker"))


def _chapters(items: list[dict[str, Any]]) -> list[Chapter]:
    return [Chapter(start=c["start"], end=c.get("end"), title=c["title"]) for c in items]


def key_seen(db: sqlite_utils.Database, fingerprint: str) -> bool:
    """Whether an earlier import came with a bundle signed by this key."""
    row = db.execute(
        "select 1 from exchange_imports where source_fingerprint = ? limit 1", [fingerprint]
    )
    return row.fetchone() is not None


def exportable_episode(db: sqlite_utils.Database, guid: str) -> Episode | None:
    """The episode with this GUID if it may leave the archive (the HTTP exchange's files)."""
    row = db.execute(
        f"select e.id, e.licence from episodes e where e.guid = ? and {public_sql('e')}", [guid]
    ).fetchone()
    if row is None or not licence_shareable(row[1]):
        return None
    return by_ids(db, [row[0]])[row[0]]


@dataclass(frozen=True)
class Imported:
    """An imported episode as the admins' exchange page lists it."""

    guid: str
    title: str
    station: str  # the station that made it
    origin_fingerprint: str | None
    signed_by: str | None  # the station whose key signed the bundle (a relay, or the source)
    signer: str  # that key's fingerprint
    imported_at: str
    updated_at: str | None
    withdrawn_at: str | None
    taken_down: bool


def imports(db: sqlite_utils.Database, limit: int = 200) -> list[Imported]:
    """The latest imported episodes (deleted ones left out), newest first."""
    rows = db.execute(
        "select e.guid, e.title, i.source_station, i.origin_fingerprint, i.signed_by, "
        "i.source_fingerprint, i.imported_at, i.updated_at, i.withdrawn_at, "
        "e.taken_down_at is not null from exchange_imports i join episodes e "
        "on e.id = i.episode_id where e.deleted_at is null "
        "order by coalesce(i.updated_at, i.imported_at) desc, e.id desc limit ?",
        [limit],
    ).fetchall()
    return [Imported(*row[:9], taken_down=bool(row[9])) for row in rows]
