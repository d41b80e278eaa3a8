"""The jobs' one error family: what ingest refuses and why a processing step stopped.
Every message is for the user (it says what to do); the edges show it as it is."""

from __future__ import annotations


class JobError(Exception):
    """Taking in or processing a recording can't go on; the message says why and how."""


class StepError(JobError):
    """A step failed in a way the user can act on; the message is shown as the episode's error."""


class IngestError(JobError):
    """A recording was refused; nothing of it was kept."""

    def __init__(self, filename: str, reason: str) -> None:
        super().__init__(f"{filename}: {reason}")
        self.filename = filename
        self.reason = reason
