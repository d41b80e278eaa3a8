"""The language of a transcript, and the rules that hold an episode back for an editor:
an unsure language, and no speech found at all (hours of silence must not be published as
an empty episode).

Light to import (no audio or model code): the transcribe step and a retranscription both
use it, and the web process imports the latter.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import sqlite_utils

from radio.data.episodes import end_review, get_episode, hold_for_review, update_episode
from transcription.languages import language_name
from transcription.segments import Segment, TranscriptInfo

logger = logging.getLogger(__name__)

# Below this, Whisper's detection more likely names the wrong language than the right one.
# Measured with base (README, "Models and languages"): real speech in es, sv, ja and en clips
# of ../shared/testaudio gave 0.93 to 1.00; Irish and Setswana spoken by eSpeak NG (Whisper
# has neither) 0.22 to 0.44, named Thai or Latin. Oromo and Quechua gave 0.80 to 0.82 and no
# words: the "no words" rule below.
LANGUAGE_SURE = 0.5
# Below this mean word probability the words are more likely invented than heard: the same
# clips gave 0.75 to 0.98 in the languages Whisper knows, 0.39 to 0.48 in the others; the
# topics step drops segments under the same 0.5 (radio.jobs.topics).
WORDS_SURE = 0.5
NO_SPEECH = "No speech found"  # how every such note starts: a state editors can find


class Heard:
    """Counts the segments passing on to the database, their words and how sure of them
    Whisper was; ``before``: segments an earlier, cut-off run already saved."""

    def __init__(self, before: int = 0) -> None:
        self.before, self.segments, self.words, self.total = before, 0, 0, 0.0

    def count(self, segments: Iterable[Segment]) -> Iterator[Segment]:
        for segment in segments:
            self.segments += 1
            self.words += len(segment.words)
            self.total += sum(w.probability for w in segment.words)
            yield segment

    @property
    def mean(self) -> float | None:
        return self.total / self.words if self.words else None

    @property
    def nothing(self) -> bool:
        """Whether no segment at all was written, in this run or an earlier one."""
        return not (self.segments or self.before)


def language_doubt(info: TranscriptInfo, heard: Heard, hint: str | None = None) -> str | None:
    """Why an editor should check a detected language before listeners hear the episode,
    or None when Whisper was sure of the language and of the words it heard in it."""
    sure = info.language_probability
    said = f"The language sounded like {language_name(info.language)} ({info.language}, "
    said += f"{sure:.0%} sure)"
    if hint:
        said = f"Whisper doesn't know {hint!r}, the language given for it. {said}"
    fix = "set the language and transcribe it again (or publish it as it is)."
    if heard.nothing:
        # Nothing was written, so nothing invented; but speech heard clearly enough to name
        # a language and yet no words is what a language Whisper lacks sounds like.
        return f"{said}, but no words came out of it; {fix}" if sure >= LANGUAGE_SURE else None
    if sure <= 0.0:
        return f"No speech came early enough to tell the language; {fix}"
    if sure < LANGUAGE_SURE:
        return f"{said}; {fix}"
    if heard.mean is not None and heard.mean < WORDS_SURE:
        return f"{said}, but its words came out unsure ({heard.mean:.0%} on average); {fix}"
    return None


def review_language(
    db: sqlite_utils.Database,
    episode_id: int,
    info: TranscriptInfo,
    heard: Heard,
    *,
    hint: str | None,
    detected: bool,
) -> str | None:
    """Record the transcript's language; hold the episode back as a draft with a note for
    editors when a detected language is unsure, else end any earlier hold. Returns the note."""
    note = language_doubt(info, heard, hint) if detected else None
    episode = get_episode(db, episode_id)
    update_episode(
        db,
        episode_id,
        # A doubted language is not written where a hint would be: transcribing again must
        # not take the guess for a hint.
        language=episode.language or (None if note or heard.nothing else info.language),
        language_hint=hint,
        language_probability=round(info.language_probability, 3) if detected else None,
        # No words, no transcript to be in a language: a detected name would only mislead.
        transcript_language=None if heard.nothing else info.language,
    )
    if note:
        logger.warning("episode %s held for an editor: %s", episode_id, note)
        hold_for_review(db, episode_id, note)
    else:
        end_review(db, episode_id)
    return note


def no_speech_note(silent: bool) -> str:
    what = "the recording is silent" if silent else "Whisper heard no words in it"
    return (
        f"{NO_SPEECH}: {what}. It stays a draft so listeners don't get an empty episode; "
        "listen to it, then publish it as it is (music, say) or set its language and "
        "transcribe it again."
    )


def review_speech(db: sqlite_utils.Database, episode_id: int, heard: Heard) -> str | None:
    """Hold an episode whose transcription found no speech at all (in this run or an earlier,
    cut-off one) as a draft with a "No speech found" note; returns the note, or None when
    there was speech. An editor who publishes it ends the hold, as for a language."""
    if not heard.nothing:
        return None
    episode = get_episode(db, episode_id)
    note = no_speech_note(silent=episode.loudness_before is None)  # silence has no loudness
    logger.warning("episode %s held for an editor: %s", episode_id, note)
    hold_for_review(db, episode_id, note)
    return note
