"""The light dataclasses transcription hands out: no heavy imports, safe for the web process.

``Segment`` and ``Word`` mirror faster-whisper's own (start and end in seconds from the
start of the recording); ``Chapter`` is a stretch of a recording with a title.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    word: str  # as Whisper spells it, usually with its leading space
    probability: float


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...]
    speaker: str | None = None

    @property
    def confidence(self) -> float | None:
        """The mean of the words' probabilities; None without word timings."""
        if not self.words:
            return None
        return sum(w.probability for w in self.words) / len(self.words)


@dataclass(frozen=True)
class TranscriptInfo:
    language: str
    language_probability: float
    duration: float
    model_name: str
    speakers: tuple[str, ...]


@dataclass(frozen=True)
class Chapter:
    start: float
    end: float
    title: str


class SegmentLike(Protocol):
    """What topic and chapter finding read of a segment (stored rows qualify too)."""

    start: float
    end: float
    text: str
