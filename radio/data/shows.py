"""Shows: the only SQL for the ``shows`` table, typed rows out. A show's episodes are
``radio.data.episodes``'s; its language and licence are the defaults of its recordings."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data.episodes import live_sql, public_sql
from radio.db import utcnow


def _visible(include_hidden: bool, alias: str = "e") -> str:
    return live_sql(alias) if include_hidden else public_sql(alias)


@dataclass(frozen=True)
class Show:
    id: int
    slug: str
    title: str
    description: str = ""
    language: str | None = None
    created_at: str | None = None
    hosts: str | None = None  # JSON list of names, when the station set them
    licence: str | None = None  # the default for its recordings taken in without one
    artwork: str | None = None  # radio.data.artwork file name (<sha256>.jpg), if it has one
    itunes_category: str | None = None  # its feed's Apple category; None: the station's


@dataclass(frozen=True)
class ShowSummary:
    """A show as listed: how many episodes it has that the viewer may see, and the latest."""

    slug: str
    title: str
    episodes: int
    latest: str | None


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


def show_title(db: sqlite_utils.Database, show_id: int | None) -> str | None:
    row = db.execute("select title from shows where id = ?", [show_id]).fetchone()
    return row[0] if row else None


def shows(db: sqlite_utils.Database, *, include_hidden: bool = False) -> list[ShowSummary]:
    """Shows that have something to listen to, with their episode counts."""
    rows = db.execute(
        "select s.slug, s.title, count(e.id) as episodes, max(e.recorded_at) as latest "
        f"from shows s join episodes e on e.show_id = s.id and {_visible(include_hidden)} "
        "group by s.id order by s.title collate nocase"
    ).fetchall()
    return [ShowSummary(*r) for r in rows]


def get_show(db: sqlite_utils.Database, slug: str) -> Show | None:
    rows = list(db.query("select * from shows where slug = ?", [slug]))
    return Show(**rows[0]) if rows else None


def show_language(db: sqlite_utils.Database, show_id: int | None) -> str | None:
    """A show's language: the transcription hint for its episodes uploaded without one."""
    if show_id is None:
        return None
    row = db.execute("select language from shows where id = ?", [show_id]).fetchone()
    return row[0] if row else None


def show_licence(db: sqlite_utils.Database, show_id: int | None) -> str | None:
    """A show's licence: the default for its recordings taken in without one."""
    if show_id is None:
        return None
    row = db.execute("select licence from shows where id = ?", [show_id]).fetchone()
    return row[0] if row else None


def set_show_licence(db: sqlite_utils.Database, show_id: int, licence: str | None) -> None:
    """Give a show a default licence (a code checked by ``fields.licence``), or none."""
    db.execute("update shows set licence = ? where id = ?", [licence, show_id])


SHOW_SETTINGS = ("description", "language", "hosts", "licence", "artwork", "itunes_category")


def update_show(db: sqlite_utils.Database, show_id: int, **settings: Any) -> None:
    """Change a show's page and feed settings (``SHOW_SETTINGS``, checked by the caller)."""
    unknown = set(settings) - set(SHOW_SETTINGS)
    if unknown:
        raise ValueError(f"not a show setting: {', '.join(sorted(unknown))}")
    if settings:
        db["shows"].update(show_id, settings)
