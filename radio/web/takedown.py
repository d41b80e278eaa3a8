"""Takedowns on the web (#16 item 4): the admins' form, and 410 Gone at every address of a
taken-down episode.

- ``/episodes/<guid>/takedown``: the form (admins only, a reason required, destroy as a
  choice with a plain warning); ``/episodes/<guid>/takedown/undo`` brings a kept one back.
- Every other view with a ``<guid>`` (the episode page, its edit page, transcripts, media
  files in every name, chapters JSON, voice notes) answers 410 for everyone, before the view
  runs (``gone_when_taken_down``): a short "taken down" page for listeners, a tombstone for
  editors and admins (title, when, by whom, why; no content). Media files answer 410 to
  editors too: nobody downloads a taken-down episode through the archive.
- A taken-down contribution's receipt still opens and says it was taken down, when and
  why, and nothing more.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from radio.data import receipts, requests, takedowns
from radio.data.episodes import Episode, get_episode
from radio.data.errors import Invalid
from radio.data.users import Role
from radio.db import get_db
from radio.jobs.takedown import take_down, undo_takedown
from radio.web.audit import actor
from radio.web.auth import login_required, sees_hidden
from radio.web.receipts import private_page

bp = Blueprint("takedown", __name__)

_OWN = frozenset({"takedown.form", "takedown.submit", "takedown.undo"})
# Pages: the tombstone or the short page; anything else (files, JSON, feeds): a plain 410.
_PAGES = frozenset({"archive.episode", "archive.edit", "archive.progress"})


@bp.before_app_request
def gone_when_taken_down() -> Response | tuple[str, int] | None:
    endpoint = request.endpoint or ""
    if request.path.startswith("/receipts/") and "token" in (request.view_args or {}):
        return _receipt_when_taken_down(str((request.view_args or {})["token"]), endpoint)
    guid = (request.view_args or {}).get("guid")
    if not isinstance(guid, str) or endpoint in _OWN:
        return None
    episode = takedowns.find_taken_down(get_db(), guid)
    if episode is None:
        return None
    if endpoint not in _PAGES:
        abort(410, gettext("This episode was taken down; it is no longer available."))
    return render_template("taken_down.html", episode=episode, tombstone=sees_hidden()), 410


def _receipt_when_taken_down(token: str, endpoint: str) -> Response | None:
    """The receipt says it was taken down, when and why; its forms (requests about the
    recording) have nothing left to act on."""
    db = get_db()
    episode_id = receipts.receipt_episode(db, token)
    if episode_id is None:
        return None  # the receipt view says so
    episode = get_episode(db, episode_id)
    if not episode.taken_down_at:
        return None
    if endpoint != "receipts.receipt":
        abort(410, gettext("This recording was taken down; there is nothing left to ask about."))
    page = render_template(
        "taken_down.html",
        episode=episode,
        receipt=True,
        asked=requests.requests_for(db, episode.id),  # this episode's only, and the answers
        token=token,
        participants=[],
        may_withdraw=[],
    )
    response = Response(page, mimetype="text/html")
    private_page(response)
    return response


def _episode(guid: str) -> Episode:
    episode = takedowns.by_guid(get_db(), guid)
    if episode is None:
        abort(404, gettext("Episode %(guid)s doesn't exist.", guid=guid))
    return episode


@bp.get("/episodes/<guid>/takedown")
@login_required(Role.ADMIN)
def form(guid: str) -> str:
    return render_template("takedown.html", episode=_episode(guid), reason="", error=None)


@bp.post("/episodes/<guid>/takedown")
@login_required(Role.ADMIN)
def submit(guid: str) -> str | tuple[str, int] | Response:
    episode = _episode(guid)
    reason = request.form.get("reason", "")[: takedowns.MAX_REASON_CHARS * 2]
    destroy = request.form.get("destroy") == "1"
    try:
        done = take_down(
            get_db(), current_app.config, episode.id, actor=actor(), reason=reason, destroy=destroy
        )
    except Invalid as e:
        page = render_template("takedown.html", episode=episode, reason=reason, error=str(e))
        return page, 400
    if done.destroyed:
        flash(gettext("Taken down and destroyed: “%(title)s”.", title=done.title))
    else:
        flash(
            gettext(
                "Taken down: “%(title)s”. Its files are kept; it can be undone.", title=done.title
            )
        )
    return redirect(url_for("archive.episode", guid=guid), 303)


@bp.post("/episodes/<guid>/takedown/undo")
@login_required(Role.ADMIN)
def undo(guid: str) -> Response:
    episode = _episode(guid)
    try:
        undo_takedown(get_db(), episode.id, actor=actor())
    except Invalid as e:
        abort(400, str(e))
    flash(gettext("The takedown of “%(title)s” is undone.", title=episode.title))
    return redirect(url_for("archive.episode", guid=guid), 303)
