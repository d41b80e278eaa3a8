"""A CSRF token per session, required on every form the archive accepts.

The token lives in the (signed) session cookie and goes out in a hidden field of
every form (``{{ csrf_field() }}``) or, for scripts, in the ``X-CSRF-Token`` header.
A POST without the matching token is refused with 400 before any view runs
(``init_app``, in ``create_app``).
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, abort, request, session
from markupsafe import Markup

FIELD = "csrf_token"
HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Token APIs a browser never authenticates by itself (no cookie opens them): the worker
# endpoints take only ``Authorization: Bearer`` (radio.web.workers).
EXEMPT_BLUEPRINTS = frozenset({"workers"})


def init_app(app: Flask) -> None:
    app.before_request(protect)
    app.jinja_env.globals["csrf_field"] = field


def token() -> str:
    """This session's token, made on first use."""
    value = session.get(FIELD)
    if not value:
        value = session[FIELD] = secrets.token_urlsafe(32)
    return value


def field() -> Markup:
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token())


def rotate() -> None:
    """A new token, e.g. at login, so a token seen before it is worth nothing after."""
    session[FIELD] = secrets.token_urlsafe(32)


def protect() -> None:
    """Refuse an unsafe request that doesn't carry this session's token (a before_request)."""
    if request.method in SAFE_METHODS or request.blueprint in EXEMPT_BLUEPRINTS:
        return
    expected = session.get(FIELD)
    sent = request.headers.get(HEADER) or request.form.get(FIELD)
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        abort(
            400,
            "This form has expired or didn't come from this archive's own page. "
            "Go back, reload the page and send the form again.",
        )
