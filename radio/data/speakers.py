"""Who speaks in an episode: the ``speakers`` table (migration 0011) and the renames of
``segments.speaker`` that go with it.

Each row is one label that the episode's segments carry, "Speaker 2" until an editor names
it (or a name the uploader gave): its talk time, its voice print (256 float32 numbers,
little-endian, unit length; None for a two-party call's channel speakers) and, when the
voice sounds like someone named in another episode of the same show, that name as a
suggestion with its score, which only an editor turns into a name (``confirm_suggestion``).

Renaming a label to a name another label already has merges the two: one row, the talk
times added, the voice the talk-time-weighted mean of both. Renames are not written to
``transcript_edits``: that history is of segment texts, and retranscription carries its
rows as text corrections (``radio.data.transcripts``).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import sqlite_utils

from radio.data import swaps, transcripts
from radio.data.errors import Invalid, NotFound
from radio.data.turns import is_placeholder
from radio.db import transaction, utcnow
from radio.i18n import _, ngettext
from transcription.segments import Segment

logger = logging.getLogger(__name__)

MAX_NAME_CHARS = 80
_VOICE = np.dtype("<f4")


def default_label(index: int) -> str:
    """The label of the voice found ``index``-th (0-based) until someone names it."""
    return f"Speaker {index + 1}"


def is_name(label: str | None) -> bool:
    """A person's name, not a stand-in such as "Speaker 2" (or SPEAKER_02)."""
    return bool(label and label.strip()) and not is_placeholder(label or "")


@dataclass(frozen=True)
class Speaker:
    """One row of ``speakers``: a label of the episode's transcript."""

    label: str
    seconds: float  # talk time
    voice: np.ndarray | None = field(default=None, compare=False, repr=False)
    suggestion: str | None = None  # a name from another episode of the show, to confirm
    suggestion_score: float | None = None  # how alike the voices are (cosine)

    @property
    def named(self) -> bool:
        return is_name(self.label)


@dataclass(frozen=True)
class Renamed:
    """What a rename did: ``segments`` of the transcript changed, and whether ``name`` was
    already a label of the episode, so that the two are one speaker now."""

    label: str
    name: str
    segments: int
    merged: bool

    def __str__(self) -> str:
        """What to tell the editor."""
        if self.label == self.name:
            return _("{label} is already called that.").format(label=self.label)
        if self.merged:
            message = ngettext(
                "{label} is now {name}, one speaker with the {name} already there "
                "({count} segment).",
                "{label} is now {name}, one speaker with the {name} already there "
                "({count} segments).",
                self.segments,
            )
        else:
            message = ngettext(
                "{label} is now {name} ({count} segment).",
                "{label} is now {name} ({count} segments).",
                self.segments,
            )
        return message.format(label=self.label, name=self.name, count=self.segments)


@dataclass(frozen=True)
class Relabelled:
    """A transcript with its speakers: for each stored segment, in order, the segments that
    replace it (itself relabelled, or its pieces where the speaker changes), and the rows."""

    pieces: list[list[Segment]]
    speakers: list[Speaker]


class SpeakerError(Invalid):
    """A speaker can't be renamed as asked; the message says what to type instead."""


class SpeakerNotFound(NotFound):
    def __init__(self, episode_id: int, label: str, labels: Iterable[str]) -> None:
        known = ", ".join(labels) or str(_("none yet"))
        super().__init__(
            _(
                "Episode {episode} has no speaker {label!r}; its speakers are: {known}. "
                "`radio speakers {episode}` lists them."
            ).format(episode=episode_id, label=label, known=known)
        )


# --- reading --------------------------------------------------------------------------


def of_episode(db: sqlite_utils.Database, episode_id: int) -> list[Speaker]:
    """The episode's speakers in the order they first speak; a label the transcript carries
    without a row (an episode transcribed before speakers were kept) is listed too, with
    the time of its segments."""
    rows = {r.label: r for r in _rows(db.conn, episode_id)}
    loose = db.execute(
        "select speaker, sum(end - start) from segments where episode_id = ? "
        "and speaker is not null group by speaker",
        [episode_id],
    ).fetchall()
    for label, seconds in loose:
        rows.setdefault(label, Speaker(label, round(seconds or 0.0, 2)))
    order = _first_spoken(db, episode_id)
    return sorted(rows.values(), key=lambda r: (order.get(r.label, len(order)), r.label))


def _rows(conn: sqlite3.Connection, episode_id: int) -> list[Speaker]:
    found = conn.execute(
        "select label, seconds, voice, suggestion, suggestion_score from speakers "
        "where episode_id = ?",
        [episode_id],
    ).fetchall()
    return [Speaker(r[0], r[1], _from_blob(r[2]), r[3], r[4]) for r in found]


def _first_spoken(db: sqlite_utils.Database, episode_id: int) -> dict[str, int]:
    found = db.execute(
        "select speaker, min(idx) from segments where episode_id = ? and speaker is not null "
        "group by speaker order by min(idx)",
        [episode_id],
    ).fetchall()
    return {label: i for i, (label, _) in enumerate(found)}


def named_voices_of_show(
    db: sqlite_utils.Database, show_id: int | None, exclude_episode: int
) -> dict[str, np.ndarray]:
    """Name -> voice print of everyone named in the show's other episodes (not "Speaker N"
    labels): the talk-time-weighted mean over the episodes they were named in."""
    if show_id is None:
        return {}
    found = db.execute(
        "select sp.label, sp.seconds, sp.voice from speakers sp "
        "join episodes e on e.id = sp.episode_id "
        "where e.show_id = ? and e.id != ? and sp.voice is not null order by e.id",
        [show_id, exclude_episode],
    ).fetchall()
    voices: dict[str, Speaker] = {}
    for label, seconds, blob in found:
        if not is_name(label):
            continue
        row = Speaker(label, seconds, _from_blob(blob))
        earlier = voices.get(label)
        voices[label] = row if earlier is None else _merged(earlier, row, label)
    return {name: row.voice for name, row in voices.items() if row.voice is not None}


# --- writing ----------------------------------------------------------------------------


def save_voices(db: sqlite_utils.Database, episode_id: int, speakers: Sequence[Speaker]) -> None:
    """Replace the episode's speakers rows with ``speakers``."""
    with transaction(db) as conn:
        _replace_rows(conn, episode_id, speakers)


def write_rows(conn: sqlite3.Connection, episode_id: int, speakers: Sequence[Speaker]) -> None:
    """Replace the episode's speakers rows inside the caller's transaction (a remote
    worker's commit, #17, saves them with the transcript)."""
    _replace_rows(conn, episode_id, speakers)


def save_turns(
    db: sqlite_utils.Database,
    episode_id: int,
    relabel: Callable[[list[Segment]], Relabelled],
) -> Relabelled:
    """Give the transcript its speakers, in one transaction: ``relabel`` gets the episode's
    segments as they are now (an editor may have fixed some meanwhile) and says what
    replaces each; the segments and the speakers rows are replaced together.

    When no segment is split, each keeps its row (and id) and only its speaker changes;
    otherwise the transcript is replaced as a new transcript is (``radio.data.transcripts``):
    the search indexes follow by their triggers, and editors' corrections stay linked to
    the first segment that replaces theirs."""
    with transaction(db) as conn:
        lines = transcripts.transcript_lines(db, episode_id)
        segments = transcripts.load_segments(db, episode_id)
        done = relabel(segments)
        if len(done.pieces) != len(lines):
            raise ValueError("relabel must say what replaces every segment")
        if all(_unsplit(s, p) for s, p in zip(segments, done.pieces, strict=True)):
            for line, (piece,) in zip(lines, done.pieces, strict=True):
                if piece.speaker != line.speaker:
                    conn.execute(
                        "update segments set speaker = ? where id = ?", [piece.speaker, line.id]
                    )
        else:
            _replace_segments(conn, episode_id, [line.id for line in lines], done.pieces)
        _replace_rows(conn, episode_id, done.speakers)
        conn.execute("update episodes set updated_at = ? where id = ?", [utcnow(), episode_id])
    return done


def _unsplit(segment: Segment, pieces: Sequence[Segment]) -> bool:
    if len(pieces) != 1:
        return False
    piece = pieces[0]
    return (piece.start, piece.end, piece.text, piece.words) == (
        segment.start,
        segment.end,
        segment.text,
        segment.words,
    )


def _replace_segments(
    conn: sqlite3.Connection,
    episode_id: int,
    ids: Sequence[int],
    pieces: Sequence[Sequence[Segment]],
) -> None:
    """The transcript replaced through the one way ``radio.data.transcripts`` replaces one,
    each old segment's edits following its first piece."""
    staged: list[list[object]] = []
    carried: dict[int, int] = {}
    for segment_id, replacing in zip(ids, pieces, strict=True):
        if replacing:
            carried[segment_id] = len(staged)
        for piece in replacing:
            staged.append(transcripts.segment_values(episode_id, len(staged), piece)[1:])
    texts = [str(row[3]) for row in staged]
    swaps.replace_segments(conn, episode_id, staged, texts, carried)


def _replace_rows(conn: sqlite3.Connection, episode_id: int, speakers: Sequence[Speaker]) -> None:
    conn.execute("delete from speakers where episode_id = ?", [episode_id])
    for s in speakers:
        _insert(conn, episode_id, s)


def _insert(conn: sqlite3.Connection, episode_id: int, s: Speaker) -> None:
    conn.execute(
        "insert into speakers (episode_id, label, voice, seconds, suggestion, "
        "suggestion_score) values (?, ?, ?, ?, ?, ?)",
        [
            episode_id,
            s.label,
            _to_blob(s.voice),
            round(float(s.seconds), 2),
            s.suggestion,
            None if s.suggestion_score is None else round(float(s.suggestion_score), 4),
        ],
    )


def rename(db: sqlite_utils.Database, episode_id: int, label: str, name: str) -> Renamed:
    """Call ``label`` ``name`` all through the episode's transcript. When another label is
    already ``name``, the two become one speaker (talk times added, voices averaged)."""
    name = clean_name(name)
    with transaction(db) as conn:
        rows = {r.label: r for r in _rows(conn, episode_id)}
        said = _first_spoken(db, episode_id)
        if label not in rows and label not in said:
            raise SpeakerNotFound(episode_id, label, [r.label for r in of_episode(db, episode_id)])
        if name == label:
            return Renamed(label, name, 0, merged=False)
        changed = conn.execute(
            "update segments set speaker = ? where episode_id = ? and speaker = ?",
            [name, episode_id, label],
        ).rowcount
        source, target = rows.get(label), rows.get(name)
        if source is not None:
            _move(conn, episode_id, source, target, name)
        conn.execute("update episodes set updated_at = ? where id = ?", [utcnow(), episode_id])
    logger.info("episode %s: %r is now %r (%d segments)", episode_id, label, name, changed)
    return Renamed(label, name, changed, merged=target is not None or name in said)


def _move(
    conn: sqlite3.Connection,
    episode_id: int,
    source: Speaker,
    target: Speaker | None,
    name: str,
) -> None:
    """The row of ``source`` becomes the row of ``name``, merged into ``target`` if any. A
    label that is a name keeps no suggestion: an editor has decided."""
    conn.execute(
        "delete from speakers where episode_id = ? and label in (?, ?)",
        [episode_id, source.label, name],
    )
    moved = source if target is None else _merged(source, target, name)
    kept = target or source
    suggestion = (None, None) if is_name(name) else (kept.suggestion, kept.suggestion_score)
    _insert(conn, episode_id, Speaker(name, moved.seconds, moved.voice, *suggestion))


def clean_name(name: str) -> str:
    """A name as stored: spaces collapsed; refused when empty or too long."""
    name = " ".join((name or "").split())
    if not name:
        raise SpeakerError(str(_("Type a name for the speaker, e.g. Amina.")))
    if len(name) > MAX_NAME_CHARS:
        raise SpeakerError(
            _("A speaker's name can have at most {limit} characters.").format(limit=MAX_NAME_CHARS)
        )
    return name


def confirm_suggestion(db: sqlite_utils.Database, episode_id: int, label: str) -> Renamed:
    """Name the speaker as suggested."""
    row = _row(db, episode_id, label)
    if not row.suggestion:
        raise SpeakerError(
            _("{label} has no suggested name; type one instead.").format(label=label)
        )
    return rename(db, episode_id, label, row.suggestion)


def dismiss_suggestion(db: sqlite_utils.Database, episode_id: int, label: str) -> None:
    """Forget the suggested name: it is not this person."""
    _row(db, episode_id, label)
    db.execute(
        "update speakers set suggestion = null, suggestion_score = null "
        "where episode_id = ? and label = ?",
        [episode_id, label],
    )


def _row(db: sqlite_utils.Database, episode_id: int, label: str) -> Speaker:
    rows = {r.label: r for r in _rows(db.conn, episode_id)}
    if label not in rows:
        raise SpeakerNotFound(episode_id, label, [r.label for r in of_episode(db, episode_id)])
    return rows[label]


# --- voices -----------------------------------------------------------------------------


def mean_voice(voices: Sequence[tuple[np.ndarray, float]]) -> np.ndarray | None:
    """The talk-time-weighted mean of (print, seconds) pairs, made unit length again."""
    if not voices:
        return None
    weights = np.array([max(float(s), 0.0) for _, s in voices])
    if weights.sum() <= 0:
        weights = np.ones(len(voices))
    total = sum(w * v.astype(np.float64) for (v, _), w in zip(voices, weights, strict=True))
    norm = float(np.linalg.norm(total))
    return (total / norm if norm else total).astype(np.float32)


def _merged(a: Speaker, b: Speaker, label: str) -> Speaker:
    voices = [(s.voice, s.seconds) for s in (a, b) if s.voice is not None]
    return Speaker(label, round(a.seconds + b.seconds, 2), mean_voice(voices))


def _to_blob(voice: np.ndarray | None) -> bytes | None:
    return None if voice is None else np.asarray(voice, dtype=_VOICE).tobytes()


def _from_blob(blob: bytes | None) -> np.ndarray | None:
    return None if blob is None else np.frombuffer(blob, dtype=_VOICE).astype(np.float32)
