"""Speed, memory and music hallucinations: our Transcriber against bare faster-whisper.

    /work/venv/bin/python bench/transcribe.py                 # 10-minute show
    /work/venv/bin/python bench/transcribe.py --minutes 60    # 1-hour show, peak RSS

Builds a show of the English test clips with 1-3 s pauses and bars of synthetic music (tones
and chords) between them, then transcribes it with each system in its own process (so peak
RSS is that system's own) and prints one JSON line per run and one per comparison:
wall and CPU seconds (model load excluded), real-time factor, peak RSS, WER against the
clips' references, and any text placed inside the music bars.

Systems, with ``--model`` tiny.en, base or a folder: "ours" (Transcriber, int8); "bare_int8"
(WhisperModel(path, compute_type="int8").transcribe(path), every other setting default:
same model, same compute type); "bare" (WhisperModel(path).transcribe(path), all defaults:
float32 on this CPU).
Bare has no word timestamps, so its music check uses segment midpoints.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.append(str(Path(__file__).resolve().parent))  # after the repo: bench/feeds.py

from _clips import (  # noqa: E402
    DEFAULT_AUDIO_DIR,
    build_show,
    corpus_wer,
    load_clips,
    text_inside,
)

SYSTEMS = ("ours", "bare_int8", "bare")


def run_child(system: str, audio: Path, meta_path: Path, model_name: str) -> dict:
    """Transcribe in this process and report its figures (called in a fresh interpreter)."""
    from wer import pick

    meta = json.loads(meta_path.read_text())
    model = pick(model_name)
    model_dir = model.path
    started = time.perf_counter()
    if system == "ours":
        from transcription.transcribe import Transcriber

        transcriber = Transcriber(model)
        load = time.perf_counter() - started
        t0, c0 = time.perf_counter(), time.process_time()
        segments, _ = transcriber.transcribe(audio)
        segments = list(segments)
        items = [(w.start, w.end, w.word) for s in segments for w in s.words]
    else:
        from faster_whisper import WhisperModel

        kwargs = {"compute_type": "int8"} if system == "bare_int8" else {}
        whisper = WhisperModel(str(model_dir), **kwargs)
        load = time.perf_counter() - started
        t0, c0 = time.perf_counter(), time.process_time()
        raw, _ = whisper.transcribe(str(audio))
        segments = list(raw)
        items = [(s.start, s.end, s.text) for s in segments]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    hyp = " ".join(s.text for s in segments)
    music = text_inside([tuple(m) for m in meta["music"]], items)
    return {
        "bench": "transcribe",
        "system": system,
        "model": model.name,
        "minutes": round(meta["duration"] / 60, 2),
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "rtf": round(wall / meta["duration"], 4),
        "load_s": round(load, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "wer": round(corpus_wer([" ".join(meta["references"])], [hyp]), 2),
        "segments": len(segments),
        "music_text": [t.strip() for t in music],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--systems", default=None, help=f"comma-separated, from {SYSTEMS}")
    parser.add_argument("--repeat", type=int, default=1, help="runs per system, interleaved")
    parser.add_argument("--audio-dir", type=Path, default=DEFAULT_AUDIO_DIR)
    parser.add_argument("--workdir", type=Path, default=None, help="keep the show here")
    parser.add_argument("--model", default="tiny.en", help="tiny.en, base or a model folder")
    parser.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    parser.add_argument("--audio", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--meta", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child:
        print(json.dumps(run_child(args.child, args.audio, args.meta, args.model)), flush=True)
        return

    default = "ours,bare_int8,bare" if args.minutes <= 15 else "ours,bare_int8"
    systems = (args.systems or default).split(",")
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="bench-transcribe-"))
    workdir.mkdir(parents=True, exist_ok=True)
    # Single-speaker clips only: two people talking at once, mixed to mono, isn't a show.
    clips = [c for c in load_clips(args.audio_dir, lang="en") if c.speakers == "1"]
    audio = workdir / f"show-{args.minutes:g}min.wav"
    show = build_show(audio, clips, minutes=args.minutes)
    meta = workdir / f"show-{args.minutes:g}min.json"
    meta.write_text(
        json.dumps({"duration": show.duration, "references": show.references, "music": show.music})
    )
    print(
        json.dumps(
            {
                "bench": "transcribe",
                "show": str(audio),
                "minutes": round(show.duration / 60, 2),
                "clips": len(show.references),
                "music_bars": len(show.music),
                "music_s": round(sum(b - a for a, b in show.music), 1),
            }
        ),
        flush=True,
    )

    results: dict[str, list[dict]] = {s: [] for s in systems}
    for _ in range(args.repeat):
        for system in systems:
            cmd = [sys.executable, __file__, "--child", system, "--audio", str(audio)]
            cmd += ["--model", args.model]
            out = subprocess.run(
                [*cmd, "--meta", str(meta)], capture_output=True, text=True, check=True
            )
            result = json.loads(out.stdout.strip().splitlines()[-1])
            results[system].append(result)
            print(json.dumps(result), flush=True)

    if "ours" in results:
        ours = _median(results["ours"])
        for system in systems:
            if system == "ours":
                continue
            bare = _median(results[system])
            print(
                json.dumps(
                    {
                        "bench": "transcribe",
                        "compare": f"ours/{system}",
                        "minutes": ours["minutes"],
                        "wall_ratio": round(ours["wall_s"] / bare["wall_s"], 3),
                        "cpu_ratio": round(ours["cpu_s"] / bare["cpu_s"], 3),
                        "wer": [ours["wer"], bare["wer"]],
                        "peak_rss_mb": [ours["peak_rss_mb"], bare["peak_rss_mb"]],
                        "music_text_count": [len(ours["music_text"]), len(bare["music_text"])],
                    }
                ),
                flush=True,
            )


def _median(runs: list[dict]) -> dict:
    """The run of median wall time (machines here are shared and noisy)."""
    return sorted(runs, key=lambda r: r["wall_s"])[len(runs) // 2]


if __name__ == "__main__":
    main()
