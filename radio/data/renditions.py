"""The ``renditions`` table: the listener copies made of each episode (MP3, Opus and, since
#14, AAC in M4A), and the lookups that serve them and the peaks file."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any, Protocol

import sqlite_utils

from radio.data.episodes import public_sql
from radio.db import utcnow

# The small "data saver" copies, best first: AAC in M4A, which iPhones and Apple's apps play
# and any podcast app takes as its enclosure, then Opus, which episodes made before #14 have
# instead (they have no AAC until they are rendered again).
SAVER_KINDS = ("aac", "opus")


def saver_kind(kinds: Collection[str]) -> str | None:
    """The data-saver kind among an episode's rendition kinds: AAC, else Opus, else None."""
    return next((kind for kind in SAVER_KINDS if kind in kinds), None)


def saver_rendition(db: sqlite_utils.Database, episode_id: int) -> dict[str, Any] | None:
    """The row (as ``renditions`` gives them) of an episode's data-saver copy, if it has one."""
    rows = {row["kind"]: row for row in renditions(db, episode_id)}
    kind = saver_kind(rows)
    return rows[kind] if kind else None


class RenditionFacts(Protocol):
    """What the audio step knows of a rendition it made (``radio.media.renditions``)."""

    kind: str
    bytes: int
    mime: str
    bitrate: int
    sample_rate: int
    duration: float


def save_renditions(
    db: sqlite_utils.Database,
    episode_id: int,
    made: Sequence[RenditionFacts],
    paths: Sequence[str],
) -> None:
    """Record (or replace) each rendition; ``paths`` are relative to the media folder."""
    now = utcnow()
    for r, path in zip(made, paths, strict=True):
        db.execute(
            "insert into renditions (episode_id, kind, path, bytes, mime, bitrate, sample_rate, "
            "duration, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "on conflict(episode_id, kind) do update set path = excluded.path, "
            "bytes = excluded.bytes, mime = excluded.mime, bitrate = excluded.bitrate, "
            "sample_rate = excluded.sample_rate, duration = excluded.duration, "
            "created_at = excluded.created_at",
            [episode_id, r.kind, path, r.bytes, r.mime, r.bitrate, r.sample_rate, r.duration, now],
        )


def replace_all(conn: Any, episode_id: int, rows: Sequence[dict[str, Any]], now: str) -> None:
    """Inside the caller's transaction: the episode's renditions become exactly these rows
    (``path`` relative to the media folder; an imported episode's, #17)."""
    conn.execute("delete from renditions where episode_id = ?", [episode_id])
    conn.executemany(
        "insert into renditions (episode_id, kind, path, bytes, mime, bitrate, sample_rate, "
        "duration, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [episode_id, r["kind"], r["path"], r["bytes"], r["mime"], r.get("bitrate")]
            + [r.get("sample_rate"), r.get("duration"), now]
            for r in rows
        ],
    )


def record_sizes(db: sqlite_utils.Database, episode_id: int, sizes: dict[str, int]) -> None:
    """The new byte size of renditions whose files were written again (tags, #14): what the
    feed's enclosure ``length`` says."""
    for kind, size in sizes.items():
        db.execute(
            "update renditions set bytes = ? where episode_id = ? and kind = ?",
            [size, episode_id, kind],
        )


def episodes_with_renditions(db: sqlite_utils.Database) -> list[int]:
    """Every episode that has listening files, oldest first (``radio tagfiles --all``)."""
    return [
        row[0]
        for row in db.execute(
            "select distinct episode_id from renditions order by episode_id"
        ).fetchall()
    ]


def renditions(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            "select kind, path, bytes, mime, bitrate, sample_rate, duration from renditions"
            " where episode_id = ? order by kind",
            [episode_id],
        )
    )


def rendition_file(db: sqlite_utils.Database, episode_id: int, kind: str) -> tuple[str, str] | None:
    """(path relative to the media folder, MIME type) of one rendition, if it was made."""
    row = db.execute(
        "select path, mime from renditions where episode_id = ? and kind = ?", [episode_id, kind]
    ).fetchone()
    return (row[0], row[1]) if row else None


_PUBLIC_FILE = f"""
select r.path, r.mime from episodes e join renditions r on r.episode_id = e.id
where e.guid = ? and r.kind = ? and {public_sql("e")}
"""
_PUBLIC_PEAKS = f"select peaks_path from episodes e where e.guid = ? and {public_sql('e')}"


def public_rendition_file(
    db: sqlite_utils.Database, guid: str, kind: str
) -> tuple[str, str] | None:
    """(path, MIME type) of a public episode's rendition; None for anything else."""
    row = db.execute(_PUBLIC_FILE, [guid, kind]).fetchone()
    return (row[0], row[1]) if row else None


def public_peaks_file(db: sqlite_utils.Database, guid: str) -> str | None:
    """The peaks file's path of a public episode; None for anything else."""
    row = db.execute(_PUBLIC_PEAKS, [guid]).fetchone()
    return row[0] if row and row[0] else None
