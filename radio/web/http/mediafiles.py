"""What ``/media/<guid>/<name>`` can name, and where those files live on disk.

Shared by the Flask view (``radio.web.media``) and the WSGI layer in front of Flask
(``radio.web.http.mediacache``), so the two serve exactly the same files.
"""

from __future__ import annotations

import os
import threading
from enum import StrEnum
from pathlib import Path

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
