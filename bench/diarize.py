"""Speaker turns: diarization error rate, speakers found and time added, on built group calls.

    python bench/diarize.py [--minutes 10] [--halves tune,check] [--hour]

Each half's voices (clips split by a hash of their file name; settings were chosen on
``tune``) make one call of ``--minutes`` (bench/_calls.py: turns of 3-40 s, pauses, one
change in eight an overlap under 1 s). Printed per half, as JSON lines: DER with a 0.25 s
collar (missed, false alarm, confusion), speakers found against the truth, with and without
the number given, the seconds diarization takes beside the seconds tiny.en's transcription
of the same call takes (the goal: at most 25%), and with ``--hour`` the peak RSS of
diarizing an hour in a fresh process (the goal: under 1 GB).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))  # after the repo: bench/feeds.py

from _calls import build_call, der, voices_of_half  # noqa: E402
from _clips import bundled_model_path, write_wav  # noqa: E402

from transcription.diarize import diarize  # noqa: E402
from transcription.models import describe  # noqa: E402
from transcription.transcribe import Transcriber  # noqa: E402


def run_half(which: str, minutes: float, tmp: Path) -> None:
    voices = voices_of_half(which)
    call = build_call(voices, minutes)
    path = write_wav(tmp / f"call-{which}.wav", call.audio[None, :])
    seconds = len(call.audio) / 16_000
    for hint in (None, len(call.voices)):
        started = time.perf_counter()
        result = diarize(path, speakers=hint)
        took = time.perf_counter() - started
        found = [(t.start, t.end, str(t.speaker)) for t in result.turns]
        row = {
            "bench": "diarize",
            "half": which,
            "minutes": round(seconds / 60, 2),
            "speakers_given": hint,
            "speakers_true": len(call.voices),
            "speakers_found": len(result.voices),
            **der(call.truth, found),
            "diarize_s": round(took, 2),
        }
        print(json.dumps(row), flush=True)
    transcriber = Transcriber(describe(bundled_model_path(), "bundled", "tiny.en"))
    started = time.perf_counter()
    list(transcriber.transcribe(path, language="en")[0])
    transcribe_s = time.perf_counter() - started
    line = {
        "bench": "diarize",
        "half": which,
        "tiny_en_transcribe_s": round(transcribe_s, 2),
        "diarize_s": row["diarize_s"],
        "ratio": round(row["diarize_s"] / transcribe_s, 3),
    }
    print(json.dumps(line), flush=True)


def hour_rss(tmp: Path) -> None:
    call = build_call(voices_of_half("tune"), 10.0)
    path = write_wav(tmp / "hour.wav", np.tile(call.audio, 6)[None, :])
    code = (
        "import sys, time; from pathlib import Path;"
        "from transcription.diarize import diarize; t = time.perf_counter();"
        "d = diarize(Path(sys.argv[1]));"
        "print(len(d.voices), round(time.perf_counter() - t, 1),"
        " [int(l.split()[1]) // 1024 for l in open('/proc/self/status')"
        " if l.startswith('VmHWM')][0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout.split()
    print(
        json.dumps(
            {
                "bench": "diarize",
                "hour": True,
                "speakers_found": int(out[0]),
                "diarize_s": float(out[1]),
                "peak_rss_mb": int(out[2]),
            }
        ),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--halves", default="tune,check")
    parser.add_argument("--hour", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for which in args.halves.split(","):
            run_half(which, args.minutes, Path(tmp))
        if args.hour:
            hour_rss(Path(tmp))


if __name__ == "__main__":
    main()
