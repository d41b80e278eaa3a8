"""Swapping a staged transcript in (#11's retranscription): the staged lines replace the
segments in one transaction, editors' corrections that still align carried over."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import sqlite_utils

from radio.data.errors import Invalid
from radio.data.transcripts import Phase
from radio.db import transaction, utcnow
from radio.i18n import _
from transcription.segments import SegmentLike


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
