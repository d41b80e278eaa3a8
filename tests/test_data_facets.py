"""radio.data.facets after migration 0026: a title edit keeps the lists beside search and
on the home page (computed once), every change they show recomputes them."""

from __future__ import annotations

import sqlite_utils

from radio.data import facets
from radio.data.shows import shows
from tests.archive import Seeder


def test_lists_outlive_a_title_edit_but_not_what_they_show(
    seed: Seeder, db: sqlite_utils.Database
) -> None:
    facets.forget()
    first = seed.episode("Morning", [(0, 4, "hello")], show="Talk")
    seed.episode("Evening", [(0, 4, "bye")], show="News")
    made: list[str] = []

    def listing(name: str) -> list:
        def compute() -> list:
            made.append(name)
            return shows(db) if name == "shows" else [name]

        return facets.cached(db, name, False, compute)

    assert [s.episodes for s in listing("shows")] == [1, 1] and listing("latest")
    db["episodes"].update(first, {"title": "Morning (edited)", "progress": 0.5})
    listing("shows"), listing("latest")
    assert made == ["shows", "latest", "latest"]  # the latest episodes show titles
    db["episodes"].update(first, {"visibility": "private"})
    assert [s.title for s in listing("shows")] == ["News"]
    db["shows"].update(1, {"title": "Talk of the town"})
    seed.episode("Noon", [(0, 2, "hi")], show="Talk")
    assert [s.title for s in listing("shows")] == ["News", "Talk of the town"]
    assert made.count("shows") == 3
