"""The audit history for admins (#16): ``/admin/audit`` lists the latest entries with
filters, ``?format=csv`` or ``?format=json`` downloads what the filters select, and the
episode page shows an admin that episode's history (``_history.html``).

``actor()`` is how the web's views name who acted when they record an entry.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cache
from typing import Any

from flask import Blueprint, abort, g, render_template, request
from flask_babel import gettext
from werkzeug import Response

from radio.data import audit
from radio.data.episodes import Episode, EpisodeNotFound, get_episode
from radio.data.errors import Invalid
from radio.data.users import Role, shown_actor
from radio.db import get_db
from radio.web.auth import current_user, login_required

bp = Blueprint("audit", __name__)

PAGE_ENTRIES = 200
MAX_EXPORT_ENTRIES = 100_000  # years of a station's history; a cap all the same


def actor() -> audit.Actor:
    """The logged-in account as the history names it (the views that record need a login)."""
    return audit.Actor(g.user.name, g.user.id)


@bp.app_context_processor
def history_helpers() -> dict[str, Any]:
    return {"audit_history": history_for}


def history_for(episode: Episode) -> list[audit.Entry] | None:
    """What _history.html shows: the episode's history to an admin, None to anyone else."""
    user = current_user()
    if user is None or not user.can(Role.ADMIN):
        return None
    return shown(audit.episode_history(get_db(), episode.id))


@bp.get("/admin/audit")
@login_required(Role.ADMIN)
def index() -> str | Response:
    db = get_db()
    filters = _filters()
    fmt = request.args.get("format", "")
    if fmt in ("csv", "json"):
        rows = audit.entries(db, **filters, limit=MAX_EXPORT_ENTRIES)
        return _download(rows, fmt)
    if fmt:
        abort(400, gettext("The format must be csv or json."))
    return render_template(
        "audit.html",
        entries=shown(audit.entries(db, **filters, limit=PAGE_ENTRIES)),
        actions=audit.actions(db),
        sent=request.args,
        limit=PAGE_ENTRIES,
    )


def shown(rows: list[audit.Entry]) -> list[audit.Entry]:
    """A removed account's entries read "a removed account" on pages; the exports keep
    each entry as it was written."""
    db = get_db()
    name = cache(lambda actor, actor_id: shown_actor(db, actor, actor_id))
    return [replace(row, actor=name(row.actor, row.actor_id)) for row in rows]


def _filters() -> dict[str, str | None]:
    """The query's filters, checked: since (a date), episode (id or guid), action, actor."""
    args = request.args
    since = args.get("since", "").strip()[:40]
    try:
        moment = audit.since_moment(since) if since else None
    except Invalid as e:
        abort(400, str(e))
    return {
        "since": moment,
        "subject": _subject(args.get("episode", "").strip()[:200]),
        "action": args.get("action", "").strip()[:60] or None,
        "actor": args.get("actor", "").strip()[:120] or None,
    }


def _subject(ref: str) -> str | None:
    """An episode's subject; a number names an episode even once it is purged."""
    if not ref:
        return None
    try:
        return audit.subject("episode", get_episode(get_db(), ref).id)
    except EpisodeNotFound:
        if ref.isascii() and ref.isdigit():
            return audit.subject("episode", int(ref))
        abort(404, gettext("Episode %(ref)s doesn't exist.", ref=ref))


def _download(rows: list[audit.Entry], fmt: str) -> Response:
    if fmt == "json":
        body = audit.as_json(rows)
        mime = "application/json"
    else:
        body = audit.as_csv(rows)
        mime = "text/csv; charset=utf-8"
    response = Response(body, mimetype=mime)
    response.headers["Content-Disposition"] = f'attachment; filename="audit.{fmt}"'
    return response
