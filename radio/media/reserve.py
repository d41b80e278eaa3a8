"""Room kept in reserve on the data folder's disk, so that a full disk can still be
recorded (an episode ``failed`` with "disk full" rather than stuck)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from radio.media.store import MB, free_bytes, megabytes

logger = logging.getLogger(__name__)

RESERVE = ".disk-reserve"  # in the data folder; see keep_reserve
RESERVE_BYTES = 2 * MB


def keep_reserve(home: str | Path) -> bool:
    """Keep ``RESERVE_BYTES`` of room in the data folder, in a file that ``release_reserve``
    deletes when the disk fills, so that the archive can still record what happened (an
    episode ``failed`` with "disk full" rather than stuck). Made again once there is room
    (four times its size free); returns whether the reserve is in place."""
    path = Path(home) / RESERVE
    if path.exists():
        return True
    if free_bytes(home) < 4 * RESERVE_BYTES:
        return False
    part = path.with_name(f"{RESERVE}.{os.getpid()}.part")
    try:
        with part.open("wb") as out:
            out.write(os.urandom(RESERVE_BYTES))  # random: a compressing filesystem keeps it all
            out.flush()
            os.fsync(out.fileno())
        os.replace(part, path)
    except OSError as e:
        part.unlink(missing_ok=True)
        logger.warning("could not keep %s of room in reserve: %s", megabytes(RESERVE_BYTES), e)
        return False
    return True


def release_reserve(home: str | Path) -> bool:
    """Give the reserved room back to the disk; True if there was a reserve."""
    path = Path(home) / RESERVE
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    logger.warning("the disk is full: released the %s kept in reserve", megabytes(RESERVE_BYTES))
    return True
