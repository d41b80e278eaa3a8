"""Who is heard in a recording and whether each agreed to its publication (#16): the only
SQL for the ``participants`` table.

An episode with no participants listed is as before: consent isn't tracked. Once any are
listed, every one must have said yes before listeners may hear it: ``public_sql`` in
``radio.data.episodes`` leaves out any episode with a participant whose consent is pending
or refused, so pages, search, feeds and media follow at once.

Typed forms: ``Amina=yes``, ``anonymous=pending``, ``Joseph`` (pending: nobody is assumed
to agree), several separated by commas or new lines.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils

from radio.data import audit
from radio.data.errors import Invalid
from radio.db import transaction, utcnow
from radio.i18n import _

logger = logging.getLogger(__name__)

ANONYMOUS = "anonymous"
MAX_PARTICIPANTS = 50
MAX_NAME_CHARS = 120


class Consent(StrEnum):
    YES = "yes"
    PENDING = "pending"
    NO = "no"


CONSENTS = tuple(Consent)
# What people type for each answer, in the forms, the CLI and the drop folder.
_SAID = {
    "yes": Consent.YES,
    "y": Consent.YES,
    "agreed": Consent.YES,
    "pending": Consent.PENDING,
    "asked": Consent.PENDING,
    "?": Consent.PENDING,
    "no": Consent.NO,
    "n": Consent.NO,
    "refused": Consent.NO,
}
_SEPARATORS = re.compile(r"[,\n;]+")


class ConsentError(Invalid):
    """A participant or their consent can't be stored as typed; the message says how."""


@dataclass(frozen=True)
class Participant:
    name: str  # as given, or "anonymous"
    consent: str = Consent.PENDING
    changed_at: str | None = None
    changed_by: str | None = None  # the account's name; None: at upload or from the CLI

    @property
    def anonymous(self) -> bool:
        return self.name.casefold() == ANONYMOUS

    @property
    def holds_back(self) -> bool:
        return self.consent != Consent.YES


def parse_consent(value: str | None) -> Consent:
    said = (value or "").strip().casefold()
    if not said:
        return Consent.PENDING
    if said not in _SAID:
        raise ConsentError(
            _("Consent must be yes, pending or no, not {value}.").format(value=value)
        )
    return _SAID[said]


def parse_participant(text: str) -> Participant:
    """ "Amina=yes" (or "Amina: yes"), "anonymous=pending", "Joseph" (pending)."""
    name, _sep, said = (
        (text or "").partition("=") if "=" in (text or "") else ((text or "").partition(":"))
    )
    return checked(name, said)


def checked(name: str | None, consent: str | None) -> Participant:
    """A participant from a form's name and consent fields, cleaned; ConsentError if not."""
    name = " ".join((name or "").split())
    if not name:
        raise ConsentError(_("Give each participant a name, or write anonymous."))
    if len(name) > MAX_NAME_CHARS:
        raise ConsentError(
            _("A participant's name can be at most {limit} characters.").format(
                limit=MAX_NAME_CHARS
            )
        )
    if name.casefold() == ANONYMOUS:
        name = ANONYMOUS
    return Participant(name, parse_consent(consent))


def parse_list(texts: Iterable[str]) -> list[Participant]:
    """Every participant named in ``texts`` (each may hold several), in order."""
    found = [
        parse_participant(part)
        for text in texts
        for part in _SEPARATORS.split(text or "")
        if part.strip()
    ]
    return checked_list(found)


def checked_list(participants: Sequence[Participant]) -> list[Participant]:
    if len(participants) > MAX_PARTICIPANTS:
        raise ConsentError(_("List at most {limit} participants.").format(limit=MAX_PARTICIPANTS))
    return list(participants)


def participants(db: sqlite_utils.Database, episode_id: int) -> list[Participant]:
    rows = db.execute(
        "select p.name, p.consent, p.changed_at, u.name from participants p "
        "left join users u on u.id = p.changed_by where p.episode_id = ? order by p.idx",
        [episode_id],
    ).fetchall()
    return [Participant(*row) for row in rows]


def add_participants(
    conn: object, episode_id: int, listed: Sequence[Participant], now: str
) -> None:
    """Store the participants given at upload (inside the caller's transaction)."""
    for idx, p in enumerate(listed):
        conn.execute(  # type: ignore[attr-defined]
            "insert into participants (episode_id, idx, name, consent, changed_at, changed_by) "
            "values (?, ?, ?, ?, ?, null)",
            [episode_id, idx, p.name, str(p.consent), now],
        )


def set_participants(
    db: sqlite_utils.Database,
    episode_id: int,
    listed: Sequence[Participant],
    user_id: int | None,
) -> list[tuple[str, str | None, str | None]]:
    """An editor's list replaces the episode's in one transaction; returns what changed as
    (name, consent before, consent after): None before is a new name, None after a removed
    one. A row keeps its time and author when its consent didn't change."""
    listed = checked_list(listed)
    rows = db.execute(
        "select name, consent, changed_at, changed_by from participants "
        "where episode_id = ? order by idx",
        [episode_id],
    ).fetchall()
    # keyed by name and which of that name it is: several may be "anonymous"
    old = dict(zip(_keys(r[0] for r in rows), (r[1:] for r in rows), strict=True))
    now = utcnow()
    changes: list[tuple[str, str | None, str | None]] = []
    with transaction(db) as conn:
        conn.execute("delete from participants where episode_id = ?", [episode_id])
        keys = _keys(p.name for p in listed)
        for idx, (key, p) in enumerate(zip(keys, listed, strict=True)):
            consent, changed_at, changed_by = old.get(key, (None, now, user_id))
            if consent != p.consent:
                changes.append((p.name, consent, str(p.consent)))
                changed_at, changed_by = now, user_id
            conn.execute(
                "insert into participants (episode_id, idx, name, consent, changed_at, "
                "changed_by) values (?, ?, ?, ?, ?, ?)",
                [episode_id, idx, p.name, str(p.consent), changed_at, changed_by],
            )
        changes += [(key[0], row[0], None) for key, row in old.items() if key not in set(keys)]
        if changes:  # who agreed is an action on the episode: the audit history keeps it
            audit.record(
                conn,
                audit.account(conn, user_id),
                "consent.edit",
                audit.subject("episode", episode_id),
                before={name: was for name, was, _now in changes},
                after={name: now for name, _was, now in changes},
            )
    if changes:
        logger.info("user %s changed consent of episode %s: %s", user_id, episode_id, changes)
    return changes


def _keys(names: Iterable[str]) -> list[tuple[str, int]]:
    seen: dict[str, int] = {}
    keys = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        keys.append((name, seen[name]))
    return keys


def holds(listed: Sequence[Participant]) -> list[Participant]:
    """Those whose answer keeps the recording from listeners (pending or refused)."""
    return [p for p in listed if p.holds_back]


def summary(listed: Sequence[Participant]) -> dict[str, object] | None:
    """As the JSON transcript carries it, next to the licence; None: not tracked."""
    if not listed:
        return None
    if any(p.consent == Consent.NO for p in listed):
        state = "refused"
    elif any(p.consent == Consent.PENDING for p in listed):
        state = "pending"
    else:
        state = "given"
    return {
        "state": state,
        "participants": [{"name": p.name, "consent": str(p.consent)} for p in listed],
    }


def withdraw(conn: object, episode_id: int, name: str | None, now: str) -> list[str]:
    """Consent withdrawn through the receipt (#16), inside the caller's transaction: the
    participant named ``name`` (None: everyone listed) now says no. With nobody listed, an
    anonymous participant who refused is added, so the refusal holds the episode back all
    the same. Returns the names whose answer changed."""
    rows = conn.execute(  # type: ignore[attr-defined]
        "select idx, name, consent from participants where episode_id = ? order by idx",
        [episode_id],
    ).fetchall()
    if not rows:
        add_participants(conn, episode_id, [Participant(ANONYMOUS, Consent.NO)], now)
        return [ANONYMOUS]
    chosen = [r for r in rows if name is None or r[1] == name]
    if not chosen:
        message = _("No one called {name} is listed for this recording.")
        raise ConsentError(message.format(name=name))
    changed = [r for r in chosen if r[2] != Consent.NO]
    for idx, _name, _was in changed:
        conn.execute(  # type: ignore[attr-defined]
            "update participants set consent = ?, changed_at = ?, changed_by = null "
            "where episode_id = ? and idx = ?",
            [str(Consent.NO), now, episode_id, idx],
        )
    return [r[1] for r in changed]
