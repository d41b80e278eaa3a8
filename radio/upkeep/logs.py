"""Logs for a station that runs for years: the episode on every line of its processing, and a
log file in the data folder that rotates (``logs/radio.log``, five older files of 5 MB).

``radio.jobs.pipeline`` processes each episode inside ``episode_context(id)``; the filter
on the handlers (``EpisodeFilter``) then adds `` [episode 12]`` (``%(episode)s``) and
``episode_id`` to every record logged meanwhile in that thread, by any module: the steps,
the media code, transcription, sqlite errors.

``configure_logging(home)`` is for the long-running commands (``radio serve``, ``radio
worker``). Several processes may write the one file (``serve --no-worker`` beside a
``worker``): each write holds a lock, and a process reopens the file when another has
rotated it, so no process writes on into a renamed file and no rotation clobbers another.
"""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from logging.handlers import RotatingFileHandler
from pathlib import Path

LOG_FILE = "logs/radio.log"
MAX_BYTES = 5 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)s %(process)d %(name)s%(episode)s: %(message)s"
CONSOLE_FORMAT = "%(levelname)s %(name)s%(episode)s: %(message)s"

_episode: ContextVar[int | None] = ContextVar("radio_episode", default=None)


@contextmanager
def episode_context(episode_id: int) -> Iterator[None]:
    """Every log line of this thread carries ``episode_id`` until the block ends."""
    token = _episode.set(int(episode_id))
    try:
        yield
    finally:
        _episode.reset(token)


def current_episode() -> int | None:
    return _episode.get()


class EpisodeFilter(logging.Filter):
    """Adds ``episode_id`` (or None) and ``episode`` (`` [episode 12]`` or "") to records."""

    def filter(self, record: logging.LogRecord) -> bool:
        episode_id = getattr(record, "episode_id", None) or _episode.get()
        record.episode_id = episode_id
        record.episode = f" [episode {episode_id}]" if episode_id is not None else ""
        return True


class SharedRotatingFileHandler(RotatingFileHandler):
    """A rotating log file several processes can share (see the module's docstring)."""

    def __init__(self, filename: str | Path, max_bytes: int, backup_count: int) -> None:
        super().__init__(filename, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8")
        self._lock_file = open(f"{self.baseFilename}.lock", "a")  # noqa: SIM115 - kept open

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                self._reopen_if_rotated()
                super().emit(record)
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)
        except Exception:  # a log line must never break what it logs (logging's own rule)
            self.handleError(record)

    def _reopen_if_rotated(self) -> None:
        if self.stream is None:
            return
        try:
            moved = os.stat(self.baseFilename).st_ino != os.fstat(self.stream.fileno()).st_ino
        except OSError:
            moved = True
        if moved:
            self.stream.close()
            self.stream = self._open()

    def close(self) -> None:
        super().close()
        self._lock_file.close()


def configure_logging(home: str | Path, level: int = logging.INFO) -> logging.Handler:
    """Log to ``<home>/logs/radio.log`` (rotating) from ``level`` up, with the episode id on
    every line; the console keeps the level it had. Calling it again changes nothing."""
    root = logging.getLogger()
    path = Path(home) / LOG_FILE
    for handler in root.handlers:
        if isinstance(handler, SharedRotatingFileHandler) and (
            handler.baseFilename == os.path.abspath(path)
        ):
            return handler
    path.parent.mkdir(parents=True, exist_ok=True)
    console_level = root.getEffectiveLevel()
    for handler in root.handlers:  # the console: its level stays what -v made it
        if handler.level == logging.NOTSET:
            handler.setLevel(console_level)
        add_episode_filter(handler)
    file_handler = SharedRotatingFileHandler(path, MAX_BYTES, BACKUP_COUNT)
    file_handler.setLevel(level)
    file_handler.setFormatter(logging.Formatter(FORMAT))
    add_episode_filter(file_handler)
    root.addHandler(file_handler)
    if console_level > level:
        root.setLevel(level)
    return file_handler


def add_episode_filter(handler: logging.Handler) -> None:
    """Let a handler's format use ``%(episode)s`` (the console's: ``CONSOLE_FORMAT``)."""
    if not any(isinstance(f, EpisodeFilter) for f in handler.filters):
        handler.addFilter(EpisodeFilter())
