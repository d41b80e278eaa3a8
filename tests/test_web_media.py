"""Media URLs as podcast apps and browsers use them: HEAD, ranges, validators, privacy."""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from radio.db import connect, database_path
from radio.web.http.fileserve import FileSnapshot, MappedRange
from radio.web.http.mediacache import PublicMedia
from tests.conftest import clip
from tests.webserver import add_account, add_episode, live_server, log_in


@pytest.fixture
def episode(app):
    return add_episode(app, clip("jfk.flac"), title="Ask not", show="Morning Talk")


def mp3_path(app, episode) -> Path:
    return Path(app.config["HOME"]) / "media" / "episodes" / episode["guid"] / "audio.mp3"


def test_whole_file_with_validators(app, client, episode):
    data = mp3_path(app, episode).read_bytes()
    r = client.get(f"/media/{episode['guid']}/audio.mp3")
    assert r.status_code == 200 and r.data == data
    assert r.headers["Content-Type"] == "audio/mpeg"
    assert r.headers["Accept-Ranges"] == "bytes"
    assert int(r.headers["Content-Length"]) == len(data)
    assert r.headers["ETag"].startswith('"') and r.headers["Last-Modified"].endswith("GMT")
    assert "Content-Encoding" not in r.headers
    opus = client.get(f"/media/{episode['guid']}/audio.opus")
    assert opus.status_code == 200 and opus.headers["Content-Type"] == "audio/ogg"
    assert opus.data[:4] == b"OggS"
    peaks = client.get(f"/media/{episode['guid']}/peaks.json")
    assert peaks.status_code == 200 and peaks.is_json


@pytest.mark.parametrize(
    ("header", "span"),
    [
        ("bytes=0-99", (0, 100)),  # first bytes, as players probe
        ("bytes=1000-2999", (1000, 3000)),  # the middle, as after a seek
        ("bytes=-500", (-500, None)),  # the end, where MP3 tags live
        ("bytes=60000-", (60000, None)),  # from an offset to the end
    ],
)
def test_ranges(app, client, episode, header, span):
    data = mp3_path(app, episode).read_bytes()
    expected = data[span[0] : span[1]]
    start = span[0] % len(data)
    r = client.get(f"/media/{episode['guid']}/audio.mp3", headers={"Range": header})
    assert r.status_code == 206
    assert r.data == expected
    assert r.headers["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(data)}"
    assert int(r.headers["Content-Length"]) == len(expected)


@pytest.mark.parametrize("header", ["bytes=99999999-", "bytes=500-100", "bytes=abc", "bytes=-0"])
def test_a_bad_range_is_416(app, client, episode, header):
    size = mp3_path(app, episode).stat().st_size
    r = client.get(f"/media/{episode['guid']}/audio.mp3", headers={"Range": header})
    assert r.status_code == 416
    assert r.headers["Content-Range"] == f"bytes */{size}"


def test_head_has_the_headers_and_no_body(app, client, episode):
    size = mp3_path(app, episode).stat().st_size
    r = client.head(f"/media/{episode['guid']}/audio.mp3")
    assert r.status_code == 200 and r.data == b""
    assert int(r.headers["Content-Length"]) == size
    assert r.headers["Accept-Ranges"] == "bytes" and "ETag" in r.headers
    ranged = client.head(f"/media/{episode['guid']}/audio.mp3", headers={"Range": "bytes=0-1"})
    assert ranged.status_code == 206 and ranged.headers["Content-Length"] == "2"


def test_conditional_requests(client, episode):
    url = f"/media/{episode['guid']}/audio.mp3"
    first = client.get(url)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert client.get(url, headers={"If-None-Match": f'"other", {etag}'}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    # If-Range with a stale validator: the whole (new) file, not a piece of it
    stale = client.get(url, headers={"Range": "bytes=0-9", "If-Range": '"stale"'})
    assert stale.status_code == 200 and stale.data == first.data
    fresh = client.get(url, headers={"Range": "bytes=0-9", "If-Range": etag})
    assert fresh.status_code == 206 and fresh.data == first.data[:10]


def test_through_waitress(app, episode):
    """The real server sends ranges straight from the file (wsgi.file_wrapper)."""
    data = mp3_path(app, episode).read_bytes()
    url = f"/media/{episode['guid']}/audio.mp3"
    with live_server(app) as server:
        status, headers, body = server.request("GET", url, {"Range": "bytes=1000-2999"})
        assert status == 206 and body == data[1000:3000]
        assert headers["content-range"] == f"bytes 1000-2999/{len(data)}"
        status, headers, body = server.request("GET", url, {"Range": "bytes=-100"})
        assert status == 206 and body == data[-100:]
        status, headers, body = server.request("GET", url)
        assert status == 200 and body == data and headers["content-length"] == str(len(data))
        status, headers, body = server.request("HEAD", url)
        assert status == 200 and body == b"" and headers["content-length"] == str(len(data))
        status, headers, _ = server.request("GET", url, {"Range": "bytes=99999999-"})
        assert status == 416


@pytest.mark.parametrize(
    "path",
    [
        "/media/{guid}/../../secret_key",
        "/media/{guid}/..%2f..%2fsecret_key",
        "/media/{guid}/%2e%2e%2f%2e%2e%2farchive.db",
        "/media/..%2f..%2fsecret_key/audio.mp3",
        "/media/{guid}/audio.wav",
        "/media/{guid}/episodes",
        "/static/..%2f..%2fradio%2fconfig.py",
        "/static/../secret_key",
    ],
)
def test_nothing_outside_the_media_folder(app, episode, path):
    url = path.format(guid=episode["guid"])
    secret = Path(app.config["HOME"], "secret_key")
    secret.write_text("do-not-serve-this-secret")
    with live_server(app) as server:  # raw paths, exactly as a client could send them
        status, _, body = server.request("GET", url)
    assert status == 404, url
    assert b"do-not-serve-this-secret" not in body


def test_originals_are_for_volunteers(app, client, episode):
    url = f"/media/{episode['guid']}/original"
    assert client.get(url).status_code == 404
    add_account(app, "amina", "uploader")
    log_in(client, "amina")
    r = client.get(url, headers={"Range": "bytes=0-3"})
    assert r.status_code == 206 and r.data == b"fLaC"
    assert r.headers["Content-Type"] == "audio/flac"
    assert "private" in r.headers["Cache-Control"]


def test_media_of_an_unfinished_episode_is_not_served(app, client):
    queued = add_episode(app, clip("LJ001-0002.wav"), process=False)
    assert client.get(f"/media/{queued['guid']}/audio.mp3").status_code == 404


def test_large_ranges_through_waitress_come_back_whole(app, episode):
    # Megabytes, so waitress sends in several pieces, resuming after partial sends.
    data = np.random.default_rng(5).bytes(5 * 1024 * 1024 + 7)
    mp3_path(app, episode).write_bytes(data)
    url = f"/media/{episode['guid']}/audio.mp3"
    middle = len(data) // 2
    with live_server(app) as server:
        status, _, body = server.request("GET", url, {"Range": f"bytes={middle}-{middle + 2**20}"})
        assert status == 206 and body == data[middle : middle + 2**20 + 1]
        status, _, body = server.request("GET", url)
        assert status == 200 and body == data


def test_a_snapshot_reads_seeks_and_keeps_a_replaced_file(tmp_path):
    path = tmp_path / "audio.mp3"
    path.write_bytes(bytes(range(256)) * 4)
    snap = FileSnapshot.open(path, "audio/mpeg")
    part = MappedRange(snap.data, 100, 50)
    assert part.seek(0, os.SEEK_END) == 50 and part.tell() == 50
    part.seek(0)
    assert bytes(part.read(10)) == bytes(range(100, 110)) and part.tell() == 10
    part.seek(5, os.SEEK_CUR)
    replacement = tmp_path / "new.mp3"
    replacement.write_bytes(b"\0" * 1024)
    os.replace(replacement, path)  # as a re-render does, while a listener downloads
    assert bytes(part.read()) == bytes(range(115, 150)) and bytes(part.read(10)) == b""
    assert snap.size == 1024 and snap.etag != FileSnapshot.open(path, "audio/mpeg").etag
    part.close()


def test_listeners_lose_a_file_the_moment_its_episode_goes_private(app, episode):
    url = f"/media/{episode['guid']}/audio.mp3"
    with live_server(app) as server:
        for _ in range(2):  # the second answer comes from the cache of open files
            assert server.request("GET", url, {"Range": "bytes=0-9"})[0] == 206
        db = connect(database_path(app))
        db["episodes"].update(episode["id"], {"visibility": "private"})
        db.conn.close()
        # the cache checks the database at most every RECHECK_S; this wait only has to
        # be longer than that for the next request to be one that checks
        time.sleep(PublicMedia.RECHECK_S * 5)
        assert server.request("GET", url, {"Range": "bytes=0-9"})[0] == 404
