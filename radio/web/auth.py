"""Log in and out; who is asking, what they may do and which episodes they may see.

Listeners never log in. Every request first loads the logged-in user (if any), as in
flaskr; the CSRF check of any form sent comes next (``radio.web.http.csrf``, installed in
``create_app``).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, ngettext
from werkzeug import Response

from radio.data.episodes import Episode, find_episode
from radio.data.users import (
    MAX_NAME_CHARS,
    Role,
    User,
    authenticate,
    end_sessions,
    get_user,
)
from radio.db import get_db
from radio.web.errors import wants_json
from radio.web.http import csrf
from radio.web.http.throttle import LoginThrottle

bp = Blueprint("auth", __name__)
logger = logging.getLogger(__name__)

F = TypeVar("F", bound=Callable[..., Any])
MAX_REMEMBERED_UPLOADS = 40
VERSION = "session_version"  # the account's session version when this browser logged in
# What browsers drop from a URL before reading it (WHATWG URL: leading and trailing C0
# controls and spaces; tabs and line breaks anywhere).
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
_TAB_AND_NEWLINE = str.maketrans("", "", "\t\n\r")


@bp.before_app_request
def load_user() -> None:
    """The logged-in user, as in flaskr; a login whose account is gone, or whose session
    version is behind the account's (a logout, a new password or role since), is forgotten."""
    g.user = None
    if request.endpoint == "static":
        return
    user_id = session.get("user_id")
    if user_id is None:
        return
    user = get_user(get_db(), user_id)
    if user is None or session.get(VERSION) != user.session_version:
        session.clear()  # and the CSRF token with it: nothing of that login is left
        return
    g.user = user


@bp.app_context_processor
def template_globals() -> dict[str, Any]:
    return {"current_user": g.get("user")}


def current_user() -> User | None:
    return g.get("user")


def sees_hidden() -> bool:
    user = current_user()
    return bool(user and user.sees_hidden)


def can_see(episode: Episode) -> bool:
    """The one rule for one episode (lists use ``radio.data.episodes.public_sql``): listeners
    see public, ready episodes; editors everything; uploaders also what they uploaded."""
    if episode.is_public or sees_hidden():
        return True
    user = current_user()
    if user is None:
        return False
    return episode.uploaded_by == user.id or episode.guid in session.get("uploads", [])


def remember_upload(guid: str) -> None:
    """Let an uploader follow what they uploaded (episodes don't record who uploaded them)."""
    uploads = [g for g in session.get("uploads", []) if g != guid]
    session["uploads"] = [guid, *uploads][:MAX_REMEMBERED_UPLOADS]


def login_required(role: Role = Role.UPLOADER) -> Callable[[F], F]:
    """Send people who aren't logged in to the login page, and refuse too low a role."""

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if wants_json() or request.headers.get("X-Requested-With"):
                    abort(401, gettext("Log in first."))
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not user.can(role):
                abort(
                    403,
                    gettext(
                        "This needs the %(role)s role; ask an admin (`radio user role`).",
                        role=role,
                    ),
                )
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def safe_next(target: str | None) -> str:
    """Only a path on this site, as the browser will read it: a login link must not send
    anyone elsewhere. Browsers drop tabs and line breaks anywhere in a URL and C0 controls
    and spaces at its ends, and read a backslash as a slash, so ``/%09/evil.example``
    (``/<tab>/evil.example``) or ``/\\evil.example`` would leave the site; anything that
    isn't plainly a path here gives the home page."""
    home = url_for("archive.index")
    if not target:
        return home
    path = target.strip(_C0_AND_SPACE).translate(_TAB_AND_NEWLINE)
    if (
        not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)
    ):
        return home
    try:
        parts = urlsplit(path)
    except ValueError:
        return home
    return home if parts.scheme or parts.netloc else path


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user():
            return redirect(next_url)
        return render_template("login.html", next=next_url)
    # No account's name is longer: a longer one is kept short in the throttle's memory.
    name = request.form.get("name", "")[: MAX_NAME_CHARS + 1]
    address = request.remote_addr or "?"
    throttle = _throttle()
    wait = throttle.wait_seconds(name, address)
    if wait:
        minutes = -(-wait // 60)
        flash(
            ngettext(
                "Too many wrong passwords from this device; try again in %(num)d minute, or "
                "ask an admin to set a new password (`radio user password NAME`).",
                "Too many wrong passwords from this device; try again in %(num)d minutes, or "
                "ask an admin to set a new password (`radio user password NAME`).",
                minutes,
            ),
            "error",
        )
        page = render_template("login.html", next=next_url, name=name)
        return Response(page, 429, {"Retry-After": str(wait)})
    user = authenticate(get_db(), name, request.form.get("password", ""))
    if user is None:
        throttle.failed(name, address)
        flash(gettext("Wrong name or password. Names and passwords are case-sensitive."), "error")
        return render_template("login.html", next=next_url, name=name), 401
    throttle.succeeded(name, address)
    session.clear()  # nothing from before the login carries over (session fixation)
    session["user_id"] = user.id
    session[VERSION] = user.session_version
    session.permanent = True
    csrf.rotate()
    return redirect(next_url)


def _throttle() -> LoginThrottle:
    return current_app.extensions.setdefault("radio.login_throttle", LoginThrottle())


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> str | Response:
    if request.method == "GET":
        return render_template("logout.html")
    user = current_user()
    if user is not None:
        # A cookie saved before now must not log anyone in again: this ends the account's
        # logins in every browser (the simplest rule that makes logging out mean it).
        try:
            end_sessions(get_db(), user.id)
        except sqlite3.OperationalError as e:  # a full disk: this cookie still goes
            logger.error("could not end %s's other logins: %s", user.name, e)
    session.clear()
    flash(gettext("You are logged out."), "info")
    return redirect(url_for("archive.index"))


def load_episode(guid: str) -> Episode:
    """The episode if this visitor may see it; the same 404 whether it is missing or hidden."""
    episode = find_episode(get_db(), guid)
    if episode is None or not can_see(episode):
        abort(
            404,
            gettext(
                "Episode %(guid)s doesn't exist. Search the archive or go to the home page.",
                guid=guid,
            ),
        )
    return episode
