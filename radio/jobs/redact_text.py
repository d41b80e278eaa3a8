"""What a removed passage takes out of the transcript (#16 item 4): a plan, made before
anything is written, that ``radio.jobs.redact`` applies in one transaction.

A word goes when most of it lies inside the span (every word entirely inside, and a word
the cut runs through the middle of: its sound is mostly gone, and its text would tell
what was cut). A segment left with no word goes; one left with some keeps only those,
its text rebuilt from them and its times shrunk to them. A segment with no word timings
(typed by hand, or from an old import) that touches the span goes whole: there is no
telling which of its words were said inside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import sqlite_utils

from radio.data.edits import words_of
from radio.data.transcripts import segments_overlapping, transcript_lines
from transcription.segments import Segment, Word


@dataclass(frozen=True)
class TextPlan:
    rewritten: list[tuple[int, Segment]]  # (segment id, what it becomes)
    gone: list[int]  # segment ids to delete
    words_removed: int
    # Words said only in the passage (case-folded): what the history must not quote.
    # Words still said elsewhere in the episode are no secret and stay in the history.
    only_there: set[str]

    @property
    def touched(self) -> list[int]:
        return [segment_id for segment_id, _ in self.rewritten] + self.gone


def inside(word: Word, start: float, end: float) -> bool:
    """Whether most of ``word`` lies in [start, end)."""
    overlap = min(word.end, end) - max(word.start, start)
    return overlap > 0 and overlap >= (word.end - word.start) / 2


def plan_text(db: sqlite_utils.Database, episode_id: int, start: float, end: float) -> TextPlan:
    rewritten: list[tuple[int, Segment]] = []
    gone: list[int] = []
    removed_text: list[str] = []
    count = 0
    for segment_id, segment in segments_overlapping(db, episode_id, start, end):
        kept = [w for w in segment.words if not inside(w, start, end)]
        dropped = [w for w in segment.words if inside(w, start, end)]
        if not segment.words:
            gone.append(segment_id)
            removed_text.append(segment.text)
            count += len(segment.text.split())
            continue
        if not dropped:
            continue  # the segment only brushes the span: none of its words is in it
        removed_text += [w.word for w in dropped] + [segment.text]
        count += len(dropped)
        if kept:
            text = "".join(w.word for w in kept).strip()
            new = replace(
                segment, start=kept[0].start, end=kept[-1].end, text=text, words=tuple(kept)
            )
            rewritten.append((segment_id, new))
        else:
            gone.append(segment_id)
    return TextPlan(
        rewritten, gone, count, _only_there(db, episode_id, removed_text, rewritten, gone)
    )


def _only_there(
    db: sqlite_utils.Database,
    episode_id: int,
    removed_text: list[str],
    rewritten: list[tuple[int, Segment]],
    gone: list[int],
) -> set[str]:
    """The removed words that nothing left in the transcript says."""
    touched = {segment_id for segment_id, _ in rewritten} | set(gone)
    left: set[str] = set()
    for line in transcript_lines(db, episode_id):
        if line.id not in touched:
            left |= words_of(line.text)
    for _id, segment in rewritten:
        left |= words_of(segment.text)
    removed: set[str] = set()
    for text in removed_text:
        removed |= words_of(text)
    return removed - left


def text_to_go(db: sqlite_utils.Database, episode_id: int, start: float, end: float) -> list[str]:
    """What the transcript says in [start, end), as it would be removed: one line per
    segment touched (for the confirm page and the command line)."""
    lines = []
    for _id, segment in segments_overlapping(db, episode_id, start, end):
        if not segment.words:
            lines.append(segment.text.strip())
            continue
        words = "".join(w.word for w in segment.words if inside(w, start, end)).strip()
        if words:
            lines.append(words)
    return lines
