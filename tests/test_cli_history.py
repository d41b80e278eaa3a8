"""`radio ingest` prints a receipt, the drop folder writes one next to the file, and `radio
history EPISODE` tells a contribution's life as its receipt page does (#16)."""

from __future__ import annotations

import json
import re

from radio import create_app
from radio.data import consent, edits
from radio.db import connect
from tests.conftest import clip, settings

RECEIPT_LINE = re.compile(r"^Receipt: (\S*/receipts/([A-Za-z0-9_-]{32}))$", re.M)


def test_ingest_prints_a_receipt_and_history_lists_the_events(runner, home):
    result = runner(
        "ingest",
        str(clip("jfk.flac")),
        "--title",
        "Moon speech",
        "--participant",
        "Amina=yes",
        "--participant",
        "anonymous=pending",
        "--wait",
    )
    assert result.exit_code == 0, result.output
    found = RECEIPT_LINE.search(result.output)
    assert found, result.output
    assert found.group(1) == f"/receipts/{found.group(2)}"  # no BASE_URL: the path alone

    app = create_app(settings(home))
    db = connect(home / "archive.db")
    try:
        assert [(p.name, p.consent) for p in consent.participants(db, 1)] == [
            ("Amina", "yes"),
            ("anonymous", "pending"),
        ]
        edits.edit_episode(db, 1, None, {"title": "We choose to go to the moon"})
    finally:
        db.conn.close()
    with app.test_client() as client:  # the printed link opens its receipt
        assert client.get(found.group(1)).status_code == 200

    result = runner("history", "1")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("Episode 1: We choose to go to the moon")
    kinds = [line[21:30].strip() for line in lines[1:-1] if line[:19].strip()]
    assert kinds == ["received", "edit", "processed", "held"]  # anonymous hasn't said yes
    assert "Received jfk.flac" in result.output
    assert "Changed the title." in result.output
    assert "Moon speech -> We choose to go to the moon" in result.output
    assert "An anonymous participant's consent is pending" in result.output
    assert "Who is heard: Amina: yes, anonymous: pending" in result.output

    document = json.loads(runner("history", "1", "--json").output)
    assert [e["kind"] for e in document["history"]][0] == "received"
    assert document["participants"][1]["consent"] == "pending"


def test_a_refused_consent_value_is_a_usage_error(runner):
    result = runner("ingest", str(clip("jfk.flac")), "--participant", "Amina=maybe")
    assert result.exit_code == 2
    assert "Consent must be yes, pending or no, not maybe." in result.output


def test_the_drop_folder_writes_a_receipt_next_to_the_file(runner, tmp_path, home):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / ".radio.toml").write_text('participants = ["Joseph=pending"]\n', encoding="utf-8")
    (drop / "call.flac").write_bytes(clip("jfk.flac").read_bytes())
    (home).mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text('base_url = "http://radio.local:5000"\n')
    result = runner("watch", str(drop), "--once")
    assert result.exit_code == 0, result.output
    note = (drop / "done" / "call.flac.receipt.txt").read_text(encoding="utf-8")
    found = re.search(r"Receipt: http://radio\.local:5000/receipts/([A-Za-z0-9_-]{32})", note)
    assert found, note
    db = connect(home / "archive.db")
    try:
        assert [(p.name, p.consent) for p in consent.participants(db, 1)] == [("Joseph", "pending")]
    finally:
        db.conn.close()
    app = create_app(settings(home))
    page = app.test_client().get(f"/receipts/{found.group(1)}").get_data(as_text=True)
    assert "call.flac" in page
