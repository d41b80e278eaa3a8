"""What the ``radio`` command modules share: the state of one invocation, and small helpers."""

from __future__ import annotations

from pathlib import Path

import click
import sqlite_utils
from flask import Flask

from radio import create_app
from radio.db import connect, database_path


class AppState:
    """One invocation's app and database connection, made on first use after --home is known.

    The connection is closed when the command's context closes, so a command never
    leaves one open behind it; ``close`` does it for callers outside a click context.
    """

    def __init__(self, home: str | None) -> None:
        self.home = home
        self._app: Flask | None = None
        self._db: sqlite_utils.Database | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            self._app = create_app(home=self.home)
        return self._app

    @property
    def data_folder(self) -> Path:
        return Path(self.app.config["HOME"])

    @property
    def db(self) -> sqlite_utils.Database:
        if self._db is None:
            self._db = connect(database_path(self.app))
            ctx = click.get_current_context(silent=True)
            if ctx is not None:
                ctx.call_on_close(self.close)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.conn.close()
            self._db = None


pass_state = click.make_pass_decorator(AppState)


def clock(seconds: float) -> str:
    """Seconds as m:ss, or h:mm:ss from an hour up."""
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"
