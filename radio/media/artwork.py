"""Artwork files for episodes and shows: checked, then kept once each by content.

An upload is taken only if it is a JPEG or PNG by its first bytes, at most
``MAX_ARTWORK_BYTES``, its header's size at most ``MAX_ARTWORK_PX`` a side (read before
decoding, so a small file claiming a huge picture never makes FFmpeg allocate it), and it
decodes to the end with FFmpeg (PyAV, already a dependency) at the size its header says.
It is kept as given, never re-encoded: the station chose it, and podcast apps scale it.

Files live in ``media/artwork/<sha256>.jpg`` (or ``.png``): the name changes when the
picture does, which is what Apple asks of ``itunes:image`` URLs, and a URL can be cached
for good.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import uuid
from dataclasses import dataclass
from pathlib import Path

from radio.i18n import _
from radio.media.errors import MediaError
from radio.media.store import fsync_path, media_root

MAX_ARTWORK_BYTES = 2 * 1024 * 1024
MAX_ARTWORK_PX = 3000
MIN_ARTWORK_PX = 16
KINDS = {"image/jpeg": "jpg", "image/png": "png"}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
# JPEG start-of-frame markers (they carry the size): C0-CF but DHT, JPG and DAC
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}


class ArtworkError(MediaError):
    """An image the archive can't take as artwork; the message says why and what to do."""


@dataclass(frozen=True)
class Image:
    data: bytes
    sha256: str
    mime: str
    width: int
    height: int

    @property
    def name(self) -> str:
        """Its file name under media/artwork."""
        return f"{self.sha256}.{KINDS[self.mime]}"


def artwork_dir(home: str | Path) -> Path:
    return media_root(home) / "artwork"


def artwork_path(home: str | Path, name: str) -> Path | None:
    """The file of an artwork name, or None for a name no upload could have made."""
    stem, _, ext = name.partition(".")
    if len(stem) != 64 or ext not in KINDS.values() or stem.strip("0123456789abcdef"):
        return None
    return artwork_dir(home) / name


def check_image(data: bytes, filename: str = "the image") -> Image:
    """``data`` as artwork, or ``ArtworkError`` saying what is wrong with it."""
    if not data:
        raise ArtworkError(
            _("{filename} is empty. Choose a JPEG or PNG picture.").format(filename=filename)
        )
    if len(data) > MAX_ARTWORK_BYTES:
        raise ArtworkError(
            _(
                "{filename} is {size:.1f} MB; artwork may be at most {limit} MB. Save it "
                "smaller (a 1400x1400 JPEG is about 300 KB)."
            ).format(
                filename=filename,
                size=len(data) / 1024 / 1024,
                limit=MAX_ARTWORK_BYTES // 1024 // 1024,
            )
        )
    mime = _kind(data)
    if mime is None:
        raise ArtworkError(
            _("{filename} is not a JPEG or PNG picture. Save it as one first.").format(
                filename=filename
            )
        )
    width, height = _header_size(data, mime, filename)
    if max(width, height) > MAX_ARTWORK_PX:
        raise ArtworkError(
            _(
                "{filename} is {width}x{height} pixels; artwork may be at most {limit} "
                "pixels a side (podcast apps ask for 1400 to 3000). Make it smaller."
            ).format(filename=filename, width=width, height=height, limit=MAX_ARTWORK_PX)
        )
    if min(width, height) < MIN_ARTWORK_PX:
        raise ArtworkError(
            _(
                "{filename} is {width}x{height} pixels, too small to show; use a picture of at "
                "least 300 pixels a side (1400 for podcast apps)."
            ).format(filename=filename, width=width, height=height)
        )
    _check_decodes(data, width, height, filename)
    return Image(data, hashlib.sha256(data).hexdigest(), mime, width, height)


def keep_image(home: str | Path, image: Image) -> Path:
    """Write ``image`` to its place (once: the same picture again is already there)."""
    folder = artwork_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / image.name
    if path.exists():
        return path
    tmp = folder / f".{uuid.uuid4().hex}.part"
    try:
        with tmp.open("wb") as out:
            out.write(image.data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_path(folder)
    return path


def discard_image(home: str | Path, name: str) -> bool:
    """Remove an artwork file nobody names any more; True if there was one."""
    path = artwork_path(home, name)
    if path is None or not path.exists():
        return False
    path.unlink()
    return True


def _kind(data: bytes) -> str | None:
    if data.startswith(PNG_MAGIC):
        return "image/png"
    if data.startswith(JPEG_MAGIC):
        return "image/jpeg"
    return None


def _header_size(data: bytes, mime: str, filename: str) -> tuple[int, int]:
    """(width, height) as the file's header says, without decoding the picture."""
    found = _png_size(data) if mime == "image/png" else _jpeg_size(data)
    if found is None:
        raise ArtworkError(
            _("{filename} is cut short or damaged: its size can't be read.").format(
                filename=filename
            )
        )
    return found


def _png_size(data: bytes) -> tuple[int, int] | None:
    if len(data) < 24 or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if marker in _SOF:
            if i + 9 > len(data):
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return width, height
        i += 2 + length
    return None


def _check_decodes(data: bytes, width: int, height: int, filename: str) -> None:
    """FFmpeg decodes the whole picture at its stated size (a cut or damaged file fails)."""
    import av  # loaded on the first upload, not when the web process starts

    try:
        with av.open(io.BytesIO(data)) as container:
            frame = next(container.decode(video=0))
    except (av.FFmpegError, StopIteration, IndexError, ValueError) as e:
        raise ArtworkError(
            _(
                "{filename} can't be read as a picture (it may be cut short or damaged); "
                "save it again as JPEG or PNG."
            ).format(filename=filename)
        ) from e
    if (frame.width, frame.height) != (width, height):
        raise ArtworkError(
            _("{filename} is damaged: its header and picture disagree on its size.").format(
                filename=filename
            )
        )
