"""Word error rate: our Transcriber beside bare faster-whisper (same model), on a tuning half
and a checking half of the test clips.

    python bench/wer.py [--model tiny.en|base|DIR] [--suites clips,levels,stereo,overlap,languages]

The English clips of ../shared/testaudio are split in two by a hash of their file name:
settings were chosen on ``tune``; ``check`` is what we report. Suites, each printed as
one JSON line per system and half:

- ``clips``: each clip transcribed alone; corpus WER.
- ``levels``: the half's clips joined into one show, each at a gain from -20 to +6 dB,
  with 1-3 s pauses on a faint noise floor; WER of the words placed inside each clip,
  overall and per gain.
- ``stereo``: the half's clips as a two-party call, one voice per channel taking turns;
  WER per channel (bare hears the downmix, as it would).
- ``overlap``: the half's clips as a call where both parties talk at once, each leaking
  into the other's channel 15 and 30 dB down; WER per channel, and how many of our words
  went to the wrong party.
- ``languages``: the other languages' clips with the multilingual model (CER for Japanese);
  too few to split, so ``all``.

"ours" is the archive's Transcriber; "bare" is ``WhisperModel(path).transcribe(path)`` with
every default (word timestamps on, which do not change the words); "bare_int8" the same
with compute_type="int8", the type ours uses.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))  # after the repo: bench/feeds.py

from _clips import (  # noqa: E402
    DEFAULT_AUDIO_DIR,
    SAMPLE_RATE,
    Clip,
    corpus_wer,
    decode_mono,
    load_clips,
    write_wav,
)
from faster_whisper import WhisperModel  # noqa: E402

from transcription.models import ModelInfo, find_models  # noqa: E402
from transcription.transcribe import Transcriber  # noqa: E402

GAINS = (-20, -14, -9, -4, 0, 3, 6)
Timed = list[tuple[float, float, str]]  # words: start, end, text


def half(clip: Clip) -> str:
    digest = hashlib.sha1(clip.path.name.encode()).hexdigest()
    return "tune" if int(digest, 16) % 2 == 0 else "check"


def pick(name: str) -> ModelInfo:
    models = find_models(None, Path(tempfile.mkdtemp(prefix="wer-models-")))
    for model in models:
        if name in (model.name, str(model.path)) or (name == "base" and model.multilingual):
            return model
    raise SystemExit(f"no model {name!r}; installed: {[m.name for m in models]}")


class Systems:
    def __init__(self, model: ModelInfo) -> None:
        self.model = model
        self.ours = Transcriber(model)
        self.bare = {
            "bare": WhisperModel(str(model.path)),
            "bare_int8": WhisperModel(str(model.path), compute_type="int8"),
        }

    def words(self, system: str, path: Path, speakers: list[str] | None = None):
        """(words, text, speaker of each word) of one file."""
        if system == "ours":
            segments, _ = self.ours.transcribe(path, speaker_names=speakers)
            segments = list(segments)
            items = [(w.start, w.end, w.word, s.speaker) for s in segments for w in s.words]
            return items, " ".join(s.text for s in segments)
        segments, _ = self.bare[system].transcribe(str(path), word_timestamps=True)
        segments = list(segments)
        items = [(w.start, w.end, w.word, None) for s in segments for w in s.words or ()]
        return items, " ".join(s.text for s in segments)


def inside(items, start: float, end: float, speaker: str | None = None) -> str:  # noqa: ANN001
    return " ".join(
        w
        for a, b, w, who in items
        if start - 0.3 <= (a + b) / 2 <= end + 0.3 and (speaker is None or who == speaker)
    )


def clips_suite(systems: Systems, clips: list[Clip], _tmp: Path) -> dict[str, dict]:
    out = {}
    for name in ("ours", "bare", "bare_int8"):
        texts = [systems.words(name, c.path)[1] for c in clips]
        out[name] = {"wer": round(corpus_wer([c.reference for c in clips], texts), 2)}
    return out


def levels_suite(systems: Systems, clips: list[Clip], tmp: Path) -> dict[str, dict]:
    rng = np.random.default_rng(1)
    parts, spans, pos = [], [], 0
    for i, clip in enumerate(clips):
        gain = GAINS[i % len(GAINS)]
        audio = decode_mono(clip.path) * np.float32(10 ** (gain / 20))
        pause = np.zeros(int(rng.uniform(1.0, 3.0) * SAMPLE_RATE), dtype=np.float32)
        spans.append((pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE, clip.reference, gain))
        parts += [audio, pause]
        pos += len(audio) + len(pause)
    mix = np.concatenate(parts)
    mix += rng.normal(0, 10 ** (-60 / 20), len(mix)).astype(np.float32)
    path = write_wav(tmp / "levels.wav", mix[None, :])
    out = {}
    for name in ("ours", "bare", "bare_int8"):
        items, _ = systems.words(name, path)
        hyps = [inside(items, a, b) for a, b, _, _ in spans]
        by_gain = {
            str(g): round(
                corpus_wer(
                    [s[2] for s in spans if s[3] == g],
                    [h for s, h in zip(spans, hyps, strict=True) if s[3] == g],
                ),
                1,
            )
            for g in GAINS
            if any(s[3] == g for s in spans)
        }
        out[name] = {"wer": round(corpus_wer([s[2] for s in spans], hyps), 2), "by_gain": by_gain}
    return out


def stereo_suite(systems: Systems, clips: list[Clip], tmp: Path) -> dict[str, dict]:
    rng = np.random.default_rng(2)
    channels: list[list[np.ndarray]] = [[], []]
    spans, pos = [], 0
    for i, clip in enumerate(clips):
        audio = decode_mono(clip.path) * np.float32(10 ** (rng.uniform(-12, 0) / 20))
        pause = np.zeros(int(rng.uniform(0.5, 2.0) * SAMPLE_RATE), dtype=np.float32)
        talker = i % 2
        channels[talker].append(np.concatenate([audio, pause]))
        channels[1 - talker].append(np.zeros(len(audio) + len(pause), dtype=np.float32))
        spans.append(
            (pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE, clip.reference, "LR"[talker])
        )
        pos += len(audio) + len(pause)
    call = np.stack([np.concatenate(c) for c in channels])
    call += rng.normal(0, 10 ** (-62 / 20), call.shape).astype(np.float32)
    return per_channel(systems, write_wav(tmp / "call.wav", call), spans)


def overlap_suite(systems: Systems, clips: list[Clip], tmp: Path) -> dict[str, dict]:
    """Both parties talk at once, each leaking into the other's channel 15 and 30 dB down."""
    rng = np.random.default_rng(3)
    channels: list[list[np.ndarray]] = [[], []]
    spans = []
    for ch in range(2):
        pos = int(rng.uniform(0, 2) * SAMPLE_RATE)
        channels[ch].append(np.zeros(pos, dtype=np.float32))
        for clip in clips[ch::2]:
            audio = decode_mono(clip.path)
            spans.append(
                (pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE, clip.reference, "LR"[ch])
            )
            gap = int(rng.uniform(0.3, 1.5) * SAMPLE_RATE)
            channels[ch] += [audio, np.zeros(gap, dtype=np.float32)]
            pos += len(audio) + gap
    n = max(sum(len(p) for p in c) for c in channels)
    call = np.zeros((2, n), dtype=np.float32)
    for ch in range(2):
        voice = np.concatenate(channels[ch])
        call[ch, : len(voice)] = voice
    out: dict[str, dict] = {}
    for leak_db in (-15, -30):
        leaky = call + np.float32(10 ** (leak_db / 20)) * call[::-1]
        path = write_wav(tmp / f"overlap{leak_db}.wav", leaky)
        for name, figures in per_channel(systems, path, spans).items():
            out.setdefault(name, {})[f"leak{leak_db}"] = figures
    return out


def per_channel(systems: Systems, path: Path, spans: list) -> dict[str, dict]:
    """WER of each party's turns, and ours' words given to the wrong party (none should be)."""
    out = {}
    for name in ("ours", "bare", "bare_int8"):
        items, _ = systems.words(name, path, ["L", "R"])
        per, stray = {}, 0
        for who in "LR":
            mine = [s for s in spans if s[3] == who]
            speaker = who if name == "ours" else None
            hyps = [inside(items, a, b, speaker) for a, b, _, _ in mine]
            per[who] = round(corpus_wer([s[2] for s in mine], hyps), 2)
            if name == "ours":
                stray += sum(
                    1
                    for a, b, _, w in items
                    if w == who
                    and not any(s - 0.3 <= (a + b) / 2 <= e + 0.3 for s, e, _, _ in mine)
                )
        out[name] = {
            "wer_per_channel": per,
            **({"wrong_party_words": stray} if name == "ours" else {}),
        }
    return out


def languages_suite(audio_dir: Path, model: ModelInfo) -> None:
    import jiwer
    from whisper_normalizer.basic import BasicTextNormalizer

    if not model.multilingual:
        return
    normal = BasicTextNormalizer()
    systems = Systems(model)
    for clip in load_clips(audio_dir, lang=None):
        if clip.lang == "en":
            continue
        row = {"bench": "wer", "suite": "languages", "clip": clip.path.name, "lang": clip.lang}
        for name in ("ours", "bare", "bare_int8"):
            _, text = systems.words(name, clip.path)
            ref, hyp = normal(clip.reference), normal(text)
            if clip.lang in ("ja", "zh", "ko"):  # no spaces between words: characters
                ref, hyp = " ".join(ref.replace(" ", "")), " ".join(hyp.replace(" ", ""))
                row[f"{name}_cer"] = round(100 * jiwer.wer(ref, hyp or "-"), 1)
            else:
                row[f"{name}_wer"] = round(100 * jiwer.wer(ref, hyp or "-"), 1)
        print(json.dumps(row, ensure_ascii=False), flush=True)


SUITES = {
    "clips": clips_suite,
    "levels": levels_suite,
    "stereo": stereo_suite,
    "overlap": overlap_suite,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio-dir", type=Path, default=DEFAULT_AUDIO_DIR)
    parser.add_argument("--model", default="tiny.en", help="tiny.en, base or a model folder")
    parser.add_argument("--suites", default="clips,levels,stereo,overlap,languages")
    parser.add_argument("--halves", default="tune,check")
    args = parser.parse_args()
    model = pick(args.model)
    systems = Systems(model)
    english = [c for c in load_clips(args.audio_dir, lang="en") if c.speakers == "1"]
    with tempfile.TemporaryDirectory() as tmp:
        for suite in args.suites.split(","):
            if suite == "languages":
                languages_suite(args.audio_dir, model)
                continue
            for which in args.halves.split(","):
                clips = [c for c in english if half(c) == which]
                started = time.perf_counter()
                results = SUITES[suite](systems, clips, Path(tmp))
                for name, figures in results.items():
                    line = {
                        "bench": "wer",
                        "suite": suite,
                        "half": which,
                        "system": name,
                        "model": model.name,
                        "clips": len(clips),
                        **figures,
                    }
                    print(json.dumps(line), flush=True)
                print(
                    json.dumps(
                        {
                            "bench": "wer",
                            "suite": suite,
                            "half": which,
                            "seconds": round(time.perf_counter() - started, 1),
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
