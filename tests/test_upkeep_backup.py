"""Backups, restores and checks of a real archive (``radio.upkeep``): real recordings, real
SQLite, a backup taken while the archive serves, takes uploads and processes them, and one
killed with SIGKILL half-way."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from flask import Flask

from radio import create_app
from radio.db import connect, integrity_problems, open_copy
from radio.jobs import tasks
from radio.upkeep import state
from radio.upkeep.backup import run_backup
from radio.upkeep.errors import UpkeepError
from radio.upkeep.folder import MANIFEST, Manifest
from radio.upkeep.health import beat
from radio.upkeep.layout import find_snapshot, object_path, snapshots
from radio.upkeep.restore import restore
from radio.upkeep.verify import verify_backup, verify_home
from tests.conftest import clip, settings
from tests.webserver import add_account, csrf_token, log_in

ROOT = Path(__file__).resolve().parent.parent


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def media_hashes(home: Path) -> dict[str, str]:
    media = home / "media"
    return {
        p.relative_to(home).as_posix(): sha256(p)
        for sub in ("originals", "episodes")
        for p in (media / sub).rglob("*")
        if p.is_file()
    }


def objects(dest: Path) -> list[Path]:
    return [p for p in (dest / "objects").rglob("*") if p.is_file() and ".tmp" not in p.parts]


def rows(home: Path, sql: str) -> list[dict]:
    db = connect(home / "archive.db")
    try:
        return list(db.query(sql))
    finally:
        db.conn.close()


@pytest.fixture
def archive(app: Flask, seed, home: Path) -> Path:
    """Two processed recordings, a transcribed episode, the station's files, and what a
    backup leaves out: an upload being received, a log, the disk reserve, the worker's
    heartbeat."""
    seed.recording(clip("61-70968-0000.flac"), title="Flac")
    seed.recording(clip("LJ001-0002.wav"), title="Printing")
    seed.episode("Water committee", [(0, 2, "the water committee"), (2, 5, "meets on Friday")])
    (home / "config.toml").write_text('station_name = "Radio Maendeleo"\n')
    (home / "media" / "incoming" / "upload.part").write_bytes(b"half an upload")
    (home / "logs" / "radio.log").write_text("a log line\n")
    (home / ".disk-reserve").write_bytes(bytes(4096))
    beat(home)  # the worker's heartbeat
    return home


def test_a_backup_holds_every_database_and_file_with_its_hash(archive: Path, tmp_path: Path):
    dest = tmp_path / "backup"
    done = run_backup(archive, dest)
    folder = dest / "snapshots" / done.snapshot
    assert (dest / "latest").read_text().strip() == done.snapshot
    manifest = Manifest.read(folder / MANIFEST)
    assert set(manifest.databases) == {"archive.db", "queue.db"}
    for name, entry in manifest.databases.items():
        assert sha256(folder / name) == entry.sha256
        assert integrity_problems(folder / name, copy=True) == []
    # every original, rendition and peaks file, and the station's settings; nothing passing
    assert set(media_hashes(archive)) | {"config.toml"} == set(manifest.files)
    for rel, entry in manifest.files.items():
        assert sha256(object_path(dest, entry.sha256)) == entry.sha256 == sha256(archive / rel)
    assert done.missing == [] and manifest.missing == []
    originals = [r for r in manifest.files if r.startswith("media/originals/")]
    assert len(originals) == 2 and manifest.files[originals[0]].mode == 0o444
    assert len(objects(dest)) == done.copied_files == len(manifest.files)
    assert verify_backup(dest).ok
    last = state.last_backup(archive)
    assert last and last.ok and last.snapshot == done.snapshot


def test_a_second_backup_copies_no_media_again(archive: Path, seed, tmp_path: Path):
    dest = tmp_path / "backup"
    first = run_backup(archive, dest)
    stored = {p: p.stat().st_mtime_ns for p in objects(dest)}
    second = run_backup(archive, dest)
    assert second.snapshot != first.snapshot and second.files == first.files
    assert second.copied_files == 0 and second.copied_bytes == 0
    assert {p: p.stat().st_mtime_ns for p in objects(dest)} == stored
    assert snapshots(dest) == [first.snapshot, second.snapshot]
    # a new recording: only its original, three renditions and peaks are copied
    seed.recording(clip("LJ001-0008.wav"))
    third = run_backup(archive, dest)
    assert third.copied_files == 5 and len(objects(dest)) == len(stored) + 5


def test_an_unchanged_database_is_the_last_snapshots_copy_a_changed_one_copied_again(
    archive: Path, seed, tmp_path: Path
):
    """Copying and checking a large archive's database takes most of a minute (#17): a
    backup with nothing written since links the last copy; any commit makes a new one."""
    dest = tmp_path / "backup"
    first = run_backup(archive, dest)
    second = run_backup(archive, dest)
    old, new = (dest / "snapshots" / s.snapshot / "archive.db" for s in (first, second))
    assert old.stat().st_ino == new.stat().st_ino  # the same file, not a copy
    first_manifest = Manifest.read(old.parent / MANIFEST)
    assert Manifest.read(new.parent / MANIFEST).databases == first_manifest.databases
    assert verify_backup(dest).ok
    seed.episode("Late news", [(0, 2, "the late news")])
    third = run_backup(archive, dest)
    copy = dest / "snapshots" / third.snapshot / "archive.db"
    assert copy.stat().st_ino != old.stat().st_ino
    snapshot_db = open_copy(copy)
    try:
        assert "Late news" in [r["title"] for r in snapshot_db.query("select title from episodes")]
    finally:
        snapshot_db.conn.close()
    assert Manifest.read(copy.parent / MANIFEST).databases["archive.db"].sha256 != (
        first_manifest.databases["archive.db"].sha256
    )
    restored = tmp_path / "restored"
    restore(dest, restored)
    assert "Late news" in [r["title"] for r in rows(restored, "select title from episodes")]


def test_a_restore_gives_the_same_archive(archive: Path, tmp_path: Path):
    dest, restored = tmp_path / "backup", tmp_path / "restored"
    run_backup(archive, dest)
    done = restore(dest, restored)
    assert done.snapshot == find_snapshot(dest).name
    episodes = "select id, guid, title, status, source_sha256, source_path from episodes"
    segments = "select episode_id, idx, start, end, text from segments order by episode_id, idx"
    assert rows(restored, episodes) == rows(archive, episodes)
    assert rows(restored, segments) == rows(archive, segments) != []
    assert media_hashes(restored) == media_hashes(archive)
    assert (restored / "config.toml").read_text() == (archive / "config.toml").read_text()
    assert not (restored / "media" / "incoming").exists() and not (restored / "logs").exists()
    original = next((restored / "media" / "originals").rglob("*.flac"))
    assert original.stat().st_mode & 0o777 == 0o444
    report = verify_home(restored)
    assert report.ok and report.checked >= 2, report.problems
    # and the archive runs on it: pages and media as before
    client = create_app(settings(restored)).test_client()
    guid = rows(restored, "select guid from episodes where title = 'Flac'")[0]["guid"]
    assert client.get(f"/episodes/{guid}").status_code == 200
    assert (
        client.get(f"/media/{guid}/audio.mp3").data
        == (archive / "media" / "episodes" / guid / "audio.mp3").read_bytes()
    )


def test_a_flipped_byte_in_a_restored_original_is_named_by_verify(archive, tmp_path: Path):
    dest, restored = tmp_path / "backup", tmp_path / "restored"
    run_backup(archive, dest)
    restore(dest, restored)
    original = next((restored / "media" / "originals").rglob("*.flac"))
    original.chmod(0o644)
    data = bytearray(original.read_bytes())
    data[len(data) // 2] ^= 0x01
    original.write_bytes(bytes(data))
    report = verify_home(restored)
    assert [p.path for p in report.problems] == [str(original)]
    assert "damaged" in report.problems[0].what


def test_a_rewritten_rendition_is_a_note_but_silent_damage_is_a_problem(archive, tmp_path):
    run_backup(archive, tmp_path / "backup")
    mp3 = next((archive / "media" / "episodes").rglob("audio.mp3"))
    peaks = next((archive / "media" / "episodes").rglob("peaks.json"))
    mp3.write_bytes(mp3.read_bytes() + b"\0")  # the archive made it again: a new mtime
    stat = peaks.stat()
    peaks.write_text(peaks.read_text().replace("0", "1", 1))
    os.utime(peaks, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # bytes changed, date not
    report = verify_home(archive)
    assert [p.path for p in report.problems] == [str(peaks)]
    assert any(str(mp3) in note and "rewritten" in note for note in report.notes)


def test_restore_refuses_a_data_folder_that_is_not_empty(archive: Path, tmp_path: Path):
    dest = tmp_path / "backup"
    run_backup(archive, dest)
    with pytest.raises(UpkeepError, match="is not empty .*archive.db.*move this one aside"):
        restore(dest, archive)
    empty_layout = tmp_path / "fresh"
    for sub in ("media/incoming", "media/originals", "logs"):
        (empty_layout / sub).mkdir(parents=True)
    assert restore(dest, empty_layout).files > 0  # empty folders of the layout are fine
    assert verify_home(empty_layout).ok


def test_a_damaged_backup_is_named_by_verify_and_not_restored(archive: Path, tmp_path: Path):
    dest, restored = tmp_path / "backup", tmp_path / "restored"
    run_backup(archive, dest)
    manifest = Manifest.read(find_snapshot(dest) / MANIFEST)
    rel, entry = next((r, e) for r, e in manifest.files.items() if r.endswith(".mp3"))
    damaged = object_path(dest, entry.sha256)
    damaged.chmod(0o644)
    damaged.write_bytes(damaged.read_bytes()[:-10] + b"0123456789")
    report = verify_backup(dest)
    assert [p.path for p in report.problems] == [str(damaged)]
    assert rel in report.problems[0].what and "damaged" in report.problems[0].what
    with pytest.raises(UpkeepError, match=f"damaged or missing.*\n.*{rel}"):
        restore(dest, restored)
    assert not restored.exists() or not any(p.is_file() for p in restored.rglob("*"))


def test_a_referenced_file_gone_before_the_copy_is_reported_not_a_crash(archive, tmp_path):
    opus = next((archive / "media" / "episodes").rglob("audio.opus"))
    opus.unlink()  # as if deleted between the database copy and the file copies
    done = run_backup(archive, tmp_path / "backup")
    rel = opus.relative_to(archive).as_posix()
    assert done.missing == [rel]
    assert state.last_backup(archive).missing == (rel,)
    problems = [str(p) for p in verify_backup(tmp_path / "backup").problems]
    assert len(problems) == 1 and rel in problems[0] and "lacks it" in problems[0]


def test_a_killed_backup_leaves_no_snapshot_verify_takes_as_complete(archive, tmp_path):
    dest = tmp_path / "backup"
    first = run_backup(archive, dest)
    with (archive / "recordings.bin").open("wb") as f:  # 300 MB to copy: time to be killed
        f.truncate(300 * 1024 * 1024)
    killed = False
    for _ in range(3):
        proc = subprocess.Popen(
            [sys.executable, "-m", "radio", "--home", str(archive), "backup", str(dest)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        partial = _wait_for_partial(dest, proc)
        proc.send_signal(signal.SIGSTOP)
        if partial and partial.exists():  # stopped half-way: kill it there
            proc.kill()
            killed = True
        else:
            proc.kill()
        proc.wait()
        if killed:
            break
    assert killed, "the backup always finished before it could be killed"
    assert snapshots(dest) == [first.snapshot]
    assert (dest / "latest").read_text().strip() == first.snapshot
    report = verify_backup(dest)
    assert report.ok and any("unfinished" in note for note in report.notes)
    assert restore(dest, tmp_path / "restored").snapshot == first.snapshot
    # the next backup clears what the killed one left, and is complete
    (archive / "recordings.bin").unlink()
    again = run_backup(archive, dest)
    assert snapshots(dest) == [first.snapshot, again.snapshot]
    assert not list((dest / "snapshots").glob(".*")) and not list((dest / "objects/.tmp").iterdir())
    assert verify_backup(dest).ok


def _wait_for_partial(dest: Path, proc: subprocess.Popen) -> Path | None:
    while proc.poll() is None:
        found = list((dest / "snapshots").glob(".*.partial")) if dest.exists() else []
        if found:
            return found[0]
        time.sleep(0.002)
    return None


class Load:
    """Listeners, searchers, an uploader and a worker on one archive, each in a thread of
    its own, until stopped; every answer is kept to be checked afterwards."""

    def __init__(self, app: Flask, guid: str) -> None:
        self.app, self.guid = app, guid
        self.stop = threading.Event()
        self.uploaded = threading.Event()
        self.statuses: list[tuple[str, int]] = []
        self.errors: list[BaseException] = []
        add_account(app, "joseph", "uploader")
        self.threads = [
            threading.Thread(target=self._guard, args=(fn,), daemon=True)
            for fn in (self.listen, self.search, self.upload)
        ]

    def __enter__(self) -> Load:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def _guard(self, fn) -> None:  # noqa: ANN001
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.errors.append(e)

    def listen(self) -> None:
        client = self.app.test_client()
        while not self.stop.is_set():
            r = client.get(f"/media/{self.guid}/audio.mp3", headers={"Range": "bytes=1000-9999"})
            self.statuses.append(("media", r.status_code))

    def search(self) -> None:
        client = self.app.test_client()
        while not self.stop.is_set():
            self.statuses.append(("search", client.get("/search?q=water").status_code))

    def upload(self) -> None:
        """Upload recordings one by one and process each, as the worker would."""
        client = self.app.test_client()
        log_in(client, "joseph")
        for name in ("LJ001-0008.wav", "agent-alreadyon.wav", "privacy-prompt.wav"):
            if self.stop.is_set():
                break
            token = csrf_token(client.get("/upload").get_data(as_text=True))
            with clip(name).open("rb") as f:
                data = {"csrf_token": token, "title": name, "files": [(f, name)]}
                r = client.post(
                    "/upload",
                    data=data,
                    content_type="multipart/form-data",
                    headers={"Accept": "application/json"},
                )
            self.statuses.append(("upload", r.status_code))
            guid = r.get_json()["files"][0]["guid"]
            home = Path(self.app.config["HOME"])
            row = rows(home, f"select id from episodes where guid = '{guid}'")[0]
            tasks.run_episode(self.app, row["id"])
        self.uploaded.set()


def test_a_backup_taken_under_load_restores_and_verifies(app, archive, tmp_path: Path):
    dest, restored = tmp_path / "backup", tmp_path / "restored"
    guid = rows(archive, "select guid from episodes where title = 'Flac'")[0]["guid"]
    backups = []
    with Load(app, guid) as load:
        while not (load.uploaded.is_set() and len(backups) >= 3) and not load.errors:
            backups.append(run_backup(archive, dest))
    assert load.errors == []
    assert {kind for kind, _ in load.statuses} == {"media", "search", "upload"}
    assert all(status in (200, 206) for _, status in load.statuses), set(load.statuses)
    assert all(b.missing == [] for b in backups)
    assert verify_backup(dest).ok
    restore(dest, restored)
    report = verify_home(restored)
    assert report.ok, report.problems
    # the restored archive is the live one as it was: same episodes, words and originals
    # (an episode still being processed had its listening copies rewritten after the last
    # backup, by the tags step; verify_home above checked the restored ones against their
    # rows)
    live_media, restored_media = media_hashes(archive), media_hashes(restored)
    originals = {k: v for k, v in restored_media.items() if k.startswith("media/originals/")}
    assert originals and originals.items() <= live_media.items()
    episodes = rows(restored, "select id, guid, source_sha256, source_path from episodes")
    live = {r["id"]: r for r in rows(archive, "select * from episodes")}
    assert len(episodes) > 3  # some of the uploads made it into the last backup
    for ep in episodes:
        assert ep["guid"] == live[ep["id"]]["guid"]
        if ep["source_path"]:  # a real recording, not one seeded with words only
            assert restored_media[f"media/{ep['source_path']}"] == ep["source_sha256"]
    ids = {ep["id"] for ep in episodes}
    words = "select episode_id, idx, text from segments order by episode_id, idx"
    assert rows(restored, words) == [r for r in rows(archive, words) if r["episode_id"] in ids]
    assert integrity_problems(restored / "archive.db") == []


def test_backing_up_a_folder_without_an_archive_says_so(tmp_path: Path):
    with pytest.raises(UpkeepError, match="holds no archive"):
        run_backup(tmp_path / "nothing", tmp_path / "backup")
    assert not (tmp_path / "backup").exists()


def test_a_failed_backup_is_recorded_with_its_reason(archive: Path, tmp_path: Path):
    ok = run_backup(archive, tmp_path / "backup")
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(UpkeepError, match="backup into .* failed"):
        run_backup(archive, blocked)
    last = state.last_backup(archive)
    assert last and not last.ok and "failed" in (last.error or "")
    assert last.last_ok_snapshot == ok.snapshot


def test_a_damaged_database_is_named_and_never_taken_for_a_backup(app, seed, home, tmp_path):
    dest = tmp_path / "backup"
    for n in range(3):
        seed.episode(f"Show {n}", [(s, s + 1, "words spoken " * 20) for s in range(200)])
    good = run_backup(home, dest)
    seed.db.conn.execute("pragma wal_checkpoint(truncate)")
    database = home / "archive.db"
    data = bytearray(database.read_bytes())
    middle = len(data) // 4096 // 2 * 4096
    data[middle : middle + 4096] = b"\xff" * 4096  # a page in the middle, gone bad
    database.write_bytes(bytes(data))
    report = verify_home(home)
    assert [p.path for p in report.problems][:1] == [str(database)]
    with pytest.raises(UpkeepError, match="archive.db is damaged .* nothing was backed up"):
        run_backup(home, dest, keep=1)
    assert snapshots(dest) == [good.snapshot]  # the good one is kept, not pruned
    last = state.last_backup(home)
    assert not last.ok and last.last_ok_snapshot == good.snapshot
