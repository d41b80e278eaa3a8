"""Recall through search: of the words said in a show with speakers from -20 to +6 dB, the
share that ``radio search`` finds at the right moment, beside what bare faster-whisper
hears of each clip alone.

    python bench/recall.py [--minutes 20] [--model tiny.en|base] [--half check]

Builds a show of the half's English clips (bench/wer.py's split) at gains from -20 to
+6 dB with 1-3 s pauses on a faint noise floor, takes it into a fresh archive and
processes it with the real pipeline, then searches every distinct word of four letters or
more of each clip's reference: a word counts as found when a hit of that episode starts
inside the clip's time. "bare" is the share of the same words in bare faster-whisper's
transcript of each clip alone (same model, defaults). Prints one JSON line; the goal is
ours >= 0.95 x bare.
"""

from __future__ import annotations

import argparse
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
    decode_mono,
    load_clips,
    normalise,
    write_wav,  # noqa: E402
)
from faster_whisper import WhisperModel  # noqa: E402
from wer import GAINS, half, pick  # noqa: E402

from radio import create_app  # noqa: E402
from radio.data.search import search  # noqa: E402
from radio.db import connect, database_path  # noqa: E402
from radio.jobs import pipeline  # noqa: E402
from radio.jobs.ingest import Limits, Metadata, ingest_file  # noqa: E402


def build(clips, minutes: float, tmp: Path):  # noqa: ANN001, ANN201
    rng = np.random.default_rng(5)
    parts, spans, pos, i = [], [], 0, 0
    while pos < minutes * 60 * SAMPLE_RATE:
        clip = clips[i % len(clips)]
        gain = GAINS[(i * 3) % len(GAINS)]
        audio = decode_mono(clip.path) * np.float32(10 ** (gain / 20))
        pause = np.zeros(int(rng.uniform(1.0, 3.0) * SAMPLE_RATE), dtype=np.float32)
        spans.append((pos / SAMPLE_RATE, (pos + len(audio)) / SAMPLE_RATE, clip, gain))
        parts += [audio, pause]
        pos += len(audio) + len(pause)
        i += 1
    show = np.concatenate(parts)
    show += rng.normal(0, 10 ** (-60 / 20), len(show)).astype(np.float32)
    return write_wav(tmp / "show.wav", show[None, :]), spans


def words_of(text: str) -> set[str]:
    return {w for w in normalise(text).split() if len(w) >= 4}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio-dir", type=Path, default=DEFAULT_AUDIO_DIR)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--half", default="check")
    args = parser.parse_args()
    model = pick(args.model)
    clips = [
        c
        for c in load_clips(args.audio_dir, lang="en")
        if c.speakers == "1" and half(c) == args.half
    ]
    bare = WhisperModel(str(model.path))
    heard = {
        c.path: words_of(" ".join(s.text for s in bare.transcribe(str(c.path))[0])) for c in clips
    }
    with tempfile.TemporaryDirectory() as tmp:
        path, spans = build(clips, args.minutes, Path(tmp))
        config = {
            "HOME": str(Path(tmp) / "home"),
            "SECRET_KEY": "bench",
            "WHISPER_MODEL": str(model.path),
            "TRANSCRIBE": True,
        }
        app = create_app(config)
        db = connect(database_path(app))
        result = ingest_file(db, app.config["HOME"], path, Metadata(title="Levels"), Limits())
        started = time.perf_counter()
        assert pipeline.process(db, app.config, result.episode_id) == "ready"
        seconds = time.perf_counter() - started
        said = found = bare_found = 0
        cache: dict[str, list[float]] = {}
        for start, end, clip, _gain in spans:
            for word in words_of(clip.reference):
                if word not in cache:
                    hits = search(db, word, per_page=5, hits_per_episode=10_000)
                    cache[word] = [h.time for e in hits.episodes for h in e.hits]
                said += 1
                found += any(start - 0.5 <= t <= end + 0.5 for t in cache[word])
                bare_found += word in heard[clip.path]
    print(
        json.dumps(
            {
                "bench": "recall",
                "model": model.name,
                "half": args.half,
                "minutes": args.minutes,
                "clips": len(clips),
                "words": said,
                "ours": round(found / said, 4),
                "bare_each_clip_alone": round(bare_found / said, 4),
                "ratio": round((found / said) / (bare_found / said), 4),
                "process_seconds": round(seconds, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
