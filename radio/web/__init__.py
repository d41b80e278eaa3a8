"""The web side: one blueprint per area (flaskr style, each module starts with ``bp``), the
HTTP edge's error translation (``errors``), template helpers (``templating``), the URL
builder (``urls``) and, under ``http/``, what every request goes through. ``create_app``
installs all of it, visibly; registering a blueprint adds routes and nothing else app-wide
(bar ``auth`` loading the logged-in user, as in flaskr, and ``subscribe`` giving every
page the feeds it links by default).
"""

from __future__ import annotations

from importlib import import_module

from flask import Flask

AREAS = (
    "archive",
    "search",
    "upload",
    "auth",
    "media",
    "feeds",
    "topics",
    "speakers",
    "health",
    "offline",
    "subscribe",
    "share",
    "shows",
    "trash",
    "station",
    "rerun",
    "schedule",
    "policy",
    "audit",
    "consent",
    "receipts",
    "about",
    "exchange",
    "exchange_admin",
    "requests",
    "workers",
    "takedown",
    "redact",
)


def register_blueprints(app: Flask) -> None:
    for area in AREAS:
        app.register_blueprint(import_module(f"radio.web.{area}").bp)
