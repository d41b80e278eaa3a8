"""One error shape: an HTML page for browsers, ``{"error": {...}}`` for JSON clients.

``register`` is also where the app-wide response rules go on (gzip, static caching,
server timing: ``radio.web.http.compress``), since it is the one per-app hook of the views.
"""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from radio.web.http import compress


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.startswith("/api/") or best == "application/json"


def too_large_message() -> str:
    limit_mb = current_app.config["MAX_CONTENT_LENGTH"] / (1024 * 1024)
    limit = f"{limit_mb:,.0f}" if limit_mb >= 10 else f"{limit_mb:.2g}"
    return (
        f"The upload is larger than this archive's limit of {limit} MB, so nothing "
        "was stored. Send fewer files at once, split a long recording, or ask the admin to "
        "raise MAX_UPLOAD_MB in config.toml."
    )


def register(app: Flask) -> None:
    compress.init_app(app)

    @app.errorhandler(HTTPException)
    def handle_http_error(e: HTTPException):  # noqa: ANN202 - Flask accepts several return shapes
        description = e.description
        if isinstance(e, RequestEntityTooLarge):
            description = too_large_message()
        if wants_json():
            body = {"error": {"status": e.code, "title": e.name, "detail": description}}
            return jsonify(body), e.code
        return render_template("error.html", error=e, description=description), e.code
