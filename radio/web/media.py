"""Audio and peaks files, for browsers and podcast apps: HEAD, ranges, ETag, 304.

``/media/<guid>/<kind>`` serves only the few files the database names for an
episode, inside the media folder, so no URL can reach any other file. Listeners get
public episodes only (``public_sql``); originals need a login.

Media requests are most of what a server does while people listen, so listeners'
requests (no session cookie) for public files are answered by a small WSGI layer in
front of Flask (``PublicMedia``, installed when this blueprint is registered); every
other request, and every miss, goes through the Flask view below. Both answer with
``radio.web.http.fileserve.respond``, so they behave alike.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils
from flask import Blueprint, Flask, abort, current_app, request
from werkzeug import Response

from radio.data.episodes import Episode, Visibility, find_episode
from radio.data.renditions import public_peaks_file, public_rendition_file
from radio.db import connect, database_path
from radio.media import store
from radio.web.auth import can_see, current_user
from radio.web.http.fileserve import FileSnapshot, respond

bp = Blueprint("media", __name__, url_prefix="/media")

RENDITIONS = {"audio.mp3": "mp3", "audio.opus": "opus"}
KINDS = (*RENDITIONS, "peaks.json", "original")
PUBLIC_CACHE = "public, max-age=86400"
PRIVATE_CACHE = "private, max-age=0"


@bp.route("/<guid>/<kind>", methods=["GET", "HEAD"])
def media(guid: str, kind: str) -> Response:
    if kind not in KINDS:
        abort(404, f"There is no {kind} here; episodes have {', '.join(KINDS)}.")
    db = _reader(current_app)
    episode = find_episode(db, guid)
    if episode is None or not can_see(episode):
        abort(404, f"Episode {guid} doesn't exist.")
    if kind == "original" and current_user() is None:
        abort(404, "Originals are for the station's volunteers; log in to download them.")
    relpath, mime = _locate(db, episode, kind)
    path = inside_media(current_app, relpath)
    if path is None or not path.is_file():
        abort(404, f"The {kind} of episode {guid} isn't available; `radio retry` rebuilds it.")
    try:
        snap = FileSnapshot.open(path, mime)
    except OSError:
        abort(404, f"The {kind} of episode {guid} can't be read; `radio retry` rebuilds it.")
    public = episode.visibility == Visibility.PUBLIC and kind != "original"
    status, headers, body = respond(
        request.environ, snap, PUBLIC_CACHE if public else PRIVATE_CACHE
    )
    return Response(body, status, headers, direct_passthrough=True)


def _reader(app: Flask) -> sqlite_utils.Database:
    """A connection kept per server thread: a media request is a lookup or two, and opening
    a connection (with its PRAGMAs) would cost more than the rest of the request."""
    local = app.extensions.setdefault("radio.media_readers", threading.local())
    db = getattr(local, "db", None)
    if db is None:
        db = local.db = connect(database_path(app))
    return db


def inside_media(app: Flask, relpath: str) -> Path | None:
    """The file under media/, or None for a path that would leave it (as store.resolve,
    without touching the disk: the paths come from the database, this is a second guard)."""
    root = app.extensions.get("radio.media_root")
    if root is None:
        root = os.path.realpath(store.media_root(app.config["HOME"]))
        app.extensions["radio.media_root"] = root
    path = os.path.normpath(os.path.join(root, relpath))
    return Path(path) if path.startswith(root + os.sep) else None


def _locate(db: sqlite_utils.Database, episode: Episode, kind: str) -> tuple[str, str]:
    if kind in RENDITIONS:
        row = db.execute(
            "select path, mime from renditions where episode_id = ? and kind = ?",
            [episode.id, RENDITIONS[kind]],
        ).fetchone()
        if row is None:
            abort(404, f"Episode {episode.guid} has no {kind} yet; it may still be processing.")
        return row[0], row[1]
    if kind == "peaks.json":
        if not episode.peaks_path:
            abort(404, f"Episode {episode.guid} has no peaks yet.")
        return episode.peaks_path, "application/json"
    suffix = Path(episode.source_path).suffix.lower()
    return episode.source_path, _ORIGINAL_TYPES.get(suffix, "application/octet-stream")


_ORIGINAL_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
    ".amr": "audio/amr",
    ".wma": "audio/x-ms-wma",
}

_REASONS = {200: "200 OK", 206: "206 Partial Content", 304: "304 Not Modified"}


class PublicMedia:
    """WSGI layer: a listener's request for a public file, answered without Flask's request
    cycle. Anything else, including any request carrying a session, or a file that isn't
    there, goes on to Flask.

    Players ask for the same few files over and over, a range at a time, so the lookup
    and the open file (``FileSnapshot``) are kept for the most recent files. Any commit to
    the database (a new rendition, an episode made private) empties that cache: one
    ``PRAGMA data_version`` tells, with no table read.
    """

    CACHED_FILES = 64  # each holds a file descriptor, through its memory map
    RECHECK_S = 0.01

    def __init__(self, app: Flask, wsgi_app: Callable[..., Any]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.cookie = f"{app.config.get('SESSION_COOKIE_NAME') or 'session'}="
        self._files: dict[str, FileSnapshot] = {}
        self._lock = threading.Lock()  # held only to change the cache, never around I/O
        self._generation = 0
        self._checked_at = float("-inf")  # when the last data_version check began
        self._local = threading.local()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            path.startswith("/media/")
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and self.cookie not in environ.get("HTTP_COOKIE", "")
        ):
            snap = self._snapshot(path, time.monotonic())
            if snap is not None:
                status, headers, body = respond(environ, snap, PUBLIC_CACHE)
                if status in _REASONS:
                    start_response(_REASONS[status], headers)
                    return body
                if hasattr(body, "close"):
                    body.close()
        return self.wsgi_app(environ, start_response)

    def _snapshot(self, path: str, began: float) -> FileSnapshot | None:
        generation = self._current_generation(began)
        snap = self._files.get(path)  # one dict read: atomic, no lock to queue on
        if snap is not None:
            return snap
        found = self._find(path)
        if found is None:
            return None
        try:
            snap = FileSnapshot.open(*found)
        except OSError:
            return None
        with self._lock:
            if generation == self._generation:  # nothing was committed while we looked
                self._files[path] = snap
                while len(self._files) > self.CACHED_FILES:  # the oldest first
                    del self._files[next(iter(self._files))]
        return snap

    def _current_generation(self, began: float) -> int:
        """Bump the generation (and forget every file) when the database has changed.

        ``data_version`` on a connection shows every commit made before it is asked. A
        check that began at most ``RECHECK_S`` before this request serves it too, so
        under load few requests ask (each asking costs a trip through SQLite and the
        GIL, a quarter of a media request's time), and a change reaches listeners'
        requests within ``RECHECK_S``. Each thread asks its own connection, outside any
        lock.
        """
        if began - self._checked_at <= self.RECHECK_S:
            return self._generation
        local = self._local
        if not hasattr(local, "watch"):
            local.watch = sqlite3.connect(database_path(self.app), isolation_level=None)
            local.version = None
        asked = time.monotonic()
        version = local.watch.execute("pragma data_version").fetchone()[0]
        with self._lock:
            if version != local.version:
                local.version = version
                self._generation += 1
                self._files = {}
            self._checked_at = max(self._checked_at, asked)
            return self._generation

    def _find(self, path: str) -> tuple[Path, str] | None:
        parts = path[len("/media/") :].split("/")
        if len(parts) != 2 or parts[1] not in ("audio.mp3", "audio.opus", "peaks.json"):
            return None
        guid, kind = parts
        db = _reader(self.app)
        if kind == "peaks.json":
            peaks = public_peaks_file(db, guid)
            found = (peaks, "application/json") if peaks else None
        else:
            found = public_rendition_file(db, guid, RENDITIONS[kind])
        if found is None:
            return None
        file = inside_media(self.app, found[0])
        return (file, found[1]) if file is not None and file.is_file() else None


@bp.record_once
def _install(state: Any) -> None:
    state.app.wsgi_app = PublicMedia(state.app, state.app.wsgi_app)
