"""Small helpers the ``radio`` command modules share."""

from __future__ import annotations

from typing import Any

import click
import sqlite_utils

from radio.data.episodes import EpisodeNotFound, get_episode


def lookup(db: sqlite_utils.Database, ref: str) -> dict[str, Any]:
    try:
        return get_episode(db, ref)
    except EpisodeNotFound as e:
        raise click.ClickException(str(e)) from None


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
