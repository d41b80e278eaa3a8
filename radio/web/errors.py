"""The HTTP edge's one error translation: every error becomes an HTML page for browsers or
``{"error": {"status", "title", "detail"}}`` for JSON clients (``init_app``, in ``create_app``).

Views raise the archive's named errors (or ``abort``); this is the one place they turn into
statuses. Every message was written for the person reading it; none names a Python class.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from flask.typing import ResponseReturnValue
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

UNEXPECTED = (
    "Something went wrong on the archive's side; it has been noted in the log. "
    "Try again in a moment, and tell the station's admin if it keeps happening."
)
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
        return (
            f"The upload is larger than this archive's limit of {shown} MB, so nothing "
            "was stored. Send fewer files at once, split a long recording, or ask the admin "
            "to raise MAX_UPLOAD_MB in config.toml."
        )
    if limit is not None and (length is None or length > limit):
        return f"This form is larger than {limit / (1024 * 1024):,.0f} MB; nothing was saved."
    field_kb = (config.get("MAX_FORM_MEMORY_SIZE") or 500_000) / 1000
    return (
        f"A form field is over the limit of {field_kb:,.0f} KB for one field (or the form has "
        f"more than {config.get('MAX_FORM_PARTS') or 1000:,} parts), so nothing was stored. "
        f"A title holds at most {fields.MAX_TITLE_CHARS} characters and a description "
        f"{fields.MAX_DESCRIPTION_CHARS:,}; shorten it and send the form again."
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    for error, status in STATUSES:
        app.register_error_handler(error, _as_status(status))
    app.register_error_handler(FeedError, handle_feed_error)
    app.register_error_handler(InternalServerError, handle_unexpected)


def handle_http_error(e: HTTPException) -> ResponseReturnValue:
    description = e.description
    if isinstance(e, RequestEntityTooLarge):
        description = too_large_message()
    if wants_json():
        body = {"error": {"status": e.code, "title": e.name, "detail": description}}
        return jsonify(body), e.code
    return render_template("error.html", error=e, description=description), e.code


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
        e = InternalServerError(UNEXPECTED)
    return handle_http_error(e)


class InsufficientStorage(HTTPException):
    """The data folder's disk is full: nothing was changed, and a person can fix it."""

    code = 507
    description = (
        "The archive's disk is full, so nothing could be saved. Tell the station's admin: "
        "free some space on the archive's disk, then try again."
    )
