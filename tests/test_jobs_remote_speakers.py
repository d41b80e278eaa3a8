"""A worker on another machine, end to end over real HTTP without a queue (#17 item 1): the
worker's ``process`` against a live archive, on real group calls built from real readers'
clips (tests/data/manifest.tsv).

The worker diarizes (voice prints, clustering) and sends turns and prints in its uploaded
transcript file; the archive only matches the prints against the show's named voices. The
speakers rows, the suggestions and the split transcript equal those of an in-process run of
the same audio in the same show. A heavy step failing on the worker fails the episode with
the worker's message and ``radio retry`` brings it back; a commit the archive refuses (a
file damaged on the worker's disk) fails the episode with the archive's reason.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from flask import Flask

from radio import create_app
from radio.data import speakers as sp
from radio.data import worker_tokens
from radio.data.episodes import get_episode
from radio.db import connect, database_path, utcnow
from radio.jobs.remote import RemoteWorker
from radio.jobs.remote_http import ArchiveClient, RemoteError
from tests.archive import Seeder
from tests.audiofiles import convert, join_clips
from tests.conftest import clip, settings
from tests.webserver import LiveServer, live_server

LJ = "LJ001-000{}.wav"  # one woman
AUSTEN = "sense_and_sensibility_01_austen_64kb-0{}.wav"  # another reader
# Each voice talks for 8 s or more (transcription.diarize.MIN_VOICE_S).
NAMED = [LJ.format(1), AUSTEN.format(870), LJ.format(3), AUSTEN.format(920)]
FOLLOWING = [LJ.format(5), AUSTEN.format(890), LJ.format(7), AUSTEN.format(930),
             AUSTEN.format(880)]  # fmt: skip


@pytest.fixture
def archive(home: Path) -> Flask:
    return create_app(settings(home, TRANSCRIBE=True, WHISPER_THREADS=1))


@pytest.fixture
def adb(archive: Flask) -> Iterator[sqlite_utils.Database]:
    database = connect(database_path(archive))
    yield database
    database.conn.close()


@pytest.fixture
def server(archive: Flask) -> Iterator[LiveServer]:
    with live_server(archive) as running:
        yield running


@pytest.fixture
def worker(tmp_path: Path, adb: sqlite_utils.Database, server: LiveServer) -> RemoteWorker:
    token = worker_tokens.add_token(adb, "studio-pc", "test", utcnow())
    scratch = create_app(settings(tmp_path / "worker", TRANSCRIBE=True, WHISPER_THREADS=1))
    return RemoteWorker(scratch, ArchiveClient(server.url, token, "box-1"))


def wait_status(db: sqlite_utils.Database, episode_id: int, status: str) -> None:
    deadline = time.monotonic() + 300
    while get_episode(db, episode_id).status != status and time.monotonic() < deadline:
        time.sleep(0.1)
    assert get_episode(db, episode_id).status == status, get_episode(db, episode_id).error


def speaker_rows(db: sqlite_utils.Database, episode_id: int) -> list[tuple]:
    return db.execute(
        "select label, seconds, voice, suggestion, suggestion_score from speakers "
        "where episode_id = ? order by label",
        [episode_id],
    ).fetchall()


def transcript(db: sqlite_utils.Database, episode_id: int) -> list[tuple]:
    return db.execute(
        "select idx, start, end, text, speaker, words from segments where episode_id = ? "
        "order by idx",
        [episode_id],
    ).fetchall()


def test_the_worker_finds_the_speakers_the_archive_would_and_the_archive_suggests_names(
    archive: Flask, adb: sqlite_utils.Database, worker: RemoteWorker, tmp_path: Path
) -> None:
    seed = Seeder(archive, adb)
    named_call = tmp_path / "named.wav"
    join_clips([clip(c) for c in NAMED], named_call)
    named = seed.recording(named_call, title="Clinic hours", show="Health Hour")
    sp.rename(adb, named.id, "Speaker 1", "Amina")
    sp.rename(adb, named.id, "Speaker 2", "Joseph")
    call = tmp_path / "following.wav"
    join_clips([clip(c) for c in FOLLOWING], call)
    local = seed.recording(call, title="Vaccines", show="Health Hour")  # in-process
    # The same audio, losslessly in another container (the archive takes a file once).
    remote = seed.recording(convert(call, tmp_path / "following.flac"), process=False,
                            title="Vaccines again", show="Health Hour")  # fmt: skip

    assert worker.process(remote.id) == "committed"
    wait_status(adb, remote.id, "ready")

    done = dict(adb.execute("select step, status from episode_steps where episode_id = ?",
                            [remote.id]).fetchall())  # fmt: skip
    assert done["speakers"] == "done"
    attempts = adb.execute("select attempts from episode_steps where episode_id = ? and "
                           "step = 'speakers'", [remote.id]).fetchone()[0]  # fmt: skip
    assert attempts == 0  # diarized on the worker, never here
    ours, theirs = speaker_rows(adb, local.id), speaker_rows(adb, remote.id)
    assert {r[3] for r in ours} == {"Amina", "Joseph"}  # suggestions, as in-process
    assert theirs == ours
    assert transcript(adb, remote.id) == transcript(adb, local.id)
    assert {r[4] for r in transcript(adb, remote.id)} == {"Speaker 1", "Speaker 2"}
    # The history says which worker sent it, by its token's name.
    sql = "select actor, summary_after from audit where action = 'worker.commit' and subject = ?"
    (entry,) = adb.execute(sql, [f"episode:{remote.id}"]).fetchall()
    assert entry[0] == "worker:studio-pc" and '"speakers"' in entry[1]


def test_a_step_failing_on_the_worker_fails_the_episode_and_retry_brings_it_back(
    archive: Flask, adb: sqlite_utils.Database, worker: RemoteWorker, runner
) -> None:  # noqa: ANN001
    seed = Seeder(archive, adb)
    episode = seed.recording(clip("jfk.flac"), process=False, title="JFK")
    archive.config["MAX_DURATION_HOURS"] = 0.001  # 3.6 s: the worker processes by these
    assert worker.process(episode.id) == "failed"
    failed = get_episode(adb, episode.id)
    assert failed.status == "failed"
    assert failed.error.startswith("audio: ") and "over the limit of 3.6 s" in failed.error
    step = adb.execute("select status, error from episode_steps where episode_id = ? and "
                       "step = 'audio'", [episode.id]).fetchone()  # fmt: skip
    assert step[0] == "failed" and "over the limit" in step[1]
    assert adb.execute("select lease_owner from episodes where id = ?",
                       [episode.id]).fetchone()[0] is None  # fmt: skip

    archive.config["MAX_DURATION_HOURS"] = 12
    answer = runner("retry", str(episode.id))
    assert answer.exit_code == 0, answer.output
    assert get_episode(adb, episode.id).status == "queued"
    assert worker.process(episode.id) == "committed"
    wait_status(adb, episode.id, "ready")
    assert "country" in " ".join(r[3] for r in transcript(adb, episode.id)).lower()


def test_a_commit_the_archive_refuses_fails_the_episode_with_its_reason(
    archive: Flask, adb: sqlite_utils.Database, worker: RemoteWorker, tmp_path: Path
) -> None:
    from tests.test_web_workers import scratch_results

    seed = Seeder(archive, adb)
    episode = seed.recording(clip("LJ001-0002.wav"), process=False, title="LJ")
    status, lent = worker.client.json("POST", f"episodes/{episode.id}/lease")
    assert status == 200
    manifest, files = scratch_results(tmp_path, archive, lent)
    damaged = bytearray(files["audio.mp3"].read_bytes())  # the worker's disk let it down
    damaged[len(damaged) // 2] ^= 0xFF
    files["audio.mp3"].write_bytes(bytes(damaged))
    with pytest.raises(RemoteError, match="refused the commit"):
        worker.send_results(episode.id, manifest, files)
    failed = get_episode(adb, episode.id)
    assert failed.status == "failed"
    assert "refused this worker's results" in failed.error and "audio.mp3" in failed.error
    assert adb.execute("select count(*) from renditions where episode_id = ?",
                       [episode.id]).fetchone()[0] == 0  # fmt: skip
    assert worker_tokens.commits(adb, episode.id) == []


def test_a_worker_transcribes_a_published_episode_again_as_the_archive_would(
    archive: Flask, adb: sqlite_utils.Database, worker: RemoteWorker, tmp_path: Path
) -> None:
    from radio.data import transcripts
    from radio.jobs import retranscribe

    seed = Seeder(archive, adb)
    wav = convert(clip("jfk.flac"), tmp_path / "jfk.wav")  # 16 bits: a FLAC of it is lossless
    here = seed.recording(wav, title="JFK")
    there = seed.recording(convert(wav, tmp_path / "jfk-again.flac"), title="JFK again")
    for episode in (here, there):
        retranscribe.request(adb, archive.config, episode.id, language="en")
    assert retranscribe.run(adb, archive.config, here.id).outcome == "done"  # in-process

    assert worker.retranscribe(there.id) == "staged"
    deadline = time.monotonic() + 120
    while transcripts.get_retranscription(adb, there.id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert transcripts.get_retranscription(adb, there.id) is None  # swapped in, and done
    assert get_episode(adb, there.id).status == "ready"  # published throughout
    assert transcript(adb, there.id) == transcript(adb, here.id)
    assert speaker_rows(adb, there.id) == speaker_rows(adb, here.id) != []
    # the worker diarized the original too: the archive only labelled the turns it sent
    assert worker_tokens.diarization(adb, there.id, there.source_sha256, 0) is not None
    assert worker_tokens.diarization(adb, here.id, here.source_sha256, 0) is None
    assert "country" in " ".join(r[3] for r in transcript(adb, there.id)).lower()
    sql = "select actor, summary_after from audit where action = 'worker.commit' and subject = ?"
    (entry,) = adb.execute(sql, [f"episode:{there.id}"]).fetchall()
    assert entry[0] == "worker:studio-pc" and '"retranscription"' in entry[1]
    # Staged already (the worker's answer was lost): what is left is the archive's.
    retranscribe.request(adb, archive.config, there.id, language="en")
    transcripts.update_retranscription(adb, there.id, status="staged")
    lent = worker.client.json("POST", f"episodes/{there.id}/retranscription/lease")[1]
    assert lent == {"id": there.id, "stage": False}


def test_a_retranscription_that_stops_on_the_worker_keeps_the_old_transcript(
    archive: Flask, adb: sqlite_utils.Database, worker: RemoteWorker, tmp_path: Path
) -> None:
    import numpy as np

    from radio.data import transcripts
    from radio.jobs import retranscribe
    from tests.audiofiles import write_pcm

    seed = Seeder(archive, adb)
    hum = write_pcm(tmp_path / "hum.wav", 0.05 * np.sin(np.arange(16000 * 4) * 0.05))
    episode = seed.recording(hum, title="Hum")  # no speech: published without a transcript
    assert get_episode(adb, episode.id).status == "ready"
    retranscribe.request(adb, archive.config, episode.id, language="en")
    assert worker.retranscribe(episode.id) == "failed"
    asked = transcripts.get_retranscription(adb, episode.id)
    assert asked is not None and "heard no speech" in asked.error  # the worker's reason
    assert get_episode(adb, episode.id).status == "ready"
    assert adb.execute("select lease_owner from episodes where id = ?",
                       [episode.id]).fetchone()[0] is None  # fmt: skip


def test_what_a_worker_finished_before_a_failure_is_kept(
    archive: Flask,
    adb: sqlite_utils.Database,
    worker: RemoteWorker,
    server: LiveServer,
    tmp_path: Path,
) -> None:
    """A worker without the model: its listening copies arrive, the transcript step fails
    with its reason, and a retry by a worker that has the model only transcribes."""
    seed = Seeder(archive, adb)
    episode = seed.recording(clip("jfk.flac"), process=False, title="JFK")
    bare = create_app(settings(tmp_path / "bare", TRANSCRIBE=True,
                               WHISPER_MODEL=str(tmp_path / "no-model")))  # fmt: skip
    without = RemoteWorker(bare, ArchiveClient(server.url, worker.client.token, "box-2"))
    assert without.process(episode.id) == "failed"
    failed = get_episode(adb, episode.id)
    assert failed.status == "failed" and failed.error.startswith("transcribe: ")
    steps = dict(adb.execute("select step, status from episode_steps where episode_id = ?",
                             [episode.id]).fetchall())  # fmt: skip
    assert steps == {"audio": "done", "transcribe": "failed"}
    kinds = {k for (k,) in adb.execute("select kind from renditions where episode_id = ?",
                                        [episode.id]).fetchall()}  # fmt: skip
    assert kinds == {"mp3", "opus", "aac"}

    from radio.jobs import pipeline

    pipeline.retry(adb, episode.id)  # what `radio retry` does
    status, lent = worker.client.json("POST", f"episodes/{episode.id}/lease")
    assert status == 200 and lent["done"] == ["audio"]
    worker.client.call("DELETE", f"episodes/{episode.id}/lease")
    assert worker.process(episode.id) == "committed"
    wait_status(adb, episode.id, "ready")
    attempts = adb.execute("select attempts from episode_steps where episode_id = ? and "
                           "step = 'audio'", [episode.id]).fetchone()[0]  # fmt: skip
    assert attempts == 0 and transcript(adb, episode.id)


def test_a_transcript_the_archive_has_gets_its_speakers_from_a_worker(
    archive: Flask, adb: sqlite_utils.Database, worker: RemoteWorker, tmp_path: Path
) -> None:
    """The archive made the copies and the transcript, then its speakers step stopped (the
    machine was switched off there); after ``radio retry`` a worker diarizes the original
    and the archive only labels its transcript: the same speakers as a whole in-process run."""
    from radio.data.processing import StepName
    from radio.jobs import pipeline
    from radio.jobs.context import StepError
    from radio.jobs.steps import STEPS

    seed = Seeder(archive, adb)
    call = tmp_path / "following.wav"
    join_clips([clip(c) for c in FOLLOWING], call)
    local = seed.recording(call, title="Vaccines", show="Health Hour")  # in-process, whole
    remote = seed.recording(convert(call, tmp_path / "following.flac"), process=False,
                            title="Vaccines again", show="Health Hour")  # fmt: skip

    def switched_off(_ctx: object) -> None:
        raise StepError("the machine was switched off")

    cut = [s if s[0] != StepName.SPEAKERS else (s[0], switched_off, s[2]) for s in STEPS]
    assert pipeline.process(adb, archive.config, remote.id, cut) == "failed"
    pipeline.retry(adb, remote.id)  # what `radio retry` does
    status, lent = worker.client.json("POST", f"episodes/{remote.id}/lease")
    assert status == 200 and lent["diarize"] and lent["done"] == ["audio", "transcribe"]
    worker.client.call("DELETE", f"episodes/{remote.id}/lease")

    assert worker.process(remote.id) == "committed"
    wait_status(adb, remote.id, "ready")
    kept = adb.execute("select speakers from worker_diarizations where episode_id = ?",
                       [remote.id]).fetchall()  # fmt: skip
    assert kept == [(0,)]  # the worker's, for a call with no names given
    assert speaker_rows(adb, remote.id) == speaker_rows(adb, local.id)
    assert transcript(adb, remote.id) == transcript(adb, local.id)
    assert {r[4] for r in transcript(adb, remote.id)} == {"Speaker 1", "Speaker 2"}
    sql = "select actor, summary_after from audit where action = 'worker.commit' and subject = ?"
    (entry,) = adb.execute(sql, [f"episode:{remote.id}"]).fetchall()
    assert entry[0] == "worker:studio-pc" and '"diarization"' in entry[1]
    # speakers for an episode the worker no longer holds are refused
    status, answer = worker.client.json("POST", f"episodes/{remote.id}/diarization",
                                        {"speakers": 0, "turns": [], "voices": []})  # fmt: skip
    assert status == 409 and "no longer lent" in answer["error"]
