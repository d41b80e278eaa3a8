"""Deleting episodes, and the trash they wait in (admins only, #15).

- ``/episodes/<guid>/delete``: what deleting means, and the button that does it (the
  confirm step); the episode leaves every page, feed, search and media URL at once and
  waits ``TRASH_DAYS`` in the trash (0: its rows and files go at once).
- ``/admin/trash``: what is in the trash, to restore or remove for good, one or all.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, g, redirect, render_template, url_for
from flask_babel import gettext, ngettext
from werkzeug import Response

from radio.data import audit, trash
from radio.data.users import Role
from radio.db import get_db
from radio.media.store import megabytes
from radio.upkeep import trash as emptying
from radio.web.audit import actor
from radio.web.auth import load_episode, login_required

bp = Blueprint("trash", __name__)


def _days() -> float:
    return emptying.trash_days(current_app.config)


@bp.get("/episodes/<guid>/delete")
@login_required(Role.ADMIN)
def confirm(guid: str) -> str:
    episode = load_episode(guid)
    return render_template("delete.html", episode=episode, days=_days())


@bp.post("/episodes/<guid>/delete")
@login_required(Role.ADMIN)
def delete(guid: str) -> Response:
    episode = load_episode(guid)
    db, home = get_db(), current_app.config["HOME"]
    trash.move_to_trash(db, episode.id, g.user.id)
    if _days() == 0:
        done = emptying.empty(db, home, only=episode.id, actor=actor())
        flash(
            gettext(
                "Deleted “%(title)s” for good (%(size)s freed).",
                title=episode.title,
                size=megabytes(done.bytes),
            )
        )
        return redirect(url_for("archive.index"), 303)
    flash(
        gettext(
            "Moved “%(title)s” to the trash: listeners can no longer find it. It is kept "
            "%(days)s days; restore it here until then.",
            title=episode.title,
            days=f"{_days():g}",
        )
    )
    return redirect(url_for("trash.index"), 303)


@bp.get("/admin/trash")
@login_required(Role.ADMIN)
def index() -> str:
    return render_template(
        "trash.html",
        entries=emptying.entries(get_db(), current_app.config["HOME"]),
        days=_days(),
    )


@bp.post("/admin/trash/<int:episode_id>/restore")
@login_required(Role.ADMIN)
def restore(episode_id: int) -> Response:
    episode = trash.restore(get_db(), episode_id)
    audit.record(get_db(), actor(), "episode.restore", audit.subject("episode", episode.id),
                 before={"in_trash": True}, after={"in_trash": False})  # fmt: skip
    flash(gettext("Restored “%(title)s”; listeners can find it again.", title=episode.title))
    return redirect(url_for("trash.index"), 303)


@bp.post("/admin/trash/<int:episode_id>/empty")
@login_required(Role.ADMIN)
def remove(episode_id: int) -> Response:
    item = trash.find_trashed(get_db(), episode_id)
    done = emptying.empty(get_db(), current_app.config["HOME"], only=episode_id, actor=actor())
    flash(
        gettext(
            "Removed “%(title)s” for good (%(size)s freed).",
            title=item.title,
            size=megabytes(done.bytes),
        )
    )
    return redirect(url_for("trash.index"), 303)


@bp.post("/admin/trash/empty")
@login_required(Role.ADMIN)
def empty_all() -> Response:
    done = emptying.empty(get_db(), current_app.config["HOME"], actor=actor())
    flash(
        ngettext(
            "Emptied the trash: %(num)d episode(s), %(size)s freed.",
            "Emptied the trash: %(num)d episode(s), %(size)s freed.",
            len(done.episodes),
            size=megabytes(done.bytes),
        )
    )
    return redirect(url_for("trash.index"), 303)
