"""The upkeep's one error family: a backup, restore or check that can't be done. Every
message says what is wrong and what to do; the edges show it as it is."""

from __future__ import annotations


class UpkeepError(Exception):
    """A backup, restore or verification can't go on; the message says why and how."""


class BackupBusy(UpkeepError):
    """Another backup into the same folder is running."""
