"""Send a file over WSGI as RFC 9110 wants it: validators, 304, one byte range, 416.

No Flask here: the Flask view ``radio.web.media`` and the WSGI layer that answers
listeners (``radio.web.http.mediacache``) both send files with it. A file is served from
a ``FileSnapshot``: its size and validators and a read-only memory map, taken together
when it is opened, so a rendition replaced mid-download (``radio retry``) keeps sending
the old bytes that its ETag names. Under waitress the body is its ``wsgi.file_wrapper``
around a ``MappedRange``: waitress sends the range straight from the page cache.
"""

from __future__ import annotations

import mmap
import os
import re
from collections.abc import Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from email.utils import formatdate
from pathlib import Path
from typing import Any

from werkzeug.http import parse_date, parse_etags

BLOCK = 256 * 1024
_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.I)

Answer = tuple[int, list[tuple[str, str]], Iterable[bytes]]


@dataclass(frozen=True)
class FileSnapshot:
    path: Path
    mime: str
    size: int
    mtime: int  # whole seconds, as Last-Modified and If-Modified-Since have them
    etag: str
    last_modified: str
    data: memoryview  # the whole file, mapped read-only (empty for an empty file)

    @classmethod
    def open(cls, path: Path, mime: str) -> FileSnapshot:
        """Raises OSError when the file can't be opened."""
        with path.open("rb") as f:
            st = os.fstat(f.fileno())
            data = (
                memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
                if st.st_size
                else memoryview(b"")
            )
        mtime = int(st.st_mtime)
        return cls(
            path,
            mime,
            st.st_size,
            mtime,
            f"{st.st_size:x}-{st.st_mtime_ns:x}",
            formatdate(mtime, usegmt=True),
            data,
        )


def respond(environ: dict[str, Any], snap: FileSnapshot, cache_control: str) -> Answer:
    """Status, headers and body for a GET or HEAD of ``snap``."""
    size = snap.size
    headers = [
        ("Accept-Ranges", "bytes"),
        ("ETag", f'"{snap.etag}"'),
        ("Last-Modified", snap.last_modified),
        ("Cache-Control", cache_control),
    ]
    if _not_modified(environ, snap.etag, snap.mtime):
        return 304, headers, ()
    start, length, status = 0, size, 200
    header = environ.get("HTTP_RANGE")
    if header and _if_range_holds(environ.get("HTTP_IF_RANGE"), snap.etag, snap.mtime):
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
    headers += [("Content-Type", snap.mime), ("Content-Length", str(length))]
    if environ["REQUEST_METHOD"] == "HEAD" or not length:
        return status, headers, ()
    return status, headers, _body(environ, snap.data, start, length)


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


def _body(environ: dict[str, Any], data: memoryview, start: int, length: int) -> Any:
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is not None and getattr(wrapper, "__module__", "").startswith("waitress."):
        return wrapper(MappedRange(data, start, length), BLOCK)
    return _pieces(data[start : start + length])


def _pieces(view: memoryview) -> Iterator[bytes]:
    for at in range(0, len(view), BLOCK):
        yield bytes(view[at : at + BLOCK])


class MappedRange:
    """A range of a mapped file as a seekable read-only file whose ``read`` hands out
    views instead of copies.

    waitress sends a file wrapper from its I/O thread in pieces the size of the socket
    buffer, and after a partial send reads the unsent part again: with plain reads that
    is a fresh copy of up to a megabyte each time, with views it costs nothing and the
    kernel copies straight from the page cache.
    """

    def __init__(self, data: memoryview, start: int, length: int) -> None:
        self._view = data[start : start + length]
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
        with suppress(BufferError):  # a piece is still being sent; it goes when freed
            self._view.release()
