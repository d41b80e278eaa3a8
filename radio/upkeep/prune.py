"""Old snapshots out of a backup folder: keep the newest ``keep``, then remove the stored
files no remaining snapshot needs (``radio backup --keep N``, ``BACKUP_KEEP``).

A snapshot leaves by a rename to a dot-name first, so a prune killed half-way leaves
nothing that looks like a complete backup (the next backup clears it); a stored file is
removed only when every remaining manifest could be read and none lists it.
"""

from __future__ import annotations

import logging
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from radio.upkeep.errors import UpkeepError
from radio.upkeep.folder import MANIFEST, Manifest
from radio.upkeep.layout import OBJECTS, PARTIAL, SNAPSHOTS, locked, snapshots

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Pruned:
    snapshots: list[str]
    objects: int
    bytes: int


def prune(dest: str | Path, keep: int) -> Pruned:
    """Keep the newest ``keep`` snapshots of the backup folder ``dest``."""
    if keep < 1:
        raise UpkeepError(f"Keep at least one backup, not {keep}.")
    dest = Path(dest).expanduser().resolve()
    with locked(dest):
        old = snapshots(dest)[:-keep]
        for name in old:
            gone = dest / SNAPSHOTS / f".{name}{PARTIAL}"
            os.rename(dest / SNAPSHOTS / name, gone)
            shutil.rmtree(gone, ignore_errors=True)
        needed = _needed(dest)
        removed, freed = 0, 0
        if needed is not None:
            for path in (dest / OBJECTS).glob("??/*"):
                if path.parent.name + path.name not in needed:
                    freed += path.stat().st_size
                    path.unlink()
                    removed += 1
    if old:
        logger.info("pruned backups %s: %d stored files, %d bytes", old, removed, freed)
    return Pruned(old, removed, freed)


def _needed(dest: Path) -> set[str] | None:
    """The sha256 of every file the remaining snapshots list; None if one can't be read."""
    needed: set[str] = set()
    for name in snapshots(dest):
        try:
            manifest = Manifest.read(dest / SNAPSHOTS / name / MANIFEST)
        except (OSError, ValueError, KeyError, TypeError) as e:
            logger.warning("keeping every stored file: %s can't be read (%s)", name, e)
            return None
        needed.update(entry.sha256 for entry in manifest.files.values())
    return needed
