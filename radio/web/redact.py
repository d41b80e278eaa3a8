"""Editors remove a passage from an episode for good (#16 item 4): ``/episodes/<guid>/redact``.

Two steps, as deleting has: the form (from, to, why, tone or silence), then a page that
shows the words that will go, then the removal itself (``radio.jobs.redact``), done
before the answer comes back. ``?from=1:05&to=1:20`` fills the form in (a contributor's
request links here).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from radio.data.episodes import Episode
from radio.data.errors import DataError
from radio.data.fields import chapter_start, clock_text
from radio.data.users import Role
from radio.db import get_db
from radio.jobs import redact as redacting
from radio.jobs.errors import JobError
from radio.media.errors import MediaError
from radio.web.audit import actor
from radio.web.auth import load_episode, login_required

bp = Blueprint("redact", __name__)


def _form(source: Any) -> dict[str, str]:
    return {
        "start": (source.get("from") or "").strip()[:20],
        "end": (source.get("to") or "").strip()[:20],
        "reason": (source.get("reason") or "").strip()[: redacting.MAX_REASON_CHARS + 1],
        "sound": "silence" if source.get("sound") == "silence" else "tone",
    }


def _show(episode: Episode, form: dict[str, str], error: str | None = None, **more: Any) -> Any:
    page = render_template(
        "redact.html", episode=episode, form=form, error=error, clock=clock_text, **more
    )
    return (page, 400) if error else page


@bp.get("/episodes/<guid>/redact")
@login_required(Role.EDITOR)
def form(guid: str) -> Any:
    return _show(load_episode(guid), _form(request.args))


@bp.post("/episodes/<guid>/redact")
@login_required(Role.EDITOR)
def redact(guid: str) -> Any:
    """Check the passage and show what goes; with ``confirm``, remove it."""
    from radio.jobs.redact_text import text_to_go

    episode = load_episode(guid)
    db, asked = get_db(), _form(request.form)
    try:
        start, end = chapter_start(asked["start"]), chapter_start(asked["end"])
        redacting.check(db, episode, start, end, reason=asked["reason"], sound=asked["sound"])
        if request.form.get("confirm") != "1":
            lines = text_to_go(db, episode.id, start, end)
            return _show(episode, asked, confirm=True, lines=lines, start=start, end=end)
        done = redacting.redact(
            db,
            current_app.config,
            episode.id,
            start,
            end,
            actor=actor(),
            reason=asked["reason"],
            sound=asked["sound"],
        )
    except (DataError, JobError, MediaError) as e:
        return _show(episode, asked, str(e))
    flash(
        gettext(
            "Removed %(start)s to %(end)s: %(words)d words, and %(files)d files written again.",
            start=clock_text(done.start),
            end=clock_text(done.end),
            words=done.words_removed,
            files=len(done.files),
        )
    )
    return redirect(url_for("archive.edit", guid=episode.guid), 303)
