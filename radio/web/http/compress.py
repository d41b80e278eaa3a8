"""Responses for slow links: gzip for text, long caching for static files, server timing
(the safety headers every response carries are ``radio.web.http.headers``).

A listener on a cheap phone pays for every byte, so HTML, CSS, JS and JSON go out
gzipped when the browser accepts it. Static files are compressed once and kept in
memory (they are few and small); pages are compressed per response. Media is never
touched here: audio doesn't compress and is streamed straight from disk.
"""

from __future__ import annotations

import gzip
import time
from pathlib import Path

from flask import Flask, Response, g, request

MIN_BYTES = 512  # below this gzip's header and the extra header cost more than they save
LEVEL = 6
COMPRESSIBLE = frozenset(
    {
        "text/html",
        "text/css",
        "text/plain",
        "text/vtt",
        "application/javascript",
        "text/javascript",
        "application/json",
        "application/x-subrip",
        "application/rss+xml",
        "application/xml",
        "text/xml",
        "image/svg+xml",
        "application/manifest+json",
    }
)
STATIC_MAX_AGE = 365 * 24 * 3600  # with ?v=<mtime>, a changed file has a new URL
STATIC_MAX_AGE_UNVERSIONED = 3600

_static_cache: dict[tuple[str, float, int], bytes] = {}


def init_app(app: Flask) -> None:
    app.before_request(_start)
    app.after_request(_finish)
    app.jinja_env.globals["static_url"] = static_url


def static_url(filename: str) -> str:
    """``/static/<filename>?v=<mtime>``: cacheable for a year, new URL when the file changes."""
    from flask import current_app, url_for

    path = Path(current_app.static_folder or "") / filename
    try:
        version = int(path.stat().st_mtime)
    except OSError:
        version = 0
    return url_for("static", filename=filename, v=version)


def accepts_gzip() -> bool:
    return "gzip" in request.headers.get("Accept-Encoding", "").lower()


def _static_etag(path: Path) -> str | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return f"gz-{int(st.st_mtime)}-{st.st_size}"


def _static_path() -> Path | None:
    from flask import current_app

    filename = (request.view_args or {}).get("filename")
    if not filename or not current_app.static_folder:
        return None
    root = Path(current_app.static_folder).resolve()
    try:
        path = (root / filename).resolve()
        return path if root in path.parents and path.is_file() else None
    except (OSError, ValueError):  # a NUL or a name too long for the disk: no such file
        return None


def _start() -> Response | None:
    g.request_started = time.perf_counter()
    # A gzipped static file carries its own ETag; answer its revalidation here.
    if request.endpoint == "static" and accepts_gzip():
        path = _static_path()
        etag = _static_etag(path) if path else None
        if etag and etag in request.if_none_match:
            rv = Response(status=304)
            rv.set_etag(etag)
            _cache_static(rv)
            return rv
    return None


def _cache_static(response: Response) -> None:
    versioned = "v" in request.args
    age = STATIC_MAX_AGE if versioned else STATIC_MAX_AGE_UNVERSIONED
    response.headers["Cache-Control"] = f"public, max-age={age}" + (
        ", immutable" if versioned else ""
    )


def _finish(response: Response) -> Response:
    if request.endpoint == "static":
        _cache_static(response)
        if response.status_code == 200 and accepts_gzip():
            _gzip_static(response)
    elif _compressible(response):
        _gzip_body(response, response.get_data())
    elif response.mimetype in COMPRESSIBLE and not response.direct_passthrough:
        response.vary.add("Accept-Encoding")  # a cache must not hand this to a gzip client
    started = g.get("request_started")
    if started is not None:
        response.headers["Server-Timing"] = f"app;dur={1000 * (time.perf_counter() - started):.2f}"
    return response


def _compressible(response: Response) -> bool:
    return (
        response.status_code in (200, 201, 400, 401, 403, 404, 413, 422)
        and not response.direct_passthrough
        and not response.is_streamed
        and response.mimetype in COMPRESSIBLE
        and "Content-Encoding" not in response.headers
        and accepts_gzip()
        and (response.content_length or 0) >= MIN_BYTES
    )


def _gzip_body(response: Response, body: bytes) -> None:
    response.set_data(gzip.compress(body, compresslevel=LEVEL, mtime=0))
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")


def _gzip_static(response: Response) -> None:
    path = _static_path()
    if path is None or response.mimetype not in COMPRESSIBLE:
        return
    st = path.stat()
    if st.st_size < MIN_BYTES:
        return
    key = (str(path), st.st_mtime, st.st_size)
    body = _static_cache.get(key)
    if body is None:
        body = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
        _static_cache[key] = body
    response.close()  # the file Flask opened for the plain copy
    response.direct_passthrough = False
    response.set_data(body)
    response.headers["Content-Encoding"] = "gzip"
    response.vary.add("Accept-Encoding")
    response.set_etag(f"gz-{int(st.st_mtime)}-{st.st_size}")
    response.headers.pop("Content-Range", None)
    response.headers.pop("Accept-Ranges", None)
    response.status_code = 200
