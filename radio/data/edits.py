"""Editors' changes: episode details, transcript fixes (each kept in transcript_edits), tags.

The search index follows by itself: FTS5 triggers on ``segments`` and ``episodes``
(migration 0002) re-index a row whenever its text changes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import EllipsisType
from typing import Any

import sqlite_utils

from radio.data import audit
from radio.data.episodes import (
    VISIBILITIES,
    Visibility,
    end_review,
    get_episode,
    set_fields,
    update_episode,
)
from radio.data.errors import Invalid
from radio.data.fields import clock_text
from radio.data.shows import show_title
from radio.data.tags import (
    TagError,
    chapters_by_hand,
    episode_tags,
    set_chapters_by_hand,
    tag_episode,
)
from radio.data.tags import chapters as stored_chapters
from radio.data.transcripts import segment_texts
from radio.db import transaction, utcnow
from radio.i18n import _
from transcription.segments import Chapter
from transcription.taxonomy import Taxonomy

logger = logging.getLogger(__name__)

MAX_TITLE_CHARS = 200
MAX_DESCRIPTION_CHARS = 20_000
MAX_SEGMENT_CHARS = 5_000


class EditError(Invalid):
    """An edit can't be saved; the message says what to change."""


def update_details(
    db: sqlite_utils.Database,
    episode_id: int,
    *,
    title: str,
    description: str,
    visibility: str,
    licence: str | None | EllipsisType = ...,
) -> None:
    """Save an editor's details; ``licence`` is a code checked by ``fields.licence`` (None:
    no licence stated), left as it is when not given."""
    title = " ".join((title or "").split())
    if not title:
        raise EditError(str(_("The title can't be empty.")))
    if len(title) > MAX_TITLE_CHARS:
        raise EditError(
            _("The title is too long; use at most {limit} characters.").format(
                limit=MAX_TITLE_CHARS
            )
        )
    description = (description or "").strip().replace("\r\n", "\n")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise EditError(
            _("The description is too long; use at most {limit} characters.").format(
                limit=MAX_DESCRIPTION_CHARS
            )
        )
    if visibility not in VISIBILITIES:
        raise EditError(
            _("Visibility must be one of {choices}.").format(choices=", ".join(VISIBILITIES))
        )
    changes: dict[str, str | None] = {
        "title": title,
        "description": description,
        "visibility": visibility,
    }
    if licence is not ...:
        changes["licence"] = licence
    update_episode(db, episode_id, **changes)
    if visibility == Visibility.PUBLIC:  # an editor who publishes has reviewed it
        end_review(db, episode_id)


def edit_segments(
    db: sqlite_utils.Database, episode_id: int, user_id: int, texts: Mapping[int, str]
) -> int:
    """Save changed segment texts (segment id -> new text); return how many changed.

    All or nothing: one transaction, so a refused segment leaves the transcript as it was.
    """
    current = segment_texts(db, episode_id)
    changes: list[tuple[int, str, str]] = []
    for segment_id, raw in texts.items():
        if segment_id not in current:
            raise EditError(
                _("Segment {segment} isn't part of this episode; reload the page.").format(
                    segment=segment_id
                )
            )
        text = " ".join((raw or "").split())
        if len(text) > MAX_SEGMENT_CHARS:
            raise EditError(
                _("A segment can hold at most {limit} characters.").format(limit=MAX_SEGMENT_CHARS)
            )
        if text != current[segment_id]:
            changes.append((segment_id, current[segment_id], text))
    if not changes:
        return 0
    now = utcnow()
    with transaction(db) as conn:
        for segment_id, before, after in changes:
            conn.execute("update segments set text = ? where id = ?", [after, segment_id])
            conn.execute(
                "insert into transcript_edits (episode_id, segment_id, user_id, before, after, "
                "edited_at) values (?, ?, ?, ?, ?, ?)",
                [episode_id, segment_id, user_id, before, after, now],
            )
        conn.execute("update episodes set updated_at = ? where id = ?", [now, episode_id])
        # which segments, not their words: the history must not keep what a redaction removes
        audit.record(
            conn,
            audit.account(conn, user_id),
            "transcript.edit",
            audit.subject("episode", episode_id),
            after={"segments": [segment_id for segment_id, _b, _a in changes]},
        )
    logger.info("user %s edited %d segment(s) of episode %s", user_id, len(changes), episode_id)
    return len(changes)


@dataclass(frozen=True)
class Edit:
    """One editor's change to one segment, as kept in ``transcript_edits``."""

    segment_id: int
    before: str
    after: str
    edited_at: str
    user: str | None  # the account's name; None once the account is gone


def recent_edits(db: sqlite_utils.Database, episode_id: int, limit: int = 20) -> list[Edit]:
    rows = db.execute(
        "select te.segment_id, te.before, te.after, te.edited_at, u.name as user "
        "from transcript_edits te left join users u on u.id = te.user_id "
        "where te.episode_id = ? order by te.id desc limit ?",
        [episode_id, limit],
    ).fetchall()
    return [Edit(*r) for r in rows]


def change_tags(
    db: sqlite_utils.Database,
    episode_id: int,
    *,
    add: str = "",
    remove: Sequence[str] = (),
    taxonomy: Taxonomy,
    actor: audit.Actor = audit.SYSTEM,
) -> str:
    """Add the tags named in ``add`` (commas between names) and remove the ``remove`` slugs,
    as manual decisions that every retag keeps; return what changed, to tell the editor."""
    names = [name.strip() for name in add.split(",") if name.strip()]
    if not names and not remove:
        raise EditError(str(_("Type a tag to add, e.g. water or market day.")))
    rows = episode_tags(db, episode_id, include_removed=True)
    before = {r.slug: (r.source, r.removed) for r in rows}
    try:
        after = tag_episode(db, episode_id, names, remove, taxonomy=taxonomy)
    except TagError as e:
        raise EditError(str(e)) from None
    changed = [r for r in after if before.get(r.slug) != (r.source, r.removed)]
    added = [r.label for r in changed if not r.removed]
    removed = [r.label for r in changed if r.removed]
    if changed:
        audit.record(
            db,
            actor,
            "tags.edit",
            audit.subject("episode", episode_id),
            after={"added": added, "removed": removed},
        )
    parts = [_("Added {tags}.").format(tags=", ".join(added)) if added else ""]
    parts.append(_("Removed {tags}.").format(tags=", ".join(removed)) if removed else "")
    return " ".join(p for p in parts if p) or str(_("The tags were already like that."))


# -- episode fields and chapters, with their history (#15) ---------------------------------

FIELD_LABELS = {
    "show_id": "show",
    "title": "title",
    "description": "description",
    "recorded_at": "recorded date",
    "language": "language",
    "visibility": "who can listen",
    "licence": "licence",
    "chapters": "chapters",
}


@dataclass(frozen=True)
class FieldEdit:
    """One editor's change to one of an episode's fields, as kept in ``episode_edits``."""

    field: str  # as people say it: "show", "recorded date", "chapters"
    before: str | None
    after: str | None
    edited_at: str
    user: str | None


def edit_episode(
    db: sqlite_utils.Database, episode_id: int, user_id: int | None, changes: dict[str, Any]
) -> list[str]:
    """Save an editor's changed fields (columns of ``episodes.EDITABLE``, checked by
    ``radio.data.fields``) with their history, in one transaction; return the columns that
    changed. A language an editor gives is the episode's language everywhere (pages,
    feeds, files): the model's guess and its doubt give way."""
    episode = get_episode(db, episode_id)
    changed = {k: v for k, v in changes.items() if getattr(episode, k) != v}
    if not changed:
        return []
    if "language" in changed:
        changed |= {
            "language_hint": changed["language"],
            "transcript_language": changed["language"],
            "language_probability": None,
        }
    history = []
    for column in (c for c in FIELD_LABELS if c in changed):
        before, after = getattr(episode, column), changed[column]
        if column == "show_id":
            before, after = episode.show_title, show_title(db, after)
        elif column == "language":
            before = episode.spoken_language
        history.append((FIELD_LABELS[column], before, after))
    now = utcnow()
    with transaction(db) as conn:
        set_fields(conn, episode_id, changed, now)
        _record(conn, episode_id, user_id, history, now)
        _audit(conn, episode_id, user_id, history)
    if changed.get("visibility") == Visibility.PUBLIC:  # an editor who publishes has reviewed it
        end_review(db, episode_id)
    logger.info("user %s changed %s of episode %s", user_id, sorted(changed), episode_id)
    return list(changed)


def save_chapters(
    db: sqlite_utils.Database,
    episode_id: int,
    user_id: int | None,
    chapters: Sequence[Chapter] | None,
) -> bool:
    """An editor's chapters (checked by ``fields.chapter_list``) replace the episode's in one
    transaction with their history, and stay through every retag; None hands them back to
    the computation. Returns whether anything changed."""
    before = stored_chapters(db, episode_id)
    by_hand = chapters_by_hand(db.conn, episode_id)
    if chapters is not None and by_hand and list(chapters) == before:
        return False
    if chapters is None and not by_hand:
        return False
    after = "(found by the archive at the next retag)" if chapters is None else _text(chapters)
    now = utcnow()
    with transaction(db) as conn:
        set_chapters_by_hand(conn, episode_id, chapters, now)
        _record(conn, episode_id, user_id, [("chapters", _text(before), after)], now)
        _audit(conn, episode_id, user_id, [("chapters", _text(before), after)])
    logger.info("user %s set the chapters of episode %s", user_id, episode_id)
    return True


def _text(chapters: Sequence[Chapter]) -> str:
    return "\n".join(f"{clock_text(c.start)} {c.title}" for c in chapters) or "(none)"


def _record(
    conn: Any,
    episode_id: int,
    user_id: int | None,
    history: Sequence[tuple[str, Any, Any]],
    now: str,
) -> None:
    for field, before, after in history:
        conn.execute(
            "insert into episode_edits (episode_id, user_id, field, before, after, edited_at) "
            "values (?, ?, ?, ?, ?, ?)",
            [episode_id, user_id, field, _shown(before), _shown(after), now],
        )


# Changes the audit history files under their own action; the others are "episode.edit".
_OWN_ACTIONS = {
    "who can listen": "episode.visibility",
    "licence": "episode.licence",
    "chapters": "chapters.edit",
}


def _audit(
    conn: Any, episode_id: int, user_id: int | None, history: Sequence[tuple[str, Any, Any]]
) -> None:
    """The same changes in the audit history (#16), in the same transaction."""
    actor = audit.account(conn, user_id)
    grouped: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {}
    for field, before, after in history:
        was, now = grouped.setdefault(_OWN_ACTIONS.get(field, "episode.edit"), ({}, {}))
        was[field], now[field] = _shown(before), _shown(after)
    for action, (was, now) in grouped.items():
        audit.record(
            conn, actor, action, audit.subject("episode", episode_id), before=was, after=now
        )


def _shown(value: Any) -> str | None:
    return None if value is None else str(value)


def recent_field_edits(
    db: sqlite_utils.Database, episode_id: int, limit: int = 20
) -> list[FieldEdit]:
    rows = db.execute(
        "select ee.field, ee.before, ee.after, ee.edited_at, u.name as user "
        "from episode_edits ee left join users u on u.id = ee.user_id "
        "where ee.episode_id = ? order by ee.id desc limit ?",
        [episode_id, limit],
    ).fetchall()
    return [FieldEdit(*r) for r in rows]


# -- removing a passage (#16 item 4): the history keeps that an edit happened, not its words

REMOVED = "[removed]"  # the one value a redaction may write into the audit (migration 0022)
_WORD = re.compile(r"\w+")


def words_of(text: str | None) -> set[str]:
    """The words of ``text`` as compared for scrubbing: case-folded, without punctuation."""
    return {w.casefold() for w in _WORD.findall(text or "")}


def scrub_history(
    conn: Any, episode_id: int, segment_ids: Sequence[int], gone: Sequence[int], words: set[str]
) -> int:
    """Inside the caller's transaction: the before/after texts that quote a removed passage
    become "[removed]": every fix of the segments it touched (``segment_ids``; those in
    ``gone`` are about to be deleted, so their fixes no longer point at them), and any
    episode edit or audit summary of this episode holding one of ``words``. Returns how
    many history rows were scrubbed."""
    marks = ",".join("?" * len(segment_ids))
    scrubbed = 0
    if segment_ids:
        scrubbed += conn.execute(
            f"update transcript_edits set before = ?, after = ? where segment_id in ({marks})",
            [REMOVED, REMOVED, *segment_ids],
        ).rowcount
    for segment_id in gone:
        conn.execute(
            "update transcript_edits set segment_id = null where segment_id = ?", [segment_id]
        )
    tables = (
        ("transcript_edits", "before", "after", "episode_id = ?", episode_id),
        ("episode_edits", "before", "after", "episode_id = ?", episode_id),
        ("audit", "summary_before", "summary_after", "subject = ?", f"episode:{episode_id}"),
    )
    for table, first, second, where, key in tables:
        rows = conn.execute(f"select id, {first}, {second} from {table} where {where}", [key])
        for row_id, before, after in rows.fetchall():
            new = [REMOVED if words & words_of(v) else v for v in (before, after)]
            if new != [before, after]:
                conn.execute(
                    f"update {table} set {first} = ?, {second} = ? where id = ?",
                    [*new, row_id],
                )
                scrubbed += 1
    return scrubbed
