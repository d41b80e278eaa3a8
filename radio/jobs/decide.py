"""Answering a request (#16): what accepting each kind does, then the answer recorded
(``radio.data.requests.decided``), for the editors' queue and ``radio requests``.

- a correction: the listener's text goes through the editors' own segment edit
  (``radio.data.edits.edit_segments``): edit history, audit and search index follow;
- a passage: ``radio.jobs.redact.redact`` cuts it from every rendition and the transcript;
- a takedown: ``radio.jobs.takedown.take_down`` (admins only), destroying the files or not.

The work comes first and the answer after it, so a failure leaves the request open to try
again. Refusing changes nothing but the request; a refused takedown releases the hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data import audit, edits, requests
from radio.data.requests import Kind, Request, RequestError, Status
from radio.data.transcripts import segment_texts
from radio.i18n import _

SOUNDS = ("tone", "silence")


@dataclass(frozen=True)
class Choices:
    """What the one who accepts chooses, for the kinds that need it."""

    destroy: bool = False  # a takedown: remove the original and derived files too
    sound: str = "tone"  # a passage: what replaces it
    may_take_down: bool = False  # admins only


def accept(
    db: sqlite_utils.Database,
    config: Mapping[str, Any],
    request_id: int,
    *,
    actor: audit.Actor,
    answer: str | None,
    choices: Choices = Choices(),
) -> Request:
    asked = requests.get_request(db, request_id)
    if not asked.is_open:
        raise RequestError(
            _("Request {id} was already answered ({status}).").format(
                id=request_id, status=asked.status
            )
        )
    answer = requests.answer_text(answer, required=False)
    reason = answer or asked.message or ""
    details: dict[str, object] = {}
    if asked.kind == Kind.CORRECTION:
        _apply_correction(db, asked, actor)
    elif asked.kind == Kind.REMOVE_PASSAGE:
        if choices.sound not in SOUNDS:
            raise RequestError(str(_("Replace the passage with a tone or with silence.")))
        from radio.jobs.redact import redact  # loads PyAV: only when a passage is cut

        redact(db, dict(config), asked.episode_id, asked.start or 0.0, asked.end or 0.0,
               actor=actor, reason=reason, sound=choices.sound)  # fmt: skip
        details = {"sound": choices.sound}
    elif asked.kind == Kind.TAKEDOWN:
        if not choices.may_take_down:
            raise RequestError(str(_("Only an admin may take a recording down.")))
        from radio.jobs.takedown import take_down

        take_down(db, dict(config), asked.episode_id, actor=actor, reason=reason,
                  destroy=choices.destroy)  # fmt: skip
        details = {"destroy": choices.destroy}
    else:
        raise RequestError(str(_("This request took effect when it was made.")))
    return requests.decided(
        db, request_id, Status.ACCEPTED, actor=actor, answer=answer, details=details
    )


def refuse(
    db: sqlite_utils.Database, request_id: int, *, actor: audit.Actor, answer: str | None
) -> Request:
    """Refused with a reason (required: the asker reads it); nothing else changes, and an
    episode held for a takedown request is heard again."""
    answer = requests.answer_text(answer, required=True)
    return requests.decided(db, request_id, Status.REFUSED, actor=actor, answer=answer)


def _apply_correction(db: sqlite_utils.Database, asked: Request, actor: audit.Actor) -> None:
    current = segment_texts(db, asked.episode_id).get(asked.segment_id or -1)
    if current is None or current != asked.original:
        raise RequestError(
            str(
                _(
                    "The transcript changed there since this was suggested; correct it on "
                    "the edit page, then refuse this suggestion saying so."
                )
            )
        )
    # the editor's account makes the edit (None from the command line: the archive's own)
    texts = {int(asked.segment_id or 0): asked.proposed or ""}
    edits.edit_segments(db, asked.episode_id, actor.user_id, texts)  # type: ignore[arg-type]
