"""The media layer's one error family: audio that can't be read or written, and files the
store can't take. Messages say what is wrong with the file and what to do."""

from __future__ import annotations


class MediaError(Exception):
    """A recording or a media file can't be handled; the message says why."""
