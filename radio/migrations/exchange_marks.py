"""Migration 0030's body (#17): a change mark per episode for the incremental export.

``radio export --since last`` used to build every exportable episode's episode.json to
compare its sha256 with what the target was last sent: about 28 s for 1,000 half-hour
episodes (``bench/exchange.py``) to learn that nothing changed. ``exchange_marks`` holds,
per episode, a number that moves (AUTOINCREMENT: never given twice) at every write to
anything its episode.json is made of, whichever process made it; the export records the
mark with what it sent, and builds again only the episodes whose mark moved since
(``radio.data.exchange_sent``); the HTTP catalogue keeps each episode's part while its
mark stays.

A write to a show or a tag moves the marks of its episodes. Delete-then-insert rather than
INSERT OR REPLACE: a trigger's conflict clause gives way to the statement's that fired it
(an INSERT OR IGNORE into a tagged table would leave the mark where it was).

An episode whose mark is already the newest keeps it: a transcript's hundreds of segments
move it once, not once each. So the newest mark is never taken as "unchanged since"; any
other is moved by the next write. An export first makes a newer mark for no episode
(``radio.data.exchange_sent.draw_line``), so that no episode's is the newest when it reads.
"""

from __future__ import annotations

import sqlite_utils

# What episode.json is made of (radio.jobs.exchange.episode_document), and whether it may
# leave: a write to any of these moves the episode's mark. Not the job's progress, lease or
# error, which change often and never travel.
EPISODE_COLUMNS = (
    "guid, show_id, title, description, recorded_at, published_at, language, "
    "transcript_language, duration, licence, source_sha256, source_path, source_format, "
    "loudness_after, true_peak_after, peaks_path, artwork, status, visibility, publish_at, "
    "deleted_at, taken_down_at"
)
# Tables whose rows belong to one episode (all of their columns travel or count).
BY_EPISODE = ("segments", "chapters", "renditions", "participants", "episode_tags")
# Tables whose rows many episodes show: (the columns that travel, the episodes a row names).
SHARED = {
    "shows": ("slug, title, description, licence, artwork", "select id from episodes "
              "where show_id = {row}.id"),
    "tags": ("slug, label, kind", "select episode_id from episode_tags where tag_id = {row}.id"),
}  # fmt: skip


def exchange_marks(db: sqlite_utils.Database) -> None:
    db.execute(
        "create table exchange_marks (seq integer primary key autoincrement, "
        "episode_id integer not null unique)"
    )
    db.execute("insert into exchange_marks (episode_id) select id from episodes order by id")
    db["exchange_exported"].add_column("mark", str)  # "<seq>/<basis>" when it was built
    _mark_one(db, "episodes", "id", EPISODE_COLUMNS, events=("insert", "update"))
    db.execute(
        "create trigger episodes_exchange_mark_de after delete on episodes "
        "begin delete from exchange_marks where episode_id = old.id; end"
    )
    for table in BY_EPISODE:
        _mark_one(db, table, "episode_id", None, events=("insert", "update", "delete"))
    _mark_one(db, "exchange_imports", "episode_id", None, events=("insert", "update"))
    for table, (columns, episodes) in SHARED.items():
        new = episodes.format(row="new")
        db.execute(
            f"create trigger {table}_exchange_mark_au after update of {columns} on {table} "
            f"begin delete from exchange_marks where episode_id in ({new}); "
            f"insert into exchange_marks (episode_id) {new}; end"
        )


def _mark_one(
    db: sqlite_utils.Database,
    table: str,
    column: str,
    update_of: str | None,
    events: tuple[str, ...],
) -> None:
    for event in events:
        rows = ("old",) if event == "delete" else ("new",) if event == "insert" else ("old", "new")
        body = "".join(_move(f"{row}.{column}") for row in rows)
        of = f" of {update_of}" if update_of and event == "update" else ""
        db.execute(
            f"create trigger {table}_exchange_mark_{event[0]}{event[-1]} after {event}{of} "
            f"on {table} begin {body}end"
        )


def _move(episode: str) -> str:
    """A newer mark for ``episode``, unless its mark is already the newest."""
    return (
        f"delete from exchange_marks where episode_id = {episode} "
        "and seq < (select max(seq) from exchange_marks); "
        f"insert into exchange_marks (episode_id) select {episode} where {episode} is not null "
        f"and not exists (select 1 from exchange_marks where episode_id = {episode}); "
    )


def exchange_listed(db: sqlite_utils.Database) -> None:
    """Migration 0031's body: each episode's part of the HTTP catalogue as last built, with
    the mark it was built at. Kept only in memory before, so the first ``radio sync`` after
    a restart waited for every episode.json to be built again (27 s for 1,000 half-hour
    episodes, about the client's 30 s timeout)."""
    db.execute(
        "create table exchange_listed (episode_id integer primary key references "
        "episodes(id), mark text not null, listing text not null)"
    )  # a foreign key: emptying the trash and a destroying takedown delete its row too
