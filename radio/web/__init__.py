"""One blueprint per area of the archive (flaskr style): each module starts with ``bp``."""

from __future__ import annotations

from flask import Flask

AREAS = ("archive", "search", "upload", "auth", "media", "feeds", "topics")


def register_blueprints(app: Flask) -> None:
    from importlib import import_module

    from radio.web import errors

    for area in AREAS:
        app.register_blueprint(import_module(f"radio.web.{area}").bp)
    errors.register(app)
