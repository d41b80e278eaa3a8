"""One error shape: an HTML page for browsers, ``{"error": {...}}`` for JSON clients."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return request.path.startswith("/api/") or best == "application/json"


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def handle_http_error(e: HTTPException):  # noqa: ANN202 - Flask accepts several return shapes
        if wants_json():
            body = {"error": {"status": e.code, "title": e.name, "detail": e.description}}
            return jsonify(body), e.code
        return render_template("error.html", error=e), e.code
