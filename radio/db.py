"""The one way into the archive's SQLite database (sqlite-utils), and its migrations.

Every migration is a function applied once, in order, inside a transaction, and
recorded in ``_migrations``; running ``migrate`` again is a no-op, so commands can
call it on every start.
"""

from __future__ import annotations

import fcntl
import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils
from flask import Flask, current_app, g

from radio.migrations import MIGRATIONS
from transcription import scripts

logger = logging.getLogger(__name__)


def utcnow() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the database the way every part of the archive needs it."""
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")  # safe with WAL; a power cut loses at most a commit
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    # The unsegmented-script index (migration 0008) is kept by triggers that call these.
    conn.create_function("radio_has_unsegmented", 1, scripts.has_unsegmented, deterministic=True)
    conn.create_function("radio_index_text", 1, scripts.index_text, deterministic=True)
    return sqlite_utils.Database(conn)


def change_watch(path: str | Path) -> Callable[[], int]:
    """A cheap way to ask "has anyone committed since I last asked?": SQLite's
    ``data_version`` on a connection of the caller's own, which changes with every commit
    made by another connection. Each thread needs its own watch."""
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    return lambda: conn.execute("pragma data_version").fetchone()[0]


def database_file(db: sqlite_utils.Database) -> Path:
    """The file an open database lives in."""
    return Path(db.conn.execute("PRAGMA database_list").fetchone()[2])


def home_of(db: sqlite_utils.Database) -> Path:
    """The data folder a database lives in."""
    return database_file(db).parent


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite3.Connection]:
    """One write transaction, taken at once (``begin immediate``) so that two processes
    never deadlock upgrading a read to a write; rolled back on any error."""
    conn = db.conn
    conn.execute("begin immediate")
    try:
        yield conn
    except BaseException:
        conn.execute("rollback")
        raise
    conn.execute("commit")


def database_path(app: Flask | None = None) -> Path:
    app = app or current_app
    return Path(app.config["HOME"]) / "archive.db"


def get_db() -> sqlite_utils.Database:
    """This app context's database connection, opened (and migrated) on first use."""
    if "db" not in g:
        g.db = connect(database_path())
    return g.db


def close_db(_exc: BaseException | None = None) -> None:
    db = g.pop("db", None)
    if db is not None:
        db.conn.close()


def migrate(db: sqlite_utils.Database, lock_path: Path | None = None) -> list[str]:
    """Apply the migrations not yet applied; return their names.

    ``serve`` and ``worker`` may start at the same moment, so the whole run holds
    a file lock: sqlite-utils commits inside its own calls, which a plain
    transaction could not keep atomic.
    """
    lock_path = lock_path or Path(f"{database_file(db)}.lock")
    with lock_path.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        db["_migrations"].create({"name": str, "applied_at": str}, pk="name", if_not_exists=True)
        done = {row["name"] for row in db["_migrations"].rows}
        applied = []
        for name, fn in MIGRATIONS:
            if name in done:
                continue
            fn(db)
            db["_migrations"].insert({"name": name, "applied_at": utcnow()})
            logger.info("applied migration %s", name)
            applied.append(name)
    return applied


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    db = connect(database_path(app))
    try:
        migrate(db)
    finally:
        db.conn.close()
