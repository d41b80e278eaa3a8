"""The archive's schema, as migrations applied once each, in order (``radio.db.migrate``).

A migration never changes once released: a new table or column is a new migration, added
at the end of the newest module here (``first``: 0001-0008, the first wave; ``second``:
0009-0020; ``third``: 0021 on). Modules register their migrations as they are imported,
so their order below is the order migrations run in.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return register


# Imported after ``migration`` exists: each module uses it as it loads.
from radio.migrations import first, second, third  # noqa: E402, F401
