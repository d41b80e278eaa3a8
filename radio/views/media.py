"""Audio and peaks files, for browsers and podcast apps: HEAD, ranges, ETag, 304.

``/media/<guid>/<kind>`` serves only the few files the database names for an
episode, inside the media folder, so no URL can reach any other file. Listeners get
public episodes only (``public_sql``); originals need a login.

Media requests are most of what a server does while people listen, so listeners'
requests (no session cookie) for public files are answered by a small WSGI layer in
front of Flask (``PublicMedia``, installed when this blueprint is registered); every
other request, and every miss, goes through the Flask view below. Both answer with
``respond``, so they behave alike. Under waitress the body is its ``wsgi.file_wrapper``
around a ``MappedRange``: waitress then sends the range straight from the page cache.
"""

from __future__ import annotations

import mmap
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from email.utils import formatdate
from pathlib import Path
from typing import IO, Any

import sqlite_utils
from flask import Blueprint, Flask, abort, current_app, request
from werkzeug import Response
from werkzeug.http import parse_date, parse_etags

from radio import store
from radio.catalog import episode_by_guid
from radio.db import connect, database_path
from radio.episodes import public_sql
from radio.views.auth import can_see, current_user

bp = Blueprint("media", __name__, url_prefix="/media")

RENDITIONS = {"audio.mp3": "mp3", "audio.opus": "opus"}
KINDS = (*RENDITIONS, "peaks.json", "original")
BLOCK = 256 * 1024
PUBLIC_CACHE = "public, max-age=86400"
PRIVATE_CACHE = "private, max-age=0"
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.I)


@bp.route("/<guid>/<kind>", methods=["GET", "HEAD"])
def media(guid: str, kind: str) -> Response:
    if kind not in KINDS:
        abort(404, f"There is no {kind} here; episodes have {', '.join(KINDS)}.")
    db = _reader(current_app)
    episode = episode_by_guid(db, guid)
    if episode is None or not can_see(episode):
        abort(404, f"Episode {guid} doesn't exist.")
    if kind == "original" and current_user() is None:
        abort(404, "Originals are for the station's volunteers; log in to download them.")
    relpath, mime = _locate(db, episode, kind)
    path = inside_media(current_app, relpath)
    if path is None or not path.is_file():
        abort(404, f"The {kind} of episode {guid} isn't available; `radio retry` rebuilds it.")
    public = episode["visibility"] == "public" and kind != "original"
    status, headers, body = respond(
        request.environ, path, mime, PUBLIC_CACHE if public else PRIVATE_CACHE
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


def _locate(db: sqlite_utils.Database, episode: dict[str, Any], kind: str) -> tuple[str, str]:
    if kind in RENDITIONS:
        row = db.execute(
            "select path, mime from renditions where episode_id = ? and kind = ?",
            [episode["id"], RENDITIONS[kind]],
        ).fetchone()
        if row is None:
            abort(404, f"Episode {episode['guid']} has no {kind} yet; it may still be processing.")
        return row[0], row[1]
    if kind == "peaks.json":
        if not episode.get("peaks_path"):
            abort(404, f"Episode {episode['guid']} has no peaks yet.")
        return episode["peaks_path"], "application/json"
    suffix = Path(episode["source_path"]).suffix.lower()
    return episode["source_path"], _ORIGINAL_TYPES.get(suffix, "application/octet-stream")


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

Answer = tuple[int, list[tuple[str, str]], Iterable[bytes]]


def respond(environ: dict[str, Any], path: Path, mime: str, cache_control: str) -> Answer:
    """A file as RFC 9110 wants it: validators, 304, one byte range (206) or 416."""
    st = path.stat()
    size, mtime = st.st_size, int(st.st_mtime)
    etag = f"{size:x}-{st.st_mtime_ns:x}"
    headers = [
        ("Accept-Ranges", "bytes"),
        ("ETag", f'"{etag}"'),
        ("Last-Modified", formatdate(mtime, usegmt=True)),
        ("Cache-Control", cache_control),
    ]
    if _not_modified(environ, etag, mtime):
        return 304, headers, ()
    start, length, status = 0, size, 200
    header = environ.get("HTTP_RANGE")
    if header and _if_range_holds(environ.get("HTTP_IF_RANGE"), etag, mtime):
        span = _single_range(header, size)
        if span is False:
            headers.append(("Content-Range", f"bytes */{size}"))
            message = f"Bytes {header.partition('=')[2]!r} aren't in this file of {size} bytes.\n"
            body = message.encode()
            headers += [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
            return 416, headers, [body]
        if span is not None:
            start, stop = span
            length, status = stop - start, 206
            headers.append(("Content-Range", f"bytes {start}-{stop - 1}/{size}"))
    headers += [("Content-Type", mime), ("Content-Length", str(length))]
    if environ["REQUEST_METHOD"] == "HEAD" or not length:
        return status, headers, ()
    return status, headers, _body(environ, path, start, length, size)


def _not_modified(environ: dict[str, Any], etag: str, mtime: int) -> bool:
    if_none_match = environ.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        return parse_etags(if_none_match).contains_weak(etag)
    since = parse_date(environ.get("HTTP_IF_MODIFIED_SINCE"))
    return since is not None and mtime <= since.timestamp()


def _if_range_holds(value: str | None, etag: str, mtime: int) -> bool:
    if not value:
        return True
    value = value.strip()
    if value.startswith(('"', "W/")):
        return value == f'"{etag}"'  # If-Range needs a strong match
    date = parse_date(value)
    return date is not None and int(date.timestamp()) == mtime


def _single_range(header: str, size: int) -> tuple[int, int] | None | bool:
    """(start, stop) to send; None to send the whole file (a unit we don't know, or several
    ranges: RFC 9110 lets a server ignore those); False when it can't be satisfied."""
    unit = header.partition("=")[0].strip().lower()
    if unit != "bytes":
        return None
    if "," in header:
        return None
    m = _RANGE.match(header)
    if m is None or (not m.group(1) and not m.group(2)):
        return False
    if not m.group(1):  # the last N bytes
        n = int(m.group(2))
        return (max(0, size - n), size) if n > 0 and size else False
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else size - 1
    if first >= size or last < first:
        return False
    return first, min(last, size - 1) + 1


def _body(environ: dict[str, Any], path: Path, start: int, length: int, size: int) -> Any:
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is not None and _is_waitress(wrapper):
        return wrapper(MappedRange(path, start, length), BLOCK)
    f = path.open("rb")
    try:
        f.seek(start)
    except BaseException:
        f.close()
        raise
    # Other servers' file wrappers send to the end of the file: only whole-file tails.
    if wrapper is not None and start + length == size:
        return wrapper(f, BLOCK)
    return _chunks(f, length)


def _is_waitress(wrapper: Any) -> bool:
    return getattr(wrapper, "__module__", "").startswith("waitress.")


class MappedRange:
    """Bytes ``start`` to ``start + length`` of a file, as a seekable read-only file whose
    ``read`` hands out views of a memory map instead of copies.

    waitress sends a file wrapper from its I/O thread in pieces the size of the socket
    buffer, and after a partial send reads the unsent part again: with plain reads that
    is a fresh copy of up to a megabyte each time, with views it costs nothing and the
    kernel copies straight from the page cache. A file replaced while it is being sent
    (``radio retry`` renames a new rendition into place) keeps its old pages.
    """

    def __init__(self, path: Path, start: int, length: int) -> None:
        with path.open("rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        self._view = memoryview(self._map)[start : start + length]
        self._pos = 0

    def read(self, size: int | None = -1) -> memoryview:
        end = len(self._view) if size is None or size < 0 else self._pos + size
        chunk = self._view[self._pos : end]
        self._pos += len(chunk)
        return chunk

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: len(self._view)}[whence]
        self._pos = min(max(0, base + offset), len(self._view))
        return self._pos

    def seekable(self) -> bool:
        return True

    def close(self) -> None:
        try:
            self._view.release()
            self._map.close()
        except BufferError:  # a piece is still being sent; the map closes when it is freed
            pass


def _chunks(f: IO[bytes], length: int) -> Iterator[bytes]:
    with f:
        while length > 0:
            data = f.read(min(BLOCK, length))
            if not data:
                return
            length -= len(data)
            yield data


_REASONS = {200: "200 OK", 206: "206 Partial Content", 304: "304 Not Modified"}
_PUBLIC_FILE = f"""
select r.path, r.mime from episodes e join renditions r on r.episode_id = e.id
where e.guid = ? and r.kind = ? and {public_sql("e")}
"""
_PUBLIC_PEAKS = f"select peaks_path from episodes e where e.guid = ? and {public_sql('e')}"


class PublicMedia:
    """WSGI layer: a listener's request for a public file, answered without Flask's request
    cycle (lookups on a per-thread connection, then ``respond``). Anything else, including
    any request carrying a session, or a file that isn't there, goes on to Flask."""

    def __init__(self, app: Flask, wsgi_app: Callable[..., Any]) -> None:
        self.app = app
        self.wsgi_app = wsgi_app
        self.cookie = f"{app.config.get('SESSION_COOKIE_NAME') or 'session'}="

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if (
            path.startswith("/media/")
            and environ.get("REQUEST_METHOD") in ("GET", "HEAD")
            and self.cookie not in environ.get("HTTP_COOKIE", "")
        ):
            found = self._find(path)
            if found is not None:
                status, headers, body = respond(environ, *found, PUBLIC_CACHE)
                if status in _REASONS:
                    start_response(_REASONS[status], headers)
                    return body
                if hasattr(body, "close"):
                    body.close()
        return self.wsgi_app(environ, start_response)

    def _find(self, path: str) -> tuple[Path, str] | None:
        parts = path[len("/media/") :].split("/")
        if len(parts) != 2 or parts[1] not in ("audio.mp3", "audio.opus", "peaks.json"):
            return None
        guid, kind = parts
        db = _reader(self.app)
        if kind == "peaks.json":
            row = db.execute(_PUBLIC_PEAKS, [guid]).fetchone()
            row = (row[0], "application/json") if row and row[0] else None
        else:
            row = db.execute(_PUBLIC_FILE, [guid, RENDITIONS[kind]]).fetchone()
        if row is None:
            return None
        file = inside_media(self.app, row[0])
        return (file, row[1]) if file is not None and file.is_file() else None


@bp.record_once
def _install(state: Any) -> None:
    state.app.wsgi_app = PublicMedia(state.app, state.app.wsgi_app)
