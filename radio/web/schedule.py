"""Publishing on schedule (#15): editors set the moment an episode goes public, in the
station's time zone (config ``TIMEZONE``), and see what is waiting at /admin/scheduled."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug import Response

from radio.data import audit, schedule
from radio.data.episodes import Episode, find_episode
from radio.data.users import Role
from radio.db import get_db
from radio.web.audit import actor
from radio.web.auth import current_user, load_episode, login_required

bp = Blueprint("schedule", __name__)


def _zone() -> str:
    return current_app.config.get("TIMEZONE") or "UTC"


@bp.app_context_processor
def schedule_helpers() -> dict[str, Any]:
    return {"schedule_state": schedule_state, "station_time": station_time}


def station_time(stored: str | None) -> str:
    """A stored UTC time as the station reads it (``2026-12-24 08:00 EAT``)."""
    return schedule.show_local(stored, _zone())


def schedule_state(episode: Episode) -> dict[str, Any] | None:
    """What the _schedule.html include shows an editor; None for anyone else."""
    user = current_user()
    if user is None or not user.can(Role.EDITOR):
        return None
    return {
        "zone": _zone(),
        "scheduled": episode.is_scheduled,
        "when": station_time(episode.publish_at) if episode.is_scheduled else "",
        "value": schedule.input_value(episode.publish_at, _zone()) if episode.is_scheduled else "",
    }


@bp.post("/episodes/<guid>/schedule")
@login_required(Role.EDITOR)
def set_schedule(guid: str) -> Response:
    db = get_db()
    episode = load_episode(guid)  # editors see every episode not in the trash
    action = request.form.get("action", "schedule")
    back = url_for("archive.edit", guid=guid, _anchor="schedule")
    if action == "now":
        schedule.publish_now(db, episode.id)
        flash(gettext("Published now: listeners see it as soon as it is ready."))
    elif action == "cancel":
        schedule.unschedule(db, episode.id)
        flash(gettext("Taken off the schedule; it is a draft, hidden from listeners."))
    else:
        try:
            when = schedule.parse_local(request.form.get("publish_at", ""), _zone())
            saved = schedule.schedule(db, episode.id, when)
        except schedule.ScheduleError as e:
            flash(str(e), "error")
            return redirect(back)
        flash(
            gettext(
                "Scheduled: listeners see it from %(when)s.", when=station_time(saved.publish_at)
            )
        )
    record_schedule(episode, actor())
    return redirect(back)


def record_schedule(before: Episode, who: audit.Actor) -> None:
    """The schedule as it was and as it is now, in the audit history."""
    db = get_db()
    after = find_episode(db, before.guid)
    audit.record(
        db,
        who,
        "episode.schedule",
        audit.subject("episode", before.id),
        before={"publish_at": before.publish_at, "visibility": before.visibility},
        after={"publish_at": after.publish_at, "visibility": after.visibility} if after else None,
    )


@bp.get("/admin/scheduled")
@login_required(Role.EDITOR)
def scheduled() -> str:
    return render_template("scheduled.html", items=schedule.scheduled(get_db()), zone=_zone())
