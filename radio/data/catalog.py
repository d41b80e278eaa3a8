"""What the archive's pages list: latest episodes, shows, topics, one episode's page data.

Every query takes ``include_hidden``: False (listeners) applies ``public_sql``, the one
visibility rule shared with search, feeds and media; True is for editors and admins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data.episodes import public_sql


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _visible(include_hidden: bool, alias: str = "e") -> str:
    return "1" if include_hidden else public_sql(alias)


_EPISODE_COLUMNS = (
    "e.id, e.guid, e.title, e.recorded_at, e.published_at, e.duration, e.status, "
    "e.visibility, e.progress, e.step, coalesce(e.transcript_language, e.language) as language, "
    "s.slug as show_slug, s.title as show_title"
)


def latest_episodes(
    db: sqlite_utils.Database,
    *,
    include_hidden: bool = False,
    show_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Newest first: by recording date, then by when the archive got them."""
    where = _visible(include_hidden)
    params: list[Any] = []
    if show_id is not None:
        where += " and e.show_id = ?"
        params.append(show_id)
    total = db.execute(f"select count(*) from episodes e where {where}", params).fetchone()[0]
    page = max(1, page)
    rows = db.query(
        f"select {_EPISODE_COLUMNS} from episodes e left join shows s on s.id = e.show_id "
        f"where {where} order by e.recorded_at desc, e.id desc limit ? offset ?",
        [*params, per_page, (page - 1) * per_page],
    )
    return Page(list(rows), page, per_page, total)


def shows(db: sqlite_utils.Database, *, include_hidden: bool = False) -> list[dict[str, Any]]:
    """Shows that have something to listen to, with their episode counts."""
    return list(
        db.query(
            "select s.slug, s.title, count(e.id) as episodes, max(e.recorded_at) as latest "
            f"from shows s join episodes e on e.show_id = s.id and {_visible(include_hidden)} "
            "group by s.id order by s.title collate nocase"
        )
    )


def get_show(db: sqlite_utils.Database, slug: str) -> dict[str, Any] | None:
    rows = list(db.query("select * from shows where slug = ?", [slug]))
    return rows[0] if rows else None


def languages(db: sqlite_utils.Database, *, include_hidden: bool = False) -> list[str]:
    rows = db.execute(
        "select distinct coalesce(e.transcript_language, e.language) as lang from episodes e "
        f"where {_visible(include_hidden)} and lang is not null order by lang"
    ).fetchall()
    return [r[0] for r in rows]


def episode_by_guid(db: sqlite_utils.Database, guid: str) -> dict[str, Any] | None:
    """The episode with exactly this guid (URLs carry whole guids), with its show."""
    rows = list(
        db.query(
            "select e.*, s.slug as show_slug, s.title as show_title from episodes e "
            "left join shows s on s.id = e.show_id where e.guid = ?",
            [guid],
        )
    )
    return rows[0] if rows else None


def segments(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    """The transcript as rows (id, start, end, text, speaker), in order; words left out."""
    return list(
        db.query(
            "select id, start, end, text, speaker from segments where episode_id = ? order by idx",
            [episode_id],
        )
    )


def chapters(db: sqlite_utils.Database, episode_id: int) -> list[dict[str, Any]]:
    return list(
        db.query(
            "select start, end, title from chapters where episode_id = ? order by idx",
            [episode_id],
        )
    )
