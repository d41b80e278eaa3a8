"""The speakers step through the real pipeline: group calls built from real readers' clips
(tests/data/manifest.tsv: LJ Speech, one woman; a LibriVox reader of Sense and Sensibility;
John F. Kennedy), transcribed by tiny.en and diarized as one mix.

Who speaks when is known by construction (each clip is one reader), so each word's speaker
is checked against the clip it was said in. Running the step again changes nothing, keeps
the names editors gave, and the show's next episode suggests those names for the same
voices. A two-party stereo call keeps its channel split. The module shares one archive.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import sqlite_utils
from flask import Flask

from radio import create_app
from radio.data import processing
from radio.data import speakers as sp
from radio.data.episodes import Episode, EpisodeStatus, get_episode, update_episode
from radio.data.processing import StepName, StepStatus
from radio.data.transcripts import load_segments, transcript_lines
from radio.db import connect, database_path
from radio.jobs import pipeline, tasks
from radio.jobs.speakers import (
    best_matches,
    choose_labels,
    split_segment,
    suggest,
    voice_rows,
)
from tests.archive import Seeder, timed_words
from tests.audiofiles import decode_mono, join_clips
from tests.conftest import clip, settings
from transcription.diarize import MATCH_THRESHOLD, Diarization, Turn, Voice, similarity
from transcription.segments import Segment

LJ = "LJ001-000{}.wav"  # one woman
AUSTEN = "sense_and_sensibility_01_austen_64kb-0{}.wav"  # another reader
JFK = "jfk.flac"
# Each voice talks for 12 s or more: diarization folds a voice with less than 8 s of talk
# into its nearest neighbour (transcription.diarize.MIN_VOICE_S).
FIRST = [LJ.format(1), AUSTEN.format(870), JFK, LJ.format(3), AUSTEN.format(920), JFK]
WHO = {LJ.format(1): 0, AUSTEN.format(870): 1, JFK: 2, LJ.format(3): 0, AUSTEN.format(920): 1}
NEXT = [
    *(LJ.format(5), AUSTEN.format(890), LJ.format(7), AUSTEN.format(930)),
    *(AUSTEN.format(880), LJ.format(2), AUSTEN.format(890)),
]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Flask:
    return create_app(settings(tmp_path_factory.mktemp("home"), TRANSCRIBE=True))


@pytest.fixture(scope="module")
def db(app: Flask) -> Iterator[sqlite_utils.Database]:
    database = connect(database_path(app))
    yield database
    database.conn.close()


@pytest.fixture(scope="module")
def seed(app: Flask, db: sqlite_utils.Database) -> Seeder:
    return Seeder(app, db)


@pytest.fixture(scope="module")
def calls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("calls")


def group_call(folder: Path, name: str, clips: list[str], gap: float = 1.0) -> tuple[Path, list]:
    """One mono mix of the clips in turn; (path, [(start, end, clip name)])."""
    path = folder / name
    starts = join_clips([clip(c) for c in clips], path, gap=gap)
    spans = [
        (s, s + len(decode_mono(clip(c))) / 16000, c) for s, c in zip(starts, clips, strict=True)
    ]
    return path, spans


@pytest.fixture(scope="module")
def first(seed: Seeder, calls: Path) -> tuple[Episode, list]:
    path, spans = group_call(calls, "committee.wav", FIRST)
    return seed.recording(path, title="Water committee", show="Water Committee"), spans


def run_step_again(app: Flask, db: sqlite_utils.Database, episode_id: int) -> None:
    """As after a worker was killed in the step: it runs again, and only it."""
    processing.mark_step(db, episode_id, StepName.SPEAKERS, StepStatus.FAILED, error="killed")
    update_episode(db, episode_id, status=EpisodeStatus.FAILED)
    pipeline.retry(db, episode_id)
    assert tasks.run_episode(app, episode_id) == EpisodeStatus.READY


def attributed(db: sqlite_utils.Database, episode: Episode, spans: list) -> dict[str, list]:
    """For each clip of the call, the speakers its words were given."""
    found: dict[str, list] = {}
    for segment in load_segments(db, episode.id):
        for w in segment.words:
            middle = (w.start + w.end) / 2
            name = next((c for a, b, c in spans if a - 0.3 <= middle <= b + 0.3), None)
            found.setdefault(name, []).append(segment.speaker)
    return found


def test_a_group_call_is_split_between_its_speakers(app, db, first):
    episode, spans = first
    assert episode.status == EpisodeStatus.READY
    assert StepName.SPEAKERS in processing.finished_steps(db, episode.id)
    rows = sp.of_episode(db, episode.id)
    assert [r.label for r in rows] == ["Speaker 1", "Speaker 2", "Speaker 3"]
    for row in rows:
        assert row.voice is not None and np.linalg.norm(row.voice) == pytest.approx(1, abs=1e-4)
        assert row.seconds > 5 and row.suggestion is None  # no one is named in the show yet
    # Each word goes to the voice of the reader who said it.
    words = attributed(db, episode, spans)
    assert None not in words
    for name, who in words.items():
        right = sum(s == f"Speaker {WHO[name] + 1}" for s in who)
        assert right / len(who) >= 0.95, (name, who)
    country = [s for s in load_segments(db, episode.id) if "country" in s.text.lower()]
    assert country and {s.speaker for s in country} == {"Speaker 3"}
    # And the transcript files say so.
    guid = episode.guid
    vtt = app.test_client().get(f"/episodes/{guid}/transcript.vtt").get_data(as_text=True)
    assert all(f"<v Speaker {n}>" in vtt for n in (1, 2, 3))


def test_running_the_step_again_changes_nothing(app, db, first):
    episode, _ = first
    before = transcript_lines(db, episode.id)
    rows = sp.of_episode(db, episode.id)
    run_step_again(app, db, episode.id)
    assert transcript_lines(db, episode.id) == before  # the same segments, ids and all
    again = sp.of_episode(db, episode.id)
    assert [(r.label, r.seconds) for r in again] == [(r.label, r.seconds) for r in rows]
    assert all(np.allclose(a.voice, b.voice, atol=1e-5) for a, b in zip(again, rows, strict=True))


def test_names_stay_when_run_again_and_the_next_episode_suggests_them(app, db, seed, calls):
    path, _ = group_call(calls, "health-1.wav", FIRST, gap=1.3)
    named = seed.recording(path, title="Clinic hours", show="Health Hour")
    sp.rename(db, named.id, "Speaker 1", "Amina")
    sp.rename(db, named.id, "Speaker 2", "Joseph")
    before = [(s.start, s.text, s.speaker) for s in transcript_lines(db, named.id)]
    assert {s for _, _, s in before} == {"Amina", "Joseph", "Speaker 3"}
    run_step_again(app, db, named.id)
    assert [(s.start, s.text, s.speaker) for s in transcript_lines(db, named.id)] == before
    assert {r.label for r in sp.of_episode(db, named.id)} == {"Amina", "Joseph", "Speaker 3"}

    path, _ = group_call(calls, "health-2.wav", NEXT)
    following = seed.recording(path, title="Vaccines", show="Health Hour")
    rows = {r.label: r for r in sp.of_episode(db, following.id)}
    assert set(rows) == {"Speaker 1", "Speaker 2"}  # suggested, never applied by itself
    assert rows["Speaker 1"].suggestion == "Amina" and rows["Speaker 2"].suggestion == "Joseph"
    assert all(r.suggestion_score >= MATCH_THRESHOLD for r in rows.values())
    assert {s.speaker for s in load_segments(db, following.id)} == {"Speaker 1", "Speaker 2"}
    sp.confirm_suggestion(db, following.id, "Speaker 1")
    assert "Amina" in {s.speaker for s in load_segments(db, following.id)}


def test_the_uploaders_names_label_the_voices_in_the_order_they_speak(db, seed, calls):
    clips = [LJ.format(4), AUSTEN.format(890), LJ.format(6), AUSTEN.format(930)]
    path, _ = group_call(calls, "names.wav", clips)
    episode = seed.recording(path, title="Named", show="Names Given", speakers=["Amina", "Joseph"])
    assert [r.label for r in sp.of_episode(db, episode.id)] == ["Amina", "Joseph"]
    first_words = load_segments(db, episode.id)[0]
    assert first_words.speaker == "Amina" and "produced" in first_words.text.lower()


def test_a_two_party_call_keeps_its_channels(app, db, seed):
    episode = seed.recording(clip("stereo_diarization.wav"), speakers=["Host", "Caller"])
    rows = sp.of_episode(db, episode.id)
    assert {r.label for r in rows} == {"Host", "Caller"}
    assert all(r.voice is None and r.seconds > 0 for r in rows)
    before = transcript_lines(db, episode.id)
    run_step_again(app, db, episode.id)
    assert transcript_lines(db, episode.id) == before
    assert get_episode(db, episode.id).status == EpisodeStatus.READY


# --- labels, suggestions and splits, on made-up voices ----------------------------------


def voice(index: int, *values: float, seconds: float = 10.0) -> Voice:
    v = np.zeros(256, dtype=np.float32)
    v[: len(values)] = values
    return Voice(index, seconds, v / np.linalg.norm(v))


def test_labels_prefer_this_episodes_names_then_the_uploaders_then_numbers():
    voices = [voice(0, 1, 0, 0), voice(1, 0, 1, 0), voice(2, 0, 0, 1)]
    own = {"Kofi": voice(9, 0.1, 1, 0).print}  # an editor named voice 1 before
    labels = choose_labels(voices, own, ["Amina", "Kofi"], similarity, MATCH_THRESHOLD)
    assert labels == ["Amina", "Kofi", "Speaker 3"]
    assert choose_labels(voices, {}, [], similarity, MATCH_THRESHOLD) == [
        "Speaker 1",
        "Speaker 2",
        "Speaker 3",
    ]
    far = {"Kofi": voice(9, 1, 1, 1).print}  # 0.58 alike: not the same person
    assert choose_labels(voices, far, [], similarity, MATCH_THRESHOLD)[1] == "Speaker 2"


def test_two_voices_an_editor_named_alike_stay_one_speaker():
    voices = [voice(0, 1, 0.8, 0, seconds=30), voice(1, 0.8, 1, 0, seconds=10), voice(2, 0, 0, 1)]
    merged = sp.mean_voice([(voices[0].print, 30), (voices[1].print, 10)])
    labels = choose_labels(voices, {"Amina": merged}, [], similarity, MATCH_THRESHOLD)
    assert labels == ["Amina", "Amina", "Speaker 3"]
    rows = voice_rows(voices, labels, {2: ("Joseph", 0.9)})
    assert [(r.label, r.seconds, r.suggestion) for r in rows] == [
        ("Amina", 40.0, None),
        ("Speaker 3", 10.0, "Joseph"),
    ]
    assert np.allclose(rows[0].voice, merged, atol=1e-6)


def test_each_name_is_suggested_for_its_closest_unnamed_voice_only():
    voices = [voice(0, 1, 0.1, 0), voice(1, 1, 0.3, 0), voice(2, 0, 0, 1)]
    show = {"Amina": voice(9, 1, 0, 0).print, "Joseph": voice(9, 0, 0, 1).print}
    found = suggest(voices, ["Speaker 1", "Speaker 2", "Speaker 3"], show, similarity, 0.8)
    assert {i: name for i, (name, _) in found.items()} == {0: "Amina", 2: "Joseph"}
    assert found[0][1] == pytest.approx(similarity(voices[0].print, show["Amina"]))
    # A voice already named, and a name already used here, are not suggested.
    assert suggest(voices, ["Joseph", "Speaker 2", "Speaker 3"], show, similarity, 0.8) == {
        1: ("Amina", pytest.approx(similarity(voices[1].print, show["Amina"])))
    }
    assert best_matches(voices, {}, similarity, 0.8) == []


def test_a_corrected_segment_is_not_split_but_goes_to_most_of_its_words():
    turns = (Turn(0.0, 2.0, 0), Turn(2.0, 6.0, 1))
    found = Diarization(turns, (voice(0, 1, 0), voice(1, 0, 1)))
    words = timed_words(
        [
            (0.2, 0.6, " so"),
            (0.6, 1.0, " we"),
            (2.2, 2.6, " dig"),
            (2.6, 3.0, " a"),
            (3.0, 3.4, " new"),
            (3.4, 3.8, " well"),
        ]
    )
    heard = Segment(0.2, 3.8, "so we dig a new well", words)
    pieces = split_segment(heard, found, ["Amina", "Joseph"])
    assert [(p.text, p.speaker) for p in pieces] == [
        ("so we", "Amina"),
        ("dig a new well", "Joseph"),
    ]
    corrected = Segment(0.2, 3.8, "So we dig a new borehole.", words)
    (whole,) = split_segment(corrected, found, ["Amina", "Joseph"])
    assert (whole.text, whole.speaker) == ("So we dig a new borehole.", "Joseph")


def test_a_name_reaches_every_transcript_format_and_the_feed(app, db, first):  # noqa: ANN001
    """Renaming the voice that said "ask not" changes every file of the transcript, the VTT
    the feed links to, and podcast:person: the words stay with the one who said them."""
    import json
    import re

    from lxml import etree

    episode, _ = first
    said = load_segments(db, episode.id)
    label = next(s.speaker for s in said if "ask not" in s.text.lower())
    assert not any("ask not" in s.text.lower() and s.speaker != label for s in said)
    sp.rename(db, episode.id, label, "John Kennedy")
    client = app.test_client()
    rss = etree.fromstring(client.get("/feeds/all.xml").data)
    ns = {"podcast": "https://podcastindex.org/namespace/1.0"}
    (item,) = [
        i for i in rss.xpath("/rss/channel/item") if i.findtext("title") == "Water committee"
    ]
    assert "John Kennedy" in [p.text for p in item.xpath("podcast:person", namespaces=ns)]
    (vtt_url,) = item.xpath("podcast:transcript[@type='text/vtt']/@url", namespaces=ns)
    vtt = client.get(re.sub(r"^https?://[^/]+", "", vtt_url)).get_data(as_text=True)
    assert re.search(r"<v John Kennedy>[^\n]*ask not", vtt, re.IGNORECASE), vtt
    base = f"/episodes/{episode.guid}/transcript"
    srt = client.get(f"{base}.srt").get_data(as_text=True)
    assert re.search(r"John Kennedy: [^\n]*ask not", srt, re.IGNORECASE), srt
    rows = json.loads(client.get(f"{base}.json").get_data(as_text=True))["segments"]
    assert all(r["speaker"] == "John Kennedy" for r in rows if "ask not" in r["body"].lower())
    text = client.get(f"{base}.txt").get_data(as_text=True)
    assert re.search(r"^John Kennedy: [^\n]*ask not", text, re.IGNORECASE | re.MULTILINE), text
