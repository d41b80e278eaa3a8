"""Transcribing an episode again: a real recording and the real tiny.en model; the swap in
one transaction, corrections carried by the alignment rule, crashes before the swap, a
killed worker resumed, topics and chapters found again."""

from __future__ import annotations

import socket
import time

import pytest

from radio import create_app
from radio.data import edits, processing, tags, transcripts
from radio.data.episodes import get_episode
from radio.data.swaps import Correction
from radio.data.transcripts import Phase
from radio.data.users import add_user
from radio.jobs import retranscribe as again
from radio.jobs import tasks
from radio.jobs.retranscribe import Outcome, RetranscribeError
from radio.media import store
from tests.archive import timed_words
from tests.conftest import clip, settings
from transcription.segments import Chapter, Segment
from transcription.topics import Keyphrase


@pytest.fixture
def app(home):  # noqa: ANN001, ANN201 - this module's archive transcribes what it takes in
    yield create_app(settings(home, TRANSCRIBE=True))


@pytest.fixture
def editor(db):  # noqa: ANN001, ANN201
    return add_user(db, "amina", "correct horse", "editor")


def searchable(app, word: str, guid: str) -> bool:  # noqa: ANN001
    """Whether a listener's search for ``word`` finds the episode."""
    response = app.test_client().get(f"/search?q={word}")
    assert response.status_code == 200
    return guid in response.get_data(as_text=True)


def published(app, guid: str) -> tuple[str, str]:  # noqa: ANN001
    """What a listener gets: the episode page and its WebVTT transcript."""
    client = app.test_client()
    page, vtt = client.get(f"/episodes/{guid}"), client.get(f"/episodes/{guid}/transcript.vtt")
    assert page.status_code == 200 and vtt.status_code == 200
    return page.get_data(as_text=True), vtt.get_data(as_text=True)


def test_a_new_transcript_replaces_the_old_keeping_the_editors_correction(app, db, seed, editor):
    ep = seed.recording(clip("jfk.flac"), title="Ask not")
    old = transcripts.transcript_lines(db, ep.id)
    assert len(old) == 2 and "country" in old[0].text
    fixed = f"{old[0].text} Quixotic."
    edits.edit_segments(db, ep.id, editor.id, {old[0].id: fixed})
    # Stale computed tags and chapters, to see them found again from the new transcript.
    tags.replace_computed(
        db,
        ep.id,
        topics=[],
        keyphrases=[Keyphrase("stale phrase", 1.0)],
        chapters=[Chapter(0.0, 10.0, "Stale chapter")],
        taxonomy_slugs=set(),
    )
    before = published(app, ep.guid)

    again.request(db, app.config, ep.id, model="tiny.en", user_id=editor.id)
    again.stage(db, app.config, ep.id, lambda done, total: None)
    # The new transcript is complete in staging; listeners still get the old one, whole.
    assert transcripts.get_retranscription(db, ep.id).status == Phase.STAGED
    assert transcripts.staged_resume_point(db, ep.id) is not None
    assert transcripts.transcript_lines(db, ep.id)[0].text == fixed
    assert published(app, ep.guid) == before
    assert searchable(app, "quixotic", ep.guid) and searchable(app, "country", ep.guid)

    result = again.run(db, app.config, ep.id)
    assert result.outcome == Outcome.DONE, result.error
    assert [c.text for c in result.swapped.kept] == [fixed] and result.swapped.dropped == []
    new = transcripts.transcript_lines(db, ep.id)
    assert [s.text for s in new] == [fixed, old[1].text]
    assert transcripts.get_retranscription(db, ep.id) is None
    assert transcripts.staged_resume_point(db, ep.id) is None
    # The editor's change follows its segment, with its history.
    edit = next(db.query("select segment_id, before, after from transcript_edits"))
    assert (edit["segment_id"], edit["before"], edit["after"]) == (new[0].id, old[0].text, fixed)
    row = get_episode(db, ep.id)
    assert (row.transcript_model, row.transcript_language, row.status) == ("tiny.en", "en", "ready")
    # Pages, files and search serve the new transcript.
    page, vtt = published(app, ep.guid)
    assert "Quixotic." in vtt and "ask what you can do for your country" in vtt
    assert searchable(app, "quixotic", ep.guid) and searchable(app, "country", ep.guid)
    # New rows may reuse the old ids: the per-episode id ranges search reads (migration
    # 0025) still hold them.
    lo, hi = db.execute(
        "select lo, hi from episode_segments where episode_id = ?", [ep.id]
    ).fetchone()
    assert all(lo <= s.id <= hi for s in new)
    # Topics and chapters were found again from the new transcript.
    assert "stale phrase" not in {t.label for t in tags.episode_tags(db, ep.id)}
    assert "Stale chapter" not in {c.title for c in tags.chapters(db, ep.id)}


def test_an_unreadable_original_stops_it_before_the_swap_and_it_can_run_again(app, db, seed):
    ep = seed.recording(clip("jfk.flac"))
    old = transcripts.transcript_lines(db, ep.id)
    original = store.resolve(app.config["HOME"], ep.source_path)
    sound = original.read_bytes()
    for damaged, says in ((sound[:3000], "can't be read as audio"), (b"", "heard no speech")):
        original.write_bytes(damaged)  # cut short, or emptied
        again.request(db, app.config, ep.id)
        result = again.run(db, app.config, ep.id)
        assert result.outcome == Outcome.FAILED and says in result.error
        asked = transcripts.get_retranscription(db, ep.id)
        assert asked.error == result.error and asked.status == Phase.RUNNING
        # Nothing of the published episode changed.
        assert transcripts.transcript_lines(db, ep.id) == old
        assert get_episode(db, ep.id).is_public and searchable(app, "country", ep.guid)
        assert tasks.recover(app) == 0  # a failure waits for a person

    original.write_bytes(sound)  # restored from a backup
    again.request(db, app.config, ep.id)
    assert again.run(db, app.config, ep.id).outcome == Outcome.DONE
    assert [s.text for s in transcripts.transcript_lines(db, ep.id)] == [s.text for s in old]


class Killed(BaseException):
    """The worker's process dying: nothing in the job catches it."""


def test_a_killed_worker_leaves_the_old_transcript_and_the_next_one_resumes(app, db, seed):
    ep = seed.recording(clip("jfk.flac"))
    old = transcripts.transcript_lines(db, ep.id)
    again.request(db, app.config, ep.id)

    def die(done: float, total: float) -> None:  # after the first segment is staged
        raise Killed

    with pytest.raises(Killed):
        again.stage(db, app.config, ep.id, die)
    assert transcripts.staged_resume_point(db, ep.id) == (old[0].end, 0)
    assert transcripts.transcript_lines(db, ep.id) == old
    # The dead worker's lease, as a killed process leaves it.
    dead = f"{socket.gethostname()}:999999999:dead00"
    assert processing.claim_lease(db, ep.id, dead, time.time() + 300, time.time())

    huey = app.extensions["radio.huey"]
    assert tasks.recover(app, include_queued=False) == 1 and huey.pending_count() == 1
    huey.execute(huey.dequeue())  # the next worker
    assert transcripts.get_retranscription(db, ep.id) is None
    new = transcripts.transcript_lines(db, ep.id)
    assert [s.text for s in new] == [s.text for s in old]
    assert get_episode(db, ep.id).lease_owner is None


def test_a_live_lease_keeps_a_retranscription_and_processing_apart(app, db, seed):
    waiting = seed.episode("Not yet", [(0.0, 2.0, "hello")], status="queued")
    with pytest.raises(RetranscribeError, match="queued, not ready"):
        again.request(db, app.config, waiting)
    episode_id = seed.episode("Ready", [(0.0, 2.0, "hello")])
    again.request(db, app.config, episode_id)
    other = f"{socket.gethostname()}:1:other0"  # pid 1 is alive: a worker still at it
    assert processing.claim_lease(db, episode_id, other, time.time() + 300, time.time())
    assert again.run(db, app.config, episode_id).outcome == Outcome.BUSY
    with pytest.raises(RetranscribeError, match="being transcribed again right now"):
        again.request(db, app.config, episode_id, language="es")
    assert transcripts.get_retranscription(db, episode_id).status == Phase.QUEUED


def test_the_swap_carries_only_corrections_that_still_align(app, db, seed, editor):
    said = [(0.0, 4.0, "the water committee met today"), (4.0, 8.0, "they spoke of the new well")]
    said.append((8.0, 12.0, "and the market day"))
    episode_id = seed.episode("Committee", said)
    old = transcripts.transcript_lines(db, episode_id)
    edits.edit_segments(
        db,
        episode_id,
        editor.id,
        {old[0].id: "The water committee met on Tuesday.", old[2].id: "And the market, Friday."},
    )
    transcripts.request_retranscription(db, episode_id, model=None, language=None, user_id=None)
    heard = [
        (0.2, 4.1, "The water committee met today."),  # same words, same time: carried
        (4.1, 6.0, "They spoke"),  # an uncorrected segment, cut in two
        (6.0, 8.0, "of the new well."),
        (8.0, 12.0, "and then the harvest festival"),  # other words: the correction stays out
    ]
    staged = [Segment(s, e, t, timed_words([(s, e, t)])) for s, e, t in heard]
    transcripts.add_staged(db, episode_id, staged, 0)
    transcripts.update_retranscription(
        db, episode_id, status=Phase.STAGED, staged_model="test", staged_language="en"
    )
    swapped = again.swap(db, episode_id)

    new = transcripts.transcript_lines(db, episode_id)
    assert [s.text for s in new] == [
        "The water committee met on Tuesday.",
        "They spoke",
        "of the new well.",
        "and then the harvest festival",
    ]
    assert [c.segment_id for c in swapped.kept] == [old[0].id]
    assert [c.segment_id for c in swapped.dropped] == [old[2].id]
    history = {r["after"]: r["segment_id"] for r in db.query("select * from transcript_edits")}
    assert history == {
        "The water committee met on Tuesday.": new[0].id,
        "And the market, Friday.": None,
    }
    assert searchable(app, "tuesday", get_episode(db, episode_id).guid)
    assert not searchable(app, "friday", get_episode(db, episode_id).guid)
    assert get_episode(db, episode_id).transcript_model == "test"


def fix(segment_id: int, start: float, end: float, machine: str, text: str) -> Correction:
    return Correction(segment_id, start, end, machine, text)


def test_alignment_needs_the_same_time_and_the_same_words():
    new = [Segment(0.0, 5.0, "Ask not, what your country...", ()), Segment(5.0, 9.0, "ask", ())]
    # Case, punctuation and spacing don't count.
    assert again.align([fix(7, 0.3, 5.2, "ask not what your country", "X")], new) == {7: 0}
    # The model now agrees with the editor: the editor's spelling stays.
    assert again.align(
        [fix(7, 0, 5, "ask knot what yer county", "Ask not what your country")], new
    ) == {7: 0}
    # The same words elsewhere in time, or other words at the same time: not carried.
    assert again.align([fix(7, 20.0, 25.0, "ask not what your country", "X")], new) == {}
    assert again.align([fix(7, 0.0, 5.0, "the weather on Friday", "X")], new) == {}
    # A segment cut differently (less than half of their joint span shared): not carried.
    assert again.align([fix(7, 0.0, 12.0, "ask not what your country", "X")], new) == {}
    # One new segment takes one correction: the better pair wins.
    two = [
        fix(1, 0.0, 5.0, "ask not what your country", "A"),
        fix(2, 1.0, 5.0, "ask not what your country", "B"),
    ]
    assert again.align(two, new) == {1: 0}


def test_a_language_and_a_model_are_checked_by_name(app, db):
    assert again.check_language("pt-BR") == "pt" and again.check_language(" ") is None
    with pytest.raises(RetranscribeError, match="isn't a language code Whisper knows"):
        again.check_language("klingon")
    assert again.resolve_model(app.config, "TINY.EN", None).name == "tiny.en"
    with pytest.raises(RetranscribeError, match=r"installed: .*tiny\.en"):
        again.resolve_model(app.config, "nosuch", None)
    tiny = again.resolve_model(app.config, "tiny.en", None)
    with pytest.raises(RetranscribeError, match="English only"):
        again.check_model(tiny, "es")
