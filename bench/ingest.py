"""Benchmark: make the renditions of a long show, ours against ffmpeg's loudnorm.

Builds (once, cached) a stereo 44.1 kHz WAV by looping the real speech clips in
shared/testaudio with short gaps, and two quiet phone-call-like recordings (-38 LUFS,
phone band, near and far talkers, a few knocks 35 dB over the loudness: the recording
of issue #14) from the two halves of those clips: the even rows are the *tuning* half
(the levelling's parameters were chosen on it), the odd rows the *checking* half (the
accuracy to quote). Then times each, in its own process:

* ``radio``: ``radio.media.renditions.render`` (two passes, MP3 48k, Ogg Opus 24k and
  AAC 22k, peaks);
* ``loudnorm-2pass``: FFmpeg's loudnorm through PyAV's filter graph, a measure pass, then
  loudnorm with the measured values and ``linear=true`` (it falls back to its dynamic
  mode when linear can't hold the true peak) feeding the same encoders with the same
  settings from one decode (the same job);
* ``loudnorm-1pass``: single-pass (dynamic) loudnorm, for reference.

Every run prints one JSON line (wall and CPU seconds, the process's own peak RSS, and
the loudness and true peak of each decoded output); each recording's last line has the
medians over ``--repeat`` runs and the ratios ours / loudnorm-2pass. Wall time suffers on
a shared machine, CPU seconds much less. Inputs are cached in ``$TMPDIR/radio-bench-ingest``.

Example: ``python bench/ingest.py --minutes 10 --quiet-minutes 5``; the default is the full
3 hours and 10-minute quiet recordings.
"""

from __future__ import annotations

import argparse
import csv
import gc
import itertools
import json
import logging
import os
import re
import statistics
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

import av.filter  # noqa: E402
import av.logging  # noqa: E402

from radio.media import renditions  # noqa: E402
from radio.media.audio import Encoder  # noqa: E402
from radio.media.loudness import LoudnessMeter  # noqa: E402
from tests.audiofiles import quiet_phone_call  # noqa: E402

TESTAUDIO = Path(os.environ.get("RADIO_TESTAUDIO", ROOT.parent / "shared" / "testaudio"))
RATE = 44_100
GOAL_RSS_MB = 300
GOAL_RATIO = 1.0
BITRATES = {"mp3": 48_000, "opus": 24_000, "aac": 22_000}  # render's defaults


def manifest() -> list[dict[str, str]]:
    with (TESTAUDIO / "manifest.tsv").open() as f:
        return list(csv.DictReader(f, delimiter="\t"))


def load_clips() -> list[np.ndarray]:
    """Every clip in the manifest as stereo int16 at 44.1 kHz."""
    rows = manifest()
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


def make_quiet_call(path: Path, minutes: float, half: int) -> Path:
    """A quiet phone call (``tests.audiofiles.quiet_phone_call``) from one half of the
    clips (0: even rows, tuning; 1: odd rows, checking), in a fixed random order, with
    eight knocks a minute; once."""
    if path.exists():
        return path
    rows, rng = manifest()[half::2], np.random.default_rng(14 + half)
    clips, total = [], 0.0
    while total < minutes * 60:
        row = rows[rng.integers(len(rows))]
        clips.append(TESTAUDIO / row["path"])
        total += float(row["duration_s"]) + 0.6
    part = path.with_name(path.name + ".part.wav")
    quiet_phone_call(part, clips, clicks=max(1, round(8 * minutes)), seed=14 + half)
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
    levelling = levels.pop("levelling")
    return {
        "tool": "radio",
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss, 1),
        "cpu_s": round(cpu, 1),
        **{k: {m: round(v, 2) for m, v in d.items()} for k, d in levels.items()},
        "levelling": levelling,
    }


def bench_loudnorm(src: Path, out: Path, passes: int) -> dict:
    cmd = [sys.executable, __file__, "--loudnorm-child", str(passes), str(src), str(out)]
    wall, rss, cpu, err = run(cmd)
    report = json.loads(err.strip().splitlines()[-1])
    return {
        "tool": f"loudnorm-{passes}pass",
        "wall_s": round(wall, 1),
        "peak_rss_mb": round(rss, 1),
        "cpu_s": round(cpu, 1),
        "normalization_type": report.get("normalization_type"),
    }


def _run_graph(src: Path, graph_spec: list[tuple[str, str]], sink) -> None:
    with av.open(str(src)) as container:
        stream = container.streams.audio[0]
        graph = av.filter.Graph()
        nodes = [graph.add_abuffer(template=stream)]
        nodes += [graph.add(name, args) for name, args in graph_spec]
        nodes.append(graph.add("abuffersink"))
        for a, b in itertools.pairwise(nodes):
            a.link_to(b)
        graph.configure()
        for frame in itertools.chain(container.decode(stream), [None]):
            graph.push(frame)
            while True:
                try:
                    out = graph.pull()
                except (av.BlockingIOError, av.EOFError):
                    break
                sink(out.to_ndarray().reshape(-1))


def _filter(src: Path, graph_spec: list[tuple[str, str]], sink) -> dict[str, str]:
    """Decode ``src`` through a filter chain into ``sink(samples)``; loudnorm's JSON report."""
    with av.logging.Capture(True) as logs:
        _run_graph(src, graph_spec, sink)
        gc.collect()  # loudnorm logs its report when the graph is freed
    text = "".join(message for _, name, message in logs if name == "loudnorm")
    return json.loads(text[text.index("{") : text.rindex("}") + 1]) if "{" in text else {}


def loudnorm_child(passes: str, src: str, out: str) -> None:
    """Renditions made with loudnorm (one or two passes) and our encoders' settings."""
    av.logging.set_level(av.logging.INFO)
    mono = ("aformat", "channel_layouts=mono")
    args = "I=-16:TP=-1:print_format=json"
    if passes == "2":
        m = _filter(Path(src), [mono, ("loudnorm", args)], lambda x: None)
        args += (
            f":measured_I={m['input_i']}:measured_TP={m['input_tp']}"
            f":measured_LRA={m['input_lra']}:measured_thresh={m['input_thresh']}"
            f":offset={m['target_offset']}:linear=true"
        )
    encoders = [
        Encoder(
            Path(out) / k.file,
            k.codec,
            k.muxer,
            BITRATES[k.name],
            muxer_options=k.muxer_options,
            **k.options,
        )
        for k in renditions._KINDS
    ]
    resample = ("aresample", "24000")
    to_float = ("aformat", "sample_fmts=flt:channel_layouts=mono")
    report = _filter(
        Path(src),
        [mono, ("loudnorm", args), resample, to_float],
        lambda x: [e.add(x) for e in encoders],
    )
    for encoder in encoders:
        encoder.finish()
    sys.stderr.write(json.dumps(report) + "\n")


def emit(record: dict, minutes: float, out: Path | None, verify: bool) -> dict:
    record = {"bench": "ingest", "minutes": minutes, **record}
    if verify and out is not None:
        for kind in renditions._KINDS:
            record[kind.name] = measure_output(out / kind.file)
            levels = record[kind.name]
            levels["on_target"] = abs(levels["lufs"] + 16) <= 1 and levels["dbtp"] <= -1
    print(json.dumps(record), flush=True)
    return record


def render_child(src: str, out: str) -> None:
    levelled: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: levelled.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger("radio.media.levelling").addHandler(handler)
    logging.getLogger("radio.media.levelling").setLevel(logging.INFO)
    result = renditions.render(Path(src), Path(out))
    sys.stderr.write(
        json.dumps(
            {
                "before": result.before.__dict__,
                "after": result.after.__dict__,
                "repairs": {"encodes": result.repairs},
                "levelling": levelled[-1] if levelled else None,
            }
        )
        + "\n"
    )


def bench_recording(name: str, src: Path, minutes: float, args: argparse.Namespace) -> None:
    """``--repeat`` runs of ours and loudnorm's on ``src``; then their medians and ratios."""
    verify = not args.no_verify
    tools = {"radio": lambda out: bench_radio(src, out)}
    if not args.radio_only:
        tools["loudnorm-2pass"] = lambda out: bench_loudnorm(src, out, 2)
        tools["loudnorm-1pass"] = lambda out: bench_loudnorm(src, out, 1)
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    for _ in range(args.repeat):
        for tool, bench in tools.items():
            out = args.workdir / f"{name}-{tool}"
            out.mkdir(exist_ok=True)
            runs[tool].append(emit({"recording": name, **bench(out)}, minutes, out, verify))
    summary: dict = {"tool": "summary", "recording": name, "runs": args.repeat}
    for tool, records in runs.items():
        summary[tool] = {
            k: statistics.median(r[k] for r in records) for k in ("wall_s", "cpu_s", "peak_rss_mb")
        }
        for kind in renditions.KINDS if verify else ():
            summary[tool][kind] = records[-1][kind]  # the output is the same every run
    if "loudnorm-2pass" in runs:
        ours, theirs = summary["radio"], summary["loudnorm-2pass"]
        ratio = ours["wall_s"] / theirs["wall_s"]
        summary |= {
            "ratio_radio_over_loudnorm_2pass": round(ratio, 3),
            "cpu_ratio_radio_over_loudnorm_2pass": round(ours["cpu_s"] / theirs["cpu_s"], 3),
            "goal_ratio_ok": ratio <= GOAL_RATIO,
        }
    summary["goal_rss_ok"] = summary["radio"]["peak_rss_mb"] < GOAL_RSS_MB
    emit(summary, minutes, None, False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=180.0)
    parser.add_argument("--quiet-minutes", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each, for the medians")
    parser.add_argument(
        "--workdir", type=Path, default=Path(tempfile.gettempdir()) / "radio-bench-ingest"
    )
    parser.add_argument("--no-verify", action="store_true", help="skip measuring the outputs")
    parser.add_argument("--radio-only", action="store_true", help="skip the loudnorm runs")
    parser.add_argument(
        "--only", choices=["show", "quiet-tuning", "quiet-checking"], action="append"
    )
    parser.add_argument("--render-child", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--loudnorm-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.render_child:
        return render_child(*args.render_child)
    if args.loudnorm_child:
        return loudnorm_child(*args.loudnorm_child)
    args.workdir.mkdir(parents=True, exist_ok=True)
    quiet = args.quiet_minutes
    recordings = {
        "show": (lambda: make_show(args.workdir / f"show-{args.minutes:g}min.wav", args.minutes)),
        "quiet-tuning": (
            lambda: make_quiet_call(args.workdir / f"quiet-0-{quiet:g}min.wav", quiet, 0)
        ),
        "quiet-checking": (
            lambda: make_quiet_call(args.workdir / f"quiet-1-{quiet:g}min.wav", quiet, 1)
        ),
    }
    for name, make in recordings.items():
        if args.only and name not in args.only:
            continue
        minutes = args.minutes if name == "show" else quiet
        bench_recording(name, make(), minutes, args)


if __name__ == "__main__":
    main()
