"""Speech to text with faster-whisper, on the CPU, from a model on disk only.

The file is read as a stream and transcribed in blocks of a few minutes, cut in pauses that
the VAD finds, so an hour-long show never sits in memory whole (faster-whisper's own
transcribe() decodes the whole file and computes the spectrogram of all of it at once:
more than 1 GB for an hour). Within a block only the speech is decoded, packed together
as faster-whisper's vad_filter does, and timestamps are mapped back to the file.

Segments are yielded as Whisper produces them, so a caller can store each one at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import ctranslate2
import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.tokenizer import _LANGUAGE_CODES
from faster_whisper.transcribe import restore_speech_timestamps
from faster_whisper.vad import VadOptions, get_speech_timestamps

from .channels import SAMPLE_RATE, UnreadableAudio, channel_layout, detect_two_party, iter_pcm
from .crosstalk import mute_cross_talk
from .hallucination import hallucination
from .leveller import level_channels
from .models import ModelInfo, ModelNotFoundError, normalise_language
from .segments import Segment, TranscriptInfo, Word

logger = logging.getLogger(__name__)

__all__ = ["Segment", "TranscriptInfo", "Transcriber", "UnreadableAudio", "Word"]

# Decoding settings; bench/wer.py and bench/transcribe.py measured them against faster-whisper's
# defaults (beam 5, previous text as prompt, no VAD). Previous-text prompting cost 0.5 points
# of WER nowhere but made one looping window on a show take twice as long; without it one bad
# window can't spill into the next, and each block starts clean anyway.
DECODE_OPTIONS: dict[str, object] = {
    "beam_size": 5,
    "condition_on_previous_text": False,
    "word_timestamps": True,
    "vad_filter": False,  # the VAD ran already, per block (see _blocks)
}
# Silero VAD: faster-whisper's defaults (0.5, 2 s of silence splits, 400 ms padding) kept every
# word of the test clips and none of the music bars between them, except that a fresh VAD
# state sometimes flags ~60 ms of a chord's attack; Whisper then stretched the next word back
# over the music. Real words last longer than 150 ms.
VAD_OPTIONS = VadOptions(min_speech_duration_ms=150)
BLOCK_SECONDS = 240.0  # audio per block: a few MB of samples, ~40 MB of spectrogram
MAX_BLOCK_SECONDS = 480.0  # past this, cut even mid-speech (a call where nobody ever pauses)
CUT_MARGIN_SECONDS = 1.0  # the VAD can't judge the last moments of a buffer: never cut there
DETECT_SECONDS = 30.0  # Whisper detects the language from one 30 s window
RANDOM_SEED = 20261102
GROUP_GAP_SECONDS = 0.5  # a pause this long between VAD chunks may end a decoding run
RUN_SECONDS = 25.0  # speech per decoding run, at most (unless one utterance is longer)
SWITCH_CONFIDENCE = 0.7  # a block's own language wins over the show's when this sure
HOLE_SECONDS = 2.0  # a chunk's first speech left without a word this long is decoded again
MAX_HOLE_SECONDS = 30.0  # one window: longer, Whisper heard nothing there, it didn't skip

ProgressFn = Callable[[float, float], None]


# Loading a model takes seconds; a worker transcribing many episodes loads each only once.
_models: dict[tuple[str, int, str], WhisperModel] = {}
_models_lock = threading.Lock()


def load_whisper(model: ModelInfo, threads: int = 0, compute_type: str = "int8") -> WhisperModel:
    key = (str(model.path), threads, compute_type)
    with _models_lock:
        if key not in _models:
            if not (model.path / "tokenizer.json").is_file():
                # Without it faster-whisper fetches a tokenizer from the internet.
                raise ModelNotFoundError(
                    f"{model.path} has no tokenizer.json; copy the tokenizer.json of the same "
                    "Whisper model beside its model.bin."
                )
            logger.info("loading Whisper %s from %s", model.name, model.path)
            # Whisper samples when it falls back to a higher temperature. CTranslate2 seeds
            # each of its threads' generators once, from this, when the thread first samples:
            # so a fresh process gives the same transcript of a file on every run.
            ctranslate2.set_random_seed(RANDOM_SEED)
            _models[key] = WhisperModel(
                str(model.path),
                device="cpu",
                compute_type=compute_type,
                cpu_threads=threads,
                local_files_only=True,
            )
        return _models[key]


class Transcriber:
    def __init__(self, model: ModelInfo, threads: int = 0, compute_type: str = "int8") -> None:
        self.model = model
        self.whisper = load_whisper(model, threads, compute_type)

    def transcribe(
        self,
        path: Path,
        *,
        language: str | None = None,
        start_at: float = 0.0,
        speaker_names: Sequence[str] | None = None,
        progress: ProgressFn | None = None,
    ) -> tuple[Iterator[Segment], TranscriptInfo]:
        """Transcribe `path` from `start_at` seconds on; segments come lazily, in time order.

        A two-party stereo call is transcribed one channel at a time, its segments labelled
        with `speaker_names` (or "Speaker 1", "Speaker 2"). A mono show given one speaker name
        has every segment labelled with it. Returns ``(segments, info)``, in faster-whisper's
        order. Raises UnreadableAudio when the file can't be read.
        """
        path = Path(path)
        duration = channel_layout(path).duration
        two_party = detect_two_party(path)
        labels = _labels(two_party, speaker_names)
        start_at = max(0.0, float(start_at))
        blocks = _blocks(iter_pcm(path, stereo=two_party, start_at=start_at), start_at)
        blocks, lang, prob = self._language(blocks, language)
        info = TranscriptInfo(lang, prob, duration, self.model.name, labels)
        logger.info(
            "%s: %.0f s, %s, language %s (%.2f), from %.1f s",
            path.name,
            duration,
            "two-party call" if two_party else "one mix",
            lang,
            prob,
            start_at,
        )
        detect = self.whisper.model.is_multilingual and not _known_language(language)
        return self._segments(blocks, lang, labels, duration, progress, detect), info

    def _language(
        self, blocks: Iterator[_Block], language: str | None
    ) -> tuple[Iterator[_Block], str, float]:
        """Fix the language before the first segment: given, English-only model, or detected."""
        lang = normalise_language(language)
        if not self.whisper.model.is_multilingual:
            if lang and lang != "en":
                logger.warning("%s is English only; transcribing as English", self.model.name)
            return blocks, "en", 1.0
        if lang in _LANGUAGE_CODES:
            return blocks, lang, 1.0
        if lang:
            logger.warning("unknown language code %r; detecting the language instead", language)
        seen: list[_Block] = []
        for block in blocks:
            seen.append(block)
            sample = _speech_sample(block)
            if sample is not None:
                lang, prob, _ = self.whisper.detect_language(audio=sample)
                return _chain(seen, blocks), lang, float(prob)
            if len(seen) >= 3:  # a long intro without speech: don't hold more of the file
                break
        return _chain(seen, blocks), "en", 0.0

    def _segments(
        self,
        blocks: Iterable[_Block],
        language: str,
        labels: tuple[str, ...],
        duration: float,
        progress: ProgressFn | None,
        detect: bool = False,
    ) -> Iterator[Segment]:
        report = progress or (lambda done, total: None)
        for block in blocks:
            lang = self._block_language(block, language) if detect else language
            if len(block.audio) == 2:
                # Each party alone, then in time order: both channels' segments of one block.
                merged = [
                    seg for ch in range(2) for seg in self._channel(block, ch, lang, labels[ch])
                ]
                yield from sorted(merged, key=lambda s: s.start)
            else:
                speaker = labels[0] if labels else None
                for seg in self._channel(block, 0, lang, speaker):
                    yield seg
                    report(min(seg.end, duration), duration)
            report(min(float(block.end), duration), duration)
        report(duration, duration)

    def _block_language(self, block: _Block, language: str) -> str:
        """A long show may switch language: each block's own, when Whisper is sure of it."""
        sample = _speech_sample(block)
        if sample is None:
            return language
        found, prob, _ = self.whisper.detect_language(audio=sample)
        if found != language and prob >= SWITCH_CONFIDENCE:
            logger.info("from %.0f s the language is %s (%.2f)", block.offset, found, prob)
            return found
        return language

    def _channel(
        self, block: _Block, channel: int, language: str, speaker: str | None
    ) -> Iterator[Segment]:
        audio = block.audio[channel]
        for group in _groups(block.speech[channel]):
            found = list(self._decode(audio, group, block.offset, language, speaker))
            # Whisper sometimes jumps over the first seconds of a run (seen after a muted
            # stretch of cross-talk: a whole 5 s sentence): that speech is heard once more.
            for skipped in _skipped_starts(group, found, block.offset):
                found += self._decode(audio, [skipped], block.offset, language, speaker)
            yield from sorted(found, key=lambda s: s.start)

    def _decode(
        self,
        audio: np.ndarray,
        chunks: list[dict],
        offset: float,
        language: str,
        speaker: str | None,
    ) -> Iterator[Segment]:
        """One run of Whisper over some speech chunks packed together, as faster-whisper's
        own VAD filter does, with the timestamps put back where they were said."""
        speech = np.concatenate([audio[c["start"] : c["end"]] for c in chunks])
        raw, _ = self.whisper.transcribe(speech, language=language, **DECODE_OPTIONS)
        for seg in restore_speech_timestamps(raw, chunks, SAMPLE_RATE):
            text = seg.text.strip()
            if not text or hallucination(seg, offset):
                continue
            off = offset
            words = tuple(
                Word(_seconds(w.start, off), _seconds(w.end, off), w.word, float(w.probability))
                for w in seg.words or ()
            )
            yield Segment(_seconds(seg.start, off), _seconds(seg.end, off), text, words, speaker)


def _skipped_starts(chunks: list[dict], found: list[Segment], offset: float) -> list[dict]:
    """Each chunk's opening speech that got no word, when Whisper seems to have jumped over
    it: at least ``HOLE_SECONDS`` and at most one window (``MAX_HOLE_SECONDS``).

    A chunk's start is where packing joined speech that was apart, and where Whisper's first
    timestamp may leap ahead. Nothing when the run gave no words at all, or the wordless
    stretch is longer than a window: decoding that again gives the same nothing (a language
    the model lacks, noise the VAD took for speech), at the cost of a second decode.
    """
    starts = sorted(int((w.start - offset - 0.3) * SAMPLE_RATE) for s in found for w in s.words)
    if not starts:
        return []
    skipped = []
    for chunk in chunks:
        first = next((t for t in starts if t >= chunk["start"]), chunk["end"])
        end = min(first, chunk["end"])
        if HOLE_SECONDS <= (end - chunk["start"]) / SAMPLE_RATE <= MAX_HOLE_SECONDS:
            skipped.append({"start": chunk["start"], "end": end})
    return skipped


def _groups(chunks: list[dict]) -> Iterator[list[dict]]:
    """Speech chunks in runs of at most ``RUN_SECONDS`` of speech, cut at real pauses.

    Packing a whole block into one stream let Whisper jump over a quiet voice inside a
    30 s window (with base, a -20 dB sentence after a loud one vanished); a run per
    utterance cost a window each (base 1.3x bare's time). Runs of about half a window,
    ended at a pause of ``GROUP_GAP_SECONDS`` or more, keep both.
    """
    run: list[dict] = []
    speech = 0
    for chunk in chunks:
        paused = bool(run) and chunk["start"] - run[-1]["end"] >= GROUP_GAP_SECONDS * SAMPLE_RATE
        length = chunk["end"] - chunk["start"]
        if paused and speech + length > RUN_SECONDS * SAMPLE_RATE:
            yield run
            run, speech = [], 0
        run.append(chunk)
        speech += length
    if run:
        yield run


def _known_language(language: str | None) -> bool:
    return normalise_language(language) in _LANGUAGE_CODES


def _seconds(t: float, offset: float) -> float:
    # Plain floats (faster-whisper hands out numpy scalars), to the millisecond.
    return round(float(t) + offset, 3)


def _labels(two_party: bool, names: Sequence[str] | None) -> tuple[str, ...]:
    names = [n.strip() for n in names or () if n and n.strip()]
    if two_party:
        return tuple(names[i] if i < len(names) else f"Speaker {i + 1}" for i in range(2))
    return (names[0],) if len(names) == 1 else ()


# --- blocks of audio cut in pauses -------------------------------------------------------


@dataclass(frozen=True)
class _Block:
    offset: float  # seconds into the file of the block's first sample
    audio: np.ndarray  # (channels, samples)
    speech: list[list[dict]]  # per channel: VAD chunks {"start", "end"} in block samples

    @property
    def end(self) -> float:
        return self.offset + self.audio.shape[1] / SAMPLE_RATE


def _blocks(chunks: Iterable[np.ndarray], start_at: float) -> Iterator[_Block]:
    """Group streamed PCM into blocks that end in a pause of every channel."""
    pending: list[np.ndarray] = []
    have = 0
    offset = 0  # samples after start_at
    for chunk in chunks:
        pending.append(chunk)
        have += chunk.shape[1]
        if have < BLOCK_SECONDS * SAMPLE_RATE:
            continue
        raw = np.concatenate(pending, axis=1)
        audio = _levelled(raw)
        speech = [get_speech_timestamps(ch, VAD_OPTIONS) for ch in audio]
        cut = _cut_point(speech, audio.shape[1], force=have >= MAX_BLOCK_SECONDS * SAMPLE_RATE)
        if cut is None:
            pending = [raw]
            continue
        yield _Block(start_at + offset / SAMPLE_RATE, audio[:, :cut], _clip(speech, cut))
        rest = raw[:, cut:].copy()  # a copy, so the finished block's memory is freed
        offset += cut
        pending, have = [rest], rest.shape[1]
    if have:
        audio = _levelled(np.concatenate(pending, axis=1))
        speech = [get_speech_timestamps(ch, VAD_OPTIONS) for ch in audio]
        yield _Block(start_at + offset / SAMPLE_RATE, audio, speech)


def _levelled(audio: np.ndarray) -> np.ndarray:
    """Each channel's voices at one level, so the VAD and Whisper hear quiet callers too,
    and (on a two-party call) without the other party's cross-talk."""
    return mute_cross_talk(audio, level_channels(audio, SAMPLE_RATE), SAMPLE_RATE)


def _cut_point(speech: list[list[dict]], n: int, force: bool) -> int | None:
    """The middle of the last pause (in every channel) that ends before the buffer's margin."""
    limit = n - int(CUT_MARGIN_SECONDS * SAMPLE_RATE)
    busy = _merge([(c["start"], c["end"]) for chunks in speech for c in chunks])
    gaps = []
    previous_end = 0
    for start, end in [*busy, (n, n)]:
        gap_end = min(start, limit)
        if gap_end > previous_end:
            gaps.append((previous_end, gap_end))
        previous_end = max(previous_end, end)
    gaps = [g for g in gaps if g[1] > 0 and (g[0] + g[1]) // 2 > 0]
    if gaps:
        return (gaps[-1][0] + gaps[-1][1]) // 2
    return limit if force else None


def _merge(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _clip(speech: list[list[dict]], cut: int) -> list[list[dict]]:
    return [
        [{"start": c["start"], "end": min(c["end"], cut)} for c in chunks if c["start"] < cut]
        for chunks in speech
    ]


def _speech_sample(block: _Block) -> np.ndarray | None:
    """Up to 30 s of the block's speech, from the channel that has the most."""
    best = max(
        range(len(block.speech)),
        key=lambda ch: sum(c["end"] - c["start"] for c in block.speech[ch]),
    )
    chunks = block.speech[best]
    if not chunks:
        return None
    audio = block.audio[best]
    return np.concatenate([audio[c["start"] : c["end"]] for c in chunks])[
        : int(DETECT_SECONDS * SAMPLE_RATE)
    ]


def _chain(first: list[_Block], rest: Iterator[_Block]) -> Iterator[_Block]:
    yield from first
    yield from rest
