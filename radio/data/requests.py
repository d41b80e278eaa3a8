"""Requests about an episode (#16): the only SQL for the ``requests`` table.

A contributor, through the receipt link, may withdraw consent (a right: it takes effect at
once, through ``radio.data.consent``, and is kept here as ``done`` for the editors to
see), ask for a passage to be removed, or ask for the whole recording to be taken down
(held from listeners at once while the request is open: ``public_sql`` in
``radio.data.episodes``). A listener may suggest a correction of one transcript segment.
Editors accept or refuse what is open, with a reason; ``radio.jobs.decide`` does what an
acceptance means and then calls ``decided`` here.

Every field is cleaned as ``radio.data.fields`` cleans text and capped; nothing about who
asked is kept beyond "contributor" or "listener" (no address, no account).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils

from radio.data import audit, consent, fields
from radio.data.errors import Invalid, NotFound
from radio.db import transaction, utcnow
from radio.i18n import _

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 2_000  # what the asker writes: a reason, a note
MAX_ANSWER_CHARS = 1_000  # the editor's reason
MAX_SEGMENT_CHARS = 2_000  # a proposed segment text (radio.data.edits caps saved ones too)
MAX_OPEN_PER_EPISODE = 100  # so no one can bury the editors' queue under one episode
LISTED = 300  # the queue's page: every open request, and the latest decided


class Kind(StrEnum):
    WITHDRAW_CONSENT = "withdraw_consent"
    REMOVE_PASSAGE = "remove_passage"
    TAKEDOWN = "takedown"
    CORRECTION = "correction"


class Asker(StrEnum):
    CONTRIBUTOR = "contributor"  # whoever holds the receipt link
    LISTENER = "listener"


class Status(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    DONE = "done"  # took effect as asked, with no decision to make (consent withdrawn)


class RequestError(Invalid):
    """A request can't be taken or decided as given; the message says what to do."""


class RequestNotFound(NotFound):
    def __init__(self, request_id: object) -> None:
        super().__init__(_("There is no request {id}.").format(id=request_id))


@dataclass(frozen=True)
class Request:
    id: int
    episode_id: int
    kind: str  # a Kind
    asked_by: str  # an Asker
    participant: str | None  # withdraw_consent: whose (None: everyone)
    start: float | None  # remove_passage: from, to (seconds)
    end: float | None
    segment_id: int | None  # correction: which segment, where it starts, its text then
    at: float | None
    original: str | None
    proposed: str | None
    message: str | None
    status: str  # a Status
    decided_by_id: int | None
    decided_at: str | None
    answer: str | None
    created_at: str
    decided_by: str | None = None  # the account's name now, if it is still there
    episode_title: str | None = None
    episode_guid: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status == Status.OPEN


_COLUMNS = (
    "r.id, r.episode_id, r.kind, r.asked_by, r.participant, r.start, r.end, r.segment_id, "
    "r.at, r.original, r.proposed, r.message, r.status, r.decided_by, r.decided_at, r.answer, "
    "r.created_at, u.name, e.title, e.guid"
)
_FROM = (
    "from requests r join episodes e on e.id = r.episode_id "
    "left join users u on u.id = r.decided_by"
)


def message(value: str | None, *, required: bool = False) -> str | None:
    """What someone wrote to go with a request: cleaned, capped, None when empty."""
    text = fields.clean_text(value, multiline=True)
    if len(text) > MAX_MESSAGE_CHARS:
        raise RequestError(
            _("The message is too long ({length:,} characters); use at most {limit:,}.").format(
                length=len(text), limit=MAX_MESSAGE_CHARS
            )
        )
    if required and not text:
        raise RequestError(str(_("Say in a few words why, so an editor can decide.")))
    return text or None


def answer_text(value: str | None, *, required: bool) -> str | None:
    text = fields.clean_text(value, multiline=True)
    if len(text) > MAX_ANSWER_CHARS:
        raise RequestError(
            _("The reason is too long ({length:,} characters); use at most {limit:,}.").format(
                length=len(text), limit=MAX_ANSWER_CHARS
            )
        )
    if required and not text:
        raise RequestError(str(_("Give a reason: the person who asked will read it.")))
    return text or None


def withdraw_consent(
    db: sqlite_utils.Database, episode_id: int, participant: str | None, note: str | None
) -> Request:
    """Consent withdrawn at once for ``participant`` (None: everyone heard), recorded as a
    done request and in the audit history, all in one transaction."""
    note = message(note)
    now = utcnow()
    with transaction(db) as conn:
        changed = consent.withdraw(conn, episode_id, participant, now)
        request_id = _insert(
            conn, episode_id, Kind.WITHDRAW_CONSENT, Asker.CONTRIBUTOR, now,
            status=Status.DONE, participant=participant, message=note, decided_at=now,
        )  # fmt: skip
        audit.record(
            conn,
            audit.RECEIPT,
            "consent.withdraw",
            audit.subject("episode", episode_id),
            before={"request": request_id},
            after={name: str(consent.Consent.NO) for name in changed},
        )
    logger.info("consent withdrawn through the receipt of episode %s", episode_id)
    return get_request(db, request_id)


def ask_passage_removed(
    db: sqlite_utils.Database,
    episode_id: int,
    start: float,
    end: float,
    duration: float | None,
    note: str | None,
) -> Request:
    """An open request to cut ``start``-``end`` (seconds) out of the recording."""
    if end <= start:
        raise RequestError(str(_("The passage must end after it starts.")))
    if start < 0 or (duration and start >= duration):
        raise RequestError(
            _("The passage must start inside the recording (0:00 to {end}).").format(
                end=fields.clock_text(duration or 0)
            )
        )
    if duration:
        end = min(end, duration)
    return _ask(db, episode_id, Kind.REMOVE_PASSAGE, Asker.CONTRIBUTOR,
                start=start, end=end, message=message(note, required=True))  # fmt: skip


def ask_takedown(db: sqlite_utils.Database, episode_id: int, note: str | None) -> Request:
    """An open request to take the whole recording down: listeners lose it at once. Asking
    again while one is open gives back that one."""
    found = requests_for(db, episode_id, kind=Kind.TAKEDOWN, status=Status.OPEN)
    if found:
        return found[0]
    return _ask(db, episode_id, Kind.TAKEDOWN, Asker.CONTRIBUTOR,
                message=message(note, required=True))  # fmt: skip


def suggest_correction(
    db: sqlite_utils.Database,
    episode_id: int,
    segment: tuple[int, float, str],
    proposed: str | None,
    note: str | None,
) -> Request:
    """A listener's better text for one segment, given as (id, start, text as it is now)."""
    segment_id, at, original = segment
    text = " ".join(fields.clean_text(proposed).split())
    if len(text) > MAX_SEGMENT_CHARS:
        raise RequestError(
            _("A segment can hold at most {limit} characters.").format(limit=MAX_SEGMENT_CHARS)
        )
    if not text:
        raise RequestError(str(_("Write the words as they were said.")))
    if text == original:
        raise RequestError(
            str(_("The text is the same as the transcript's; change what is wrong."))
        )
    return _ask(db, episode_id, Kind.CORRECTION, Asker.LISTENER, segment_id=segment_id,
                at=at, original=original, proposed=text, message=message(note))  # fmt: skip


def _ask(
    db: sqlite_utils.Database, episode_id: int, kind: Kind, asker: Asker, **values: object
) -> Request:
    now = utcnow()
    with transaction(db) as conn:
        waiting = conn.execute(
            "select count(*) from requests where episode_id = ? and status = ?",
            [episode_id, str(Status.OPEN)],
        ).fetchone()[0]
        if waiting >= MAX_OPEN_PER_EPISODE:
            raise RequestError(
                str(_("This recording has many requests waiting already; try again later."))
            )
        request_id = _insert(conn, episode_id, kind, asker, now, status=Status.OPEN, **values)
        audit.record(
            conn,
            audit.RECEIPT if asker == Asker.CONTRIBUTOR else audit.Actor("listener"),
            "request.ask",
            audit.subject("episode", episode_id),
            after={"request": request_id, "kind": str(kind)},
        )
    logger.info("%s asked for %s on episode %s (request %s)", asker, kind, episode_id, request_id)
    return get_request(db, request_id)


def _insert(
    conn: object, episode_id: int, kind: Kind, asker: Asker, now: str, **values: object
) -> int:
    row = {"episode_id": episode_id, "kind": str(kind), "asked_by": str(asker),
           "created_at": now, **{k: str(v) if isinstance(v, StrEnum) else v
                                 for k, v in values.items()}}  # fmt: skip
    names = ", ".join(f'"{k}"' for k in row)
    marks = ", ".join("?" for _k in row)
    cursor = conn.execute(  # type: ignore[attr-defined]
        f"insert into requests ({names}) values ({marks})", list(row.values())
    )
    return int(cursor.lastrowid)


def get_request(db: sqlite_utils.Database, request_id: int) -> Request:
    row = db.execute(f"select {_COLUMNS} {_FROM} where r.id = ?", [request_id]).fetchone()
    if row is None:
        raise RequestNotFound(request_id)
    return Request(*row)


def requests_for(
    db: sqlite_utils.Database,
    episode_id: int,
    *,
    kind: Kind | None = None,
    status: Status | None = None,
) -> list[Request]:
    """One episode's requests, oldest first (what its receipt shows: only this episode's)."""
    where, args = ["r.episode_id = ?"], [episode_id]
    if kind:
        where.append("r.kind = ?")
        args.append(str(kind))
    if status:
        where.append("r.status = ?")
        args.append(str(status))
    rows = db.execute(
        f"select {_COLUMNS} {_FROM} where {' and '.join(where)} order by r.id", args
    ).fetchall()
    return [Request(*row) for row in rows]


def queue(
    db: sqlite_utils.Database, *, open_only: bool = False, limit: int = LISTED
) -> list[Request]:
    """The editors' queue: open requests first (oldest first: they have waited longest),
    then the latest decided ones, newest first."""
    rows = db.execute(
        f"select {_COLUMNS} {_FROM} where r.status = ? order by r.id", [str(Status.OPEN)]
    ).fetchall()
    found = [Request(*row) for row in rows]
    if not open_only:
        rows = db.execute(
            f"select {_COLUMNS} {_FROM} where r.status <> ? order by r.decided_at desc, r.id desc "
            "limit ?",
            [str(Status.OPEN), limit],
        ).fetchall()
        found += [Request(*row) for row in rows]
    return found


def open_count(db: sqlite_utils.Database) -> int:
    row = db.execute("select count(*) from requests where status = ?", [str(Status.OPEN)])
    return int(row.fetchone()[0])


def decided(
    db: sqlite_utils.Database,
    request_id: int,
    status: Status,
    *,
    actor: audit.Actor,
    answer: str | None,
    details: dict[str, object] | None = None,
) -> Request:
    """Mark an open request accepted or refused (after what accepting does is done) and
    record it in the audit history: what was asked and the reason, never removed words."""
    if status not in (Status.ACCEPTED, Status.REFUSED):
        raise RequestError(f"a request is decided accepted or refused, not {status}")
    now = utcnow()
    with transaction(db) as conn:
        row = conn.execute(
            "select episode_id, kind, status from requests where id = ?", [request_id]
        ).fetchone()
        if row is None:
            raise RequestNotFound(request_id)
        if row[2] != Status.OPEN:
            raise RequestError(
                _("Request {id} was already answered ({status}).").format(
                    id=request_id, status=row[2]
                )
            )
        conn.execute(
            "update requests set status = ?, decided_by = ?, decided_at = ?, answer = ? "
            "where id = ?",
            [str(status), actor.user_id, now, answer, request_id],
        )
        audit.record(
            conn,
            actor,
            "request.accept" if status == Status.ACCEPTED else "request.refuse",
            audit.subject("episode", row[0]),
            before={"request": request_id, "kind": row[1]},
            after={"status": str(status), **(details or {})},
            why=answer,
        )
    logger.info("request %s %s by %s", request_id, status, actor.name)
    return get_request(db, request_id)


SEGMENT_SECONDS = 30.0  # no transcript segment is longer (Whisper's window)


def forget_passage(
    conn: audit.Executes, episode_id: int, start: float, end: float, segment_ids: list[int]
) -> int:
    """Inside a passage's removal (#16 item 4, radio.jobs.redact, in its transaction): the
    words of corrections suggested for the segments it touched, or for any that may overlap
    it, are forgotten too, so the removed words survive nowhere. The requests stay, with
    their answers; returns how many lost their words."""
    marks = ",".join("?" * len(segment_ids)) or "null"
    cursor = conn.execute(
        "update requests set original = null, proposed = null where episode_id = ? "
        "and kind = ? and (original is not null or proposed is not null) "
        f"and ((at < ? and at > ?) or segment_id in ({marks}))",
        [episode_id, str(Kind.CORRECTION), end, start - SEGMENT_SECONDS, *segment_ids],
    )
    return int(cursor.rowcount)


def forget_texts(conn: audit.Executes, episode_id: int) -> None:
    """When an episode's content is erased (a takedown that destroys it, and every backup
    after a takedown, radio.data.takedowns): suggested corrections quote its transcript,
    so their texts go too; the requests and their answers stay."""
    conn.execute(
        "update requests set original = null, proposed = null where episode_id = ? and kind = ?",
        [episode_id, str(Kind.CORRECTION)],
    )
