"""What a listening file says about itself (``FileTags``), shared by the writers in
``radio.media.filetags`` (ID3, Vorbis comments) and ``radio.media.mp4tags``."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from radio.media.errors import FileTagError as TagError

# Bump when what a writer puts into a file changes, so every file is written again.
FORMAT_VERSION = 1
DIGEST_KEY = "radio-archive-tags"  # ID3 TXXX description, Vorbis comment, MP4 freeform name
GENRE = "Podcast"
IMAGE_TYPES = {b"\xff\xd8\xff": "image/jpeg", b"\x89PNG\r\n\x1a\n": "image/png"}


@dataclass(frozen=True)
class ChapterMark:
    start: float  # seconds
    end: float
    title: str


@dataclass(frozen=True)
class Cover:
    data: bytes
    mime: str  # image/jpeg or image/png

    @classmethod
    def read(cls, path: Path) -> Cover:
        """A JPEG or PNG file as cover art; TagError for anything else."""
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise TagError(f"the cover image {path} can't be read ({e.strerror}).") from e
        mime = image_type(data)
        if mime is None:
            raise TagError(f"the cover image {path} is not a JPEG or PNG; convert it first.")
        return cls(data, mime)


def image_type(data: bytes) -> str | None:
    """image/jpeg or image/png by the file's first bytes, else None."""
    return next((mime for magic, mime in IMAGE_TYPES.items() if data.startswith(magic)), None)


@dataclass(frozen=True)
class FileTags:
    """What a listening file says about itself."""

    title: str
    station: str
    show: str | None = None
    date: str | None = None  # ISO 8601: 2026-11-02
    description: str = ""
    licence: str | None = None  # its label: "CC BY 4.0", "All rights reserved"
    licence_url: str | None = None
    language: str | None = None  # ISO 639-1 (Whisper's code): "en"
    url: str | None = None  # the episode's page
    cover: Cover | None = field(default=None, repr=False)
    chapters: tuple[ChapterMark, ...] = ()

    @property
    def album(self) -> str:
        return self.show or self.station

    @property
    def copyright(self) -> str:
        """ID3 wants a year first: "2026 Radio Maendeleo. CC BY 4.0"."""
        owner = f"{self.date[:4]} {self.station}" if self.date else self.station
        return f"{owner}. {self.licence}" if self.licence else owner

    def digest(self) -> str:
        """Names these tags exactly (the cover by its hash), with the writers' version."""
        doc = asdict(self) | {"cover": None, "version": FORMAT_VERSION}
        if self.cover is not None:
            doc["cover"] = [self.cover.mime, hashlib.sha256(self.cover.data).hexdigest()]
        text = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(text.encode()).hexdigest()
