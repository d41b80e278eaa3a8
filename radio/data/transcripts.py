"""The ``segments`` table: transcripts, written as transcription yields them and read back
as ``transcription`` dataclasses (or as lines with their ids, for pages and editing).

A transcript made again (``radio.jobs.retranscribe``) is written to ``segments_staging``
and swapped in by ``swap_staged`` in one transaction; ``retranscriptions`` records what was
asked and how far it got (migration 0010)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from enum import StrEnum

import sqlite_utils

from radio.data.errors import Invalid
from radio.db import transaction, utcnow
from radio.i18n import _
from transcription.segments import Segment, SegmentLike, Word


@dataclass(frozen=True)
class TranscriptLine:
    """A stored segment as a page shows it: its id (for edits and links), time and text."""

    id: int
    start: float
    end: float
    text: str
    speaker: str | None


def load_segments(db: sqlite_utils.Database, episode_id: int) -> list[Segment]:
    rows = db.query(
        "select start, end, text, speaker, words from segments where episode_id = ? order by idx",
        [episode_id],
    )
    return [
        Segment(
            start=row["start"],
            end=row["end"],
            text=row["text"],
            speaker=row["speaker"],
            words=tuple(Word(*w) for w in json.loads(row["words"] or "[]")),
        )
        for row in rows
    ]


def transcript_lines(db: sqlite_utils.Database, episode_id: int) -> list[TranscriptLine]:
    """The transcript in order, without word timings."""
    rows = db.execute(
        "select id, start, end, text, speaker from segments where episode_id = ? order by idx",
        [episode_id],
    ).fetchall()
    return [TranscriptLine(*r) for r in rows]


def has_transcript(db: sqlite_utils.Database, episode_id: int) -> bool:
    row = db.execute("select 1 from segments where episode_id = ? limit 1", [episode_id])
    return row.fetchone() is not None


def segment_count(db: sqlite_utils.Database, episode_id: int) -> int:
    return db.execute(
        "select count(*) from segments where episode_id = ?", [episode_id]
    ).fetchone()[0]


def resume_point(db: sqlite_utils.Database, episode_id: int) -> tuple[float, int] | None:
    """(end of the last saved segment, its index), or None when nothing is saved yet."""
    row = db.execute(
        "select max(end), max(idx) from segments where episode_id = ?", [episode_id]
    ).fetchone()
    return None if row[1] is None else (float(row[0]), int(row[1]))


def add_segments(
    db: sqlite_utils.Database, episode_id: int, segments: Iterable[Segment], first_idx: int
) -> int:
    """Save segments one by one as they come (each its own commit, so a crash keeps them);
    returns how many were saved."""
    return _insert_each(db, "insert into segments", episode_id, segments, first_idx)


def _insert_each(
    db: sqlite_utils.Database,
    verb: str,
    episode_id: int,
    segments: Iterable[Segment],
    first_idx: int,
) -> int:
    """Insert segments one by one as they come, each its own commit; how many."""
    saved = 0
    for idx, segment in enumerate(segments, start=first_idx):
        db.execute(
            f"{verb} (episode_id, idx, start, end, text, speaker, words) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            segment_values(episode_id, idx, segment),
        )
        saved += 1
    return saved


def segment_values(episode_id: int, idx: int, segment: Segment) -> list[object]:
    """A segment as stored, in the column order of ``segments`` and ``segments_staging``."""
    return [
        episode_id,
        idx,
        round(segment.start, 3),
        round(segment.end, 3),
        segment.text.strip(),
        segment.speaker,
        _words_json(segment.words),
    ]


def _words_json(words: Iterable[Word]) -> str:
    return json.dumps(
        [[round(w.start, 3), round(w.end, 3), w.word, round(w.probability, 3)] for w in words],
        ensure_ascii=False,
    )


def segment_texts(db: sqlite_utils.Database, episode_id: int) -> dict[int, str]:
    """Segment id -> text, for checking an editor's changes against what is stored."""
    rows = db.execute("select id, text from segments where episode_id = ?", [episode_id])
    return dict(rows.fetchall())


def transcribed_episode_ids(db: sqlite_utils.Database) -> list[int]:
    """Every episode with a transcript, oldest first: what ``retag --all`` goes over."""
    rows = db.execute("select distinct episode_id from segments order by episode_id").fetchall()
    return [r[0] for r in rows]


# --- transcribing again: the request, the staged transcript and the swap ----------------


class Phase(StrEnum):
    """How far a retranscription got; after a crash each phase resumes as it stands."""

    QUEUED = "queued"
    RUNNING = "running"  # transcribing into segments_staging
    STAGED = "staged"  # complete in staging, not yet swapped in
    TOPICS = "topics"  # swapped in; topics and chapters still to recompute


@dataclass(frozen=True)
class Retranscription:
    """One ``retranscriptions`` row: a new transcript asked for and not yet finished."""

    episode_id: int
    model: str | None  # the model asked for by name; None: the archive's choice
    language: str | None  # the language hint asked for; None: the episode's or show's
    status: str
    progress: float = 0.0
    error: str | None = None  # set when the last run failed; the phase stays where it stopped
    staged_model: str | None = None
    staged_model_path: str | None = None
    staged_language: str | None = None
    staged_language_probability: float | None = None
    seconds: float = 0.0
    requested_by: int | None = None
    requested_at: str | None = None
    updated_at: str | None = None


def get_retranscription(db: sqlite_utils.Database, episode_id: int) -> Retranscription | None:
    rows = list(db.query("select * from retranscriptions where episode_id = ?", [episode_id]))
    if not rows:
        return None
    names = {f.name for f in fields(Retranscription)}
    return Retranscription(**{k: v for k, v in rows[0].items() if k in names})


def request_retranscription(
    db: sqlite_utils.Database,
    episode_id: int,
    *,
    model: str | None,
    language: str | None,
    user_id: int | None,
) -> None:
    """Ask for a new transcript. Asking again for the same model and language resumes a
    stopped one where it stopped; anything else starts afresh, dropping what was staged."""
    now = utcnow()
    with transaction(db) as conn:
        row = conn.execute(
            "select model, language from retranscriptions where episode_id = ?", [episode_id]
        ).fetchone()
        if row is not None and tuple(row) == (model, language):
            conn.execute(
                "update retranscriptions set error = null, requested_by = ?, requested_at = ?, "
                "updated_at = ? where episode_id = ?",
                [user_id, now, now, episode_id],
            )
            return
        conn.execute("delete from segments_staging where episode_id = ?", [episode_id])
        conn.execute("delete from retranscriptions where episode_id = ?", [episode_id])
        conn.execute(
            "insert into retranscriptions (episode_id, model, language, status, progress, "
            "seconds, requested_by, requested_at, updated_at) values (?, ?, ?, ?, 0, 0, ?, ?, ?)",
            [episode_id, model, language, Phase.QUEUED, user_id, now, now],
        )


def update_retranscription(db: sqlite_utils.Database, episode_id: int, **changes: object) -> None:
    """Record progress, a phase, a failure (``error``) or what staging used."""
    changes["updated_at"] = utcnow()
    db["retranscriptions"].update(episode_id, changes)


def finish_retranscription(db: sqlite_utils.Database, episode_id: int) -> None:
    db.execute("delete from retranscriptions where episode_id = ?", [episode_id])


def retranscription_candidates(
    db: sqlite_utils.Database, include_queued: bool
) -> list[tuple[int, str | None, float | None]]:
    """(episode id, lease owner, lease expiry) of retranscriptions a worker should carry on
    with: not failed (a failure waits for a person), and queued ones only if asked."""
    return db.execute(
        "select r.episode_id, e.lease_owner, e.lease_until from retranscriptions r "
        "join episodes e on e.id = r.episode_id "
        "where r.error is null and (? or r.status != ?) order by r.episode_id",
        [int(include_queued), Phase.QUEUED],
    ).fetchall()


def add_staged(
    db: sqlite_utils.Database, episode_id: int, segments: Iterable[Segment], first_idx: int
) -> int:
    """Stage a new transcript's segments as they come, each its own commit (a killed worker
    keeps them and resumes after the last); the published transcript is not touched."""
    return _insert_each(
        db, "insert or replace into segments_staging", episode_id, segments, first_idx
    )


def staged_resume_point(db: sqlite_utils.Database, episode_id: int) -> tuple[float, int] | None:
    """(end of the last staged segment, its index), or None when nothing is staged."""
    row = db.execute(
        "select max(end), max(idx) from segments_staging where episode_id = ?", [episode_id]
    ).fetchone()
    return None if row[1] is None else (float(row[0]), int(row[1]))


def clear_staging(db: sqlite_utils.Database, episode_id: int) -> None:
    db.execute("delete from segments_staging where episode_id = ?", [episode_id])


@dataclass(frozen=True)
class Correction:
    """A segment an editor changed: its time, what the machine wrote before the first
    change (``machine``) and the text as editors left it (``text``)."""

    segment_id: int
    start: float
    end: float
    machine: str
    text: str


@dataclass(frozen=True)
class StagedLine:
    """A staged segment as alignment reads it (a ``SegmentLike``)."""

    idx: int
    start: float
    end: float
    text: str


# Which corrections still apply to which new segments: segment id -> position in the new.
Aligner = Callable[[Sequence[Correction], Sequence[SegmentLike]], Mapping[int, int]]


@dataclass(frozen=True)
class Swapped:
    segments: int  # in the new transcript
    kept: list[Correction]  # corrections carried into it
    dropped: list[Correction]  # corrections that no longer align, kept as history only


class NothingStaged(Invalid):
    def __init__(self, episode_id: int) -> None:
        super().__init__(
            _(
                "Episode {episode} has no new transcript staged; run `radio retranscribe "
                "{episode}` to make one."
            ).format(episode=episode_id)
        )


@dataclass(frozen=True)
class Provenance:
    """What the new transcript came from, for the episode row."""

    model: str
    language: str
    seconds: float
    hint: str | None  # a language asked for, which becomes the episode's language


def swap_staged(
    db: sqlite_utils.Database, episode_id: int, align: Aligner, made: Provenance
) -> Swapped:
    """Replace the episode's transcript with the staged one, all in one transaction: the old
    segments go, the new come in with editors' corrections where ``align`` says they still
    apply (their ``transcript_edits`` follow them; the others keep their history with no
    segment), the episode records the model and language, and the retranscription moves on
    to its topics phase. The search indexes follow by triggers (migrations 0002, 0007, 0008).
    """
    with transaction(db) as conn:
        staged = conn.execute(
            "select idx, start, end, text, speaker, words from segments_staging "
            "where episode_id = ? order by idx",
            [episode_id],
        ).fetchall()
        if not staged:
            raise NothingStaged(episode_id)
        corrections = _corrections(conn, episode_id)
        carried = dict(align(corrections, [StagedLine(*r[:4]) for r in staged]))
        by_id = {c.segment_id: c for c in corrections}
        texts = [r[3] for r in staged]
        for segment_id, position in carried.items():
            texts[position] = by_id[segment_id].text
        replace_segments(conn, episode_id, staged, texts, carried)
        _record_swap(conn, episode_id, made)
    kept = [by_id[i] for i in carried]
    dropped = [c for c in corrections if c.segment_id not in carried]
    return Swapped(len(staged), kept, dropped)


def _corrections(conn: sqlite3.Connection, episode_id: int) -> list[Correction]:
    """The episode's segments that editors changed, with the machine's text before the
    first change; a segment changed back to the machine's text is no correction."""
    rows = conn.execute(
        "select s.id, s.start, s.end, te.before, s.text from transcript_edits te "
        "join segments s on s.id = te.segment_id where te.episode_id = ? order by te.id",
        [episode_id],
    ).fetchall()
    first: dict[int, Correction] = {}
    for row in rows:
        first.setdefault(row[0], Correction(*row))
    return sorted((c for c in first.values() if c.machine != c.text), key=lambda c: c.start)


def replace_segments(
    conn: sqlite3.Connection,
    episode_id: int,
    staged: Sequence[Sequence[object]],
    texts: Sequence[str],
    carried: Mapping[int, int],
) -> None:
    edits = conn.execute(
        "select id, segment_id from transcript_edits where episode_id = ? and segment_id "
        "is not null",
        [episode_id],
    ).fetchall()
    # transcript_edits point at segments: let go of the old ones before they are deleted.
    # An edit whose segment has no successor stays as history, with no segment.
    conn.execute("update transcript_edits set segment_id = null where episode_id = ?", [episode_id])
    conn.execute("delete from segments where episode_id = ?", [episode_id])
    new_ids = []
    for idx, (row, text) in enumerate(zip(staged, texts, strict=True)):
        _idx, start, end, _machine, speaker, words = row
        cursor = conn.execute(
            "insert into segments (episode_id, idx, start, end, text, speaker, words) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [episode_id, idx, start, end, text, speaker, words],
        )
        new_ids.append(cursor.lastrowid)
    for edit_id, old_segment in edits:
        if old_segment in carried:
            conn.execute(
                "update transcript_edits set segment_id = ? where id = ?",
                [new_ids[carried[old_segment]], edit_id],
            )
    conn.execute("delete from segments_staging where episode_id = ?", [episode_id])


def _record_swap(conn: sqlite3.Connection, episode_id: int, made: Provenance) -> None:
    now = utcnow()
    # The language asked for wins; otherwise an episode keeps its hint, or takes what
    # the model found. Pages read transcript_language first (Episode.spoken_language).
    values = [made.model, made.language, round(made.seconds, 2), made.hint, made.language]
    conn.execute(
        "update episodes set transcript_model = ?, transcript_language = ?, "
        "transcribe_seconds = ?, language = coalesce(?, language, ?), updated_at = ? "
        "where id = ?",
        [*values, now, episode_id],
    )
    conn.execute(
        "update retranscriptions set status = ?, progress = 1.0, updated_at = ? "
        "where episode_id = ?",
        [Phase.TOPICS, now, episode_id],
    )
