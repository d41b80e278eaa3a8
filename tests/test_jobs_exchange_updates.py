"""Programmes between stations after the first bundle (#17): an edit or a redaction at the
source travels again and replaces the copy imported from that key (files and rows), a
takedown travels as a signed withdrawal, another key cannot overwrite, a local redaction is
never undone, and a relay keeps the origin station's name and key."""

from __future__ import annotations

import json
from pathlib import Path

from radio.data.edits import edit_episode
from radio.data.station_key import station_key
from tests.conftest import Runner
from tests.exchange_archives import (
    RECEIVER,
    SOURCE,
    copy_home,
    database,
    episodes_by_guid,
    make_home,
)
from tests.test_jobs_exchange import chapters_and_files, sha256, shared_guids, transcript

# alpha (a copy of the source, built once per module) and beta (an empty receiver): the
# fixtures of tests/exchange_archives.py


def ok(result):  # noqa: ANN001, ANN201
    assert result.exit_code == 0, result.output
    return result


def first_guid(home: Path) -> str:
    """The first of the shared clips (LJ001-0001, about 10 s long)."""
    return next(g for g, row in episodes_by_guid(home).items() if row["title"] == "LJ001-0001")


def edit_title(home: Path, guid: str, title: str, description: str | None = None) -> None:
    db = database(home)
    try:
        episode_id = db.execute("select id from episodes where guid = ?", [guid]).fetchone()[0]
        changes = {"title": title} | ({"description": description} if description else {})
        assert edit_episode(db, episode_id, None, changes)
    finally:
        db.conn.close()


def one(home: Path, sql: str, params: list) -> tuple:
    db = database(home)
    try:
        return db.execute(sql, params).fetchone()
    finally:
        db.conn.close()


def test_an_edit_travels_again_and_the_source_wins_over_a_local_edit(alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta.radio"
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    guid = first_guid(alpha.home)
    edit_title(beta.home, guid, "Renamed at Beta")  # a local edit the source will overwrite
    edit_title(alpha.home, guid, "Water committee, corrected", "Minutes of the meeting.")

    again = ok(alpha("export", "-o", str(bundle)))
    assert "Exported 1 episode (1 changed since sent)" in again.output
    manifest = json.loads(_member(bundle, "manifest.json"))
    assert manifest["episodes"] == [guid] and manifest["withdrawn"] == []

    taken = ok(beta("import", str(bundle)))
    assert "Imported 0, already here 0, refused 0." in taken.output
    assert "Updated 1 changed by their station since" in taken.output
    there = episodes_by_guid(beta.home)[guid]
    assert there["title"] == "Water committee, corrected"
    assert there["description"] == "Minutes of the meeting."
    assert transcript(beta.home, guid) == transcript(alpha.home, guid)
    assert chapters_and_files(beta.home, guid) == chapters_and_files(alpha.home, guid)
    audit = one(
        beta.home,
        "select summary_before, summary_after, why from audit "
        "where action = 'episode.import_update'",
        [],
    )
    assert "Renamed at Beta" in audit[0] and "corrected" in audit[1]
    assert station_key(alpha.home).fingerprint in audit[2]

    third = ok(alpha("export", "-o", str(bundle)))
    assert "Nothing new or changed to export" in third.output


def _member(bundle: Path, name: str) -> bytes:
    import tarfile

    with tarfile.open(bundle) as tar:
        found = tar.extractfile(name)
        assert found is not None
        return found.read()


def test_a_redaction_travels_and_replaces_audio_transcript_and_original(alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta"
    ok(alpha("export", "-o", str(bundle), "--with-originals"))
    ok(beta("import", str(bundle)))
    guid = first_guid(alpha.home)
    old_original = one(beta.home, "select source_path from episodes where guid = ?", [guid])[0]
    assert (beta.home / "media" / old_original).is_file()
    before_words = transcript(beta.home, guid)
    old_files = chapters_and_files(beta.home, guid)[1]
    episode_id = one(alpha.home, "select id from episodes where guid = ?", [guid])[0]
    ok(alpha("redact", str(episode_id), "--from", "0:01", "--to", "0:04", "--reason", "x", "--yes"))

    again = ok(alpha("export", "-o", str(bundle), "--with-originals"))
    assert "(1 changed since sent)" in again.output
    ok(beta("import", str(bundle)))

    new_files = chapters_and_files(beta.home, guid)[1]
    assert new_files == chapters_and_files(alpha.home, guid)[1]  # the redacted copies
    assert all(new_files[kind] != old_files[kind] for kind in new_files)
    assert transcript(beta.home, guid) == transcript(alpha.home, guid) != before_words
    source = episodes_by_guid(alpha.home)[guid]
    here = episodes_by_guid(beta.home)[guid]
    assert here["source_sha256"] == source["source_sha256"]
    assert sha256(beta.home / "media" / here["source_path"]) == source["source_sha256"]
    assert not (beta.home / "media" / old_original).exists(), "the unredacted original is gone"
    leftovers = list((beta.home / "media" / "episodes").glob(".*"))
    assert leftovers == [], "no staged or old folder is left behind"


def test_a_takedown_travels_as_a_signed_withdrawal(alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta.radio"
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    guid = first_guid(alpha.home)
    episode_id = one(alpha.home, "select id from episodes where guid = ?", [guid])[0]
    ok(alpha("takedown", str(episode_id), "--reason", "consent withdrawn", "--yes"))

    again = ok(alpha("export", "-o", str(bundle)))
    assert "Withdrawn: 1 sent before" in again.output
    manifest = json.loads(_member(bundle, "manifest.json"))
    assert manifest["withdrawn"] == [guid] and manifest["episodes"] == []

    taken = ok(beta("import", str(bundle)))
    assert "took down 1 their station withdrew" in taken.output
    down, reason = one(
        beta.home, "select taken_down_at, takedown_reason from episodes where guid = ?", [guid]
    )
    assert down and SOURCE in reason
    assert one(
        beta.home,
        "select withdrawn_at from exchange_imports i join episodes e "
        "on e.id = i.episode_id where e.guid = ?",
        [guid],
    )[0]
    page = _client(beta.home).get(f"/episodes/{guid}")
    assert page.status_code == 410
    other = (shared_guids(alpha.home) - {guid}).pop()
    assert _client(beta.home).get(f"/episodes/{other}").status_code == 200

    third = ok(alpha("export", "-o", str(bundle)))
    assert "Nothing new or changed" in third.output  # the withdrawal went once


def _client(home: Path):  # noqa: ANN202
    from radio import create_app
    from tests.conftest import settings

    return create_app(settings(home, STATION_NAME=RECEIVER)).test_client()


def test_another_key_cannot_overwrite_what_came_from_a_station(built, alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta.radio"
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    guid = first_guid(alpha.home)
    impostor = Runner(copy_home(built, tmp_path / "impostor"))
    (impostor.home / "station_key").unlink(missing_ok=True)  # same episodes, another key
    edit_title(impostor.home, guid, "Not what Alpha said")
    forged = tmp_path / "forged.radio"
    ok(impostor("export", "-o", str(forged)))

    taken = ok(beta("import", str(forged)))
    assert f"refused {guid}: it came here first in a bundle signed by another key" in taken.output
    assert "Updated 0" not in taken.output and "Imported 0" in taken.output
    assert episodes_by_guid(beta.home)[guid]["title"] != "Not what Alpha said"


def test_a_relay_keeps_the_origin_station_and_its_key(alpha, beta, tmp_path):
    ok(alpha("export", "-o", str(tmp_path / "to-beta.radio")))
    ok(beta("import", str(tmp_path / "to-beta.radio")))
    gamma = Runner(make_home(tmp_path / "gamma", "Radio Gamma"))
    ok(beta("export", "-o", str(tmp_path / "to-gamma.radio")))
    ok(gamma("import", str(tmp_path / "to-gamma.radio")))
    station, signer, origin, signed_by = one(
        gamma.home,
        "select source_station, source_fingerprint, origin_fingerprint, signed_by "
        "from exchange_imports limit 1",
        [],
    )
    assert station == SOURCE and signed_by == RECEIVER
    assert origin == station_key(alpha.home).fingerprint
    assert signer == station_key(beta.home).fingerprint


def test_sync_brings_edits_and_withdrawals_over_http(alpha, beta):
    from radio import create_app
    from tests.conftest import settings
    from tests.webserver import live_server

    guid = first_guid(alpha.home)
    episode_art, show_art = give_artwork(alpha.home, guid)
    other = (shared_guids(alpha.home) - {guid}).pop()
    with live_server(create_app(settings(alpha.home, STATION_NAME=SOURCE))) as server:
        address = f"http://127.0.0.1:{server.port}"
        assert "Imported 2" in ok(beta("sync", "--from", address)).output
        edit_title(alpha.home, guid, "Corrected over the network")
        other_id = one(alpha.home, "select id from episodes where guid = ?", [other])[0]
        ok(alpha("takedown", str(other_id), "--reason", "consent withdrawn", "--yes"))
        again = ok(beta("sync", "--from", address))
    assert "Updated 1 changed by their station since; took down 1" in again.output
    assert episodes_by_guid(beta.home)[guid]["title"] == "Corrected over the network"
    assert chapters_and_files(beta.home, guid) == chapters_and_files(alpha.home, guid)
    assert episodes_by_guid(beta.home)[other]["taken_down_at"]
    assert episodes_by_guid(beta.home)[guid]["artwork"] == episode_art  # pictures come too
    assert (beta.home / "media" / "artwork" / show_art).is_file()


ICONS = Path(__file__).resolve().parent.parent / "static"


def give_artwork(home: Path, guid: str) -> tuple[str, str]:
    """The episode's own artwork and its show's, description and licence set at the source."""
    from radio.data import artwork as artworks
    from radio.data.shows import update_show
    from radio.media.artwork import check_image, keep_image

    db = database(home)
    try:
        names = []
        for icon in ("icon-192.png", "icon-512.png"):
            image = check_image((ICONS / icon).read_bytes())
            keep_image(home, image)
            artworks.record_image(db, image)
            names.append(image.name)
        episode_id, show_id = db.execute(
            "select id, show_id from episodes where guid = ?", [guid]
        ).fetchone()
        artworks.set_episode_artwork(db, episode_id, names[0])
        update_show(
            db, show_id, description="Talk every morning.", licence="cc-by-sa", artwork=names[1]
        )
        return names[0], names[1]
    finally:
        db.conn.close()


def test_artwork_and_the_show_s_description_and_licence_travel(alpha, beta, tmp_path):
    guid = first_guid(alpha.home)
    episode_art, show_art = give_artwork(alpha.home, guid)
    bundle = tmp_path / "to-beta.radio"
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    here = episodes_by_guid(beta.home)[guid]
    assert here["artwork"] == episode_art
    assert sha256(beta.home / "media" / "artwork" / episode_art) == episode_art.split(".")[0]
    show = one(
        beta.home,
        "select title, description, licence, artwork from shows where id = ?",
        [here["show_id"]],
    )
    assert show == ("Morning Talk", "Talk every morning.", "cc-by-sa", show_art)
    assert (beta.home / "media" / "artwork" / show_art).is_file()
    client = _client(beta.home)
    assert client.get(f"/artwork/{episode_art}").status_code == 200


def test_a_passage_removed_here_never_comes_back_from_the_source(alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta"
    ok(alpha("export", "-o", str(bundle), "--with-originals"))
    ok(beta("import", str(bundle)))
    guid = first_guid(alpha.home)
    here_id = one(beta.home, "select id from episodes where guid = ?", [guid])[0]
    ok(beta("redact", str(here_id), "--from", "0:02", "--to", "0:05", "--reason", "x", "--yes"))
    redacted_words = transcript(beta.home, guid)
    edit_title(alpha.home, guid, "Changed at the source")

    ok(alpha("export", "-o", str(bundle), "--with-originals"))
    taken = ok(beta("import", str(bundle)))
    assert f"not updated {guid}: redacted here" in taken.output
    assert transcript(beta.home, guid) == redacted_words
    assert episodes_by_guid(beta.home)[guid]["title"] == "LJ001-0001"


def test_consent_withdrawn_at_the_source_travels_as_a_withdrawal(alpha, beta, tmp_path):
    from radio.data.consent import Consent, Participant, set_participants
    from radio.data.requests import withdraw_consent

    guid = first_guid(alpha.home)
    episode_id = one(alpha.home, "select id from episodes where guid = ?", [guid])[0]
    db = database(alpha.home)
    try:
        set_participants(db, episode_id, [Participant("Amina", Consent.YES)], None)
    finally:
        db.conn.close()
    bundle = tmp_path / "to-beta.radio"
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    assert not episodes_by_guid(beta.home)[guid]["taken_down_at"]

    db = database(alpha.home)
    try:
        withdraw_consent(db, episode_id, "Amina", "I changed my mind")
    finally:
        db.conn.close()
    assert "Withdrawn: 1 sent before" in ok(alpha("export", "-o", str(bundle))).output
    assert "took down 1" in ok(beta("import", str(bundle))).output
    assert episodes_by_guid(beta.home)[guid]["taken_down_at"]


def test_a_withdrawn_episode_offered_again_comes_back(alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta.radio"
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    guid = first_guid(alpha.home)
    episode_id = one(alpha.home, "select id from episodes where guid = ?", [guid])[0]
    ok(alpha("takedown", str(episode_id), "--reason", "checking a complaint", "--yes"))
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    assert episodes_by_guid(beta.home)[guid]["taken_down_at"]

    ok(alpha("takedown", str(episode_id), "--undo", "--yes"))
    again = ok(alpha("export", "-o", str(bundle)))
    assert "Exported 1 episode " in again.output
    back = ok(beta("import", str(bundle)))
    assert "Updated 1" in back.output
    assert not episodes_by_guid(beta.home)[guid]["taken_down_at"]
    assert _client(beta.home).get(f"/episodes/{guid}").status_code == 200


def test_a_new_licence_travels_and_all_rights_reserved_withdraws(alpha, beta, tmp_path):
    bundle = tmp_path / "to-beta.radio"
    ok(alpha("export", "-o", str(bundle)))
    ok(beta("import", str(bundle)))
    guid = first_guid(alpha.home)
    other = (shared_guids(alpha.home) - {guid}).pop()
    db = database(alpha.home)
    try:
        for g, licence in ((guid, "cc-by-sa"), (other, "all-rights-reserved")):
            episode_id = db.execute("select id from episodes where guid = ?", [g]).fetchone()[0]
            assert edit_episode(db, episode_id, None, {"licence": licence})
    finally:
        db.conn.close()
    again = ok(alpha("export", "-o", str(bundle)))
    assert "Exported 1 episode (1 changed" in again.output
    assert "Withdrawn: 1" in again.output
    ok(beta("import", str(bundle)))
    there = episodes_by_guid(beta.home)
    assert there[guid]["licence"] == "cc-by-sa" and not there[guid]["taken_down_at"]
    assert there[other]["taken_down_at"] and there[other]["licence"] == "cc-by"
    licence = one(
        beta.home,
        "select i.source_licence from exchange_imports i join episodes e "
        "on e.id = i.episode_id where e.guid = ?",
        [guid],
    )[0]
    assert licence == "cc-by-sa"
