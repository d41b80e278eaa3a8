"""Shows and episodes: the only SQL for the ``shows`` and ``episodes`` tables, typed rows out.

Listing queries take ``include_hidden``: False (listeners) applies ``public_sql``, the one
visibility rule shared with search, feeds and media; True is for editors and admins.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from enum import StrEnum
from typing import Any, Self

import sqlite_utils

from radio.data import licences
from radio.data.errors import NotFound
from radio.db import utcnow
from radio.i18n import _
from transcription.languages import language_name


class EpisodeStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    READY = "ready"
    FAILED = "failed"


class Visibility(StrEnum):
    PUBLIC = "public"  # listeners see it once it is ready
    DRAFT = "draft"  # editors only, not yet meant for listeners
    PRIVATE = "private"  # editors only, kept out of every listener's view


STATUSES = tuple(EpisodeStatus)
VISIBILITIES = tuple(Visibility)


@dataclass(frozen=True)
class Episode:
    """One row of ``episodes`` (with its show's slug and title when the query joined them)."""

    id: int
    guid: str
    title: str
    status: str
    visibility: str
    source_sha256: str
    show_id: int | None = None
    description: str = ""
    recorded_at: str | None = None
    published_at: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    language: str | None = None  # the hint given at upload (or the detected one)
    speakers: str | None = None  # JSON list of names given at upload
    duration: float | None = None
    step: str | None = None
    progress: float | None = 0.0
    error: str | None = None
    source_path: str | None = None
    source_name: str | None = None
    source_bytes: int | None = None
    source_format: str | None = None
    source_channels: int | None = None
    source_sample_rate: int | None = None
    loudness_before: float | None = None
    true_peak_before: float | None = None
    loudness_after: float | None = None
    true_peak_after: float | None = None
    peaks_path: str | None = None
    transcript_language: str | None = None
    transcript_model: str | None = None
    transcribe_seconds: float | None = None
    lease_owner: str | None = None
    lease_until: float | None = None
    uploaded_by: int | None = None
    language_hint: str | None = None  # the hint the transcription used, upload's or show's
    language_probability: float | None = None  # how sure the detection was; None: not detected
    review_note: str | None = None  # why an editor must look before listeners do
    held_visibility: str | None = None  # what the uploader asked for while it is held back
    licence: str | None = None  # a radio.data.licences code; None: no licence stated
    publish_at: str | None = None  # listeners see it from this moment (UTC); None: at once
    show_slug: str | None = None
    show_title: str | None = None
    deleted_at: str | None = None  # in the trash since then (radio.data.trash); None: live
    deleted_by: int | None = None
    artwork: str | None = None  # radio.data.artwork file name of its own artwork
    show_artwork: str | None = None  # its show's, when the query joined it
    consent_held: int = 0  # participants whose consent is pending or refused (#16)
    takedown_asked: int = 0  # open takedown requests (#16): held from listeners meanwhile
    taken_down_at: str | None = None  # taken down (radio.data.takedowns): gone for everyone
    taken_down_by: str | None = None  # who took it down, by name as it was
    takedown_reason: str | None = None
    takedown_destroyed: int = 0  # 1: its files and content were destroyed

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Self:
        return cls(**{f.name: row[f.name] for f in fields(cls) if f.name in row})

    @property
    def is_public(self) -> bool:
        return (
            self.status == EpisodeStatus.READY
            and self.visibility == Visibility.PUBLIC
            and not self.is_scheduled
            and self.deleted_at is None
            and not self.consent_held
            and not self.takedown_asked
            and self.taken_down_at is None
        )

    @property
    def is_scheduled(self) -> bool:
        """Set to go public at a moment still to come (#15): hidden from listeners until then."""
        return bool(self.publish_at) and self.publish_at > utcnow()

    @property
    def spoken_language(self) -> str | None:
        """What the transcript found, else the hint."""
        return self.transcript_language or self.language

    @property
    def speaker_names(self) -> list[str]:
        return names_from_json(self.speakers)

    @property
    def under_review(self) -> bool:
        """Held back for an editor (an unsure language), until one publishes or fixes it."""
        return bool(self.review_note) and self.visibility != Visibility.PUBLIC

    @property
    def language_label(self) -> str | None:
        """The spoken language by name for pages ('Spanish'), else None."""
        return language_name(self.spoken_language) if self.spoken_language else None

    @property
    def licence_info(self) -> licences.Licence | None:
        """The licence it is published under (label, URL), if one was stated."""
        return licences.find(self.licence)

    @property
    def hint_label(self) -> str | None:
        """The language given at upload or by the show, by name, if one was."""
        return language_name(self.language_hint) if self.language_hint else None


_WITH_SHOW = (
    "select e.*, s.slug as show_slug, s.title as show_title, s.artwork as show_artwork, "
    # how many heard in it haven't said yes (#16): public_sql's consent rule, for one episode
    "(select count(*) from participants cp where cp.episode_id = e.id "
    "and cp.consent <> 'yes') as consent_held, "
    # open takedown requests (radio.data.requests): public_sql's rule, for one episode
    "(select count(*) from requests tr where tr.episode_id = e.id "
    "and tr.kind = 'takedown' and tr.status = 'open') as takedown_asked "
    "from episodes e "
    "left join shows s on s.id = e.show_id"
)


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class EpisodeNotFound(NotFound):
    def __init__(self, ref: object) -> None:
        super().__init__(
            _("Episode {episode} doesn't exist. `radio status` lists the episodes.").format(
                episode=ref
            )
        )


def names_from_json(value: str | None) -> list[str]:
    """A JSON list of names (the speakers and hosts columns) as clean, distinct names."""
    try:
        names = json.loads(value) if value else []
    except ValueError:
        return []
    if not isinstance(names, list):
        return []
    return list(dict.fromkeys(n.strip() for n in names if isinstance(n, str) and n.strip()))


def public_sql(alias: str = "") -> str:
    """What listeners may see, as SQL: pages, search, feeds and media URLs share this rule."""
    p = f"{alias}." if alias else ""
    return (
        f"{p}status = '{EpisodeStatus.READY}' and {p}visibility = '{Visibility.PUBLIC}'"
        # scheduled (#15): from its moment on; radio_now() is radio.db's clock
        f" and ({p}publish_at is null or {p}publish_at <= radio_now())"
        f" and {live_sql(alias)}"  # deleted (#15): in the trash, seen by nobody
        # consent (#16): anyone heard who hasn't said yes (radio.data.consent) holds it back
        f" and not exists (select 1 from participants cp where cp.episode_id = "
        f"{alias or 'episodes'}.id and cp.consent <> 'yes')"
        # a takedown asked through the receipt (#16, radio.data.requests): held while open
        f" and not exists (select 1 from requests tr where tr.episode_id = "
        f"{alias or 'episodes'}.id and tr.kind = 'takedown' and tr.status = 'open')"
    )


def live_sql(alias: str = "") -> str:
    """Not deleted: what editors' views show (they see drafts, never the trash); nor taken
    down (#16, radio.data.takedowns): gone for everyone, its URLs answer 410."""
    p = f"{alias}." if alias else ""
    return f"{p}deleted_at is null and {p}taken_down_at is null"


def get_episode(db: sqlite_utils.Database, ref: int | str) -> Episode:
    """An episode by id, or by guid (or a unique guid prefix, as people type them)."""
    text = str(ref).strip()
    if text.isdigit():
        found = _one(db, f"{_WITH_SHOW} where e.id = ?", [int(text)])
    elif len(text) >= 4:
        rows = db.execute(
            "select id from episodes where guid = ? or guid like ? limit 2", [text, text + "%"]
        ).fetchall()
        found = _one(db, f"{_WITH_SHOW} where e.id = ?", [rows[0][0]]) if len(rows) == 1 else None
    else:
        found = None
    if found is None:
        raise EpisodeNotFound(ref)
    return found


def find_episode(db: sqlite_utils.Database, guid: str) -> Episode | None:
    """The live episode with exactly this guid (URLs carry whole guids), or None: a deleted
    one is gone from every page and media URL for everyone."""
    return _one(db, f"{_WITH_SHOW} where e.guid = ? and {live_sql('e')}", [guid])


def find_by_source(db: sqlite_utils.Database, sha256: str) -> Episode | None:
    """The live episode made from these exact bytes, if any (the same file sent twice); a
    recording whose episode is in the trash makes a new one; one taken down stays its
    tombstone (the same bytes sent again don't bring it back)."""
    return _one(db, f"{_WITH_SHOW} where e.source_sha256 = ? and e.deleted_at is null", [sha256])


def _one(db: sqlite_utils.Database, sql: str, params: list[Any]) -> Episode | None:
    rows = list(db.query(sql, params))
    return Episode.from_row(rows[0]) if rows else None


def add_episode(db: sqlite_utils.Database, **fields: Any) -> int:
    """Insert a new episode row; returns its id."""
    fields.setdefault("created_at", utcnow())
    fields.setdefault("updated_at", fields["created_at"])
    return db["episodes"].insert(fields).last_pk


def update_episode(db: sqlite_utils.Database, episode_id: int, **fields: Any) -> None:
    fields["updated_at"] = utcnow()
    db["episodes"].update(episode_id, fields)


def insert_row(conn: Any, fields: dict[str, Any]) -> int:
    """In the caller's transaction: an imported episode's row (#17; the caller's columns)."""
    sql = f"insert into episodes ({', '.join(fields)}) values ({', '.join('?' * len(fields))})"
    return conn.execute(sql, list(fields.values())).lastrowid


def overwrite(conn: Any, episode_id: int, fields: dict[str, Any], now: str) -> None:
    """In the caller's transaction: its station's update of an imported episode (#17)."""
    sets = "".join(f"{column} = ?, " for column in fields)
    sql = f"update episodes set {sets}updated_at = ? where id = ?"
    conn.execute(sql, [*fields.values(), now, episode_id])


# What an editor changes on the edit page (radio.data.edits.edit_episode).
EDITABLE = (
    "show_id",
    "title",
    "description",
    "recorded_at",
    "language",
    "language_hint",
    "transcript_language",
    "language_probability",
    "visibility",
    "licence",
)


def set_fields(conn: Any, episode_id: int, changes: dict[str, Any], now: str) -> None:
    """Inside the caller's transaction (an editor's change and its history together): set
    some of the EDITABLE columns."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable here: {sorted(unknown)}")
    sets = "".join(f"{column} = ?, " for column in changes)
    conn.execute(
        f"update episodes set {sets}updated_at = ? where id = ?",
        [*changes.values(), now, episode_id],
    )


def hold_for_review(db: sqlite_utils.Database, episode_id: int, note: str) -> None:
    """Keep a public episode out of listeners' view as a draft, with a note for editors; the
    visibility the uploader asked for is kept to restore when the review is over."""
    db.execute(
        "update episodes set review_note = ?, "
        "held_visibility = case when visibility = ? then visibility else held_visibility end, "
        "visibility = case when visibility = ? then ? else visibility end, updated_at = ? "
        "where id = ?",
        [note, Visibility.PUBLIC, Visibility.PUBLIC, Visibility.DRAFT, utcnow(), episode_id],
    )


def end_review(db: sqlite_utils.Database, episode_id: int) -> None:
    """Drop the review note and give back the visibility the archive held back, unless an
    editor changed it meanwhile (then theirs stands)."""
    db.execute(
        "update episodes set "
        "visibility = case when held_visibility is not null and visibility = ? "
        "then held_visibility else visibility end, "
        "held_visibility = null, review_note = null, updated_at = ? "
        "where id = ? and (review_note is not null or held_visibility is not null)",
        [Visibility.DRAFT, utcnow(), episode_id],
    )


def list_episodes(
    db: sqlite_utils.Database, *, status: str | None = None, limit: int = 50
) -> list[Episode]:
    """The newest episodes the archive took in, whatever their state (``radio status``)."""
    where, params = "", []
    if status:
        where, params = "where e.status = ?", [status]
    rows = db.query(f"{_WITH_SHOW} {where} order by e.id desc limit ?", [*params, limit])
    return [Episode.from_row(r) for r in rows]


def _visible(include_hidden: bool, alias: str = "e") -> str:
    return live_sql(alias) if include_hidden else public_sql(alias)


def latest_episodes(
    db: sqlite_utils.Database,
    *,
    include_hidden: bool = False,
    show_id: int | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Page:
    """Newest first: by recording date, then by when the archive got them."""
    where = _visible(include_hidden)
    params: list[Any] = []
    if show_id is not None:
        where += " and e.show_id = ?"
        params.append(show_id)
    total = db.execute(f"select count(*) from episodes e where {where}", params).fetchone()[0]
    page = max(1, page)
    rows = db.query(
        f"{_WITH_SHOW} where {where} order by e.recorded_at desc, e.id desc limit ? offset ?",
        [*params, per_page, (page - 1) * per_page],
    )
    return Page([Episode.from_row(r) for r in rows], page, per_page, total)


def languages(db: sqlite_utils.Database, *, include_hidden: bool = False) -> list[str]:
    rows = db.execute(
        "select distinct coalesce(e.transcript_language, e.language) as lang from episodes e "
        f"where {_visible(include_hidden)} and lang is not null order by lang"
    ).fetchall()
    return [r[0] for r in rows]


def naming_facts(
    db: sqlite_utils.Database, ids: list[int]
) -> dict[int, tuple[str | None, str | None]]:
    """(show slug, recorded day else published day) of these episodes, by id: with the
    title, what their files' download names are made of (#15)."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.execute(
        "select e.id, s.slug, coalesce(e.recorded_at, e.published_at, e.created_at) "
        f"from episodes e left join shows s on s.id = e.show_id where e.id in ({marks})",
        list(ids),
    ).fetchall()
    return {row[0]: (row[1], row[2]) for row in rows}


def by_ids(db: sqlite_utils.Database, ids: list[int]) -> dict[int, Episode]:
    """These episodes with their shows, by id (search results' descriptions and artwork)."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    rows = db.query(f"{_WITH_SHOW} where e.id in ({marks})", list(ids))
    return {r["id"]: Episode.from_row(r) for r in rows}
