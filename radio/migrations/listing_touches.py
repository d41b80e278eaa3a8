"""Migration 0029's body (#17): which episodes each change touched, for lists kept by episode.

The lists beside a search and on the home page (shows, languages, the station's topics,
the people heard; ``radio.data.facets``) were computed again from every episode after any
change that could alter them: 35-40 ms at 10,000 hours for the first listener after an
editor published or hid one episode. ``listing_touches`` names the episode each such write
touched (whichever process made it), so a list kept as rows per episode reads again only
those episodes' rows. A change with no one episode (a show or a tag renamed) is a row with
no episode: every list is read again whole. Only the latest rows are kept; a list older
than them is read again whole too.
"""

from __future__ import annotations

import sqlite_utils

from radio.migrations.listener_speed import UNLISTED

KEPT = 5_000  # touches kept: more since a list was made, and it is read again whole

# Tables whose rows belong to one episode, with the columns whose change can alter a list
# (None: any), and tables whose change can alter any list.
BY_EPISODE = {
    "episode_tags": ("episode_id", None),
    "participants": ("episode_id", None),
    "requests": ("episode_id", "episode_id, kind, status"),
    "segment_speakers": ("episode_id", "episode_id, speaker"),
}
WHOLE = {"shows": None, "tags": "slug, label, kind"}


def listing_touches(db: sqlite_utils.Database) -> None:
    db.execute(
        "create table listing_touches (seq integer primary key autoincrement, episode_id integer)"
    )
    db.execute(
        "create trigger listing_touches_prune after insert on listing_touches begin "
        f"delete from listing_touches where seq <= new.seq - {KEPT}; end"
    )
    listed = ", ".join(c for c in db["episodes"].columns_dict if c not in UNLISTED)
    _touch(db, "episodes", "id", listed)
    for table, (column, update_of) in BY_EPISODE.items():
        _touch(db, table, column, update_of)
    everything = "insert into listing_touches (episode_id) values (null);"
    for table, update_of in WHOLE.items():
        columns = f" of {update_of}" if update_of else ""
        for verb, event in (("ai", "insert"), ("ad", "delete"), ("au", f"update{columns}")):
            db.execute(f"create trigger {table}_touch_{verb} after {event} on {table} "
                       f"begin {everything} end")  # fmt: skip


def _touch(db: sqlite_utils.Database, table: str, column: str, update_of: str | None) -> None:
    add = "insert into listing_touches (episode_id) values ({row}.{column});"
    new, old = add.format(row="new", column=column), add.format(row="old", column=column)
    columns = f" of {update_of}" if update_of else ""
    for verb, event, body in (
        ("ai", "insert", new),
        ("ad", "delete", old),
        ("au", f"update{columns}", old + new),
    ):
        db.execute(f"create trigger {table}_touch_{verb} after {event} on {table} "
                   f"begin {body} end")  # fmt: skip
