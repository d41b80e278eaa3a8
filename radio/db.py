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

# What a failed database operation raises, for callers outside this module to catch.
DatabaseError = sqlite3.Error


def _real_clock() -> datetime:
    return datetime.now(UTC)


# What time it is for the archive. Scheduled publishing (#15) compares against it, in
# Python and in SQL (``radio_now()``), so tests move time with ``set_clock``, not by sleeping.
_clock: Callable[[], datetime] = _real_clock


def set_clock(clock: Callable[[], datetime] | None) -> None:
    """Use ``clock`` (an aware datetime) as the archive's time; None: the real clock again."""
    global _clock
    _clock = clock or _real_clock


def now() -> datetime:
    return _clock()


def utcnow() -> str:
    return now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    conn.create_function("radio_now", 0, utcnow)  # public_sql's "now", the clock above
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


# --- backups and checks (radio.upkeep) ---------------------------------------------------


def backup_database(source: str | Path, dest: str | Path) -> None:
    """A consistent copy of a live database through SQLite's online backup API.

    The copy is one read transaction on the source (with WAL, writers carry on), made in
    one step so that a busy writer cannot make it start over, and it is left in rollback
    journal mode: a single self-contained file, whose hash stays what it was when written.
    """
    src = sqlite3.connect(f"{Path(source).resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    try:
        out = sqlite3.connect(str(dest), isolation_level=None)
        try:
            src.backup(out)
            out.execute("PRAGMA journal_mode=DELETE")
        finally:
            out.close()
    finally:
        src.close()


def open_copy(path: str | Path) -> sqlite_utils.Database:
    """Read a database copy (a backup's) without writing a byte of it, not even a journal.

    Only for files nothing else writes: SQLite is told the file cannot change."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro&immutable=1"
    return sqlite_utils.Database(sqlite3.connect(uri, uri=True, check_same_thread=False))


def integrity_problems(path: str | Path, *, copy: bool = False) -> list[str]:
    """What ``PRAGMA integrity_check`` finds wrong with a database (nothing: ``[]``); a file
    that can't be opened as a database is a problem too. ``copy``: a backup's file."""
    flags = "mode=ro&immutable=1" if copy else "mode=ro"
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?{flags}", uri=True, timeout=30)
        try:
            rows = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        finally:
            conn.close()
    except sqlite3.Error as e:
        return [f"can't be read as a database ({e})"]
    return [] if rows == ["ok"] else rows


def write_problem(path: str | Path, timeout: float = 5.0) -> str | None:
    """Why the database can't be written now, or None: a real row written in a transaction
    that is rolled back, so nothing changes and nobody's caches are disturbed."""
    try:
        conn = sqlite3.connect(
            f"{Path(path).resolve().as_uri()}?mode=rw", uri=True, timeout=timeout,
            isolation_level=None,
        )  # fmt: skip
        try:
            conn.execute("begin immediate")
            try:
                conn.execute(
                    "insert into _migrations (name, applied_at) values (?, ?)",
                    ["_write_probe", utcnow()],
                )
            finally:
                conn.execute("rollback")
        finally:
            conn.close()
    except sqlite3.Error as e:
        return str(e)
    return None
