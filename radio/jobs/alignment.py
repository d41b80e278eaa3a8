"""Where an editor's correction goes when a transcript is made again.

A correction moves to a new segment only when both hold: the two overlap in time by at
least ``MIN_OVERLAP`` of the span they cover together, and the new text is at least
``MIN_SIMILARITY`` alike (characters, ignoring case, punctuation and spacing, so scripts
without spaces work too) to the machine's text before the first edit, or to the editor's
own text (the new model now agrees with the editor). Time alone would put a fix onto a
segment cut differently; text alone onto a phrase said twice. Each correction and each new
segment is used at most once, best matches first.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence

from radio.data.swaps import Correction
from transcription.segments import SegmentLike

MIN_OVERLAP = 0.5  # time overlap over joint span
MIN_SIMILARITY = 0.8  # normalised text likeness


def align(corrections: Sequence[Correction], new: Sequence[SegmentLike]) -> dict[int, int]:
    """Corrected segment id -> position in ``new`` of the segment its correction moves to."""
    pairs = []
    for c in corrections:
        for position, segment in enumerate(new):
            overlap = time_overlap(c, segment)
            if overlap < MIN_OVERLAP:
                continue
            alike = max(similarity(segment.text, c.machine), similarity(segment.text, c.text))
            if alike >= MIN_SIMILARITY:
                pairs.append((alike + overlap, c.segment_id, position))
    carried: dict[int, int] = {}
    taken: set[int] = set()
    for _score, segment_id, position in sorted(pairs, reverse=True):
        if segment_id not in carried and position not in taken:
            carried[segment_id] = position
            taken.add(position)
    return carried


def time_overlap(a: SegmentLike, b: SegmentLike) -> float:
    """Intersection over union of two stretches of time, 0..1."""
    joint = max(a.end, b.end) - min(a.start, b.start)
    shared = min(a.end, b.end) - max(a.start, b.start)
    return max(shared, 0.0) / joint if joint > 0 else 0.0


def similarity(a: str, b: str) -> float:
    """How alike two texts are, 0..1, ignoring case, punctuation and spacing."""
    return difflib.SequenceMatcher(None, _plain(a), _plain(b), autojunk=False).ratio()


def _plain(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))
