"""One blueprint per area of the archive."""

from __future__ import annotations

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from radio.views import archive, errors

    app.register_blueprint(archive.bp)
    errors.register(app)
