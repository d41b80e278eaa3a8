"""A contribution's whole life in plain words (#16): received, processed, published or why
not, every edit and every consent answer. One list of ``HistoryEntry`` that the receipt
page, the admins' history on the episode page and ``radio history`` all show.

It reads through the modules that own each table (episodes, renditions, transcripts, tags,
edits, consent, audit). It never names a listener or another contribution: only this
episode's rows, and who of the station's team changed what.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import sqlite_utils

from radio.data import audit, consent, edits, fields, receipts, requests
from radio.data.episodes import Episode, EpisodeStatus, Visibility, get_episode
from radio.data.renditions import renditions
from radio.data.tags import chapters, episode_tags
from radio.data.transcripts import transcript_lines
from radio.data.users import get_user, shown_actor, shown_name
from radio.db import utcnow
from radio.i18n import _

MAX_EDITS = 500  # of each kind: a long life stays one page
# Audit actions the edit tables already tell with their words (before and after).
_TOLD_BY_EDITS = {
    "episode.edit",
    "episode.visibility",
    "episode.licence",
    "chapters.edit",
    "transcript.edit",
}
# Audit actions the requests table tells, with the request's own words and answer.
_TOLD_BY_REQUESTS = {"request.ask", "request.accept", "request.refuse", "consent.withdraw"}


class Kind(StrEnum):
    RECEIVED = "received"
    PROCESSED = "processed"
    PUBLISHED = "published"
    HELD = "held"  # not published, and why
    EDIT = "edit"
    CONSENT = "consent"
    REQUEST = "request"  # asked through the receipt or by a listener, and its answer
    ACTION = "action"  # any other audit entry


@dataclass(frozen=True)
class HistoryEntry:
    when: str | None  # UTC as utcnow writes it; None: a state, as it is now
    kind: str  # a Kind
    summary: str  # plain words
    actor: str | None = None  # who of the team (or the uploader's account); None: the archive
    before: str | None = None
    after: str | None = None


@dataclass(frozen=True)
class Processed:
    """What processing made of the recording."""

    renditions: list[tuple[str, int]]  # (kind, bytes)
    words: int
    topics: list[str]
    chapters: int


def processed(db: sqlite_utils.Database, episode_id: int) -> Processed:
    lines = transcript_lines(db, episode_id)
    return Processed(
        renditions=[(r["kind"], int(r["bytes"] or 0)) for r in renditions(db, episode_id)],
        words=sum(len(line.text.split()) for line in lines),
        topics=[t.label for t in episode_tags(db, episode_id)],
        chapters=len(chapters(db, episode_id)),
    )


def reasons_not_public(episode: Episode, listed: list[consent.Participant]) -> list[str]:
    """Why listeners can't hear it now, each with what would change that; [] when they can."""
    reasons: list[str] = []
    if episode.deleted_at:
        return [str(_("It was taken out of the archive (in the trash)."))]
    if episode.taken_down_at:  # takedown (#16): nothing more is said about it
        return [_("It was taken down: {reason}").format(reason=episode.takedown_reason or "")]
    if episode.status == EpisodeStatus.FAILED:
        reasons.append(
            _("Processing failed: {error} An editor can try again.").format(
                error=episode.error or ""
            )
        )
    elif episode.status != EpisodeStatus.READY:
        reasons.append(str(_("It is still being processed.")))
    if episode.under_review:
        reasons.append(
            _("Held for an editor's review: {note}").format(note=episode.review_note or "")
        )
    elif episode.visibility == Visibility.DRAFT:
        reasons.append(str(_("It is a draft: an editor publishes it when it is ready.")))
    elif episode.visibility == Visibility.PRIVATE:
        reasons.append(str(_("It is private: only the station's team can hear it.")))
    if episode.is_scheduled:
        reasons.append(
            _("It is scheduled: listeners hear it from {when} (UTC).").format(
                when=(episode.publish_at or "").replace("T", " ").rstrip("Z")
            )
        )
    reasons += [consent_reason(p) for p in consent.holds(listed)]
    if episode.takedown_asked:
        reasons.append(
            str(_("A takedown was asked: it is held from listeners until an editor decides."))
        )
    return reasons


def consent_reason(p: consent.Participant) -> str:
    if p.consent == consent.Consent.NO:
        if p.anonymous:
            return str(
                _(
                    "An anonymous participant refused: it stays unpublished unless they "
                    "change their mind (then mark it yes on the edit page)."
                )
            )
        return _(
            "{name} refused: it stays unpublished unless {name} changes their mind "
            "(then mark it yes on the edit page)."
        ).format(name=p.name)
    if p.anonymous:
        return str(
            _(
                "An anonymous participant's consent is pending: when they agree, mark it yes "
                "on the edit page."
            )
        )
    return _(
        "{name}'s consent is pending: when {name} agrees, mark it yes on the edit page."
    ).format(name=p.name)


def contribution_history(db: sqlite_utils.Database, episode_id: int) -> list[HistoryEntry]:
    """The episode's life, oldest first; its present state (processing, publication) last."""
    episode = get_episode(db, episode_id)
    dated = [
        _received(db, episode),
        *_edits(db, episode_id),
        *_audited(db, episode_id),
        *_requests(db, episode_id),
    ]
    dated.sort(key=lambda e: e.when or "")
    return [*dated, *_state(db, episode)]


def _received(db: sqlite_utils.Database, episode: Episode) -> HistoryEntry:
    uploader = get_user(db, episode.uploaded_by) if episode.uploaded_by else None
    return HistoryEntry(
        when=receipts.receipt_created(db, episode.id) or episode.created_at,
        kind=Kind.RECEIVED,
        summary=_("Received {name} ({bytes} bytes, SHA-256 {sha256}).").format(
            name=episode.source_name or "",
            bytes=episode.source_bytes or 0,
            sha256=episode.source_sha256,
        ),
        actor=shown_name(uploader.name) if uploader else None,
    )


def _edits(db: sqlite_utils.Database, episode_id: int) -> list[HistoryEntry]:
    found = [
        HistoryEntry(
            e.edited_at,
            Kind.EDIT,
            _("Changed the {field}.").format(field=_FIELD_WORDS.get(e.field, e.field)),
            shown_name(e.user),
            e.before,
            e.after,
        )
        for e in edits.recent_field_edits(db, episode_id, limit=MAX_EDITS)
    ]
    found += [
        HistoryEntry(
            e.edited_at,
            Kind.EDIT,
            str(_("Corrected the transcript.")),
            shown_name(e.user),
            e.before,
            e.after,
        )
        for e in edits.recent_edits(db, episode_id, limit=MAX_EDITS)
    ]
    return found


# episode_edits keeps the field as people say it, in English; the receipt speaks the reader's
_FIELD_WORDS = {
    "title": _("title"),
    "description": _("description"),
    "show": _("show"),
    "recorded date": _("recorded date"),
    "language": _("language"),
    "who can listen": _("who can listen"),
    "licence": _("licence"),
    "chapters": _("chapters"),
}


def _audited(db: sqlite_utils.Database, episode_id: int) -> list[HistoryEntry]:
    if "audit" not in db.table_names():  # before migration 0018
        return []
    rows = audit.episode_history(db, episode_id, limit=MAX_EDITS)
    return [
        HistoryEntry(
            row.at,
            Kind.CONSENT if row.action.startswith("consent") else Kind.ACTION,
            _action_words(row.action, row.why),
            shown_actor(db, row.actor, row.actor_id),
            row.summary_before,
            row.summary_after,
        )
        for row in rows
        if row.action not in _TOLD_BY_EDITS and row.action not in _TOLD_BY_REQUESTS
    ]


def _requests(db: sqlite_utils.Database, episode_id: int) -> list[HistoryEntry]:
    """Each request about the episode when it was made, and its answer when it came."""
    found: list[HistoryEntry] = []
    for asked in requests.requests_for(db, episode_id):
        if asked.kind == requests.Kind.WITHDRAW_CONSENT:  # took effect as it was asked
            found.append(HistoryEntry(asked.created_at, Kind.CONSENT, request_words(asked)))
            continue
        before, after = (
            (asked.original, asked.proposed)
            if asked.kind == requests.Kind.CORRECTION
            else (None, None)
        )
        found.append(
            HistoryEntry(asked.created_at, Kind.REQUEST, request_words(asked), None, before, after)
        )
        if asked.decided_at and not asked.is_open:
            found.append(
                HistoryEntry(asked.decided_at, Kind.REQUEST, outcome_words(asked), asked.decided_by)
            )
    return found


def request_words(asked: requests.Request) -> str:
    """What was asked, in plain words."""
    if asked.kind == requests.Kind.WITHDRAW_CONSENT:
        if asked.participant:
            return _(
                "Consent withdrawn for {name} through the receipt: listeners can no longer hear it."
            ).format(name=asked.participant)
        return str(
            _(
                "Consent withdrawn for everyone heard, through the receipt: listeners can no "
                "longer hear it."
            )
        )
    if asked.kind == requests.Kind.REMOVE_PASSAGE:
        return _("Asked through the receipt to remove the passage from {start} to {end}.").format(
            start=clock(asked.start), end=clock(asked.end)
        )
    if asked.kind == requests.Kind.TAKEDOWN:
        return str(_("Asked through the receipt to take the whole recording down."))
    return _("A listener suggested a correction of the transcript at {at}.").format(
        at=clock(asked.at)
    )


def outcome_words(asked: requests.Request) -> str:
    """The answer to a request, in plain words, with the reason given."""
    accepted = {
        requests.Kind.REMOVE_PASSAGE: _("Accepted: the passage from {start} to {end} was removed."),
        requests.Kind.TAKEDOWN: _("Accepted: the recording was taken down."),
        requests.Kind.CORRECTION: _("Accepted: the suggested correction at {at} was made."),
    }
    if asked.status == requests.Status.OPEN:
        return str(_("Waiting for an editor's answer."))
    if asked.status == requests.Status.DONE:
        return str(_("Done: it took effect at once."))
    if asked.status == requests.Status.ACCEPTED:
        text = str(accepted.get(asked.kind, _("Accepted.")))
    else:
        text = str(_("Refused."))
    text = text.format(start=clock(asked.start), end=clock(asked.end), at=clock(asked.at))
    if asked.kind == requests.Kind.TAKEDOWN and asked.status == requests.Status.REFUSED:
        text = str(_("Refused: the recording stays in the archive."))
    if not asked.answer:
        return text
    return text + " " + _("Answer: {answer}").format(answer=asked.answer)


def clock(seconds: float | None) -> str:
    return fields.clock_text(seconds or 0.0)


def _action_words(action: str, why: str | None) -> str:
    words = {
        "consent.edit": _("Changed who agreed to be heard."),
        "tags.edit": _("Changed the topics."),
        "episode.takedown": _("Taken down."),  # with its reason: "Why: ..."
        "episode.takedown_undo": _("The takedown was undone."),
        "episode.redact": _("A passage was removed (its words are not kept)."),  # + "Why: ..."
        "worker.commit": _("A worker on another machine sent its results."),
        "episode.import": _("Taken in from another station."),
        "episode.import_update": _("Updated from the station it came from."),
    }.get(action)
    text = str(words) if words else f"{action}."
    if not why:
        return text
    because = _("Why: {why}").format(why=why)
    return f"{text} {because}"


def _state(db: sqlite_utils.Database, episode: Episode) -> list[HistoryEntry]:
    state: list[HistoryEntry] = []
    if episode.status == EpisodeStatus.READY:
        made = processed(db, episode.id)
        copies = ", ".join(f"{kind} {size} bytes" for kind, size in made.renditions)
        state.append(
            HistoryEntry(
                None,
                Kind.PROCESSED,
                _(
                    "Processed: listening copies {copies}; a transcript of {words} words; "
                    "{topics} topics; {chapters} chapters."
                ).format(
                    copies=copies or "-",
                    words=made.words,
                    topics=len(made.topics),
                    chapters=made.chapters,
                ),
            )
        )
    listed = consent.participants(db, episode.id)
    reasons = reasons_not_public(episode, listed)
    if not reasons:
        state.append(
            HistoryEntry(
                episode.publish_at or episode.published_at or utcnow(),
                Kind.PUBLISHED,
                str(_("Published: on its page, in search and in the podcast feeds.")),
            )
        )
    state += [
        HistoryEntry(None, Kind.HELD, _("Not published: {why}").format(why=r)) for r in reasons
    ]
    return state
