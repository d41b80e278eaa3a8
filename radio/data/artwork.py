"""Artwork: the only SQL for the ``artwork`` table, and which episodes and shows name it.

A row per picture kept in ``media/artwork`` (``radio.media.artwork``), named by its file
name ``<sha256>.jpg``; ``episodes.artwork`` and ``shows.artwork`` hold that name. What an
episode shows is its own artwork, else its show's (``artwork_of_episode``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import sqlite_utils

from radio.data.episodes import live_sql
from radio.db import utcnow


@dataclass(frozen=True)
class Artwork:
    name: str  # <sha256>.jpg or .png: its file under media/artwork and its URL
    sha256: str
    mime: str
    bytes: int
    width: int
    height: int
    created_by: int | None = None
    created_at: str | None = None


class Picture(Protocol):
    """A checked picture (``radio.media.artwork.check_image``'s): what a row records."""

    name: str
    sha256: str
    mime: str
    data: bytes
    width: int
    height: int


def record_image(db: sqlite_utils.Database, image: Picture, user_id: int | None = None) -> Artwork:
    """Note a kept picture from the checked image itself."""
    return record(
        db,
        name=image.name,
        sha256=image.sha256,
        mime=image.mime,
        size=len(image.data),
        width=image.width,
        height=image.height,
        user_id=user_id,
    )


def record(
    db: sqlite_utils.Database,
    *,
    name: str,
    sha256: str,
    mime: str,
    size: int,
    width: int,
    height: int,
    user_id: int | None = None,
) -> Artwork:
    """Note a kept picture (the same picture twice is one row)."""
    db["artwork"].insert(
        {
            "name": name,
            "sha256": sha256,
            "mime": mime,
            "bytes": size,
            "width": width,
            "height": height,
            "created_by": user_id,
            "created_at": utcnow(),
        },
        ignore=True,
    )
    found = get(db, name)
    assert found is not None
    return found


def get(db: sqlite_utils.Database, name: str) -> Artwork | None:
    rows = list(db.query("select * from artwork where name = ?", [name]))
    return Artwork(**rows[0]) if rows else None


def servable(db: sqlite_utils.Database, name: str) -> Artwork | None:
    """The artwork if a show or an episode not in the trash names it: a deleted episode's
    own picture goes with it."""
    rows = list(
        db.query(
            "select a.* from artwork a where a.name = ? and ("
            "exists (select 1 from shows s where s.artwork = a.name) or "
            f"exists (select 1 from episodes e where e.artwork = a.name and {live_sql('e')}))",
            [name],
        )
    )
    return Artwork(**rows[0]) if rows else None


def set_episode_artwork(db: sqlite_utils.Database, episode_id: int, name: str | None) -> None:
    db.execute(
        "update episodes set artwork = ?, updated_at = ? where id = ?", [name, utcnow(), episode_id]
    )


def set_show_artwork(db: sqlite_utils.Database, show_id: int, name: str | None) -> None:
    db.execute("update shows set artwork = ? where id = ?", [name, show_id])


def artwork_of_episode(db: sqlite_utils.Database, episode_id: int) -> Artwork | None:
    """What stands for an episode: its own artwork, else its show's, else None."""
    rows = list(
        db.query(
            "select a.* from episodes e left join shows s on s.id = e.show_id "
            "join artwork a on a.name = coalesce(e.artwork, s.artwork) where e.id = ?",
            [episode_id],
        )
    )
    return Artwork(**rows[0]) if rows else None


def unused(db: sqlite_utils.Database, names: list[str]) -> list[str]:
    """Those of ``names`` no show or episode (trashed ones included) names any more."""
    return [
        name
        for name in names
        if not db.execute(
            "select 1 from shows where artwork = ? union all "
            "select 1 from episodes where artwork = ? limit 1",
            [name, name],
        ).fetchone()
    ]


def forget(db: sqlite_utils.Database, names: list[str]) -> None:
    """Drop the rows of pictures whose files are being removed."""
    for name in names:
        db.execute("delete from artwork where name = ?", [name])


def unused_but(db: sqlite_utils.Database, name: str, episode_id: int) -> bool:
    """Whether ``name`` is named by no show and no episode but ``episode_id``."""
    return not db.execute(
        "select 1 from shows where artwork = ? union all "
        "select 1 from episodes where artwork = ? and id != ? limit 1",
        [name, name, episode_id],
    ).fetchone()


def episodes_using_show_artwork(db: sqlite_utils.Database, show_id: int) -> list[int]:
    """The show's live episodes without artwork of their own (they show the show's)."""
    rows = db.execute(
        f"select id from episodes e where show_id = ? and artwork is null and {live_sql('e')}",
        [show_id],
    ).fetchall()
    return [r[0] for r in rows]
