"""Log in and out; who is asking, what they may do and which episodes they may see.

Listeners never log in. Every request first loads the logged-in user (if any), as in
flaskr; the CSRF check of any form sent comes next (``radio.web.http.csrf``, installed in
``create_app``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

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
from werkzeug import Response

from radio.data.episodes import Episode
from radio.data.users import Role, User, authenticate, get_user
from radio.db import get_db
from radio.web.errors import wants_json
from radio.web.http import csrf
from radio.web.http.throttle import LoginThrottle

bp = Blueprint("auth", __name__)

F = TypeVar("F", bound=Callable[..., Any])
MAX_REMEMBERED_UPLOADS = 40


@bp.before_app_request
def load_user() -> None:
    g.user = None
    if request.endpoint == "static":
        return
    user_id = session.get("user_id")
    if user_id is not None:
        g.user = get_user(get_db(), user_id)
        if g.user is None:  # the account was removed: forget the login
            session.pop("user_id", None)


@bp.app_context_processor
def template_globals() -> dict[str, Any]:
    return {"current_user": g.get("user")}


def current_user() -> User | None:
    return g.get("user")


def sees_hidden() -> bool:
    user = current_user()
    return bool(user and user.sees_hidden)


def can_see(episode: Episode) -> bool:
    """Listeners see public, ready episodes; editors everything; uploaders also their uploads."""
    if episode.is_public or sees_hidden():
        return True
    return current_user() is not None and episode.guid in session.get("uploads", [])


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
                    abort(401, "Log in first.")
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            if not user.can(role):
                abort(403, f"This needs the {role} role; ask an admin (`radio user role`).")
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not send anyone elsewhere."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("archive.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response | tuple[str, int]:
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_user():
            return redirect(next_url)
        return render_template("login.html", next=next_url)
    name, address = request.form.get("name", ""), request.remote_addr or "?"
    throttle = _throttle()
    wait = throttle.wait_seconds(name, address)
    if wait:
        minutes = -(-wait // 60)
        flash(
            f"Too many wrong passwords from this device; try again in {minutes} minute"
            f"{'s' if minutes > 1 else ''}, or ask an admin to set a new password "
            "(`radio user password NAME`).",
            "error",
        )
        page = render_template("login.html", next=next_url, name=name)
        return Response(page, 429, {"Retry-After": str(wait)})
    user = authenticate(get_db(), name, request.form.get("password", ""))
    if user is None:
        throttle.failed(name, address)
        flash("Wrong name or password. Names and passwords are case-sensitive.", "error")
        return render_template("login.html", next=next_url, name=name), 401
    throttle.succeeded(name, address)
    session.clear()  # nothing from before the login carries over (session fixation)
    session["user_id"] = user.id
    session.permanent = True
    csrf.rotate()
    return redirect(next_url)


def _throttle() -> LoginThrottle:
    return current_app.extensions.setdefault("radio.login_throttle", LoginThrottle())


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> str | Response:
    if request.method == "GET":
        return render_template("logout.html")
    session.clear()
    flash("You are logged out.", "info")
    return redirect(url_for("archive.index"))
