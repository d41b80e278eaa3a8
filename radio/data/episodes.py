"""Shows and episodes in the database: lookups and small updates shared by every edge."""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Any

import sqlite_utils
from sqlite_utils.db import NotFoundError

from radio.db import utcnow


class EpisodeStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Visibility(StrEnum):
    PUBLIC = "public"  # listeners see it once it is ready
    DRAFT = "draft"  # editors only, not yet meant for listeners
    PRIVATE = "private"  # editors only, kept out of every listener's view


STATUSES = tuple(EpisodeStatus)
VISIBILITIES = tuple(Visibility)


def public_sql(alias: str = "") -> str:
    """What listeners may see, as SQL: pages, search, feeds and media URLs share this rule."""
    p = f"{alias}." if alias else ""
    return f"{p}status = '{EpisodeStatus.READY}' and {p}visibility = '{Visibility.PUBLIC}'"


def is_public(episode: dict[str, Any]) -> bool:
    ready = episode.get("status") == EpisodeStatus.READY
    return ready and episode.get("visibility") == Visibility.PUBLIC


class EpisodeNotFound(LookupError):
    def __init__(self, ref: object) -> None:
        super().__init__(f"Episode {ref} doesn't exist. `radio status` lists the episodes.")


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug or "show"


def get_or_create_show(db: sqlite_utils.Database, title: str, language: str | None = None) -> int:
    title = title.strip()
    slug = slugify(title)
    row = db.execute("select id from shows where slug = ?", [slug]).fetchone()
    if row:
        return row[0]
    db["shows"].insert(
        {"slug": slug, "title": title, "language": language, "created_at": utcnow()},
        ignore=True,  # another process may have created it a moment ago
    )
    return db.execute("select id from shows where slug = ?", [slug]).fetchone()[0]


def get_episode(db: sqlite_utils.Database, ref: int | str) -> dict[str, Any]:
    """An episode by id, or by guid (or a unique guid prefix, as people type them)."""
    text = str(ref).strip()
    if text.isdigit():
        try:
            return db["episodes"].get(int(text))
        except NotFoundError:
            raise EpisodeNotFound(ref) from None
    rows = db.execute(
        "select id from episodes where guid = ? or guid like ? limit 2", [text, text + "%"]
    ).fetchall()
    if len(rows) != 1 or len(text) < 4:
        raise EpisodeNotFound(ref)
    return db["episodes"].get(rows[0][0])


def update_episode(db: sqlite_utils.Database, episode_id: int, **fields: Any) -> None:
    fields["updated_at"] = utcnow()
    db["episodes"].update(episode_id, fields)


def list_episodes(
    db: sqlite_utils.Database, *, status: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    where, params = "", []
    if status:
        where, params = "where e.status = ?", [status]
    return list(
        db.query(
            "select e.*, s.title as show_title from episodes e "
            f"left join shows s on s.id = e.show_id {where} order by e.id desc limit ?",
            [*params, limit],
        )
    )
