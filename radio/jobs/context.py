"""What every processing step gets, and the one error a step raises for the user to read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data.episodes import Episode
from radio.jobs.errors import StepError

__all__ = ["Context", "Step", "StepError"]


@dataclass
class Context:
    """What a step needs: the database, the config and a way to report progress."""

    db: sqlite_utils.Database
    config: dict[str, Any]
    episode: Episode
    report: Callable[[float], None]  # fraction of this step done, 0..1

    @property
    def home(self) -> str:
        return self.config["HOME"]


Step = Callable[[Context], None]
