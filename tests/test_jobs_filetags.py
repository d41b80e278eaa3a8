"""Tags in the listening files, end to end: the TAGS step on a real recording, sizes that
agree everywhere (table, feed, served file), re-tagging after an edit, old episodes,
``radio tagfiles``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from flask import Flask
from lxml import etree
from mutagen import File as read_tags
from mutagen.id3 import ID3
from mutagen.mp4 import MP4

from radio import create_app
from radio.cli import AppState
from radio.cli.filetags import tagfiles
from radio.data import processing, tags
from radio.data.episodes import get_episode
from radio.data.renditions import record_sizes
from radio.db import connect, database_path
from radio.jobs import filetags, leases, pipeline, retranscribe, tasks
from radio.media.filetags import vorbis_time
from radio.web.urls import Urls
from tests.audiofiles import join_clips
from tests.conftest import DATA, clip, require, settings
from tests.test_media_filetags import PNG
from tests.webserver import add_account, csrf_token, log_in
from transcription.segments import Chapter

NS = {"podcast": "https://podcastindex.org/namespace/1.0"}
BASE = "http://radio.example:5000"
SPEECH = [
    *(DATA / f"LJ001-000{i}.wav" for i in range(1, 9)),
    DATA / "basic-pbx-ivr-main.wav",
    DATA / "conf-adminmenu.wav",
    DATA / "agent-alreadyon.wav",
    *(DATA / f"sense_and_sensibility_01_austen_64kb-0{n}.wav" for n in (870, 880, 890, 920)),
]


def make_app(home: Path, **overrides: object) -> Flask:
    home.mkdir(parents=True, exist_ok=True)
    (home / "cover.png").write_bytes(PNG)
    return create_app(
        settings(
            home,
            STATION_NAME="Radio Maendeleo",
            BASE_URL=BASE,
            COVER_IMAGE="cover.png",
            **overrides,
        )
    )


@pytest.fixture
def app(home: Path) -> Flask:
    return make_app(home)


def ingest(app: Flask, db: sqlite_utils.Database, recording: Path, **meta: object) -> int:
    from radio.jobs.ingest import Limits, Metadata, ingest_file

    found = ingest_file(
        db, app.config["HOME"], recording, Metadata(**meta), Limits.from_config(app.config)
    )
    return found.episode_id


def files_of(home: Path, db: sqlite_utils.Database, episode_id: int) -> dict[str, tuple]:
    """kind -> (path, bytes the renditions table records)."""
    return {
        r["kind"]: (home / "media" / r["path"], r["bytes"])
        for r in db["renditions"].rows_where("episode_id = ?", [episode_id])
    }


def feed_lengths(client, path: str = "/feeds/all.xml") -> dict[str, int]:  # noqa: ANN001
    """Every enclosure and alternate enclosure in a feed: (guid, file type) -> length (the
    URLs name the file after the episode, #15: /media/<guid>/show-2026-11-02-title.mp3)."""
    rss = etree.fromstring(client.get(path).data)
    urls = [(e.get("url"), e.get("length")) for e in rss.xpath("//item/enclosure")]
    for alt in rss.xpath("//item/podcast:alternateEnclosure", namespaces=NS):
        urls += [
            (uri, alt.get("length")) for uri in alt.xpath("podcast:source/@uri", namespaces=NS)
        ]
    found = {}
    for url, length in urls:
        guid, name = url.split("/media/", 1)[1].split("/")
        found[guid, name.rsplit(".", 1)[1]] = int(length)
    return found


def served(client, guid: str, name: str) -> tuple[int, str]:  # noqa: ANN001
    """(Content-Length, ETag) a listener's player gets, by GET as podcast apps do."""
    response = client.get(f"/media/{guid}/{name}")
    assert response.status_code == 200
    assert len(response.data) == int(response.headers["Content-Length"])
    return int(response.headers["Content-Length"]), response.headers["ETag"]


def assert_sizes_agree(home, db, client, episode_id):  # noqa: ANN001, ANN201
    guid = get_episode(db, episode_id).guid
    lengths = feed_lengths(client)
    etags = {}
    for kind, (path, recorded) in files_of(home, db, episode_id).items():
        size = path.stat().st_size
        assert recorded == size, kind
        assert lengths[guid, path.suffix[1:]] == size, kind
        length, etags[kind] = served(client, guid, path.name)
        assert length == size, kind
    return etags


def drain(app: Flask) -> list:
    """Run what the queue holds, as Huey's consumer would: a task due later is scheduled."""
    huey = app.extensions["radio.huey"]
    results = []
    while (task := huey.dequeue()) is not None:
        if huey.ready_to_run(task):
            results.append(huey.execute(task))
        else:
            huey.add_schedule(task)
    return results


def test_the_pipeline_ends_with_tagged_files_whose_sizes_agree_everywhere(home, tmp_path):
    app = make_app(home, TRANSCRIBE=True, CHAPTER_MIN_SECONDS=20)
    recording = tmp_path / "show.wav"
    join_clips(SPEECH, recording)
    db = connect(database_path(app))
    try:
        episode_id = ingest(
            app, db, recording, title="Printing and phones", show="Morning Talk", licence="cc-by"
        )
        assert tasks.run_episode(app, episode_id) == "ready"
        steps = {r["step"]: r["status"] for r in db["episode_steps"].rows}
        assert steps["tags"] == "done" and list(steps)[-1] == "tags"
        episode = get_episode(db, episode_id)
        chapters = tags.chapters(db, episode_id)
        assert len(chapters) >= 2
        files = files_of(home, db, episode_id)
        id3 = ID3(files["mp3"][0])
        assert id3["TIT2"].text == ["Printing and phones"] and id3["TALB"].text == ["Morning Talk"]
        assert id3["TPE1"].text == ["Radio Maendeleo"]
        assert id3["WCOP"].url == "https://creativecommons.org/licenses/by/4.0/"
        assert id3["WOAS"].url == f"{BASE}/episodes/{episode.guid}"
        assert id3.getall("APIC")[0].data == PNG
        (toc,) = id3.getall("CTOC")
        chap = {c.element_id: c for c in id3.getall("CHAP")}
        assert [
            (chap[i].start_time, chap[i].sub_frames["TIT2"].text[0]) for i in toc.child_element_ids
        ] == [(round(c.start * 1000), " ".join(c.title.split())) for c in chapters]
        opus = read_tags(files["opus"][0])
        assert opus["TITLE"] == ["Printing and phones"]
        starts = [opus[f"CHAPTER{n:03d}"][0] for n in range(1, len(chapters) + 1)]
        assert starts == [vorbis_time(c.start) for c in chapters]
        assert f"CHAPTER{len(chapters) + 1:03d}" not in opus
        mp4 = MP4(files["aac"][0])
        assert mp4.tags["\xa9nam"] == ["Printing and phones"]
        assert [round(c.start, 3) for c in mp4.chapters] == [round(c.start, 3) for c in chapters]
        assert_sizes_agree(home, db, app.test_client(), episode_id)
    finally:
        db.conn.close()


def test_a_retranscription_writes_its_chapters_into_the_files(home):
    app = make_app(home, TRANSCRIBE=True)
    db = connect(database_path(app))
    try:
        episode_id = ingest(app, db, clip("LJ001-0001.wav"), title="First title")
        assert tasks.run_episode(app, episode_id) == "ready"
        # changed behind the files' back: only the retranscription's last step can notice
        db.execute("update episodes set title = 'Second title' where id = ?", [episode_id])
        retranscribe.request(db, app.config, episode_id)
        assert retranscribe.run(db, app.config, episode_id).outcome == "done"
        mp3 = files_of(home, db, episode_id)["mp3"][0]
        assert ID3(mp3)["TIT2"].text == ["Second title"]
        assert_sizes_agree_for(app, db, episode_id)
    finally:
        db.conn.close()


def assert_sizes_agree_for(app, db, episode_id):  # noqa: ANN001, ANN201
    return assert_sizes_agree(Path(app.config["HOME"]), db, app.test_client(), episode_id)


@pytest.fixture
def episode(app: Flask, db: sqlite_utils.Database) -> int:
    """A processed, public episode (no transcription) with two chapters."""
    episode_id = ingest(app, db, clip("LJ001-0001.wav"), title="Water committee", show="News")
    chapters = [Chapter(0.0, 4.0, "Borehole"), Chapter(4.0, 9.6, "Market prices")]
    tags.replace_computed(
        db, episode_id, topics=[], keyphrases=[], chapters=chapters, taxonomy_slugs=set()
    )
    assert tasks.run_episode(app, episode_id) == "ready"
    return episode_id


def test_editing_the_title_retags_the_files_and_the_feed_and_etags_follow(app, db, episode):
    client = app.test_client()
    before = assert_sizes_agree_for(app, db, episode)  # the media layer now holds these files
    mp3 = files_of(Path(app.config["HOME"]), db, episode)["mp3"][0]
    size_before = mp3.stat().st_size
    add_account(app, "amina", "editor")
    log_in(client, "amina")
    guid = get_episode(db, episode).guid
    token = csrf_token(client.get(f"/episodes/{guid}/edit").get_data(as_text=True))
    answer = client.post(
        f"/episodes/{guid}/edit",
        data={
            "csrf_token": token,
            "part": "details",
            "title": "Water Committee",  # as long as before: ID3 padding keeps the size
            "description": "",
            "visibility": "public",
        },
    )
    assert answer.status_code == 302
    assert ID3(mp3)["TIT2"].text == ["Water committee"]  # not in the request: queued
    assert drain(app) == ["tagged"]
    assert ID3(mp3)["TIT2"].text == ["Water Committee"]
    assert read_tags(mp3.with_suffix(".opus"))["TITLE"] == ["Water Committee"]
    assert mp3.stat().st_size == size_before
    listener = app.test_client()  # no session: answered by the media layer in front of Flask
    after = assert_sizes_agree(Path(app.config["HOME"]), db, listener, episode)
    assert all(after[kind] != before[kind] for kind in before)
    # saving the same details again writes nothing
    client.post(
        f"/episodes/{guid}/edit",
        data={"csrf_token": token, "part": "details", "title": "Water Committee",
              "description": "", "visibility": "public"},
    )  # fmt: skip
    assert drain(app) == []


def test_new_chapters_are_written_without_encoding_again(app, db, episode):
    home = Path(app.config["HOME"])
    opus = files_of(home, db, episode)["opus"][0]
    audio_before = opus.read_bytes()[-4000:]  # the last Ogg pages: audio only
    chapters = [Chapter(0.0, 3.0, "One"), Chapter(3.0, 6.0, "Two"), Chapter(6.0, 9.6, "Three")]
    tags.replace_computed(
        db, episode, topics=[], keyphrases=[], chapters=chapters, taxonomy_slugs=set()
    )
    assert filetags.retag_episode(db, app.config, episode).outcome == filetags.Outcome.TAGGED
    comments = read_tags(opus)
    assert [comments[f"CHAPTER00{n}NAME"][0] for n in (1, 2, 3)] == ["One", "Two", "Three"]
    assert comments["CHAPTER003"] == ["00:00:06.000"]
    assert opus.read_bytes()[-4000:] == audio_before
    assert_sizes_agree_for(app, db, episode)
    assert filetags.retag_episode(db, app.config, episode).outcome == filetags.Outcome.UNCHANGED


def test_a_held_episode_is_tagged_once_its_worker_lets_go(app, db, episode):
    now = time.time()
    db.execute(
        "update episodes set lease_owner = 'elsewhere:1:x', lease_until = ? where id = ?",
        [now + 600, episode],
    )
    tasks.enqueue_file_tags(episode, app)
    assert drain(app) == ["busy"]
    huey = app.extensions["radio.huey"]
    assert len(huey.scheduled()) == 1  # tried again in BUSY_RETRY_SECONDS
    processing.release_lease(db, episode, "elsewhere:1:x")
    db.execute("update episodes set title = 'Renamed' where id = ?", [episode])
    (retry,) = huey.scheduled()
    assert huey.execute(retry, timestamp=retry.eta) == "tagged"  # as when its time comes
    assert processing.lease_owner(db, episode) is None  # taken, and given back
    mp3 = files_of(Path(app.config["HOME"]), db, episode)["mp3"][0]
    assert ID3(mp3)["TIT2"].text == ["Renamed"]


def test_a_thread_of_this_process_holding_the_episode_makes_it_wait(app, db, episode):
    assert leases.take_lease(db, episode, 60)  # as the pipeline or a retranscription would
    assert filetags.retag_episode(db, app.config, episode).outcome == filetags.Outcome.BUSY
    assert processing.lease_owner(db, episode) == leases.WORKER_ID  # still theirs


def untag_as_before_the_step(home: Path, db: sqlite_utils.Database, episode_id: int) -> None:
    """Make an episode look processed before the TAGS step existed: bare files, no step."""
    sizes = {}
    for kind, (path, _) in files_of(home, db, episode_id).items():
        read_tags(path).delete()
        sizes[kind] = path.stat().st_size
    record_sizes(db, episode_id, sizes)
    db.execute("delete from episode_steps where episode_id = ? and step = 'tags'", [episode_id])


def test_episodes_from_before_the_step_are_tagged_on_retry_or_by_the_command(
    app, db, episode, home
):
    untag_as_before_the_step(home, db, episode)
    mp3 = files_of(home, db, episode)["mp3"][0]
    assert read_tags(mp3).tags is None  # bare files, as before the step
    assert_sizes_agree_for(app, db, episode)  # nothing broken meanwhile
    pipeline.retry(db, episode)  # `radio retry`: only the missing step runs
    assert pipeline.process(db, app.config, episode) == "ready"
    assert ID3(mp3)["TIT2"].text == ["Water committee"]
    assert_sizes_agree_for(app, db, episode)

    untag_as_before_the_step(home, db, episode)
    runner = CliRunner()
    result = runner.invoke(tagfiles, ["--all"], obj=AppState(str(home)))
    assert result.exit_code == 0, result.output
    assert result.output == f"Episode {episode}: tagged\n"
    assert ID3(mp3)["TIT2"].text == ["Water committee"]
    assert "tags" in processing.finished_steps(db, episode)
    assert_sizes_agree_for(app, db, episode)
    again = runner.invoke(tagfiles, [str(episode)], obj=AppState(str(home)))
    assert again.output == f"Episode {episode}: already up to date\n"
    wrong = runner.invoke(tagfiles, [], obj=AppState(str(home)))
    assert wrong.exit_code == 2 and "--all" in wrong.output


def test_the_page_url_in_the_files_is_the_episode_page_route(app):
    assert filetags.episode_page_url(app.config, "abc") == Urls(BASE, app.url_map).episode("abc")
    assert filetags.episode_page_url({}, "abc") is None


@pytest.mark.slow
def test_chromium_plays_every_tagged_file(app, db, episode):
    """The chapter track in the M4A, the ID3 chapters and cover in the MP3 and the pictures in
    the Opus comments must not stop a browser playing them to the end."""
    from tests.test_web_browser import ARGS, CHROMIUM
    from tests.webserver import live_server

    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    guid = get_episode(db, episode).guid
    names = [path.name for path, _ in files_of(Path(app.config["HOME"]), db, episode).values()]
    assert sorted(names) == ["audio.m4a", "audio.mp3", "audio.opus"]
    with live_server(app) as server, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*ARGS, "--autoplay-policy=no-user-gesture-required"],
        )
        try:
            page = browser.new_page()
            page.goto(f"{server.url}/episodes/{guid}")
            for name in names:
                played = page.evaluate(
                    """async (url) => {
                        const audio = new Audio(url);
                        audio.playbackRate = 4;
                        await audio.play();
                        await new Promise((done, fail) => {
                            audio.onended = done;
                            audio.onerror = () => fail(audio.error && audio.error.message);
                        });
                        return [audio.duration, audio.currentTime];
                    }""",
                    f"{server.url}/media/{guid}/{name}",
                )
                assert 9.0 < played[0] < 10.5 and played[1] > 9.0, (name, played)
        finally:
            browser.close()
