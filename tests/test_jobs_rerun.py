"""Making a finished episode's steps again without unpublishing it (#15, radio.jobs.rerun),
on real recordings with real encoding: the old files serve until the new ones are complete,
then one swap; the renditions rows always describe the files; a failure keeps the old."""

from __future__ import annotations

import json
import time

import pytest

from radio.data import reruns, transcripts
from radio.data.episodes import get_episode, update_episode
from radio.data.reruns import RerunPhase
from radio.data.tags import episode_tags
from radio.jobs import pipeline, rerun
from radio.jobs.ingest import Limits, Metadata, ingest_file
from radio.media import store
from radio.web.http.mediacache import PublicMedia
from tests.archive import as_segment
from tests.conftest import clip


def published(app, db, home):  # noqa: ANN001, ANN201
    episode_id = ingest_file(db, home, clip("jfk.flac"), Metadata(title="Ask not"), Limits())
    assert pipeline.process(db, app.config, episode_id.episode_id) == "ready"
    return get_episode(db, episode_id.episode_id)


def files(home, db, episode_id):  # noqa: ANN001, ANN201
    """kind -> (path, row bytes, file size, inode), peaks included."""
    out = {}
    for row in db["renditions"].rows_where("episode_id = ?", [episode_id]):
        path = home / "media" / row["path"]
        st = path.stat()
        out[row["kind"]] = (row["path"], row["bytes"], st.st_size, st.st_ino)
    peaks = home / "media" / get_episode(db, episode_id).peaks_path
    out["peaks"] = (str(peaks), None, peaks.stat().st_size, peaks.stat().st_ino)
    return out


def assert_rows_match_files(home, db, episode_id):  # noqa: ANN001
    for kind, (_path, row_bytes, size, _ino) in files(home, db, episode_id).items():
        if kind != "peaks":
            assert row_bytes == size, kind


def test_audio_is_made_again_and_swapped_in_while_the_episode_stays_public(app, db, home):
    episode = published(app, db, home)
    before = files(home, db, episode.id)
    app.config["TARGET_LUFS"] = -20.0  # the station changed its level: new copies differ
    assert rerun.request(db, app.config, episode.id, "audio") == rerun.Asked.RERUN
    assert get_episode(db, episode.id).is_public  # asking changes nothing listeners see

    result = rerun.run(db, app.config, episode.id)

    assert result.outcome == rerun.Outcome.DONE, result.error
    after = get_episode(db, episode.id)
    assert after.is_public and after.status == "ready"
    assert abs(after.loudness_after - -20.0) <= 1.0
    now = files(home, db, episode.id)
    assert set(now) == set(before)
    for kind in now:
        assert now[kind][0] == before[kind][0]  # the same URLs
        assert now[kind][3] != before[kind][3], kind  # new files, renamed into place
    assert_rows_match_files(home, db, episode.id)
    assert not (store.episode_dir(home, episode.guid) / rerun.STAGING).exists()
    row = reruns.get_rerun(db, episode.id)
    assert row.status == RerunPhase.DONE and row.progress == 1.0 and row.finished_at


def test_the_old_files_serve_until_the_swap_and_a_killed_run_carries_on(app, db, home, client):
    episode = published(app, db, home)
    before = files(home, db, episode.id)
    url = f"/media/{episode.guid}/audio.mp3"
    old_body = client.get(url).data
    assert len(old_body) == before["mp3"][2]
    app.config["TARGET_LUFS"] = -20.0  # so the new bytes differ from the old
    rerun.request(db, app.config, episode.id, "audio")
    # The worker is killed right after staging: the new files wait beside the old ones.
    rerun.stage_audio(db, app.config, episode.id, lambda fraction: None)
    staging = store.episode_dir(home, episode.guid) / rerun.STAGING
    staged = {p.name: p.stat().st_ino for p in staging.iterdir()}
    assert set(staged) == {"audio.mp3", "audio.opus", "audio.m4a", "peaks.json"}
    assert files(home, db, episode.id) == before  # nothing listeners have was touched
    assert client.get(url).data == old_body
    assert reruns.get_rerun(db, episode.id).status == RerunPhase.STAGED

    assert rerun.run(db, app.config, episode.id).outcome == rerun.Outcome.DONE

    now = files(home, db, episode.id)
    assert now["mp3"][3] == staged["audio.mp3"]  # the staged file itself, not made again
    assert now["peaks"][3] == staged["peaks.json"]
    assert_rows_match_files(home, db, episode.id)
    # listeners' fast path looks at the database at most every RECHECK_S (the swap itself
    # can take less): a change reaches them within it
    time.sleep(PublicMedia.RECHECK_S * 5)
    body = client.get(url).data
    assert len(body) == now["mp3"][1] and body != old_body
    stored = json.loads(reruns.get_rerun(db, episode.id).staged)
    assert {r["kind"] for r in stored["renditions"]} == {"mp3", "opus", "aac"}


def test_a_swap_cut_off_half_way_is_finished_from_the_row(app, db, home):
    episode = published(app, db, home)
    rerun.request(db, app.config, episode.id, "audio")
    rerun.stage_audio(db, app.config, episode.id, lambda fraction: None)
    folder = store.episode_dir(home, episode.guid)
    # Killed after one rename, before the commit: that file is new, its row is not.
    (folder / rerun.STAGING / "audio.mp3").replace(folder / "audio.mp3")
    assert rerun.run(db, app.config, episode.id).outcome == rerun.Outcome.DONE
    assert_rows_match_files(home, db, episode.id)


def test_a_failure_in_the_middle_leaves_the_old_files_and_rows(app, db, home, client):
    episode = published(app, db, home)
    before = files(home, db, episode.id)
    old_body = client.get(f"/media/{episode.guid}/audio.mp3").data
    rerun.request(db, app.config, episode.id, "audio")
    # The new copies render, then tagging them fails (the station's cover is unreadable).
    app.config["COVER_IMAGE"] = "missing-cover.jpg"

    result = rerun.run(db, app.config, episode.id)

    assert result.outcome == rerun.Outcome.FAILED
    assert "COVER_IMAGE" in result.error and "Listeners keep" in result.error
    row = reruns.get_rerun(db, episode.id)
    assert row.status == RerunPhase.FAILED and "COVER_IMAGE" in row.error
    assert files(home, db, episode.id) == before
    assert get_episode(db, episode.id).is_public
    assert client.get(f"/media/{episode.guid}/audio.mp3").data == old_body
    assert not (store.episode_dir(home, episode.guid) / rerun.STAGING).exists()
    # Fixed, asked again: it goes through.
    app.config["COVER_IMAGE"] = None
    rerun.request(db, app.config, episode.id, "audio")
    assert rerun.run(db, app.config, episode.id).outcome == rerun.Outcome.DONE
    assert_rows_match_files(home, db, episode.id)


def test_topics_and_chapters_are_found_again_in_place(app, db, home):
    episode = published(app, db, home)
    text = (
        "The water committee met about the borehole and the water pump in the village. "
        "Clean water for the school and the clinic, the borehole repair and its cost."
    )
    transcripts.add_segments(db, episode.id, [as_segment((0.0, 10.0, text))], 0)
    assert episode_tags(db, episode.id) == []
    assert rerun.request(db, app.config, episode.id, "topics") == rerun.Asked.RERUN
    assert rerun.run(db, app.config, episode.id).outcome == rerun.Outcome.DONE
    assert episode_tags(db, episode.id)  # found from the transcript now there
    assert get_episode(db, episode.id).is_public
    assert_rows_match_files(home, db, episode.id)  # chapters written into the files


def test_a_new_transcript_is_a_retranscription(app, db, home):
    episode = published(app, db, home)
    assert rerun.request(db, app.config, episode.id, "transcript") == rerun.Asked.RETRANSCRIBE
    assert transcripts.get_retranscription(db, episode.id).status == "queued"
    assert get_episode(db, episode.id).is_public


def test_a_failed_episode_retries_its_failed_steps_as_before(app, db, home):
    result = ingest_file(db, home, clip("jfk.flac"), Metadata(), Limits())
    original = home / "media" / get_episode(db, result.episode_id).source_path
    original.rename(original.with_name("away"))
    assert pipeline.process(db, app.config, result.episode_id) == "failed"
    original.with_name("away").rename(original)
    assert rerun.request(db, app.config, result.episode_id, "audio") == rerun.Asked.RETRY
    assert get_episode(db, result.episode_id).status == "queued"
    assert pipeline.process(db, app.config, result.episode_id) == "ready"


def test_unknown_steps_and_unfinished_episodes_are_refused(app, db, home):
    result = ingest_file(db, home, clip("jfk.flac"), Metadata(), Limits())
    # still waiting for a worker (none may be running): `radio retry` runs its steps
    assert rerun.request(db, app.config, result.episode_id) == rerun.Asked.RETRY
    update_episode(db, result.episode_id, status="processing")
    try:
        rerun.request(db, app.config, result.episode_id, "audio")
    except rerun.RerunError as e:
        assert "processing" in str(e)
    else:
        raise AssertionError("an episode being processed was re-run")
    try:
        rerun.request(db, app.config, result.episode_id, "everything")
    except rerun.RerunError as e:
        assert "audio, transcript, topics" in str(e)
    else:
        raise AssertionError("an unknown step was accepted")


def test_radio_retry_of_a_finished_episode_keeps_it_published(app, db, home, runner):
    episode = published(app, db, home)
    out = runner("retry", str(episode.id))
    assert out.exit_code == 0, out.output
    assert "listeners keep it" in out.output
    assert get_episode(db, episode.id).is_public  # no longer back to queued
    assert reruns.get_rerun(db, episode.id).step == "all"

    before = files(home, db, episode.id)
    out = runner("retry", str(episode.id), "--step", "audio", "--wait")
    assert out.exit_code == 0, out.output
    assert "stayed published" in out.output
    assert files(home, db, episode.id)["mp3"][3] != before["mp3"][3]
    assert get_episode(db, episode.id).is_public


def test_nothing_is_made_again_for_an_episode_taken_down_or_in_the_trash(app, db, seed):
    gone = seed.episode("Gone", [(0.0, 2.0, "hello")], taken_down_at="2026-12-01T00:00:00+00:00")
    binned = seed.episode("Binned", [(0.0, 2.0, "hello")], deleted_at="2026-12-01T00:00:00+00:00")
    for episode_id in (gone, binned):
        for step in ("audio", "topics", None):
            with pytest.raises(rerun.RerunError, match="taken down or is in the trash"):
                rerun.request(db, app.config, episode_id, step)
        assert reruns.get_rerun(db, episode_id) is None
