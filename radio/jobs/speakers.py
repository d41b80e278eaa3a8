"""The speakers step: who speaks when, after the transcript (issue #12).

A two-party stereo call keeps the channel split the transcription made (it is exact): its
labels only get their rows, with each one's talk time. Anything else is diarized as one mix
(``transcription.diarize``): each word goes to the voice speaking at its time, a segment
that spans a change of speaker is split there, and each voice is labelled

1. with the name editors gave it in this episode before (a run again after a rename: its
   voice matched against the episode's own named voices, above ``MATCH_THRESHOLD``);
2. else with the uploader's names (``--speakers``), in the order the voices first speak;
3. else "Speaker N"; and then, if it sounds like someone named in another episode of the
   same show, that name is stored as a suggestion for an editor to confirm, never applied.

A segment an editor corrected (its text no longer the words Whisper heard) is not split: it
goes whole to the voice of most of its words, so the correction stays. Segments and speakers
rows are written in one transaction; running the step again gives the same transcript.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sqlite_utils

from radio.data import speakers as speaker_data
from radio.data import transcripts
from radio.data.episodes import Episode
from radio.data.speakers import Relabelled, Speaker, default_label, is_name
from radio.jobs.context import Context, StepError
from radio.jobs.voiceprints import sent_diarization
from radio.media import store
from transcription.errors import TranscriptionError
from transcription.segments import Segment

if TYPE_CHECKING:  # loaded only where the step runs: diarization brings audio code
    from transcription.diarize import Diarization, Voice

logger = logging.getLogger(__name__)

Similarity = Callable[[np.ndarray, np.ndarray], float]
# Told every voice found and its label (a remote worker sends them on, #17: the archive
# matches them against the show's named voices itself).
VoiceSink = Callable[["Sequence[Voice]", "Sequence[str]"], None]


def speakers_step(ctx: Context, keep: VoiceSink | None = None) -> None:
    """Speaker turns, labels and voices for the episode's transcript."""
    if not ctx.config.get("TRANSCRIBE", True):
        return
    if not transcripts.has_transcript(ctx.db, ctx.episode.id):
        return  # nothing was said (music), or nothing transcribed yet
    source = store.resolve(ctx.home, ctx.episode.source_path)
    if not source.exists():
        raise StepError(
            f"the original {ctx.episode.source_path} is missing from the media folder; "
            "restore it from a backup and run `radio retry`."
        )
    # a worker on another machine may have diarized the original already (#17)
    sent = sent_diarization(ctx.db, ctx.episode)
    find_speakers(ctx.db, ctx.episode, source, ctx.report, keep, diarized=sent)


def find_speakers(
    db: sqlite_utils.Database,
    episode: Episode,
    source: Path,
    report: Callable[[float], None] = lambda _: None,
    keep: VoiceSink | None = None,
    diarized: Diarization | None = None,
) -> Relabelled:
    """Give the transcript of ``episode`` (recorded in ``source``) its speakers and save them;
    also what a new transcript needs once it is swapped in. ``diarized``: the original's
    turns and voices as a worker on another machine found them (a two-party call: none)."""
    from transcription.channels import detect_two_party
    from transcription.diarize import diarize

    names = [n for n in episode.speaker_names if is_name(n)]
    try:
        if diarized is not None:
            found = diarized
        elif detect_two_party(source):
            logger.info("episode %s: a two-party call; the channels name the speakers", episode.id)
            return speaker_data.save_turns(db, episode.id, _as_they_are)
        else:
            found = diarize(
                source,
                speakers=len(names) or None,
                progress=lambda done, total: report(done / total if total else 0.0),
            )
    except TranscriptionError as e:
        raise StepError(str(e)) from e
    if not found.voices:
        logger.info("episode %s: no voices found; the transcript stays as it is", episode.id)
        return speaker_data.save_turns(db, episode.id, _as_they_are)
    labelling = _labelling(db, episode, found, names, keep)
    done = speaker_data.save_turns(db, episode.id, labelling)
    logger.info(
        "episode %s: %d voice(s), %s",
        episode.id,
        len(found.voices),
        ", ".join(f"{s.label} {s.seconds:.0f} s" for s in done.speakers),
    )
    return done


def _labelling(
    db: sqlite_utils.Database,
    episode: Episode,
    found: Diarization,
    names: Sequence[str],
    keep: VoiceSink | None = None,
) -> Callable[[list[Segment]], Relabelled]:
    """What ``save_turns`` runs on the transcript as it stands: labels, then the split."""
    from transcription.diarize import MATCH_THRESHOLD, similarity

    own = {
        s.label: s.voice
        for s in speaker_data.of_episode(db, episode.id)
        if s.named and s.voice is not None
    }
    labels = choose_labels(found.voices, own, names, similarity, MATCH_THRESHOLD)
    if keep is not None:
        keep(found.voices, labels)
    show = speaker_data.named_voices_of_show(db, episode.show_id, exclude_episode=episode.id)
    suggested = suggest(found.voices, labels, show, similarity, MATCH_THRESHOLD)

    def relabel(segments: list[Segment]) -> Relabelled:
        pieces = [split_segment(segment, found, labels) for segment in segments]
        said = {p.speaker for ps in pieces for p in ps}
        rows = voice_rows([v for v in found.voices if labels[v.index] in said], labels, suggested)
        return Relabelled(pieces, rows + _loose_rows(pieces, {r.label for r in rows}))

    return relabel


def voice_rows(
    voices: Sequence[Voice],
    labels: Sequence[str],
    suggested: Mapping[int, tuple[str, float]],
) -> list[Speaker]:
    """A speakers row per label; voices that share a label (one person, as an editor said)
    are one row: their talk times added, their prints averaged by talk time."""
    by_label: dict[str, list[Voice]] = {}
    for v in voices:
        by_label.setdefault(labels[v.index], []).append(v)
    rows = []
    for label, group in by_label.items():
        name, score = suggested.get(group[0].index, (None, None))
        voice = speaker_data.mean_voice([(v.print, v.seconds) for v in group])
        seconds = round(sum(v.seconds for v in group), 2)
        rows.append(Speaker(label, seconds, voice, name, score))
    return rows


def choose_labels(
    voices: Sequence[Voice],
    own: Mapping[str, np.ndarray],
    names: Sequence[str],
    similarity: Similarity,
    threshold: float,
) -> list[str]:
    """A label per voice (by index): the episode's own name for it, else the uploader's
    next name, else "Speaker N". An own name may take several voices: an editor who gave
    two labels one name said they are one person, and a run again keeps them together."""
    labels: dict[int, str] = {}
    for v in voices:
        scores = {name: float(similarity(v.print, voice)) for name, voice in own.items()}
        best = max(scores, key=lambda name: scores[name], default=None)
        if best is not None and scores[best] >= threshold:
            labels[v.index] = best
    free = [n for n in names if n not in labels.values()]
    for voice in voices:
        if voice.index not in labels and free:
            labels[voice.index] = free.pop(0)
    size = max((v.index for v in voices), default=-1) + 1
    return [labels.get(i, default_label(i)) for i in range(size)]


def suggest(
    voices: Sequence[Voice],
    labels: Sequence[str],
    show: Mapping[str, np.ndarray],
    similarity: Similarity,
    threshold: float,
) -> dict[int, tuple[str, float]]:
    """Voice index -> (name, score) for unnamed voices that sound like someone named in the
    show's other episodes; each name for one voice at most, and none already in use here."""
    unnamed = [v for v in voices if not is_name(labels[v.index])]
    known = {name: voice for name, voice in show.items() if name not in labels}
    return {
        i: (name, score) for i, name, score in best_matches(unnamed, known, similarity, threshold)
    }


def best_matches(
    voices: Sequence[Voice],
    named: Mapping[str, np.ndarray],
    similarity: Similarity,
    threshold: float,
) -> list[tuple[int, str, float]]:
    """(voice index, name, score) pairs at ``threshold`` or above, best first, each voice
    and each name used once."""
    pairs = sorted(
        (
            (float(similarity(v.print, voice)), v.index, name)
            for v in voices
            for name, voice in named.items()
        ),
        reverse=True,
    )
    taken_voices: set[int] = set()
    taken_names: set[str] = set()
    out = []
    for score, index, name in pairs:
        if score < threshold or index in taken_voices or name in taken_names:
            continue
        taken_voices.add(index)
        taken_names.add(name)
        out.append((index, name, score))
    return out


def split_segment(segment: Segment, found: Diarization, labels: Sequence[str]) -> list[Segment]:
    """The segment with its speaker, split where the speaker changes, unless an editor
    corrected it: then whole, to the speaker of most of its words."""
    from transcription.diarize import assign_speakers

    pieces = assign_speakers([segment], found, labels)
    if len(pieces) <= 1 or _words_are_text(segment):
        return pieces
    longest = max(pieces, key=lambda p: (len(p.words), p.end - p.start))
    return [replace(segment, speaker=longest.speaker)]


def _words_are_text(segment: Segment) -> bool:
    """Whether the segment's text is still the words Whisper heard, so that splitting it
    between speakers by its words loses nothing."""
    words = "".join(w.word for w in segment.words)
    return " ".join(words.split()) == " ".join(segment.text.split())


def _as_they_are(segments: list[Segment]) -> Relabelled:
    """The transcript unchanged (a two-party call's channel labels), with a row per label."""
    pieces = [[segment] for segment in segments]
    return Relabelled(pieces, _loose_rows(pieces, set()))


def _loose_rows(pieces: list[list[Segment]], have: set[str]) -> list[Speaker]:
    """A row without a voice for each label the segments carry that has none in ``have``,
    with the time of its segments."""
    seconds: dict[str, float] = {}
    for segment in (p for ps in pieces for p in ps):
        if segment.speaker and segment.speaker not in have:
            seconds[segment.speaker] = (
                seconds.get(segment.speaker, 0.0) + segment.end - segment.start
            )
    return [Speaker(label, round(s, 2)) for label, s in seconds.items()]
