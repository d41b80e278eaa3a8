"""The audit history (#16): every action on an episode, account or setting, who did it and
when, with short before/after summaries. One table, ``audit``, written only by ``record``
and read by the queries below; triggers (migration 0018) refuse any UPDATE or DELETE.

A summary says what changed, never removed content itself and never a password: callers
pass the fields that changed (long text is cut to ``MAX_VALUE_CHARS``) or counts and ids.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlite_utils

from radio.data.errors import Invalid
from radio.db import utcnow
from radio.i18n import _

MAX_VALUE_CHARS = 200  # of one text value in a summary: enough to recognise it
MAX_SUMMARY_CHARS = 2_000
MAX_WHY_CHARS = 500


class Executes(Protocol):
    """A database or a connection inside a transaction: either can record."""

    def execute(self, sql: str, parameters: Any = ..., /) -> Any: ...


@dataclass(frozen=True)
class Actor:
    """Who acted: an account (its id and its name at the time), or a named non-person."""

    name: str
    user_id: int | None = None


SYSTEM = Actor("system")  # the archive itself: the daily trash emptying, the scheduler
RECEIPT = Actor("receipt")  # a contributor through a receipt link, with no account


def command_line() -> Actor:
    """Whoever runs a ``radio`` command: the operating system's user."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password file
        who = "unknown"
    return Actor(f"cli:{who}")


def account(db: Executes, user_id: int | None) -> Actor:
    """The account with this id as it is now (for the data functions that are handed a
    user id); None: the archive itself."""
    if user_id is None:
        return SYSTEM
    row = db.execute("select name from users where id = ?", [user_id]).fetchone()
    return Actor(row[0] if row else f"account {user_id}", user_id)


def subject(kind: str, ref: object) -> str:
    """``episode:12``, ``account:3``, ``show:water-talk``."""
    return f"{kind}:{ref}"


@dataclass(frozen=True)
class Entry:
    id: int
    at: str
    actor: str
    actor_id: int | None
    action: str
    subject: str
    summary_before: str | None
    summary_after: str | None
    why: str | None


FIELDS = tuple(Entry.__dataclass_fields__)


def record(
    db: Executes,
    actor: Actor,
    action: str,
    subject: str,
    *,
    before: Any = None,
    after: Any = None,
    why: str | None = None,
) -> None:
    """Add one entry; inside the caller's transaction when ``db`` is its connection."""
    db.execute(
        "insert into audit (at, actor_id, actor, action, subject, summary_before, "
        "summary_after, why) values (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            utcnow(),
            actor.user_id,
            actor.name,
            action,
            subject,
            summary(before),
            summary(after),
            (why or "").strip()[:MAX_WHY_CHARS] or None,
        ],
    )


def summary(value: Any) -> str | None:
    """A value as the history keeps it: text as it is, anything else as JSON, long text cut."""
    if value is None:
        return None
    if isinstance(value, str):
        return _cut(value, MAX_SUMMARY_CHARS)
    text = json.dumps(_shortened(value), ensure_ascii=False, sort_keys=True, default=str)
    return _cut(text, MAX_SUMMARY_CHARS)


def _shortened(value: Any) -> Any:
    if isinstance(value, str):
        return _cut(value, MAX_VALUE_CHARS)
    if isinstance(value, dict):
        return {str(k): _shortened(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_shortened(v) for v in value]
    return value


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def since_moment(text: str) -> str:
    """A date (2026-11-02) or moment (2026-11-02T08:00, UTC unless it says) as stored."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise Invalid(
            _("{text} isn't a date; give one like 2026-11-02 or 2026-11-02T08:00.").format(
                text=repr(text[:40])
            )
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def entries(
    db: sqlite_utils.Database | sqlite3.Connection,
    *,
    since: str | None = None,
    subject: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int | None = None,
) -> list[Entry]:
    """Entries matching every filter given, newest first. ``since``: as ``since_moment``
    gives it; ``action``: a code, or its family ("episode" matches "episode.edit")."""
    clauses, params = [], []
    if since:
        clauses.append("at >= ?")
        params.append(since)
    if subject:
        clauses.append("subject = ?")
        params.append(subject)
    if action:
        clauses.append("(action = ? or action like ? escape '\\')")
        params += [action, _like_prefix(action) + ".%"]
    if actor:
        clauses.append("actor = ?")
        params.append(actor)
    sql = f"select {', '.join(FIELDS)} from audit"
    if clauses:
        sql += " where " + " and ".join(clauses)
    sql += " order by id desc"
    if limit is not None:
        sql += " limit ?"
        params.append(limit)
    return [Entry(*row) for row in db.execute(sql, params).fetchall()]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def episode_history(db: sqlite_utils.Database, episode_id: int, limit: int = 50) -> list[Entry]:
    return entries(db, subject=subject("episode", episode_id), limit=limit)


def actions(db: sqlite_utils.Database) -> list[str]:
    """The action codes the history holds, for a filter's choices."""
    return [r[0] for r in db.execute("select distinct action from audit order by action")]


def as_dicts(rows: list[Entry]) -> list[dict[str, Any]]:
    return [{name: getattr(row, name) for name in FIELDS} for row in rows]


def as_csv(rows: list[Entry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(as_dicts(rows))
    return out.getvalue()


def as_json(rows: list[Entry]) -> str:
    return json.dumps(as_dicts(rows), ensure_ascii=False, indent=1)
