"""Who speaks when in one mix: speaker turns for group calls recorded on one channel.

The recording is read as a stream. Silero VAD (faster-whisper's) marks the speech; every
``HOP_S`` a 1.6 s window of speech gets a voice print (``transcription.voices``); the
prints are clustered bottom-up (average linkage on cosine distance, stopped at
``THRESHOLD``, or at the number of speakers when the caller knows it); clusters with
less than ``MIN_VOICE_S`` of talk are folded into the nearest voice, and each window is
then given the nearest voice. Each moment of speech belongs to the window centred
nearest to it. Nothing here knows about the archive: it returns dataclasses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from .channels import SAMPLE_RATE, channel_layout, iter_pcm
from .segments import Segment, Word
from .voices import HOP, WINDOW_FRAMES, mel_frames, similarity, window_prints

logger = logging.getLogger(__name__)

__all__ = ["Diarization", "Turn", "Voice", "assign_speakers", "diarize", "similarity"]

HOP_S = 0.75  # a print every this often
WINDOW_S = WINDOW_FRAMES * HOP / SAMPLE_RATE  # 1.6 s
MIN_SPEECH_SHARE = 0.5  # a window with less speech than this says nothing of who speaks
THRESHOLD = 0.4  # cosine distance at which two groups of windows are two people
# Less talk than this is not a voice of its own but stray windows (across a change of
# speaker, in an overlap): folded into the nearest voice. A long call has more strays.
MIN_VOICE_S = 8.0
MIN_VOICE_SHARE = 0.005  # of all the speech
MATCH_THRESHOLD = 0.8  # a voice this similar to a named voice is suggested as that name
BLOCK_S = 60.0  # audio read at a time
FRAME_S = 0.05  # resolution of the turns
MIN_RUN_WORDS = 2  # a speaker change inside a segment lasts at least this many words

ProgressFn = Callable[[float, float], None]


@dataclass(frozen=True)
class Turn:
    start: float
    end: float
    speaker: int  # index into Diarization.voices


@dataclass(frozen=True)
class Voice:
    index: int  # in order of first appearance; "Speaker {index + 1}" until named
    seconds: float  # talk time
    print: np.ndarray  # float32 (256,), unit length: the mean of its windows' prints


@dataclass(frozen=True)
class Diarization:
    turns: tuple[Turn, ...]
    voices: tuple[Voice, ...]

    def speaker_at(self, t: float) -> int | None:
        """The voice speaking at ``t``, or the nearest turn's when ``t`` is in a pause."""
        if not self.turns:
            return None
        return min(self.turns, key=lambda turn: _distance(turn, t)).speaker


def diarize(
    path: Path, *, speakers: int | None = None, progress: ProgressFn | None = None
) -> Diarization:
    """Speaker turns of the recording at ``path`` (its mono mix); ``speakers`` is how many
    there are, when someone knows."""
    total = channel_layout(path).duration
    starts, prints, speech = [], [], []
    for block_starts, block_prints, block_speech, done in _windows(path):
        starts += block_starts
        prints.append(block_prints)
        speech += block_speech
        if progress:
            progress(min(done, total), total)
    if not starts:
        return Diarization((), ())
    labels = _cluster(np.concatenate(prints), speakers)
    return _result(np.array(starts) + WINDOW_S / 2, np.concatenate(prints), labels, speech)


def _windows(path: Path) -> Iterator[tuple[list[float], np.ndarray, list[tuple], float]]:
    """Per block read: window start times, their prints, the block's speech, seconds done."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps

    vad = VadOptions(min_speech_duration_ms=150, min_silence_duration_ms=300, speech_pad_ms=100)
    window, hop = int(WINDOW_S * SAMPLE_RATE), int(HOP_S * SAMPLE_RATE)
    carry = np.zeros(0, dtype=np.float32)
    carry_at = 0  # file sample of carry[0]
    next_start = 0  # file sample of the next window
    carry_mask = np.zeros(0, dtype=bool)  # speech, per sample of carry
    for chunk in iter_pcm(path, chunk_seconds=BLOCK_S):
        mono = chunk[0]
        chunk_at = carry_at + len(carry)
        regions = [(c["start"], c["end"]) for c in get_speech_timestamps(mono, vad)]
        chunk_mask = np.zeros(len(mono), dtype=bool)
        for a, b in regions:
            chunk_mask[a:b] = True
        audio = np.concatenate([carry, mono])
        mask = np.concatenate([carry_mask, chunk_mask])
        block_starts, mels, rms = [], [], []
        spectrum = mel_frames(audio)
        while next_start + window <= carry_at + len(audio):
            at = next_start - carry_at
            if mask[at : at + window].mean() >= MIN_SPEECH_SHARE:
                frame = at // HOP
                piece = spectrum[frame : frame + WINDOW_FRAMES]
                if len(piece) == WINDOW_FRAMES:
                    block_starts.append(next_start / SAMPLE_RATE)
                    mels.append(piece)
                    rms.append(float(np.sqrt(np.mean(audio[at : at + window] ** 2))))
            next_start += hop
        prints = window_prints(
            np.stack(mels) if mels else np.zeros((0, WINDOW_FRAMES, 40)), np.array(rms)
        )
        speech = [((chunk_at + a) / SAMPLE_RATE, (chunk_at + b) / SAMPLE_RATE) for a, b in regions]
        keep = max(0, next_start - carry_at)
        carry, carry_mask, carry_at = audio[keep:].copy(), mask[keep:].copy(), carry_at + keep
        yield block_starts, prints, speech, (chunk_at + len(mono)) / SAMPLE_RATE


def _cluster(prints: np.ndarray, speakers: int | None) -> np.ndarray:
    """A voice number per window."""
    from scipy.cluster.hierarchy import fcluster, linkage

    if len(prints) < 2:
        return np.zeros(len(prints), dtype=int)
    tree = linkage(prints.astype(np.float64), method="average", metric="cosine")
    labels = _settle(prints, fcluster(tree, t=THRESHOLD, criterion="distance") - 1, False)
    if speakers and len(np.unique(labels)) != speakers:
        # Told how many: cut the tree there instead (a guess beside a count someone knows).
        labels = _settle(prints, fcluster(tree, t=speakers, criterion="maxclust") - 1, True)
    return labels


def _settle(prints: np.ndarray, labels: np.ndarray, keep_all: bool) -> np.ndarray:
    """Fold stray clusters into the nearest voice, then give each window its nearest voice."""
    min_windows = max(MIN_VOICE_S / HOP_S, MIN_VOICE_SHARE * len(labels))
    for _ in range(3):
        ids, counts = np.unique(labels, return_counts=True)
        big = ids if keep_all else ids[counts >= min_windows]
        if len(big) == 0:
            big = ids[[int(np.argmax(counts))]]
        centroids = np.stack([_unit(prints[labels == i].mean(axis=0)) for i in big])
        nearest = np.argmax(prints @ centroids.T, axis=1)
        settled = big[nearest]
        if np.array_equal(settled, labels):
            break
        labels = settled
    return labels


def _result(
    centres: np.ndarray, prints: np.ndarray, labels: np.ndarray, speech: list[tuple]
) -> Diarization:
    """Turns over the speech, each moment given the label of the nearest window centre."""
    raw_turns: list[tuple[float, float, int]] = []
    for a, b in _merged(speech):
        times = np.arange(a, b, FRAME_S)
        nearest = np.clip(np.searchsorted(centres, times), 1, len(centres) - 1)
        left_closer = times - centres[nearest - 1] < centres[nearest] - times
        frame_labels = (
            labels[np.where(left_closer, nearest - 1, nearest)]
            if len(centres) > 1
            else labels[np.zeros(len(times), dtype=int)]
        )
        edges = np.flatnonzero(np.diff(frame_labels)) + 1
        for lo, hi in zip(np.r_[0, edges], np.r_[edges, len(times)], strict=True):
            raw_turns.append(
                (float(times[lo]), min(float(times[hi - 1]) + FRAME_S, b), int(frame_labels[lo]))
            )
    order = list(dict.fromkeys(label for _, _, label in raw_turns))  # first appearance
    number = {label: i for i, label in enumerate(order)}
    turns = tuple(Turn(round(a, 3), round(b, 3), number[label]) for a, b, label in raw_turns)
    voices = tuple(
        Voice(
            index=number[label],
            seconds=round(sum(t.end - t.start for t in turns if t.speaker == number[label]), 2),
            print=_unit(prints[labels == label].mean(axis=0)).astype(np.float32),
        )
        for label in order
    )
    logger.info("%d voices in %d turns", len(voices), len(turns))
    return Diarization(turns, voices)


def _merged(spans: list[tuple]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1] + 1e-6:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def _distance(turn: Turn, t: float) -> float:
    return 0.0 if turn.start <= t <= turn.end else min(abs(turn.start - t), abs(turn.end - t))


# --- words to speakers ------------------------------------------------------------------


def assign_speakers(
    segments: Sequence[Segment], diarization: Diarization, labels: Sequence[str]
) -> list[Segment]:
    """Each word to the voice speaking at its time (``labels[voice index]``); a segment
    that spans a change of speaker is split there."""
    out: list[Segment] = []
    for segment in segments:
        if not diarization.turns:
            out.append(segment)
            continue
        if not segment.words:
            who = diarization.speaker_at((segment.start + segment.end) / 2)
            out.append(replace(segment, speaker=labels[who] if who is not None else None))
            continue
        voices = _steady([diarization.speaker_at((w.start + w.end) / 2) for w in segment.words])
        out += _split(segment, voices, labels)
    return out


def _steady(voices: list[int | None]) -> list[int | None]:
    """A run of fewer than ``MIN_RUN_WORDS`` words between others is theirs: a print of
    1.6 s can't place a single short word."""
    runs: list[list] = []
    for v in voices:
        if runs and runs[-1][0] == v:
            runs[-1][1] += 1
        else:
            runs.append([v, 1])
    for i, run in enumerate(runs):
        if run[1] < MIN_RUN_WORDS and len(runs) > 1:
            neighbour = runs[i - 1] if i > 0 else runs[i + 1]
            run[0] = neighbour[0]
    return [v for v, n in runs for _ in range(n)]


def _split(segment: Segment, voices: list[int | None], labels: Sequence[str]) -> list[Segment]:
    pieces: list[tuple[int | None, list[Word]]] = []
    for word, voice in zip(segment.words, voices, strict=True):
        if pieces and pieces[-1][0] == voice:
            pieces[-1][1].append(word)
        else:
            pieces.append((voice, [word]))
    if len(pieces) == 1:
        voice = pieces[0][0]
        return [replace(segment, speaker=labels[voice] if voice is not None else None)]
    return [
        Segment(
            start=words[0].start if i else segment.start,
            end=words[-1].end if i < len(pieces) - 1 else segment.end,
            text="".join(w.word for w in words).strip(),
            words=tuple(words),
            speaker=labels[voice] if voice is not None else None,
        )
        for i, (voice, words) in enumerate(pieces)
    ]
