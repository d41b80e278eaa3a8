"""``radio clip`` as people run it: a real ``radio`` process (#14, items 5 and 6).

pydub used to warn "Couldn't find ffmpeg or avconv" on every command that loaded it; the
clip code now uses PyAV and numpy only, so no command says it, and nothing is hidden.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import av

from tests.conftest import clip

RADIO = Path(sys.executable).parent / "radio"
WARNING = "Couldn't find ffmpeg or avconv"


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # PYTHONWARNINGS=default: a warning anything raises is printed, none is hidden
    env = {**os.environ, "RADIO_HOME": str(home), "RADIO_TRANSCRIBE": "false"}
    env["PYTHONWARNINGS"] = "default"
    done = subprocess.run([str(RADIO), *args], capture_output=True, text=True, env=env, timeout=300)
    assert WARNING not in done.stderr, done.stderr
    assert "RuntimeWarning" not in done.stderr, done.stderr
    return done


def test_no_command_warns_about_ffmpeg_and_clip_makes_a_voice_note(tmp_path):
    home = tmp_path / "home"
    for args in (("--help",), ("clip", "--help"), ("status",)):
        assert run(home, *args).returncode == 0
    assert run(home, "ingest", str(clip("jfk.flac")), "--wait").returncode == 0
    out = tmp_path / "moment.opus"
    done = run(home, "clip", "1", "--from", "0:01", "--to", "0:09.5", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "Wrote" in done.stdout
    with av.open(str(out)) as f:
        codec = f.streams.audio[0].codec_context
        assert (codec.name, codec.channels, codec.sample_rate) == ("opus", 1, 48_000)
        assert abs(f.duration / 1e6 - 8.5) < 0.1
    assert out.stat().st_size / (8.5 / 60) < 100_000  # under 100 KB a minute


def test_a_bad_clip_range_is_a_clear_message(tmp_path):
    home = tmp_path / "home"
    assert run(home, "ingest", str(clip("LJ001-0002.wav")), "--wait").returncode == 0
    done = run(home, "clip", "1", "--from", "0:05", "--to", "0:02", "-o", str(tmp_path / "x.opus"))
    assert done.returncode != 0
    assert "give a start before the end" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
