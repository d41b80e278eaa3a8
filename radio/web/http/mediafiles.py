"""What ``/media/<guid>/<name>`` can name, and where those files live on disk.

Shared by the Flask view (``radio.web.media``) and the WSGI layer in front of Flask
(``radio.web.http.mediacache``), so the two serve exactly the same files.

A listening copy's name is ``<stem>.<ext>`` (#15): the archive hands out a stem that says
what the file is (``morning-talk-2026-11-02-water-committee.mp3``, ``download_stem``), so
podcast apps and browsers save it under that name, not ``audio (27).mp3``. The guid in
the path picks the episode and the extension the rendition; the stem is only a name, so
any well-formed one serves the same file with the same ETag: the fixed names of before
(``audio.mp3``, in subscribed feeds and saved offline copies) and names made from a title
that has changed since keep working, with no redirect to cost a podcast app a round trip
on every range it asks for.
"""

from __future__ import annotations

import os
import re
import threading
import unicodedata
from enum import StrEnum
from pathlib import Path
from urllib.parse import quote

import sqlite_utils
from flask import Flask

from radio.db import connect, database_path
from radio.media import store


class MediaFile(StrEnum):
    """The last part of a media URL: the only files an episode's URLs can reach."""

    MP3 = "audio.mp3"
    OPUS = "audio.opus"
    AAC = "audio.m4a"  # the data saver Apple's players take (#14)
    PEAKS = "peaks.json"
    ORIGINAL = "original"  # the upload as it came; volunteers only


# The ``renditions.kind`` each listening copy is stored as.
RENDITION_KINDS = {MediaFile.MP3: "mp3", MediaFile.OPUS: "opus", MediaFile.AAC: "aac"}
MEDIA_FILE_OF_KIND = {kind: name for name, kind in RENDITION_KINDS.items()}
# What listeners may fetch (of public episodes), and how long their caches may keep it.
PUBLIC_FILES = frozenset({*RENDITION_KINDS, MediaFile.PEAKS})
PUBLIC_CACHE = "public, max-age=86400"

# --- names -----------------------------------------------------------------------------
EXTENSIONS = {MediaFile.MP3: "mp3", MediaFile.OPUS: "opus", MediaFile.AAC: "m4a"}
_FILE_OF_EXTENSION = {ext: file for file, ext in EXTENSIONS.items()}
MAX_NAME = 80  # characters of a whole name, extension included: short enough for any disk
MAX_STEM = MAX_NAME - 1 - max(map(len, EXTENSIONS.values()))
_STEM = re.compile(rf"[a-z0-9][a-z0-9-]{{0,{MAX_STEM - 1}}}")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_SHOW_SLUG = 30  # of the stem, so a long show name leaves room for the title
NO_TITLE = "episode"  # a title with no letter or digit in ASCII (emoji, another script)
# Letters NFKD leaves whole, as people spell them in ASCII.
_SPELLED = str.maketrans(
    {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O", "đ": "d",
     "Đ": "D", "ł": "l", "Ł": "L", "þ": "th", "Þ": "TH", "ð": "d", "Ð": "D", "ı": "i",
     "&": " and ", "'": "", "’": ""}
)  # fmt: skip


def media_file(name: str) -> MediaFile | None:
    """Which file the last part of a media URL names: ``peaks.json``, ``original``, or
    ``<stem>.<ext>`` of a listening copy (``audio.mp3`` is one); None for anything else."""
    if name in (MediaFile.PEAKS, MediaFile.ORIGINAL):
        return MediaFile(name)
    stem, dot, ext = name.rpartition(".")
    file = _FILE_OF_EXTENSION.get(ext)
    return file if dot and file and _STEM.fullmatch(stem) else None


def file_name(stem: str, file: MediaFile) -> str:
    """The URL name of one of an episode's files: ``<stem>.mp3``; peaks and original keep
    their fixed names (nobody downloads peaks; the original has its own file name)."""
    return f"{stem}.{EXTENSIONS[file]}" if file in EXTENSIONS else file.value


def download_stem(show_slug: str | None, date: str | None, title: str) -> str:
    """``morning-talk-2026-11-02-water-committee``: the show, the day (recorded, else
    published: pass whichever is known, a date or a timestamp) and the title, in lower-case
    ASCII, at most ``MAX_STEM`` characters, cut between words. The same facts always give
    the same stem, so a feed read twice names a file the same way."""
    show = _cut(slug_ascii(show_slug or ""), MAX_SHOW_SLUG)
    day = date[:10] if date and _DATE.match(date) else ""
    words = slug_ascii(title)
    if show and words.startswith(show + "-"):  # "Morning Talk: water" under Morning Talk
        words = words[len(show) + 1 :]
    if day and day in words:  # the title says the date already
        words = words.replace(day, "").replace("--", "-").strip("-")
    head = "-".join(part for part in (show, day) if part)
    room = MAX_STEM - len(head) - (1 if head else 0)
    words = _cut(words, room) or (NO_TITLE if not head else "")
    return "-".join(part for part in (head, words) if part)


def slug_ascii(text: str) -> str:
    """Lower-case ASCII words joined by hyphens: accents dropped (é is e), ß spelled ss."""
    plain = unicodedata.normalize("NFKD", text.translate(_SPELLED))
    plain = plain.encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _cut(slug: str, limit: int) -> str:
    """``slug`` in at most ``limit`` characters, cut at a hyphen when one is near."""
    if len(slug) <= limit or slug[limit] == "-":
        return slug[:limit]
    head = slug[:limit]
    cut = head.rsplit("-", 1)[0]  # the word cut in two goes, unless it is most of the room
    return (cut if len(cut) >= limit // 2 else head).strip("-")


def attachment(name: str) -> str:
    """Content-Disposition for saving ``name``: the ASCII ``filename`` every client reads,
    and ``filename*`` (RFC 6266) for those that keep a name's accents."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    plain = re.sub(r'[\x00-\x1f"\\/]', "_", plain).strip() or "download"
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


def wants_download(query: str) -> bool:
    """``?download=1`` on a media URL: the episode page's download links, answered with
    Content-Disposition so the browser saves the file instead of playing it in a tab."""
    return any(part == "download=1" for part in query.split("&"))


def reader(app: Flask) -> sqlite_utils.Database:
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
