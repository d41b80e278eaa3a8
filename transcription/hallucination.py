"""Whisper's inventions: text that was never said, told apart from speech and dropped.

Whisper fills silence, music and noise with the phrases of the subtitles it learned from
("Thank you for watching", "Please subscribe"), and sometimes loops on one phrase.
faster-whisper already decodes again at a higher temperature when a window looks wrong
(compression ratio over 2.4, mean log-probability under -1) and skips windows it thinks
hold no speech; what still comes out wrong is dropped here, and logged:

- a window still repeating itself (compression ratio over ``MAX_COMPRESSION``) that the
  model was also unsure of;
- a known subtitle phrase said with little confidence, or where the model itself thought
  there was probably no speech.
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

MAX_COMPRESSION = 2.4  # faster-whisper's own threshold for a repetitive window
UNSURE_LOGPROB = -0.8  # mean token log-probability of a segment the model was unsure of
NO_SPEECH = 0.5  # the model's own probability that a window holds no speech
KNOWN_PHRASES = (
    "thank you for watching",
    "thanks for watching",
    "thank you so much for watching",
    "please subscribe",
    "subscribe to my channel",
    "like and subscribe",
    "i hope you enjoyed this video",
    "see you in the next video",
    "thank you",
    "bye",
    "you",
)
# Subtitle credits, whatever follows them: "Subtitles by the Amara.org community".
CREDITS = re.compile(r"^(subtitles|subtitled|captions|transcribed|translated) by\b|amara org")
_WORDS = re.compile(r"[^\w\s]+")


def hallucination(segment: Any, offset: float = 0.0) -> str | None:
    """Why a faster-whisper segment is likely invented (logged), or None if it is speech."""
    reason = _reason(segment)
    if reason:
        logger.info(
            "dropped %.1f-%.1f s %r: %s",
            segment.start + offset,
            segment.end + offset,
            segment.text.strip()[:80],
            reason,
        )
    return reason


def _reason(segment: Any) -> str | None:
    unsure = segment.avg_logprob < UNSURE_LOGPROB
    if segment.compression_ratio > MAX_COMPRESSION and unsure:
        return f"repeats itself (compression {segment.compression_ratio:.1f})"
    said = " ".join(_WORDS.sub(" ", segment.text.lower()).split())
    known = said in KNOWN_PHRASES or CREDITS.search(said) is not None
    if known and (unsure or segment.no_speech_prob > NO_SPEECH):
        return "a subtitle phrase the model was unsure of"
    return None
