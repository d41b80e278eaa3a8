import hashlib
import io
import time

import pytest

from radio.media import store


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


def test_sweep_incoming_removes_only_stale_uploads(tmp_path):
    incoming = tmp_path / "media" / "incoming"
    incoming.mkdir(parents=True)
    old, fresh = incoming / "old", incoming / "fresh"
    old.write_bytes(b"1")
    fresh.write_bytes(b"2")
    past = time.time() - 2 * store.STALE_INCOMING_SECONDS
    import os

    os.utime(old, (past, past))
    assert store.sweep_incoming(tmp_path) == 1
    assert fresh.exists() and not old.exists()
