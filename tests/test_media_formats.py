"""radio.media.formats: what the archive takes in, read from the bytes themselves (#13)."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from radio.media import formats
from tests.conftest import clip


def written(tmp_path: Path, data: bytes, name: str = "f.mp3") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_archives_documents_and_images_are_named(tmp_path):
    mp3 = clip("jfk.flac").read_bytes()
    stored = io.BytesIO()
    with zipfile.ZipFile(stored, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("show.mp3", mp3)
    assert formats.sniff(written(tmp_path, stored.getvalue())) == "a ZIP archive"
    prefixed = b"\x00" * 64 + stored.getvalue()  # a ZIP found by its end, as unzip does
    assert formats.sniff(written(tmp_path, prefixed)) == "a ZIP archive"
    assert formats.sniff(written(tmp_path, b"%PDF-1.7 ...")) == "a PDF document"
    assert formats.sniff(written(tmp_path, b"\x89PNG\r\n\x1a\n...")) == "a PNG image"
    assert formats.sniff(written(tmp_path, b"")) is None
    for name in ("jfk.flac", "LJ001-0001.wav", "13697_11991_000000.opus"):
        assert formats.sniff(clip(name)) is None, name


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(9.66, "9.7 s"), (75, "1 min 15 s"), (21600, "6 h 00 min 00 s"), (21600.9, "6 h 00 min 00 s"),
     (21601.2, "6 h 00 min 01 s"), (72000, "20 h 00 min 00 s")],
)  # fmt: skip
def test_lengths_are_written_with_their_seconds(seconds, shown):
    assert formats.clock(seconds) == shown


def test_the_limits_on_decoded_audio():
    assert formats.frame_problem("a.wav", 2, 44100) is None
    assert formats.frame_problem("a.wav", 8, 8000) is None
    assert formats.frame_problem("a.wav", 1, 192_000) is None
    assert "no channels" in formats.frame_problem("a.wav", 0, 44100)
    assert "9 audio channels" in formats.frame_problem("a.wav", 9, 44100)
    assert "7,999 Hz" in formats.frame_problem("a.wav", 1, 7999)
    said = formats.too_long("x.flac", 21601.3, 21600, 60)
    assert said == (
        "x.flac holds more than 6 h 00 min 01 s of audio, though its header says 1 min 00 s: "
        "over the limit of 6 h 00 min 00 s."
    )
