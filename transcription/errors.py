"""Transcription's one error family. Messages say what to do; callers show them as they are."""

from __future__ import annotations


class TranscriptionError(Exception):
    """Speech can't be turned into text (or topics) as asked; the message says why and how."""
