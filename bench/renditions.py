"""Benchmark: size, loudness and quality of the MP3, Opus and AAC renditions of real speech.

Joins the real speech clips in shared/testaudio (every language, about 4 minutes, 0.4 s
gaps) into one 48 kHz mono WAV, renders it with ``radio.media.renditions.render`` at the
configured bit rates, decodes each rendition (FFmpeg through PyAV) and measures, against
the source normalised to -16 LUFS with pyloudnorm:

* size: bytes, kbps and MB (10^6 bytes) per hour of speech, container included;
* loudness (pyloudnorm, BS.1770) and true peak (4x oversampling with scipy) of the decoded
  rendition at its own rate;
* STOI and ESTOI (pystoi; intelligibility, 0-1), PESQ wide-band (MOS-LQO 1-4.6) when the
  ``pesq`` package is installed (it is not a dependency), and bandwidth: the frequency
  below which 99% of the decoded energy lies (the source's is printed too).

One JSON line per rendition, then one for the data saver (``saver_kind``: AAC where made,
else Opus) against the 11 MB an hour goal of #14.

Example: ``python bench/renditions.py`` (``--repeat 3`` loops the clips for a longer show).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyloudnorm
import soundfile
from pystoi import stoi
from scipy.signal import resample_poly, welch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _clips import DEFAULT_AUDIO_DIR, load_clips  # noqa: E402

from radio.config import defaults  # noqa: E402
from radio.data.renditions import saver_kind  # noqa: E402
from radio.media.audio import iter_mono, probe  # noqa: E402
from radio.media.renditions import render  # noqa: E402

SOURCE_RATE = 48_000
COMPARE_RATE = 24_000  # what every rendition is made at (radio.media.audio.RATE)
SAVER_GOAL_MB_PER_HOUR = 11.0
GAP_S = 0.4


def build_show(audio_dir: Path, dest: Path, repeat: int) -> float:
    """Every clip of the manifest, mono, joined with short gaps; returns its duration."""
    gap = np.zeros(int(GAP_S * SOURCE_RATE), np.float32)
    parts = []
    for clip in load_clips(audio_dir, lang=None):
        parts += [np.concatenate(list(iter_mono(clip.path, rate=SOURCE_RATE))), gap]
    x = np.concatenate(parts * repeat)
    soundfile.write(dest, x, SOURCE_RATE, subtype="FLOAT")
    return len(x) / SOURCE_RATE


def decoded(path: Path, rate: int | None = None) -> tuple[np.ndarray, int]:
    rate = rate or probe(path).sample_rate
    return np.concatenate(list(iter_mono(path, rate=rate))).astype(np.float64), rate


def true_peak_dbtp(x: np.ndarray) -> float:
    return float(20 * np.log10(np.abs(resample_poly(x, 4, 1)).max()))


def bandwidth_hz(x: np.ndarray, rate: int, share: float = 0.99) -> float:
    """The frequency below which ``share`` of the signal's energy lies (Welch spectrum)."""
    freqs, power = welch(x, rate, nperseg=2048)
    return float(freqs[np.searchsorted(np.cumsum(power) / power.sum(), share)])


def aligned(ref: np.ndarray, y: np.ndarray, rate: int, search_s: float = 0.1) -> np.ndarray:
    """``y`` shifted to line up with ``ref`` (codec delay left uncompensated), same length."""
    span = slice(len(ref) // 3, len(ref) // 3 + 10 * rate)
    lags = range(-int(search_s * rate), int(search_s * rate) + 1)
    lag = max(lags, key=lambda k: float(np.dot(ref[span], y[span.start + k : span.stop + k])))
    y = y[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), y])
    return np.pad(y[: len(ref)], (0, max(0, len(ref) - len(y))))


def pesq_wb(ref: np.ndarray, y: np.ndarray, rate: int) -> float | None:
    """Mean wide-band PESQ over 10 s pieces (PESQ is made for short utterances)."""
    try:
        from pesq import pesq
    except ImportError:
        return None
    r16, y16 = (resample_poly(s, 16_000, rate) for s in (ref, y))
    scores = []
    for i in range(0, len(r16) - 8 * 16_000, 10 * 16_000):
        try:
            scores.append(pesq(16_000, r16[i : i + 160_000], y16[i : i + 160_000], "wb"))
        except Exception:  # noqa: BLE001 - a piece PESQ finds no speech in
            continue
    return round(float(np.mean(scores)), 3) if scores else None


def measure(rendition, ref: np.ndarray, hours: float) -> dict:  # noqa: ANN001
    own, own_rate = decoded(rendition.path)
    y = aligned(ref, decoded(rendition.path, COMPARE_RATE)[0], COMPARE_RATE)
    return {
        "kind": rendition.kind,
        "mime": rendition.mime,
        "bitrate_asked": rendition.bitrate,
        "bytes": rendition.bytes,
        "kbps": round(rendition.bytes * 8 / rendition.duration / 1000, 2),
        "mb_per_hour": round(rendition.bytes / hours / 1e6, 2),
        "decoded_rate": own_rate,
        "lufs": round(pyloudnorm.Meter(own_rate).integrated_loudness(own), 2),
        "true_peak_dbtp": round(true_peak_dbtp(own), 2),
        "stoi": round(float(stoi(ref, y, COMPARE_RATE)), 4),
        "estoi": round(float(stoi(ref, y, COMPARE_RATE, extended=True)), 4),
        "pesq_wb": pesq_wb(ref, y, COMPARE_RATE),
        "bandwidth_99_hz": round(bandwidth_hz(y, COMPARE_RATE)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--audio-dir", type=Path, default=DEFAULT_AUDIO_DIR)
    parser.add_argument("--repeat", type=int, default=1, help="loop the clips this many times")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    config = defaults()
    with tempfile.TemporaryDirectory(prefix="radio-bench-renditions-") as tmp:
        src = Path(tmp) / "show.wav"
        seconds = build_show(args.audio_dir, src, args.repeat)
        began = time.perf_counter(), time.process_time()
        result = render(
            src,
            Path(tmp) / "out",
            target_lufs=config["TARGET_LUFS"],
            max_true_peak=config["MAX_TRUE_PEAK_DBTP"],
            mp3_bitrate=config["MP3_BITRATE"],
            opus_bitrate=config["OPUS_BITRATE"],
            aac_bitrate=config["AAC_BITRATE"],
        )
        wall, cpu = time.perf_counter() - began[0], time.process_time() - began[1]
        ref = decoded(src, COMPARE_RATE)[0]
        ref *= 10 ** ((-16.0 - pyloudnorm.Meter(COMPARE_RATE).integrated_loudness(ref)) / 20)
        hours = result.duration / 3600
        print(
            json.dumps(
                {
                    "source_seconds": round(seconds, 1),
                    "render_wall_s": round(wall, 2),
                    "render_cpu_s": round(cpu, 2),
                    "repairs": result.repairs,
                    "source_bandwidth_99_hz": round(bandwidth_hz(ref, COMPARE_RATE)),
                }
            ),
            flush=True,
        )
        rows = {r.kind: measure(r, ref, hours) for r in result.renditions}
        for row in rows.values():
            print(json.dumps(row), flush=True)
        kind = saver_kind(rows)
        saver = rows[kind] if kind else {}
        print(
            json.dumps(
                {
                    "saver_enclosure": kind,
                    "saver_mb_per_hour": saver.get("mb_per_hour"),
                    "goal_mb_per_hour": SAVER_GOAL_MB_PER_HOUR,
                    "within_goal": bool(saver) and saver["mb_per_hour"] <= SAVER_GOAL_MB_PER_HOUR,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    main()
