"""Programmes between two archives in one run (#17): a signed bundle round-trips, a second
import adds nothing, a tampered bundle is refused whole, what may not travel stays home,
and a second export carries only new work."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from radio import create_app
from radio.data.station_key import station_key
from tests.conftest import clip, settings
from tests.exchange_archives import (
    SHARED,
    SOURCE,
    database,
    episodes_by_guid,
)
from tests.webserver import add_episode

# alpha (a copy of the source, built once per module) and beta (an empty receiver): the
# fixtures of tests/exchange_archives.py


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def shared_guids(home: Path) -> set[str]:
    return {
        g for g, row in episodes_by_guid(home).items() if row["title"] in [n[:-4] for n in SHARED]
    }


def transcript(home: Path, guid: str) -> list[tuple]:
    db = database(home)
    try:
        return db.execute(
            "select s.idx, s.start, s.end, s.text, s.speaker, s.words from segments s "
            "join episodes e on e.id = s.episode_id where e.guid = ? order by s.idx",
            [guid],
        ).fetchall()
    finally:
        db.conn.close()


def chapters_and_files(home: Path, guid: str) -> tuple[list[tuple], dict[str, str]]:
    db = database(home)
    try:
        chapters = db.execute(
            "select c.start, c.end, c.title from chapters c join episodes e "
            "on e.id = c.episode_id where e.guid = ? order by c.idx",
            [guid],
        ).fetchall()
        files = {
            kind: sha256(home / "media" / path)
            for kind, path in db.execute(
                "select r.kind, r.path from renditions r join episodes e on e.id = r.episode_id "
                "where e.guid = ?",
                [guid],
            ).fetchall()
        }
        return chapters, files
    finally:
        db.conn.close()


def test_a_bundle_round_trips_and_a_second_import_adds_nothing(alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta.radio"
    made = alpha("export", "-o", str(bundle))
    assert made.exit_code == 0, made.output
    assert "Exported 2 episodes" in made.output
    assert "1 all rights reserved" in made.output

    taken = beta("import", str(bundle))
    assert taken.exit_code == 0, taken.output
    assert "Imported 2, already here 0" in taken.output
    assert "This key is new here" in taken.output
    assert station_key(alpha.home).fingerprint in taken.output

    guids = shared_guids(alpha.home)
    there = episodes_by_guid(beta.home)
    assert set(there) == guids  # same GUIDs; the held and reserved ones stayed home
    source = episodes_by_guid(alpha.home)
    for guid in guids:
        assert there[guid]["licence"] == source[guid]["licence"] == "cc-by"
        assert there[guid]["status"] == "ready" and there[guid]["visibility"] == "public"
        assert there[guid]["source_sha256"] == source[guid]["source_sha256"]
        assert transcript(beta.home, guid) == transcript(alpha.home, guid)
        assert transcript(beta.home, guid), "the source's transcript came along"
        assert chapters_and_files(beta.home, guid) == chapters_and_files(alpha.home, guid)
    db = database(beta.home)
    try:
        origins = db.execute("select source_station, source_guid from exchange_imports").fetchall()
        audit = db.execute("select count(*) from audit where action = 'episode.import'").fetchone()
    finally:
        db.conn.close()
    assert sorted(origins) == sorted((SOURCE, g) for g in guids)
    assert audit[0] == 2

    page = create_app(settings(beta.home)).test_client().get(f"/episodes/{sorted(guids)[0]}")
    assert f"From {SOURCE}" in page.get_data(as_text=True)

    again = beta("import", str(bundle))
    assert again.exit_code == 0, again.output
    assert "Imported 0, already here 2" in again.output
    assert "This key is new here" not in again.output  # known since the first bundle
    assert set(episodes_by_guid(beta.home)) == guids


def test_what_may_not_travel_is_not_in_the_bundle(alpha, tmp_path):
    folder = tmp_path / "bundle"
    assert alpha("export", "-o", str(folder)).exit_code == 0
    manifest = json.loads((folder / "manifest.json").read_bytes())
    titles = {
        json.loads((folder / name).read_bytes())["title"]
        for name in manifest["files"]
        if name.endswith("episode.json")
    }
    assert titles == {n[:-4] for n in SHARED}
    assert not any(name.startswith("originals/") for name in manifest["files"])
    for name in manifest["files"]:
        if name.endswith("episode.json"):
            document = json.loads((folder / name).read_bytes())
            assert "source_name" not in document and "Joseph" not in json.dumps(document)


def tamper_byte(path: Path, at: int = 200) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ("rendition", "is not the file the manifest signed"),
        ("manifest", "signature does not match"),
        ("unsigned", "not signed"),
        ("missing", "is missing from the bundle"),
        ("extra", "not in its signed manifest"),
    ],
)
def test_a_tampered_bundle_is_refused_and_nothing_is_imported(
    alpha, beta, tmp_path, tamper, message
):
    folder = tmp_path / "bundle"
    assert alpha("export", "-o", str(folder)).exit_code == 0
    mp3 = next(folder.glob("episodes/*/audio.mp3"))
    if tamper == "rendition":
        tamper_byte(mp3)
    elif tamper == "manifest":
        manifest = folder / "manifest.json"  # one byte: the station's name, still valid JSON
        manifest.write_bytes(manifest.read_bytes().replace(b"Radio Alpha", b"Radio Alphb"))
    elif tamper == "unsigned":
        (folder / "manifest.sig").unlink()
    elif tamper == "missing":
        mp3.unlink()
    else:
        (mp3.parent / "extra.mp3").write_bytes(b"not signed")
    taken = beta("import", str(folder))
    assert taken.exit_code == 1
    assert message in taken.output
    assert episodes_by_guid(beta.home) == {}
    assert not list((beta.home / "media" / "episodes").glob("*"))


def test_a_changed_byte_inside_a_tar_bundle_is_refused(alpha, beta, tmp_path):
    bundle = tmp_path / "b.radio"
    assert alpha("export", "-o", str(bundle)).exit_code == 0
    raw = bundle.read_bytes()
    assert raw.count(SOURCE.encode()) >= 1
    bundle.write_bytes(raw.replace(SOURCE.encode(), b"Radio Omega", 1))  # in the manifest
    taken = beta("import", str(bundle))
    assert taken.exit_code == 1 and "signature does not match" in taken.output
    assert episodes_by_guid(beta.home) == {}


def test_trust_requires_that_key(alpha, beta, tmp_path):
    bundle = tmp_path / "b.radio"
    assert alpha("export", "-o", str(bundle)).exit_code == 0
    wrong = beta("import", str(bundle), "--trust", "0000 1111 2222 3333")
    assert wrong.exit_code == 1 and "not by 0000 1111 2222 3333" in wrong.output
    assert episodes_by_guid(beta.home) == {}
    right = beta("import", str(bundle), "--trust", station_key(alpha.home).fingerprint, "--draft")
    assert right.exit_code == 0, right.output
    assert {r["visibility"] for r in episodes_by_guid(beta.home).values()} == {"draft"}


def test_a_second_export_carries_only_new_work(alpha, beta, tmp_path):
    first, second, third = (tmp_path / f"{n}" / "beta.radio" for n in ("1", "2", "3"))
    for path in (first, second, third):
        path.parent.mkdir()
    assert "Exported 2" in alpha("export", "-o", str(first)).output
    app = create_app(settings(alpha.home, STATION_NAME=SOURCE))
    add_episode(app, clip("LJ001-0005.wav"), licence="cc-by-nc", title="New work")
    made = alpha("export", "-o", str(second))
    assert "Exported 1 episode " in made.output, made.output
    assert "Nothing new" in alpha("export", "-o", str(third)).output
    assert not third.exists()
    assert beta("import", str(first)).exit_code == 0
    taken = beta("import", str(second))
    assert "Imported 1, already here 0" in taken.output, taken.output
    assert {r["title"] for r in episodes_by_guid(beta.home).values()} >= {"New work"}
    everything = alpha("export", "-o", str(third), "--all")
    assert "Exported 3 episodes" in everything.output


def test_originals_travel_when_asked_and_are_stored_by_their_hash(alpha, beta, tmp_path):
    bundle = tmp_path / "b.tar"
    assert alpha("export", "-o", str(bundle), "--with-originals").exit_code == 0
    taken = beta("import", str(bundle))
    assert "Imported 2" in taken.output, taken.output
    for row in episodes_by_guid(beta.home).values():
        original = beta.home / "media" / row["source_path"]
        assert sha256(original) == row["source_sha256"]
        assert original.stat().st_mode & 0o777 == 0o444


def test_the_station_key_is_private_shown_on_about_and_backed_up(alpha, tmp_path):
    from radio.upkeep.backup import run_backup
    from radio.upkeep.folder import Manifest

    key = station_key(alpha.home)
    assert (alpha.home / "station_key").stat().st_mode & 0o777 == 0o600
    client = create_app(settings(alpha.home, STATION_NAME=SOURCE)).test_client()
    about = client.get("/about").get_data(as_text=True)
    assert key.fingerprint in about and key.public_text in about
    assert "PRIVATE" not in about
    assert 'href="/about"' in client.get("/").get_data(as_text=True)
    done = run_backup(alpha.home, tmp_path / "backup")
    manifest = Manifest.from_json(json.loads((done.path / "manifest.json").read_text()))
    assert manifest.files["station_key"].sha256 == sha256(alpha.home / "station_key")
    shutil.rmtree(tmp_path / "backup")


def test_a_taken_down_episode_no_longer_travels(alpha, tmp_path):
    db = database(alpha.home)
    try:
        guid = sorted(shared_guids(alpha.home))[0]
        db.execute(
            "update episodes set taken_down_at = '2026-12-01T00:00:00Z' where guid = ?", [guid]
        )
        db.conn.commit()
    finally:
        db.conn.close()
    folder = tmp_path / "bundle"
    assert "Exported 1 episode " in alpha("export", "-o", str(folder)).output
    assert not (folder / "episodes" / guid).exists()
