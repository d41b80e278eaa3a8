"""The ``renditions`` table: the listener copies made of each episode (MP3, Opus), and the
lookups that serve them and the peaks file."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import sqlite_utils

from radio.data.episodes import public_sql
from radio.db import utcnow


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
