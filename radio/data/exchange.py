"""Programmes between stations (#17): the SQL of the exchange tables (migration 0024), which
episodes may leave the archive, and the one transaction that adds an imported episode.

An episode may be exported when listeners may have it (``public_sql``: ready, public, not
scheduled, not deleted, not taken down, everyone heard said yes) and its licence lets
another station pass it on: CC BY, CC BY-SA, CC0, and CC BY-NC (community stations are
non-commercial; the receiving station must stay so). All rights reserved, or no licence
stated, keeps it home. The import checks the same rule again (defence in depth).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from radio.data import audit, consent, renditions, tags, transcripts
from radio.data.episodes import Episode, EpisodeStatus, by_ids, public_sql
from radio.data.processing import StepName
from radio.db import transaction, utcnow
from transcription.segments import Chapter

SHAREABLE_LICENCES = ("cc-by", "cc-by-sa", "cc-by-nc", "cc0")


@dataclass(frozen=True)
class Origin:
    """Where an imported episode came from."""

    station: str
    fingerprint: str
    guid: str
    licence: str | None
    signed_by: str | None
    imported_at: str


@dataclass(frozen=True)
class Selection:
    episodes: list[Episode]  # may leave, oldest first
    no_licence: int  # public, but no licence stated
    reserved: int  # public, but all rights reserved


def licence_shareable(code: str | None) -> bool:
    return code in SHAREABLE_LICENCES


def select_exportable(
    db: sqlite_utils.Database,
    *,
    show: str | None = None,
    since: str | None = None,
    new_for_target: str | None = None,
) -> Selection:
    """What listeners may have (filtered by show slug and publication date), split by
    whether its licence lets it travel; ``new_for_target``: only what no earlier export
    to that target carried."""
    where, params = [public_sql("e")], []
    if show:
        where.append("e.show_id = (select id from shows where slug = ?)")
        params.append(show)
    if since:
        where.append("coalesce(e.published_at, e.created_at) >= ?")
        params.append(since)
    if new_for_target:
        where.append(
            "not exists (select 1 from exchange_exported x join exchange_exports ex "
            "on ex.id = x.export_id where ex.target = ? and x.guid = e.guid)"
        )
        params.append(new_for_target)
    rows = db.execute(
        f"select e.id, e.licence from episodes e where {' and '.join(where)} "
        "order by coalesce(e.published_at, e.created_at), e.id",
        params,
    ).fetchall()
    ok = [r[0] for r in rows if licence_shareable(r[1])]
    found = by_ids(db, ok)
    return Selection(
        [found[i] for i in ok],
        no_licence=sum(1 for r in rows if r[1] is None),
        reserved=sum(1 for r in rows if r[1] is not None and not licence_shareable(r[1])),
    )


def episode_content(db: sqlite_utils.Database, episode_id: int) -> dict[str, Any]:
    """What travels with an episode besides its files: transcript, chapters, topics, the
    renditions' facts and a consent summary without anyone's name."""
    listed = consent.participants(db, episode_id)
    return {
        "segments": [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "speaker": s.speaker,
                "words": [[w.start, w.end, w.word, w.probability] for w in s.words],
            }
            for s in transcripts.load_segments(db, episode_id)
        ],
        "chapters": [
            {"start": c.start, "end": c.end, "title": c.title}
            for c in tags.chapters(db, episode_id)
        ],
        "topics": [
            {"slug": t.slug, "label": t.label, "kind": t.kind, "source": t.source, "score": t.score}
            for t in tags.episode_tags(db, episode_id)
        ],
        "renditions": renditions.renditions(db, episode_id),
        "consent": {
            "state": "given" if listed else "not tracked",
            "participants": len(listed),
            "held": len(consent.holds(listed)),
        },
    }


def origin(db: sqlite_utils.Database, episode_id: int) -> Origin | None:
    row = db.execute(
        "select source_station, source_fingerprint, source_guid, source_licence, signed_by, "
        "imported_at from exchange_imports where episode_id = ?",
        [episode_id],
    ).fetchone()
    return Origin(*row) if row else None


def has_exported(db: sqlite_utils.Database, target: str) -> bool:
    row = db.execute("select 1 from exchange_exports where target = ? limit 1", [target])
    return row.fetchone() is not None


def record_export(
    db: sqlite_utils.Database,
    *,
    target: str,
    since: str | None,
    show: str | None,
    with_originals: bool,
    guids: list[str],
    manifest_sha256: str,
) -> int:
    with transaction(db) as conn:
        export_id = conn.execute(
            "insert into exchange_exports (target, made_at, since, show, with_originals, "
            "episodes, manifest_sha256) values (?, ?, ?, ?, ?, ?, ?)",
            [target, utcnow(), since, show, int(with_originals), len(guids), manifest_sha256],
        ).lastrowid
        conn.executemany(
            "insert into exchange_exported (export_id, guid) values (?, ?)",
            [(export_id, guid) for guid in guids],
        )
    return export_id


def already_here(db: sqlite_utils.Database, guid: str, source_sha256: str) -> str | None:
    """Why an incoming episode is skipped ("guid", "content"), or None: the archive lacks it.
    Deleted episodes count: a station that removed one doesn't get it back by a bundle."""
    if db.execute("select 1 from episodes where guid = ?", [guid]).fetchone():
        return "guid"
    if db.execute("select 1 from episodes where source_sha256 = ?", [source_sha256]).fetchone():
        return "content"
    return None


_EPISODE_COLUMNS = (
    "guid",
    "show_id",
    "title",
    "description",
    "recorded_at",
    "published_at",
    "language",
    "transcript_language",
    "duration",
    "licence",
    "visibility",
    "source_sha256",
    "source_path",
    "source_name",
    "source_bytes",
    "source_format",
    "source_channels",
    "source_sample_rate",
    "loudness_after",
    "true_peak_after",
    "peaks_path",
    "transcript_model",
)


def add_imported(
    db: sqlite_utils.Database,
    row: dict[str, Any],
    content: dict[str, Any],
    made: list[dict[str, Any]],
    came_from: Origin,
    manifest_sha256: str,
    actor: audit.Actor,
) -> int:
    """One transaction: the episode (ready, every step done, so nothing processes it again),
    its renditions (``made``: rows with paths in the media folder), transcript, chapters
    (kept as the source station set them: a retag here leaves them), topics and origin."""
    now = utcnow()
    values = [row.get(c) for c in _EPISODE_COLUMNS]
    with transaction(db) as conn:
        episode_id = conn.execute(
            f"insert into episodes ({', '.join(_EPISODE_COLUMNS)}, status, progress, "
            f"created_at, updated_at) values ({', '.join('?' * len(values))}, ?, 1.0, ?, ?)",
            [*values, EpisodeStatus.READY, now, now],
        ).lastrowid
        _add_renditions(conn, episode_id, made, now)
        conn.executemany(
            "insert into segments (episode_id, idx, start, end, text, speaker, words) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [_segment(episode_id, idx, s) for idx, s in enumerate(content["segments"])],
        )
        tags.set_chapters_by_hand(conn, episode_id, _chapters(content["chapters"]), now)
        _add_topics(conn, episode_id, content["topics"], now)
        conn.executemany(
            "insert into episode_steps (episode_id, step, status, finished_at, attempts) "
            "values (?, ?, 'done', ?, 0)",
            [(episode_id, str(step), now) for step in StepName],
        )
        conn.execute(
            "insert into exchange_imports (episode_id, source_station, source_fingerprint, "
            "source_guid, source_licence, signed_by, manifest_sha256, imported_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                episode_id,
                came_from.station,
                came_from.fingerprint,
                came_from.guid,
                came_from.licence,
                came_from.signed_by,
                manifest_sha256,
                now,
            ],
        )
        audit.record(
            conn,
            actor,
            "episode.import",
            audit.subject("episode", episode_id),
            after={"title": row["title"], "from": came_from.station, "licence": row["licence"]},
            why=f"bundle signed by {came_from.fingerprint}",
        )
    return episode_id


def _add_renditions(conn: Any, episode_id: int, made: list[dict[str, Any]], now: str) -> None:
    conn.executemany(
        "insert into renditions (episode_id, kind, path, bytes, mime, bitrate, sample_rate, "
        "duration, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (
                episode_id,
                r["kind"],
                r["path"],
                r["bytes"],
                r["mime"],
                r.get("bitrate"),
                r.get("sample_rate"),
                r.get("duration"),
                now,
            )
            for r in made
        ],
    )


def _segment(episode_id: int, idx: int, s: dict[str, Any]) -> list[object]:
    return [
        episode_id,
        idx,
        float(s["start"]),
        float(s["end"]),
        str(s["text"]),
        s.get("speaker"),
        json.dumps(s.get("words") or [], ensure_ascii=False),
    ]


def _chapters(items: list[dict[str, Any]]) -> list[Chapter]:
    return [Chapter(start=c["start"], end=c.get("end"), title=c["title"]) for c in items]


def _add_topics(conn: Any, episode_id: int, topics: list[dict[str, Any]], now: str) -> None:
    for t in topics:
        conn.execute(
            "insert or ignore into tags (slug, label, kind, created_at) values (?, ?, ?, ?)",
            [t["slug"], t["label"], t.get("kind"), now],
        )
        conn.execute(
            "insert or ignore into episode_tags (episode_id, tag_id, source, score, removed, "
            "created_at) select ?, id, ?, ?, 0, ? from tags where slug = ?",
            [episode_id, t.get("source"), t.get("score"), now, t["slug"]],
        )


def key_seen(db: sqlite_utils.Database, fingerprint: str) -> bool:
    """Whether an earlier import came with a bundle signed by this key."""
    row = db.execute(
        "select 1 from exchange_imports where source_fingerprint = ? limit 1", [fingerprint]
    )
    return row.fetchone() is not None


def exportable_episode(db: sqlite_utils.Database, guid: str) -> Episode | None:
    """The episode with this GUID if it may leave the archive (the HTTP exchange's files)."""
    row = db.execute(
        f"select e.id, e.licence from episodes e where e.guid = ? and {public_sql('e')}", [guid]
    ).fetchone()
    if row is None or not licence_shareable(row[1]):
        return None
    return by_ids(db, [row[0]])[row[0]]
