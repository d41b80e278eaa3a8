import hashlib
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from radio.media import reserve, store


def test_receive_hashes_while_streaming_and_keeps_by_content(tmp_path):
    data = b"RIFF" + bytes(range(256)) * 5000
    received = store.receive(tmp_path, io.BytesIO(data), "Show.WAV")
    assert received.sha256 == hashlib.sha256(data).hexdigest()
    assert received.size == len(data)
    assert received.path.parent == tmp_path / "media" / "incoming"
    rel = store.keep_original(tmp_path, received, store.safe_suffix("Show.WAV"))
    assert rel == f"originals/{received.sha256[:2]}/{received.sha256}.wav"
    kept = store.resolve(tmp_path, rel)
    assert kept.read_bytes() == data
    assert not received.path.exists()

    again = store.receive(tmp_path, io.BytesIO(data), "copy.wav")
    assert store.keep_original(tmp_path, again, ".wav") == rel
    assert not again.path.exists()  # the second copy is dropped, not kept twice


def test_receive_refuses_over_the_limit_and_leaves_nothing(tmp_path):
    with pytest.raises(store.TooLargeError, match="larger than the limit"):
        store.receive(tmp_path, io.BytesIO(b"x" * 3_000_000), "big.mp3", max_bytes=2_000_000)
    assert list((tmp_path / "media" / "incoming").iterdir()) == []


def test_suffix_is_sanitised():
    assert store.safe_suffix("a.mp3") == ".mp3"
    assert store.safe_suffix("../../etc/passwd") == ""
    assert store.safe_suffix("x.m4a/../../y") == ""
    assert store.safe_suffix("noext") == ""


def test_resolve_refuses_paths_outside_media(tmp_path):
    with pytest.raises(store.StoreError):
        store.resolve(tmp_path, "../archive.db")


def test_sweep_partials_removes_stale_uploads_of_unknown_writers(tmp_path):
    incoming = tmp_path / "media" / "incoming"
    incoming.mkdir(parents=True)
    old, fresh = incoming / "old", incoming / "fresh"
    old.write_bytes(b"1")
    fresh.write_bytes(b"2")
    past = time.time() - 2 * store.STALE_INCOMING_SECONDS
    os.utime(old, (past, past))
    assert store.sweep_partials(tmp_path) == 1
    assert fresh.exists() and not old.exists()


def test_a_spool_file_is_linked_into_the_archive_not_copied(tmp_path):
    data = b"RIFF" + bytes(range(256)) * 20_000
    spool = store.spool_file(tmp_path)
    spool.write(data)
    spool.flush()
    spool.seek(0)
    received = store.receive(tmp_path, spool, "upload.wav")
    assert received.sha256 == hashlib.sha256(data).hexdigest() and received.size == len(data)
    assert received.path.stat().st_ino == os.fstat(spool.fileno()).st_ino  # one copy on disk
    rel = store.keep_original(tmp_path, received, ".wav")
    spool.close()  # the request ends: the spool's own name goes, the original stays
    assert store.resolve(tmp_path, rel).read_bytes() == data
    assert list((tmp_path / "media" / "incoming").iterdir()) == []


def test_a_users_own_file_is_copied_never_linked(tmp_path):
    mine = tmp_path / "mine.wav"
    mine.write_bytes(b"RIFF" + b"\1" * 5000)
    with mine.open("rb") as f:
        received = store.receive(tmp_path, f, mine.name)
    assert received.path.stat().st_ino != mine.stat().st_ino  # editing mine can't touch it


def test_receive_refuses_before_writing_when_the_disk_lacks_room(tmp_path):
    keep = store.free_bytes(tmp_path) + 10**12  # more than any test machine has
    with pytest.raises(store.DiskFull, match=r"^Not enough free space: .* MB free, .* needed "):
        store.receive(tmp_path, io.BytesIO(b"x" * 1000), "a.wav", min_free=keep)
    assert list((tmp_path / "media" / "incoming").iterdir()) == []


WRITER = """
import sys, time
from radio.media import store
spool = store.spool_file(sys.argv[1])
spool.write(b"half an upload")
spool.flush()
print(spool.name, flush=True)
time.sleep(120)
"""


def test_sweep_partials_removes_what_a_killed_writer_left_and_nothing_live(tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        left = Path(writer.stdout.readline().strip())
        mine = store.spool_file(tmp_path)  # this process's upload, still being written
        assert store.sweep_partials(tmp_path) == 0
        assert left.exists()
    finally:
        writer.send_signal(signal.SIGKILL)
        writer.wait()
    assert left.exists()  # SIGKILL: nobody cleaned up
    assert store.sweep_partials(tmp_path) == 1
    assert not left.exists() and Path(mine.name).exists()
    mine.close()


def test_the_reserve_is_kept_and_given_back(tmp_path):
    assert reserve.keep_reserve(tmp_path)
    assert (tmp_path / reserve.RESERVE).stat().st_size == reserve.RESERVE_BYTES
    assert reserve.release_reserve(tmp_path)
    assert not (tmp_path / reserve.RESERVE).exists() and not reserve.release_reserve(tmp_path)
