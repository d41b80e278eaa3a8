"""Benchmark: make the renditions of a long show, ours against the ffmpeg CLI.

Builds (once, cached) a stereo 44.1 kHz WAV by looping the real speech clips in
shared/testaudio with short gaps, then times, each in its own process:

* ``radio``: ``radio.media.renditions.render`` (two passes, MP3 48k + Ogg Opus 24k, peaks);
* ``ffmpeg-2pass``: loudnorm measure pass, then loudnorm with the measured values and
  ``linear=true`` feeding both encoders from one decode (the same job);
* ``ffmpeg-1pass``: single-pass (dynamic) loudnorm, for reference.

Every run prints one JSON line (wall and CPU seconds, the process's own peak RSS, and
the loudness and true peak of each decoded output); the last line has the ratios ours /
ffmpeg-2pass. Wall time suffers on a shared machine, CPU seconds much less. The show is
cached in ``$TMPDIR/radio-bench-ingest``. Without an ``ffmpeg`` on PATH, the ffmpeg
runs are skipped with a JSON line saying so.

Example: ``python bench/ingest.py --minutes 10``; the default is the full 3 hours.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from radio.media import renditions  # noqa: E402
from radio.media.loudness import LoudnessMeter  # noqa: E402

TESTAUDIO = Path(os.environ.get("RADIO_TESTAUDIO", ROOT.parent / "shared" / "testaudio"))
RATE = 44_100
GOAL_RSS_MB = 300
GOAL_RATIO = 1.2


def load_clips() -> list[np.ndarray]:
    """Every clip in the manifest as stereo int16 at 44.1 kHz."""
    with (TESTAUDIO / "manifest.tsv").open() as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    clips = []
    for row in rows:
        with av.open(str(TESTAUDIO / row["path"])) as container:
            resampler = av.AudioResampler("s16", "stereo", RATE)
            frames = [
                g for f in container.decode(audio=0) for g in resampler.resample(f)
            ] + resampler.resample(None)
            clips.append(np.concatenate([g.to_ndarray().reshape(-1, 2) for g in frames]))
    return clips


def make_show(path: Path, minutes: float) -> Path:
    """Loop the clips (in a fixed random order, 0.2-1 s gaps) into a long WAV, once."""
    if path.exists():
        return path
    clips, rng = load_clips(), np.random.default_rng(1)
    total, written = int(minutes * 60 * RATE), 0
    part = path.with_name(path.name + ".part")
    with wave.open(str(part), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(RATE)
        while written < total:
            gap = np.zeros((int(rng.uniform(0.2, 1.0) * RATE), 2), np.int16)
            block = np.concatenate([clips[rng.integers(len(clips))], gap])[: total - written]
            w.writeframes(block.tobytes())
            written += len(block)
    os.replace(part, path)
    return path


def _vm_hwm_mb(pid: int) -> float | None:
    """The process's own peak RSS so far (VmHWM restarts at exec, unlike ru_maxrss)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else None


def run(cmd: list[str]) -> tuple[float, float, float, str]:
    """Run ``cmd``; return wall seconds, its peak RSS in MB, CPU seconds and stderr.

    ru_maxrss of a child started by a big Python parent counts the parent's pages too
    (Linux carries the high-water mark across fork+exec), so the child's own VmHWM is
    polled instead; the last reading comes from within 50 ms of its exit.
    """
    start = time.perf_counter()
    peak = 0.0
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak = max(peak, _vm_hwm_mb(proc.pid) or 0.0)
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed:\n{stderr[-2000:]}")
    return wall, peak, usage.ru_utime + usage.ru_stime, stderr


def measure_output(path: Path) -> dict[str, float]:
    """Loudness and true peak of a decoded rendition (what a listener gets)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        meter = LoudnessMeter(stream.rate)
        resampler = av.AudioResampler("flt", "mono", stream.rate, frame_size=65536)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                meter.add(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            meter.add(out.to_ndarray().reshape(-1))
    return {"lufs": round(meter.integrated(), 2), "dbtp": round(meter.true_peak_dbtp, 2)}


def bench_radio(src: Path, out: Path) -> dict:
    cmd = [sys.executable, __file__, "--render-child", str(src), str(out)]
    wall, rss, cpu, err = run(cmd)
    levels = json.loads(err.strip().splitlines()[-1])
    return {
        "tool": "radio",
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss, 1),
        "cpu_s": round(cpu, 1),
        **{k: {m: round(v, 2) for m, v in d.items()} for k, d in levels.items()},
    }


def loudnorm_outputs(graph: str, src: Path, out: Path) -> list[str]:
    """One decode, one filter graph, both encoders: the job ``render`` does."""
    return [
        "ffmpeg",
        "-hide_banner",
        "-nostats",
        "-y",
        "-i",
        str(src),
        "-filter_complex",
        f"[0:a]{graph},aresample=24000,asplit=2[m][o]",
        "-map",
        "[m]",
        "-c:a",
        "libmp3lame",
        "-b:a",
        "48k",
        str(out / "audio.mp3"),
        "-map",
        "[o]",
        "-c:a",
        "libopus",
        "-b:a",
        "24k",
        str(out / "audio.opus"),
    ]


def bench_ffmpeg_two_pass(src: Path, out: Path) -> dict:
    # Downmix first, as render does, so both measure what they output.
    measure = "aformat=channel_layouts=mono,loudnorm=I=-16:TP=-1:print_format=json"
    wall1, rss1, cpu1, err = run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(src), "-af", measure, "-f", "null", "-"]
    )
    m = json.loads(err[err.rindex("{") : err.rindex("}") + 1])
    apply = (
        f"aformat=channel_layouts=mono,loudnorm=I=-16:TP=-1:measured_I={m['input_i']}"
        f":measured_TP={m['input_tp']}:measured_LRA={m['input_lra']}"
        f":measured_thresh={m['input_thresh']}:offset={m['target_offset']}"
        ":linear=true:print_format=json"
    )
    wall2, rss2, cpu2, err = run(loudnorm_outputs(apply, src, out))
    kind = re.findall(r'"normalization_type" : "(\w+)"', err)
    return {
        "tool": "ffmpeg-2pass",
        "wall_s": round(wall1 + wall2, 1),
        "pass1_s": round(wall1, 1),
        "pass2_s": round(wall2, 1),
        "peak_rss_mb": round(max(rss1, rss2), 1),
        "cpu_s": round(cpu1 + cpu2, 1),
        "normalization_type": kind[-1] if kind else None,
    }


def bench_ffmpeg_one_pass(src: Path, out: Path) -> dict:
    graph = "aformat=channel_layouts=mono,loudnorm=I=-16:TP=-1"
    wall, rss, cpu, _ = run(loudnorm_outputs(graph, src, out))
    return {
        "tool": "ffmpeg-1pass",
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss, 1),
        "cpu_s": round(cpu, 1),
    }


def emit(record: dict, minutes: float, out: Path | None, verify: bool) -> dict:
    record = {"bench": "ingest", "minutes": minutes, **record}
    if verify and out is not None:
        for kind in ("mp3", "opus"):
            record[kind] = measure_output(out / f"audio.{kind}")
    print(json.dumps(record), flush=True)
    return record


def render_child(src: str, out: str) -> None:
    result = renditions.render(Path(src), Path(out))
    sys.stderr.write(
        json.dumps(
            {
                "before": result.before.__dict__,
                "after": result.after.__dict__,
                "repairs": {"encodes": result.repairs},
            }
        )
        + "\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=180.0)
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "radio-bench-ingest"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip measuring the outputs")
    parser.add_argument("--radio-only", action="store_true", help="skip the ffmpeg runs")
    parser.add_argument("--render-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_child:
        return render_child(*args.render_child)
    args.workdir.mkdir(parents=True, exist_ok=True)
    src = make_show(args.workdir / f"show-{args.minutes:g}min.wav", args.minutes)
    verify = not args.no_verify
    ours = emit(
        bench_radio(src, args.workdir / "radio"), args.minutes, args.workdir / "radio", verify
    )
    if args.radio_only:
        return
    if shutil.which("ffmpeg") is None:
        emit({"tool": "ffmpeg", "skipped": "ffmpeg is not installed"}, args.minutes, None, False)
        return
    outs = {name: args.workdir / name for name in ("ffmpeg-2pass", "ffmpeg-1pass")}
    for out in outs.values():
        out.mkdir(exist_ok=True)
    two = emit(
        bench_ffmpeg_two_pass(src, outs["ffmpeg-2pass"]), args.minutes, outs["ffmpeg-2pass"], verify
    )
    emit(
        bench_ffmpeg_one_pass(src, outs["ffmpeg-1pass"]), args.minutes, outs["ffmpeg-1pass"], verify
    )
    # The machine may be shared: CPU seconds are the steadier comparison, so both are given.
    ratio = ours["wall_s"] / two["wall_s"]
    emit(
        {
            "tool": "summary",
            "ratio_radio_over_ffmpeg_2pass": round(ratio, 3),
            "cpu_ratio_radio_over_ffmpeg_2pass": round(ours["cpu_s"] / two["cpu_s"], 3),
            "radio_peak_rss_mb": ours["peak_rss_mb"],
            "goal_rss_ok": ours["peak_rss_mb"] < GOAL_RSS_MB,
            "goal_ratio_ok": ratio <= GOAL_RATIO,
        },
        args.minutes,
        None,
        False,
    )


if __name__ == "__main__":
    main()
