"""Transcript formats: WebVTT, SRT, Podcasting 2.0 JSON, plain text (no model needed)."""

from __future__ import annotations

import html
import json
import re

import pytest

from transcription.formats import FORMATS, to_podcast_json, to_srt, to_text, to_webvtt
from transcription.segments import Segment, Word

TIMING = re.compile(r"^(\d{2}):(\d{2}):(\d{2})\.(\d{3}) --> (\d{2}):(\d{2}):(\d{2})\.(\d{3})$")
SRT_TIMING = re.compile(r"^\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}$")
UNICODE = "Café ñandú 中文字幕 🎙️ <b>bold</b> & more"


def timed(text: str, start: float, end: float, speaker: str | None = None) -> Segment:
    """A segment whose words are spread evenly, as Whisper would time them."""
    parts = text.split()
    step = (end - start) / len(parts)
    words = tuple(
        Word(start + i * step, start + (i + 1) * step, " " + w, 0.9) for i, w in enumerate(parts)
    )
    return Segment(start, end, text, words, speaker)


LONG = timed(
    "This is a rather long segment that a talkative host produced without pausing for "
    "breath, going on and on about the weather, the football results, the bake sale at "
    "the community hall and the new bus timetable that nobody seems to understand at all.",
    3661.5,
    3690.25,
    speaker="Speaker 1",
)
SEGMENTS = [
    timed("Good morning and welcome to the show.", 0.0, 2.5, speaker="Speaker 1"),
    timed("Thanks for having me.", 2.6, 4.0, speaker="Speaker 2"),
    LONG,
    Segment(3700.0, 3704.0, UNICODE, (), None),
]


def parse_vtt(text: str) -> list[tuple[float, float, list[str]]]:
    """A strict little WebVTT reader: header, blank-line separated cues, timing lines."""
    assert text.startswith("WEBVTT\n"), "a WebVTT file starts with WEBVTT"
    blocks = [b for b in text.split("\n\n")[1:] if b.strip()]
    cues = []
    for block in blocks:
        lines = block.split("\n")
        m = TIMING.match(lines[0])
        assert m, f"bad timing line {lines[0]!r}"
        g = [int(x) for x in m.groups()]
        start = g[0] * 3600 + g[1] * 60 + g[2] + g[3] / 1000
        end = g[4] * 3600 + g[5] * 60 + g[6] + g[7] / 1000
        assert end > start
        text_lines = [line for line in lines[1:] if line != ""]
        assert text_lines, "a cue needs text"
        cues.append((start, end, text_lines))
    return cues


def cue_text(lines: list[str]) -> str:
    joined = " ".join(lines)
    joined = re.sub(r"^<v [^>]*>", "", joined)
    assert "<" not in joined and ">" not in joined, f"unescaped markup in {joined!r}"
    assert not re.search(r"&(?!amp;|lt;|gt;)", joined), f"bare & in {joined!r}"
    return html.unescape(joined)


def test_webvtt_is_valid_and_wrapped() -> None:
    vtt = to_webvtt(SEGMENTS)
    cues = parse_vtt(vtt)
    for _, _, lines in cues:
        assert all(len(line) <= 65 for line in lines), lines
        assert len(lines) <= 2
    # Speakers become voice tags, on every cue of their segments.
    assert cues[0][2][0].startswith("<v Speaker 1>")
    assert cues[1][2][0].startswith("<v Speaker 2>")
    assert not cues[-1][2][0].startswith("<v")
    # The long segment is split into several cues, timed by its words, in order.
    long_cues = [c for c in cues if 3661 <= c[0] < 3695]
    assert len(long_cues) >= 2
    assert long_cues[0][0] == pytest.approx(3661.5, abs=0.001)
    assert long_cues[-1][1] == pytest.approx(3690.25, abs=0.001)
    assert all(a[1] <= b[0] + 1e-6 for a, b in zip(long_cues, long_cues[1:], strict=False))
    assert all(c[2][0].startswith("<v Speaker 1>") for c in long_cues)
    assert " ".join(cue_text(c[2]) for c in long_cues) == LONG.text
    assert "01:01:01.500 --> " in vtt


def test_webvtt_escapes_and_keeps_unicode() -> None:
    vtt = to_webvtt(SEGMENTS)
    cues = parse_vtt(vtt)
    assert cue_text(cues[-1][2]) == UNICODE
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; more" in vtt
    named = to_webvtt([timed("Hi.", 0, 1, speaker="Ana <& Co>")])
    assert "<v Ana &lt;&amp; Co&gt;>Hi." in named


def test_webvtt_splits_text_without_spaces_and_edited_segments() -> None:
    # Chinese has no spaces to wrap at; an edited segment's words no longer match its text.
    chinese = Segment(0.0, 10.0, "中" * 150, (Word(0.0, 10.0, "中" * 150, 0.9),), "主持人")
    edited = Segment(20.0, 30.0, "Corrected " * 30, (Word(20.0, 21.0, " Wrong", 0.5),))
    cues = parse_vtt(to_webvtt([chinese, edited]))
    for _, _, lines in cues:
        assert all(len(line) <= 65 for line in lines)
    assert "".join(cue_text(c[2]).replace(" ", "") for c in cues if c[0] < 15) == "中" * 150
    edited_cues = [c for c in cues if c[0] >= 20]
    assert len(edited_cues) >= 2 and edited_cues[-1][1] == pytest.approx(30.0, abs=0.01)


def test_webvtt_empty() -> None:
    assert to_webvtt([]).startswith("WEBVTT")
    assert parse_vtt(to_webvtt([])) == []


def test_srt_numbering_and_timing() -> None:
    srt = to_srt(SEGMENTS)
    blocks = [b.split("\n") for b in srt.strip().split("\n\n")]
    assert [int(b[0]) for b in blocks] == list(range(1, len(blocks) + 1))
    for block in blocks:
        assert SRT_TIMING.match(block[1]), block[1]
        assert all(len(line) <= 65 for line in block[2:])
    assert blocks[0][2].startswith("Speaker 1: Good morning")
    assert blocks[0][1] == "00:00:00,000 --> 00:00:02,500"
    assert UNICODE in srt  # SRT has no escaping: text goes through as it is


def test_podcast_json_schema() -> None:
    data = json.loads(to_podcast_json(SEGMENTS))
    assert data["version"] == "1.0.0"
    assert len(data["segments"]) == len(SEGMENTS)
    for item, seg in zip(data["segments"], SEGMENTS, strict=True):
        assert set(item) <= {"speaker", "startTime", "endTime", "body"}
        assert {"startTime", "endTime", "body"} <= set(item)
        assert isinstance(item["startTime"], float) and item["endTime"] >= item["startTime"]
        assert item.get("speaker") == seg.speaker
    assert data["segments"][-1]["body"] == UNICODE
    assert "中文字幕" in to_podcast_json(SEGMENTS)  # written as UTF-8, not \\u escapes


def test_text_paragraphs_and_speakers() -> None:
    text = to_text(SEGMENTS)
    paragraphs = text.strip().split("\n\n")
    assert paragraphs[0] == "Speaker 1: Good morning and welcome to the show."
    assert paragraphs[1] == "Speaker 2: Thanks for having me."
    assert paragraphs[2].startswith("Speaker 1: This is a rather long")
    assert paragraphs[3] == UNICODE
    # Same speaker, no pause: one paragraph.
    flowing = [timed("One.", 0, 1), timed("Two.", 1.2, 2), timed("Three.", 10, 11)]
    assert to_text(flowing) == "One. Two.\n\nThree.\n"
    assert to_text([]) == ""


def test_formats_table() -> None:
    assert set(FORMATS) == {"vtt", "srt", "json", "txt"}
    for name, (render, mime) in FORMATS.items():
        assert isinstance(render(SEGMENTS), str), name
        assert "/" in mime
    assert FORMATS["vtt"][1] == "text/vtt"


# --- speakers: who said what, in every format ---------------------------------------------

CALL = [
    timed("Welcome to the water committee.", 0.0, 2.0, speaker="Amina"),
    timed("Thank you, Amina.", 2.2, 3.5, speaker="Speaker 2"),
    timed("The borehole --> works again.", 3.6, 6.0, speaker="Speaker 2"),
    timed("Good news & <great> news.", 10.0, 12.0, speaker="Speaker 2"),
    timed("Music.", 13.0, 14.0),
    timed("Back to you.", 14.5, 15.5, speaker="Amina"),
]


def test_webvtt_voice_spans_name_every_cue_and_escape_the_arrow() -> None:
    vtt = to_webvtt(CALL)
    cues = parse_vtt(vtt)
    voices = [re.match(r"<v ([^>]*)>", c[2][0]) for c in cues]
    assert [v.group(1) if v else None for v in voices] == [
        "Amina",
        "Speaker 2",
        "Speaker 2",
        "Speaker 2",
        None,
        "Amina",
    ]
    assert cue_text(cues[2][2]) == "The borehole --> works again."
    assert "-->" not in vtt.replace(" --> ", "")  # only timing lines carry the arrow
    assert "Good news &amp; &lt;great&gt; news." in vtt


def test_a_name_on_two_lines_stays_on_one_line() -> None:
    vtt = to_webvtt([timed("Hi.", 0, 1, speaker="Mama\nAmina ")])
    assert "<v Mama Amina>Hi." in vtt
    srt = to_srt([timed("Hi.", 0, 1, speaker="Mama\nAmina ")])
    assert srt.split("\n")[2] == "Mama Amina: Hi."
    data = json.loads(to_podcast_json([timed("Hi.", 0, 1, speaker="Mama\nAmina ")]))
    assert data["segments"][0]["speaker"] == "Mama Amina"


def test_srt_names_each_cue_and_has_no_arrow_in_its_text() -> None:
    blocks = [b.split("\n") for b in to_srt(CALL).strip().split("\n\n")]
    assert [b[2] for b in blocks] == [
        "Amina: Welcome to the water committee.",
        "Speaker 2: Thank you, Amina.",
        "Speaker 2: The borehole -> works again.",
        "Speaker 2: Good news & <great> news.",
        "Music.",
        "Amina: Back to you.",
    ]
    for block in blocks:
        assert all("-->" not in line for line in block[2:]), block
    arrows = to_srt([timed("a ---> b", 0, 1, speaker="A-->B")])
    assert arrows.split("\n")[2] == "A->B: a -> b"


def test_podcast_json_has_the_speaker_of_each_segment() -> None:
    data = json.loads(to_podcast_json(CALL))
    assert [s.get("speaker") for s in data["segments"]] == [
        "Amina",
        "Speaker 2",
        "Speaker 2",
        "Speaker 2",
        None,
        "Amina",
    ]
    assert data["segments"][3]["body"] == "Good news & <great> news."  # JSON needs no escaping


def test_text_names_the_speaker_where_the_speaker_changes() -> None:
    assert to_text(CALL).split("\n\n") == [
        "Amina: Welcome to the water committee.",
        # Speaker 2 goes on after a pause: a new paragraph, but no new label
        "Speaker 2: Thank you, Amina. The borehole --> works again.",
        "Good news & <great> news.",
        "Music.",
        "Amina: Back to you.\n",
    ]


def test_podcast_json_carries_a_licence_only_when_given() -> None:
    licence = {"identifier": "cc-by-4.0", "name": "CC BY 4.0", "url": "https://example.org/"}
    data = json.loads(to_podcast_json(SEGMENTS, license=licence))
    assert list(data) == ["version", "license", "segments"]
    assert data["license"] == licence
    assert "license" not in json.loads(to_podcast_json(SEGMENTS))
