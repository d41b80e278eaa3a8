"""The public archive: the home page and episode pages."""

from __future__ import annotations

from flask import Blueprint, render_template

from radio.db import get_db
from radio.episodes import list_episodes

bp = Blueprint("archive", __name__)


@bp.get("/")
def index() -> str:
    episodes = [e for e in list_episodes(get_db(), limit=30) if e["visibility"] == "public"]
    return render_template("index.html", episodes=episodes)
