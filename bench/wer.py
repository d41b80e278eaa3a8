"""Word error rate: our Transcriber against bare faster-whisper, on the English test clips.

    /work/venv/bin/python bench/wer.py [--audio-dir DIR] [--model DIR]

Prints one JSON line per system (corpus WER over all clips) and per system for the two-party
stereo clip. "bare" is WhisperModel(path).transcribe(path) with every default (float32 on
this CPU); "bare_int8" the same with compute_type="int8", the type ours uses. The stereo clip's
reference is its LEFT text then its RIGHT text; "wer_mono_clips" leaves that clip out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _clips import DEFAULT_AUDIO_DIR, bundled_model_path, corpus_wer, load_clips  # noqa: E402
from faster_whisper import WhisperModel  # noqa: E402

from transcription.models import describe  # noqa: E402
from transcription.transcribe import Transcriber  # noqa: E402

STEREO = "stereo_diarization.wav"


def run_ours(model_dir: Path, paths: list[Path]) -> list[str]:
    transcriber = Transcriber(describe(model_dir, "bundled"))
    out = []
    for path in paths:
        segments, _ = transcriber.transcribe(path)
        out.append(" ".join(s.text for s in segments))
    return out


def run_bare(model_dir: Path, paths: list[Path], **kwargs: str) -> list[str]:
    model = WhisperModel(str(model_dir), **kwargs)
    out = []
    for path in paths:
        segments, _ = model.transcribe(str(path))
        out.append(" ".join(s.text for s in segments))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audio-dir", type=Path, default=DEFAULT_AUDIO_DIR)
    parser.add_argument("--model", type=Path, default=None, help="model folder (tiny.en)")
    args = parser.parse_args()
    model_dir = args.model or bundled_model_path()
    clips = load_clips(args.audio_dir, lang="en")
    paths = [c.path for c in clips]
    refs = [c.reference for c in clips]
    systems = {
        "ours": lambda: run_ours(model_dir, paths),
        "bare": lambda: run_bare(model_dir, paths),
        "bare_int8": lambda: run_bare(model_dir, paths, compute_type="int8"),
    }
    for name, run in systems.items():
        started = time.perf_counter()
        hyps = run()
        seconds = time.perf_counter() - started
        words = sum(len(r.split()) for r in refs)
        print(
            json.dumps(
                {
                    "bench": "wer",
                    "system": name,
                    "wer": round(corpus_wer(refs, hyps), 2),
                    # Without the two-party clip: the one-voice clips alone.
                    "wer_mono_clips": round(
                        corpus_wer(
                            [r for c, r in zip(clips, refs, strict=True) if c.path.name != STEREO],
                            [h for c, h in zip(clips, hyps, strict=True) if c.path.name != STEREO],
                        ),
                        2,
                    ),
                    "clips": len(clips),
                    "reference_words": words,
                    "seconds": round(seconds, 1),
                }
            ),
            flush=True,
        )
        for clip, hyp in zip(clips, hyps, strict=True):
            if clip.path.name == STEREO:
                print(
                    json.dumps(
                        {
                            "bench": "wer",
                            "system": name,
                            "clip": STEREO,
                            "wer": round(corpus_wer([clip.reference], [hyp]), 2),
                            "hypothesis": hyp,
                        }
                    ),
                    flush=True,
                )


if __name__ == "__main__":
    main()
