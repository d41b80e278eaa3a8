"""WSGI layer for listeners' media requests, in front of Flask (installed in ``create_app``,
after the blueprints: it reads the media route from the url map).

Media requests are most of what a server does while people listen, so a listener's
request (no session cookie) for a public file is answered here, without Flask's request
cycle. Anything else, including any request carrying a session, or a file that isn't
there, goes on to Flask and the view in ``radio.web.media``. Both answer with
``radio.web.http.fileserve.respond``, read names with ``mediafiles.media_file`` (any stem:
``water-committee.mp3`` and ``audio.mp3`` are the same file) and add the same
Content-Disposition for ``?download=1``, so they behave alike.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask

from radio.data.renditions import public_peaks_file, public_rendition_file
from radio.db import change_watch, database_path
from radio.web.http.fileserve import FileSnapshot, respond
from radio.web.http.mediafiles import (
    PUBLIC_CACHE,
    PUBLIC_FILES,
    RENDITION_KINDS,
    MediaFile,
    attachment,
    inside_media,
    media_file,
    reader,
    wants_download,
)

MEDIA_ENDPOINT = "media.media"  # the Flask view this layer answers for
_REASONS = {200: "200 OK", 206: "206 Partial Content", 304: "304 Not Modified"}


class PublicMedia:
    """Answers a listener's request for a public file; hands every other request on.

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
        # "/media/" from the view's route "/media/<guid>/<name>": one map of URLs
        self.prefix = next(app.url_map.iter_rules(MEDIA_ENDPOINT)).rule.split("<", 1)[0]
        self._files: dict[str, FileSnapshot] = {}
        self._lock = threading.Lock()  # held only to change the cache, never around I/O
        self._generation = 0
        self._checked_at = float("-inf")  # when the last data_version check began
        self._local = threading.local()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            path.startswith(self.prefix)
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and self.cookie not in environ.get("HTTP_COOKIE", "")
        ):
            found = self._public_file(path)
            snap = self._snapshot(*found, time.monotonic()) if found else None
            if snap is not None:
                status, headers, body = respond(environ, snap, PUBLIC_CACHE)
                if status in _REASONS:
                    if wants_download(environ.get("QUERY_STRING", "")):
                        name = path.rsplit("/", 1)[1]
                        headers.append(("Content-Disposition", attachment(name)))
                    start_response(_REASONS[status], headers)
                    return body
                if hasattr(body, "close"):
                    body.close()
        return self.wsgi_app(environ, start_response)

    def _public_file(self, path: str) -> tuple[str, MediaFile] | None:
        """(guid, file) a listener may ask for at ``path``, by its name alone."""
        parts = path[len(self.prefix) :].split("/")
        if len(parts) != 2:
            return None
        file = media_file(parts[1])
        return (parts[0], file) if file in PUBLIC_FILES else None

    def _snapshot(self, guid: str, file: MediaFile, began: float) -> FileSnapshot | None:
        generation = self._current_generation(began)
        # Kept by (guid, file), not by URL: every name of a file shares one open snapshot.
        key = f"{guid}/{file.value}"
        snap = self._files.get(key)  # one dict read: atomic, no lock to queue on
        if snap is not None:
            return snap
        found = self._find(guid, file)
        if found is None:
            return None
        try:
            snap = FileSnapshot.open(*found)
        except OSError:
            return None
        with self._lock:
            if generation == self._generation:  # nothing was committed while we looked
                self._files[key] = snap
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
        lock; it only ever reads, so every change it sees is another connection's commit.
        """
        if began - self._checked_at <= self.RECHECK_S:
            return self._generation
        local = self._local
        if not hasattr(local, "watch"):
            local.watch = change_watch(database_path(self.app))
            local.version = None
        asked = time.monotonic()
        version = local.watch()
        with self._lock:
            if version != local.version:
                local.version = version
                self._generation += 1
                self._files = {}
            self._checked_at = max(self._checked_at, asked)
            return self._generation

    def _find(self, guid: str, file: MediaFile) -> tuple[Path, str] | None:
        db = reader(self.app)
        if file == MediaFile.PEAKS:
            peaks = public_peaks_file(db, guid)
            found = (peaks, "application/json") if peaks else None
        else:
            found = public_rendition_file(db, guid, RENDITION_KINDS[file])
        if found is None:
            return None
        file = inside_media(self.app, found[0])
        return (file, found[1]) if file is not None and file.is_file() else None
