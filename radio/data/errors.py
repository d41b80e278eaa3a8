"""The data layer's one error family. The edges (``radio.web.errors``, ``radio.cli``) turn
``NotFound`` into a 404 or an exit status 1 and ``Invalid`` into a 400/422 or a usage
message; every message already says what to do, and no class name ever reaches a user."""

from __future__ import annotations


class DataError(Exception):
    """Something asked of the archive's data can't be done; the message says why and how."""


class NotFound(DataError, LookupError):
    """What was asked for doesn't exist (or the asker may not know that it does)."""


class Invalid(DataError, ValueError):
    """A value can't be stored as given; the message says what to type instead."""
