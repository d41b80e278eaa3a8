"""Publishing on schedule (issue #15): the ``publish_at`` column of ``episodes`` and the
station's time zone.

An episode with ``publish_at`` in the future is hidden from listeners everywhere by the one
visibility rule (``radio.data.episodes.public_sql``), which compares it with the archive's
clock (``radio.db.now``); from that moment it is public with no write to the database, so
the caches that key on database changes also ask ``next_moment`` (``radio.web.http``).
Times are stored in UTC as ``utcnow`` writes them (``2026-12-24T05:00:00Z``), so text
order is time order; people read and type them in the station's zone (config ``TIMEZONE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import sqlite_utils

from radio.data.episodes import Episode, Visibility, get_episode
from radio.data.errors import DataError
from radio.db import now, transaction, utcnow
from radio.i18n import _

STORED = "%Y-%m-%dT%H:%M:%SZ"


class ScheduleError(DataError):
    """A publishing time that can't be used; the message says what to type instead."""


def parse_local(text: str, zone: str) -> str:
    """A date and time typed in the station's zone (``2026-12-24T08:00``, ``2026-12-24
    08:00``; an explicit offset or Z is honoured) as the stored UTC text."""
    value = (text or "").strip()
    if not value:
        raise ScheduleError(str(_("Give a date and time to publish at, such as 2026-12-24T08:00.")))
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError as e:
        raise ScheduleError(
            _(
                "{value!r} isn't a date and time; write it as 2026-12-24T08:00 ({zone} time)."
            ).format(value=value, zone=zone)
        ) from e
    if moment.tzinfo is None:
        # A time skipped by a clock change (02:30 on a spring-forward night) comes out an
        # hour later through UTC, as a wall clock shows it; a repeated one is its first.
        moment = moment.replace(tzinfo=ZoneInfo(zone))
    return moment.astimezone(UTC).strftime(STORED)


def to_local(stored: str, zone: str) -> datetime:
    """A stored UTC time in the station's zone."""
    return datetime.strptime(stored, STORED).replace(tzinfo=UTC).astimezone(ZoneInfo(zone))


def show_local(stored: str | None, zone: str) -> str:
    """``2026-12-24 08:00 EAT`` for people; empty for no time."""
    if not stored:
        return ""
    return to_local(stored, zone).strftime("%Y-%m-%d %H:%M %Z")


def input_value(stored: str | None, zone: str) -> str:
    """The value of an ``<input type="datetime-local">`` for a stored time."""
    return to_local(stored, zone).strftime("%Y-%m-%dT%H:%M") if stored else ""


def schedule(db: sqlite_utils.Database, episode_id: int, publish_at: str) -> Episode:
    """Make the episode public from ``publish_at`` (stored UTC text, in the future) on.

    Scheduling is the editor's decision to publish, so the visibility becomes public (and a
    language review ends, as publishing ends it in ``radio.data.edits``); the listed date is
    the moment it goes out, so ``published_at`` is that moment too (feeds' pubDate).
    """
    if publish_at <= utcnow():
        raise ScheduleError(
            str(
                _(
                    "That moment has passed. Give a time still to come, or publish it now "
                    "(`radio schedule EPISODE --now`, or the Publish now button)."
                )
            )
        )
    with transaction(db):
        db.execute(
            "update episodes set publish_at = ?, published_at = ?, visibility = ?, "
            "review_note = null, held_visibility = null, updated_at = ? where id = ?",
            [publish_at, publish_at, Visibility.PUBLIC, utcnow(), episode_id],
        )
    return get_episode(db, episode_id)


def publish_now(db: sqlite_utils.Database, episode_id: int) -> Episode:
    """Drop the schedule of an episode still waiting for its moment: public from now on."""
    episode = get_episode(db, episode_id)
    if not episode.is_scheduled:
        return episode
    stamp = utcnow()
    with transaction(db):
        db.execute(
            "update episodes set publish_at = null, published_at = ?, updated_at = ? where id = ?",
            [stamp, stamp, episode_id],
        )
    return get_episode(db, episode_id)


def unschedule(db: sqlite_utils.Database, episode_id: int) -> Episode:
    """Take an episode off the schedule and keep it from listeners (a draft again)."""
    with transaction(db):
        db.execute(
            "update episodes set publish_at = null, visibility = ?, updated_at = ? "
            "where id = ? and publish_at > radio_now()",
            [Visibility.DRAFT, utcnow(), episode_id],
        )
    return get_episode(db, episode_id)


@dataclass(frozen=True)
class Scheduled:
    guid: str
    title: str
    status: str
    visibility: str
    publish_at: str
    show_title: str | None


def scheduled(db: sqlite_utils.Database) -> list[Scheduled]:
    """Episodes waiting for their moment, soonest first (editors' "Scheduled" list)."""
    rows = db.execute(
        "select e.guid, e.title, e.status, e.visibility, e.publish_at, s.title "
        "from episodes e left join shows s on s.id = e.show_id "
        "where e.publish_at > radio_now() order by e.publish_at, e.id"
    ).fetchall()
    return [Scheduled(*row) for row in rows]


def next_moment(db: sqlite_utils.Database) -> str | None:
    """The soonest scheduled time still to come (one index lookup), or None."""
    row = db.execute(
        "select min(publish_at) from episodes where publish_at > radio_now()"
    ).fetchone()
    return row[0] if row else None


def has_passed(moment: str | None) -> bool:
    return moment is not None and moment <= now().astimezone(UTC).strftime(STORED)
