"""The HTTP edge's one error translation: every error becomes an HTML page for browsers or
``{"error": {"status", "title", "detail"}}`` for JSON clients (``init_app``, in ``create_app``).

Views raise the archive's named errors (or ``abort``); this is the one place they turn into
statuses. Every message was written for the person reading it; none names a Python class.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import get_locale, gettext, lazy_gettext
from werkzeug.exceptions import (
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    default_exceptions,
)

from feeds import FeedError
from radio.data import errors as data_errors
from radio.data import fields
from radio.data.search import BadQuery
from radio.jobs.errors import IngestError
from radio.media.errors import is_disk_full

logger = logging.getLogger(__name__)

UNEXPECTED = lazy_gettext(
    "Something went wrong on the archive's side; it has been noted in the log. "
    "Try again in a moment, and tell the station's admin if it keeps happening."
)
# Werkzeug's names and default descriptions are English: the ones a person meets, in theirs
# (the names as HTTP spells them, which the English pages and JSON keep).
NAMES = {
    400: lazy_gettext("Bad Request"),
    403: lazy_gettext("Forbidden"),
    404: lazy_gettext("Not Found"),
    405: lazy_gettext("Method Not Allowed"),
    413: lazy_gettext("Request Entity Too Large"),
    422: lazy_gettext("Unprocessable Entity"),
    429: lazy_gettext("Too Many Requests"),
    500: lazy_gettext("Internal Server Error"),
    503: lazy_gettext("Service Unavailable"),
    507: lazy_gettext("Insufficient Storage"),
}
DESCRIPTIONS = {
    404: lazy_gettext(
        "There is nothing at this address. Search what was said, or start again from the home page."
    ),
    403: lazy_gettext("This needs an account with more rights than yours."),
    405: lazy_gettext("This address can't be used that way."),
    429: lazy_gettext("Too many tries from this device; wait a little and try again."),
}
# The archive's errors (the most specific class wins) and the status each one means.
STATUSES: tuple[tuple[type[Exception], int], ...] = (
    (data_errors.NotFound, 404),  # also a feed, show or topic that doesn't exist
    (BadQuery, 400),  # a search the parser can't read: a malformed request, as before
    (fields.FieldError, 400),  # a field or query parameter out of bounds (page=², 10 KB...)
    (data_errors.Invalid, 422),  # a value that can't be stored as given
    (IngestError, 400),  # a recording refused outright
)


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.startswith("/api/") or best == "application/json"


def too_large_message() -> str:
    """Which limit a request went over (werkzeug raises the same 413 for all): the upload's,
    a form's (any other request), or one form field's."""
    config = current_app.config
    length, limit = request.content_length, request.max_content_length
    if limit == config["MAX_CONTENT_LENGTH"] and (length is None or length > limit):
        limit_mb = limit / (1024 * 1024)
        shown = f"{limit_mb:,.0f}" if limit_mb >= 10 else f"{limit_mb:.2g}"
        return gettext(
            "The upload is larger than this archive's limit of %(mb)s MB, so nothing "
            "was stored. Send fewer files at once, split a long recording, or ask the admin "
            "to raise MAX_UPLOAD_MB in config.toml.",
            mb=shown,
        )
    if limit is not None and (length is None or length > limit):
        form_mb = f"{limit / (1024 * 1024):,.0f}"
        return gettext("This form is larger than %(mb)s MB; nothing was saved.", mb=form_mb)
    field_kb = (config.get("MAX_FORM_MEMORY_SIZE") or 500_000) / 1000
    parts = f"{config.get('MAX_FORM_PARTS') or 1000:,}"
    kb, description = f"{field_kb:,.0f}", f"{fields.MAX_DESCRIPTION_CHARS:,}"
    return gettext(
        "A form field is over the limit of %(kb)s KB for one field (or the form has more "
        "than %(parts)s parts), so nothing was stored. A title holds at most %(title)s "
        "characters and a description %(description)s; shorten it and send the form again.",
        kb=kb,
        parts=parts,
        title=fields.MAX_TITLE_CHARS,
        description=description,
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    for error, status in STATUSES:
        app.register_error_handler(error, _as_status(status))
    app.register_error_handler(FeedError, handle_feed_error)
    app.register_error_handler(InternalServerError, handle_unexpected)


def _english() -> bool:
    """Werkzeug's own English descriptions stay as they are on English pages."""
    return str(get_locale() or "en").startswith("en")


def handle_http_error(e: HTTPException) -> ResponseReturnValue:
    description = str(e.description or "")
    if isinstance(e, RequestEntityTooLarge):
        description = too_large_message()
    elif e.code in DESCRIPTIONS and description == type(e).description and not _english():
        description = str(DESCRIPTIONS[e.code])
    name = str(NAMES.get(e.code or 0, e.name))
    if wants_json():
        body = {"error": {"status": e.code, "title": name, "detail": description}}
        return jsonify(body), e.code
    return (
        render_template("error.html", error=e, error_name=name, description=description),
        e.code,
    )


def _as_status(status: int):  # noqa: ANN202 - a Flask error handler
    def handle(e: Exception) -> ResponseReturnValue:
        return handle_http_error(default_exceptions[status](str(e)))

    return handle


def handle_feed_error(e: FeedError) -> ResponseReturnValue:
    """A feed that can't be written is the archive's fault, not the podcast app's."""
    logger.error("feed %s could not be written: %s", request.path, e, exc_info=e)
    return handle_http_error(InternalServerError(str(e)))


def handle_unexpected(e: InternalServerError) -> ResponseReturnValue:
    """Any exception nothing above names (Flask has logged it with its traceback): a page
    that says what to do, never the exception's class or text."""
    if e.original_exception is not None and is_disk_full(e.original_exception):
        return handle_http_error(InsufficientStorage())
    if e.original_exception is not None:
        e = InternalServerError(str(UNEXPECTED))
    return handle_http_error(e)


class InsufficientStorage(HTTPException):
    """The data folder's disk is full: nothing was changed, and a person can fix it."""

    code = 507
    description = lazy_gettext(
        "The archive's disk is full, so nothing could be saved. Tell the station's admin: "
        "free some space on the archive's disk, then try again."
    )
