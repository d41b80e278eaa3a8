"""Editors make a failed or finished episode's steps again from the web (#15): "Make the
audio again", "Transcribe again", "Find topics and chapters again". A finished episode
stays published throughout (``radio.jobs.rerun``); a failed one is retried as before."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug import Response

from radio.data import audit
from radio.data.episodes import Episode, EpisodeStatus
from radio.data.reruns import RerunPhase, get_rerun
from radio.data.transcripts import get_retranscription
from radio.data.users import Role
from radio.db import get_db
from radio.jobs import rerun, tasks
from radio.web.audit import actor
from radio.web.auth import current_user, load_episode, login_required, safe_next

bp = Blueprint("rerun", __name__)

BUTTONS = (
    ("audio", lazy_gettext("Make the audio again")),
    ("transcript", lazy_gettext("Transcribe again")),
    ("topics", lazy_gettext("Find topics and chapters again")),
)
PHASES = {
    RerunPhase.QUEUED: lazy_gettext("Waiting for the worker"),
    RerunPhase.RUNNING: lazy_gettext("Making the new files (listeners keep the old ones)"),
    RerunPhase.STAGED: lazy_gettext("New files ready; swapping them in"),
    RerunPhase.TOPICS: lazy_gettext("Finding topics and chapters"),
    RerunPhase.DONE: lazy_gettext("Done"),
    RerunPhase.FAILED: lazy_gettext("Stopped"),
}
# The step being made again, shown capitalized before its phase ("The audio: Done").
STEPS = {
    "audio": lazy_gettext("the audio"),
    "topics": lazy_gettext("topics and chapters"),
    "all": lazy_gettext("every step"),
}
ENQUEUE = {
    rerun.Asked.RERUN: tasks.enqueue_rerun,
    rerun.Asked.RETRANSCRIBE: tasks.enqueue_retranscription,
    rerun.Asked.RETRY: tasks.enqueue,
}


@bp.app_context_processor
def rerun_helpers() -> dict[str, Any]:
    return {"rerun_state": rerun_state}


def rerun_state(episode: Episode) -> dict[str, Any] | None:
    """What the _rerun.html include shows an editor; None for anyone else."""
    user = current_user()
    if user is None or not user.can(Role.EDITOR):
        return None
    db = get_db()
    return {
        "buttons": BUTTONS,
        "can_run": episode.status in (EpisodeStatus.READY, EpisodeStatus.FAILED),
        "rerun": get_rerun(db, episode.id),
        "again": get_retranscription(db, episode.id),
        "phases": PHASES,
        "steps": STEPS,
        "back": request.full_path.rstrip("?"),
    }


@bp.post("/episodes/<guid>/rerun")
@login_required(Role.EDITOR)
def rerun_step(guid: str) -> Response:
    """Queue one step of the episode again; listeners keep what they have meanwhile."""
    db = get_db()
    episode = load_episode(guid)  # editors see every episode not in the trash
    step = request.form.get("step") or None
    back = safe_next(request.form.get("next") or url_for("archive.edit", guid=guid))
    try:
        asked = rerun.request(db, current_app.config, episode.id, step, user_id=g.user.id)
    except rerun.RerunError as e:
        flash(str(e), "error")
        return redirect(back)
    ENQUEUE[asked](episode.id)
    audit.record(db, actor(), "episode.rerun", audit.subject("episode", episode.id),
                 after={"step": step or "all", "asked": str(asked)})  # fmt: skip
    if asked == rerun.Asked.RETRY:
        flash(gettext("Queued again: the steps that did not finish run once more."))
    else:
        flash(
            gettext(
                "Queued. Listeners keep the episode as it is until the new version is "
                "complete, then it replaces the old one at once."
            )
        )
    return redirect(back)
