"""Tags and chapters in real renditions, read back by mutagen and by FFmpeg (PyAV): the
readers podcast apps use, not the code that wrote them."""

from __future__ import annotations

import base64
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest
from mutagen.flac import Picture
from mutagen.id3 import ID3, CTOCFlags
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus

from radio.media.audio import Encoder, iter_mono
from radio.media.filetags import (
    Cover,
    FileTags,
    TagError,
    chapter_marks,
    has_tags,
    vorbis_time,
    write_tags,
)
from radio.media.renditions import render
from tests.audiofiles import LJ

CHAPTERS = ((0.0, 2.5, "Opening words"), (2.5, 6.25, "The printing press"), (6.25, 9.0, "Arts"))
PNG = bytes.fromhex(  # a real 1x1 PNG
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cfc0f01f0005000201e2218bc30000000049454e44ae426082"
)


def tags_for(title: str = "Water committee, été", **changes: object) -> FileTags:
    fields: dict[str, object] = {
        "title": title,
        "station": "Radio Maendeleo",
        "show": "Morning Talk",
        "date": "2026-11-02",
        "description": "The committee on the new borehole.",
        "licence": "CC BY 4.0",
        "licence_url": "https://creativecommons.org/licenses/by/4.0/",
        "language": "sw",
        "url": "http://radio.example/episodes/abc123",
        "cover": Cover(PNG, "image/png"),
        "chapters": chapter_marks(CHAPTERS, 9.655),
        **changes,
    }
    return FileTags(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The archive's own MP3 and Opus renditions of a 9.7 s clip, and an AAC one (the
    renditions' own when they make it, else PyAV's AAC encoder in an M4A as they would)."""
    out = tmp_path_factory.mktemp("renditions")
    files = {r.path.suffix.lstrip("."): r.path for r in render(LJ, out).renditions}
    if "m4a" not in files:
        encoder = Encoder(out / "audio.m4a", "aac", "ipod", 32_000, movflags="+faststart")
        for block in iter_mono(LJ):
            encoder.add(block)
        encoder.finish()
        files["m4a"] = out / "audio.m4a"
    return files


@pytest.fixture
def files(made: dict[str, Path], tmp_path: Path) -> dict[str, Path]:
    copies = {}
    for kind, path in made.items():
        copies[kind] = tmp_path / path.name
        shutil.copyfile(path, copies[kind])
    return copies


def decoded(path: Path) -> np.ndarray:
    """Every sample a player decodes (FFmpeg, as PyAV gives it)."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(stream)])


def av_chapters(path: Path) -> list[tuple[float, float, str]]:
    with av.open(str(path)) as container:
        return [
            (
                float(c["start"] * c["time_base"]),
                float(c["end"] * c["time_base"]),
                c["metadata"].get("title", ""),
            )
            for c in container.chapters()
        ]


def test_mp3_carries_id3_chapters_in_an_ordered_table_of_contents(files):
    mp3 = files["mp3"]
    assert write_tags(mp3, tags_for()) is True
    tag = ID3(mp3)
    assert tag.version[:2] == (2, 4)
    assert tag["TIT2"].text == ["Water committee, été"]
    assert tag["TALB"].text == ["Morning Talk"] and tag["TPE1"].text == ["Radio Maendeleo"]
    assert str(tag["TDRC"].text[0]) == "2026-11-02"
    assert tag.getall("COMM")[0].text == ["The committee on the new borehole."]
    assert tag["TCOP"].text == ["2026 Radio Maendeleo. CC BY 4.0"]
    assert tag["WCOP"].url == "https://creativecommons.org/licenses/by/4.0/"
    assert tag["TLAN"].text == ["swa"]
    assert tag["WOAS"].url == "http://radio.example/episodes/abc123"
    apic = tag.getall("APIC")[0]
    assert (apic.mime, apic.type, apic.data) == ("image/png", 3, PNG)
    chaps = {c.element_id: c for c in tag.getall("CHAP")}
    (toc,) = tag.getall("CTOC")
    assert toc.flags & CTOCFlags.TOP_LEVEL and toc.flags & CTOCFlags.ORDERED
    in_order = [chaps[i] for i in toc.child_element_ids]
    assert [(c.start_time, c.end_time, c.sub_frames["TIT2"].text[0]) for c in in_order] == [
        (0, 2500, "Opening words"),
        (2500, 6250, "The printing press"),
        (6250, 9000, "Arts"),
    ]
    links = [c.sub_frames.getall("WXXX")[0].url for c in in_order]
    assert links[1] == "http://radio.example/episodes/abc123?t=2.5"
    # FFmpeg (what PyAV, and many Android players, use) sees the same chapters
    assert av_chapters(mp3) == [(s, e, t) for s, e, t in CHAPTERS]


def test_opus_carries_vorbis_comments_and_chapter_extension(files):
    opus = files["opus"]
    write_tags(opus, tags_for())
    comments = OggOpus(opus).tags
    assert comments["TITLE"] == ["Water committee, été"]
    assert comments["ALBUM"] == ["Morning Talk"] and comments["ARTIST"] == ["Radio Maendeleo"]
    assert comments["DATE"] == ["2026-11-02"] and comments["LANGUAGE"] == ["sw"]
    assert comments["LICENSE"] == ["https://creativecommons.org/licenses/by/4.0/"]
    assert comments["CONTACT"] == ["http://radio.example/episodes/abc123"]
    assert [comments[f"CHAPTER00{n}"][0] for n in (1, 2, 3)] == [
        "00:00:00.000",
        "00:00:02.500",
        "00:00:06.250",
    ]
    assert [comments[f"CHAPTER00{n}NAME"][0] for n in (1, 2, 3)] == [t for _, _, t in CHAPTERS]
    picture = Picture(base64.b64decode(comments["METADATA_BLOCK_PICTURE"][0]))
    assert (picture.mime, picture.type, picture.data) == ("image/png", 3, PNG)
    starts = [(round(s, 3), t) for s, _, t in av_chapters(opus)]
    assert starts == [(s, t) for s, _, t in CHAPTERS]


def test_m4a_carries_mp4_tags_and_chapters(files):
    m4a = files["m4a"]
    write_tags(m4a, tags_for())
    mp4 = MP4(m4a)
    assert mp4.tags["\xa9nam"] == ["Water committee, été"]
    assert mp4.tags["\xa9alb"] == ["Morning Talk"] and mp4.tags["\xa9ART"] == ["Radio Maendeleo"]
    assert mp4.tags["\xa9day"] == ["2026-11-02"]
    assert mp4.tags["desc"] == ["The committee on the new borehole."]
    assert mp4.tags["cprt"] == ["2026 Radio Maendeleo. CC BY 4.0"]
    assert bytes(mp4.tags["covr"][0]) == PNG
    assert [(round(c.start, 3), c.title) for c in mp4.chapters] == [(s, t) for s, _, t in CHAPTERS]
    assert av_chapters(m4a) == [(s, e, t) for s, e, t in CHAPTERS]


@pytest.mark.parametrize("kind", ["mp3", "opus", "m4a"])
def test_tagging_never_touches_the_audio(files, kind):
    path = files[kind]
    before, timing = decoded(path), stream_timing(path)
    write_tags(path, tags_for())
    write_tags(path, tags_for("Another title", chapters=(), cover=None))
    after = decoded(path)
    assert len(before) > 9 * 24_000 and np.array_equal(before, after)
    assert stream_timing(path) == timing  # the encoder's delay and the length, for gapless


def stream_timing(path: Path) -> tuple:
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        return stream.start_time, stream.duration, stream.time_base, stream.codec_context.delay


def test_the_same_tags_leave_the_file_alone_and_new_ones_change_its_validators(files):
    mp3 = files["mp3"]
    assert write_tags(mp3, tags_for()) is True
    first = mp3.stat()
    assert has_tags(mp3, tags_for())
    assert write_tags(mp3, tags_for()) is False
    assert mp3.stat().st_mtime_ns == first.st_mtime_ns
    # same length title: ID3 padding keeps the size, the ETag (size, mtime) must still change
    assert write_tags(mp3, tags_for("Water committee, ÉTÉ")) is True
    again = mp3.stat()
    assert again.st_mtime_ns > first.st_mtime_ns and again.st_ino != first.st_ino
    assert ID3(mp3)["TIT2"].text == ["Water committee, ÉTÉ"]


def test_chapters_are_clipped_to_the_audio_and_never_overlap():
    marks = chapter_marks([(5.0, 20.0, "b"), (0.0, 6.0, " a  one "), (20.0, 30.0, " ")], 12.0)
    assert [(m.start, m.end, m.title) for m in marks] == [(0.0, 6.0, "a one"), (6.0, 12.0, "b")]
    assert vorbis_time(3723.5) == "01:02:03.500"


def test_only_known_kinds_are_tagged(tmp_path):
    wav = tmp_path / "audio.wav"
    shutil.copyfile(LJ, wav)
    with pytest.raises(TagError, match="MP3, Ogg Opus and M4A"):
        write_tags(wav, tags_for())


_TAGGER = """
import signal, sys
from pathlib import Path
from tests.test_media_filetags import tags_for
from radio.media.filetags import write_tags
if sys.argv[3] == "killed":  # Python ignores SIGXFSZ; the kernel's default is to kill
    signal.signal(signal.SIGXFSZ, signal.SIG_DFL)
write_tags(Path(sys.argv[1]), tags_for(sys.argv[2]))
"""


@pytest.mark.parametrize("kind", ["mp3", "opus", "m4a"])
@pytest.mark.parametrize("stage", ["copy", "tags"])
@pytest.mark.parametrize("how", ["killed", "failed"])
def test_a_crash_mid_write_leaves_the_old_file(files, kind, stage, how):
    """A tagger stopped by the file size limit while writing its copy, or while mutagen grows
    that copy's tag: killed by the kernel (SIGXFSZ), or failing with EFBIG. The file keeps its
    old bytes; a killed run's half-written copy is simply written over by the next run."""
    path = files[kind]
    write_tags(path, tags_for("Before the crash", cover=None))
    old_bytes, old_audio = path.read_bytes(), decoded(path)
    size = len(old_bytes)
    # "copy": stopped half-way through copying; "tags": the copy is whole, the bigger tag
    # (a cover and a long title) is not
    limit = size // 2 if stage == "copy" else size + 64

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    root = Path(__file__).parent.parent
    proc = subprocess.run(
        [sys.executable, "-c", _TAGGER, str(path), "After " + "the crash " * 400, how],
        cwd=root,
        preexec_fn=limited,
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    part = path.with_name(path.name + ".part")
    if how == "killed":
        assert proc.returncode == -signal.SIGXFSZ, proc.stderr.decode()[-2000:]
        assert part.exists()  # it did die mid-write
    else:
        assert proc.returncode == 1 and b"File too large" in proc.stderr
        assert not part.exists()  # a failure cleans up after itself
    assert path.read_bytes() == old_bytes
    assert np.array_equal(decoded(path), old_audio)
    assert write_tags(path, tags_for("After")) is True
    assert not part.exists()
    assert np.array_equal(decoded(path), old_audio)
