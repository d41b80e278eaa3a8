"""The ``soundbites`` table: moments of an episode an editor marked, the only SQL for it.

They go into the feeds as ``podcast:soundbite`` (``radio.data.feeds``) and onto the
episode page as its highlights. The Podcasting 2.0 namespace recommends 15 to 120 seconds
and a title of at most 128 characters, which is what is stored; the times are on the
timeline of the episode's enclosure (its renditions), as the namespace says.
"""

from __future__ import annotations

import logging
import math
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from radio.data import fields
from radio.data.errors import Invalid, NotFound
from radio.db import transaction, utcnow
from radio.i18n import _

logger = logging.getLogger(__name__)

MIN_SECONDS = 15.0  # the namespace's recommended range
MAX_SECONDS = 120.0
MAX_TITLE_CHARS = 128  # "or it may be truncated by aggregators"
MAX_PER_EPISODE = 20  # highlights, not an index of the whole episode
_SLACK = 0.5  # a span ending this far past the end (rounding, a player's clock) is kept


class SoundbiteError(Invalid):
    """A soundbite that can't be marked as asked; the message says what to change."""


class SoundbiteNotFound(NotFound):
    pass


@dataclass(frozen=True)
class Soundbite:
    id: int
    episode_id: int
    start: float
    duration: float
    title: str
    created_by: str | None  # the editor's name
    created_at: str

    @property
    def end(self) -> float:
        return self.start + self.duration


_COLUMNS = (
    "s.id, s.episode_id, s.start, s.duration, s.title, u.name, s.created_at "
    "from soundbites s left join users u on u.id = s.created_by"
)


def check_span(start: float, duration: float, episode_duration: float | None) -> None:
    """Refuse a span the namespace wouldn't take or that runs outside the recording."""
    if not (math.isfinite(start) and math.isfinite(duration)) or start < 0 or duration <= 0:
        raise SoundbiteError(
            str(_("A soundbite needs a start and an end after it, e.g. 12:30 to 13:00."))
        )
    if not MIN_SECONDS <= round(duration, 3) <= MAX_SECONDS:
        raise SoundbiteError(
            _(
                "A soundbite lasts {shortest:g} seconds to {longest:g} minutes (what "
                "podcast apps expect); this one is {duration:.1f} s. Choose a span of that length."
            ).format(shortest=MIN_SECONDS, longest=MAX_SECONDS / 60, duration=duration)
        )
    if episode_duration and start + duration > episode_duration + _SLACK:
        raise SoundbiteError(
            _(
                "The episode lasts {duration:.1f} s, so a soundbite can't end at "
                "{end:.1f} s; choose a span inside the recording."
            ).format(duration=episode_duration, end=start + duration)
        )


def clean_title(value: str | None) -> str:
    title = fields.clean_text(value)
    if len(title) > MAX_TITLE_CHARS:
        raise SoundbiteError(
            _(
                "A soundbite's title holds at most {limit} characters (podcast apps cut "
                "longer ones); this one has {length}."
            ).format(limit=MAX_TITLE_CHARS, length=len(title))
        )
    return title


def add_soundbite(
    db: sqlite_utils.Database,
    episode_id: int,
    *,
    start: float,
    duration: float,
    title: str | None,
    user_id: int | None,
    episode_duration: float | None = None,
) -> int:
    """Mark a soundbite; the same span marked again is the same soundbite (its title is
    updated). The episode counts as changed, so its feeds say so (Last-Modified)."""
    start, duration = round(start, 2), round(duration, 2)
    check_span(start, duration, episode_duration)
    text = clean_title(title)
    now = utcnow()
    with transaction(db) as conn:
        same = conn.execute(
            "select id from soundbites where episode_id = ? and start = ? and duration = ?",
            [episode_id, start, duration],
        ).fetchone()
        if same:
            conn.execute("update soundbites set title = ? where id = ?", [text, same[0]])
            soundbite_id = int(same[0])
        else:
            _check_room(conn, episode_id)
            soundbite_id = conn.execute(
                "insert into soundbites (episode_id, start, duration, title, created_by, "
                "created_at) values (?, ?, ?, ?, ?, ?)",
                [episode_id, start, duration, text, user_id, now],
            ).lastrowid
        _touch(conn, episode_id, now)
    logger.info("user %s marked soundbite %s of episode %s", user_id, soundbite_id, episode_id)
    return int(soundbite_id)


def _check_room(conn: sqlite3.Connection, episode_id: int) -> None:
    (count,) = conn.execute(
        "select count(*) from soundbites where episode_id = ?", [episode_id]
    ).fetchone()
    if count >= MAX_PER_EPISODE:
        raise SoundbiteError(
            _(
                "This episode has {count} soundbites already, the most it may have; "
                "remove one on the edit page first."
            ).format(count=count)
        )


def _touch(conn: sqlite3.Connection, episode_id: int, now: str) -> None:
    conn.execute("update episodes set updated_at = ? where id = ?", [now, episode_id])


def remove_soundbite(db: sqlite_utils.Database, episode_id: int, soundbite_id: int) -> None:
    with transaction(db) as conn:
        gone = conn.execute(
            "delete from soundbites where id = ? and episode_id = ?", [soundbite_id, episode_id]
        ).rowcount
        if not gone:
            raise SoundbiteNotFound(
                _(
                    "Soundbite {soundbite} isn't one of this episode's; reload the edit page."
                ).format(soundbite=soundbite_id)
            )
        _touch(conn, episode_id, utcnow())
    logger.info("removed soundbite %s of episode %s", soundbite_id, episode_id)


def remove_overlapping(conn: sqlite3.Connection, episode_id: int, start: float, end: float) -> int:
    """Inside the caller's transaction: the soundbites with any time in [start, end) go (a
    removed passage, #16 item 4); returns how many."""
    return conn.execute(
        "delete from soundbites where episode_id = ? and start < ? and start + duration > ?",
        [episode_id, end, start],
    ).rowcount


def of_episode(db: sqlite_utils.Database, episode_id: int) -> list[Soundbite]:
    rows = db.execute(
        f"select {_COLUMNS} where s.episode_id = ? order by s.start, s.id", [episode_id]
    ).fetchall()
    return [Soundbite(*row) for row in rows]


def of_episodes(db: sqlite_utils.Database, ids: Sequence[int]) -> dict[int, list[Soundbite]]:
    """Every listed episode's soundbites in time order (for a feed page, in one query)."""
    grouped: dict[int, list[Soundbite]] = defaultdict(list)
    if ids:
        marks = ",".join("?" * len(ids))
        rows = db.execute(
            f"select {_COLUMNS} where s.episode_id in ({marks}) order by s.episode_id, s.start",
            list(ids),
        ).fetchall()
        for row in rows:
            grouped[row[1]].append(Soundbite(*row))
    return grouped
