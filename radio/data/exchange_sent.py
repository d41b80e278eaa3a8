"""What this archive sent to each other station (#17): the SQL of ``exchange_exports`` and
``exchange_exported`` (migrations 0024, 0028), of the change marks (``exchange_marks``,
migration 0030) that let an incremental export build again only what changed, and of the
HTTP catalogue's parts as last built (``exchange_listed``, migration 0031).

Each episode sent is recorded with its episode.json's sha256 and its mark: the episode's
``exchange_marks.seq`` when that episode.json was built (triggers move it at every write
to anything episode.json is made of) and the export's *basis* (the station's name and key,
whether originals travel, episode.json's version: what changes every episode's document at
once). An episode whose mark is as recorded is as it was sent, without building it again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.db import transaction, utcnow

LINE = -1  # the episode_id of a mark for no episode (``draw_line``)


@dataclass(frozen=True)
class Sent:
    """The last an export to one target carried of an episode."""

    export_id: int
    content_sha256: str | None  # its episode.json's sha256 (None: sent before 0028)
    mark: str | None  # "<seq>/<basis>" when that episode.json was built (None: before 0030)


def mark(seq: int | None, basis: str) -> str | None:
    """What is recorded with an episode sent; None (never "as sent") for the newest mark."""
    return None if seq is None else f"{seq}/{basis}"


def marks(db: sqlite_utils.Database) -> dict[int, int | None]:
    """Every episode's change mark now, read before anything of the episodes is (a write
    after it moves the mark: built again next time). None for the newest mark, which the
    next write to that episode may leave as it is (migration 0030): never trusted."""
    rows = db.execute(
        "select episode_id, case when seq < (select max(seq) from exchange_marks) then seq end "
        "from exchange_marks"
    )
    return dict(rows.fetchall())


def draw_line(db: sqlite_utils.Database) -> None:
    """A newer mark than any episode's, for none (``LINE``): the marks an export reads next
    are all trusted, unless a write comes in between (then that one's is the newest). Not
    written again while it is the newest: an export that finds nothing changed writes
    nothing (a backup sees the database as it was)."""
    newest = db.execute("select episode_id from exchange_marks order by seq desc limit 1")
    if newest.fetchone() == (LINE,):
        return
    with transaction(db) as conn:
        conn.execute("delete from exchange_marks where episode_id = ?", [LINE])
        conn.execute("insert into exchange_marks (episode_id) values (?)", [LINE])


def marks_by_guid(db: sqlite_utils.Database, guids: list[str]) -> dict[str, int | None]:
    """``marks``, of these GUIDs."""
    rows = db.execute(
        "select e.guid, case when m.seq < (select max(seq) from exchange_marks) then m.seq end "
        "from exchange_marks m join episodes e on e.id = m.episode_id "
        "where e.guid in (select value from json_each(?))",
        [json.dumps(guids)],
    )
    return dict(rows.fetchall())


def sent_to(db: sqlite_utils.Database, target: str) -> dict[str, Sent]:
    """What the target was last sent of each episode, leaving out those last sent as
    withdrawn."""
    rows = db.execute(
        "select x.guid, x.export_id, x.content_sha256, x.mark, x.withdrawn from "
        "exchange_exported x join exchange_exports ex on ex.id = x.export_id "
        "where ex.target = ? order by x.export_id",
        [target],
    ).fetchall()
    last = {row[0]: (Sent(*row[1:4]), row[4]) for row in rows}
    return {guid: sent for guid, (sent, gone) in last.items() if not gone}


def unchanged(db: sqlite_utils.Database, sent: dict[str, Sent], basis: str) -> set[str]:
    """GUIDs of those ``sent`` whose mark is still the one recorded when they were sent:
    nothing episode.json is made of was written since."""
    now = marks_by_guid(db, list(sent))
    return {
        guid
        for guid, s in sent.items()
        if guid in now and s.mark is not None and s.mark == mark(now[guid], basis)
    }


def record_export(
    db: sqlite_utils.Database,
    *,
    target: str,
    since: str | None,
    show: str | None,
    with_originals: bool,
    carried: dict[str, tuple[str, str | None]],
    withdrawn: list[str],
    manifest_sha256: str,
) -> int:
    """``carried``: GUID -> (its episode.json's sha256, its mark); ``withdrawn``: GUIDs this
    bundle tells the target to take down."""
    with transaction(db) as conn:
        export_id = conn.execute(
            "insert into exchange_exports (target, made_at, since, show, with_originals, "
            "episodes, manifest_sha256) values (?, ?, ?, ?, ?, ?, ?)",
            [target, utcnow(), since, show, int(with_originals), len(carried), manifest_sha256],
        ).lastrowid
        conn.executemany(
            "insert into exchange_exported (export_id, guid, content_sha256, mark, withdrawn) "
            "values (?, ?, ?, ?, ?)",
            [(export_id, guid, sha, m, 0) for guid, (sha, m) in carried.items()]
            + [(export_id, guid, None, None, 1) for guid in withdrawn],
        )
    return export_id


def confirm(
    db: sqlite_utils.Database, sent: dict[str, Sent], checked: dict[str, str | None]
) -> None:
    """Built again and found as sent (a write that changed nothing that travels): its new
    mark goes on the row that sent it, so the next export doesn't build it again."""
    if not checked:
        return
    with transaction(db) as conn:
        conn.executemany(
            "update exchange_exported set mark = ? where export_id = ? and guid = ?",
            [(m, sent[guid].export_id, guid) for guid, m in checked.items()],
        )


def listed(db: sqlite_utils.Database) -> dict[int, tuple[str, str]]:
    """Each episode's part of the HTTP catalogue as last built (``exchange_listed``,
    migration 0031): episode id -> (the mark it was built at, its listing as JSON)."""
    rows = db.execute("select episode_id, mark, listing from exchange_listed")
    return {episode_id: (m, listing) for episode_id, m, listing in rows.fetchall()}


def keep_listed(db: sqlite_utils.Database, built: dict[int, tuple[str, dict[str, Any]]]) -> None:
    """Keep the parts a catalogue request had to build (episode id -> (mark, listing)), so
    the next request, in this process or after a restart, builds only what changed since."""
    if not built:
        return
    with transaction(db) as conn:
        conn.executemany(
            "insert or replace into exchange_listed (episode_id, mark, listing) values (?, ?, ?)",
            [
                (episode_id, m, json.dumps(listing, separators=(",", ":")))
                for episode_id, (m, listing) in built.items()
            ],
        )
