"""Receipts (#16): every upload gets an unguessable link to its contribution's life; only the
token's hash is kept; a wrong or cut token is a 404; a receipt shows its own contribution
and never another's; edits made after the upload appear; the page is kept private."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from radio.data import receipts
from radio.data.episodes import get_episode
from radio.db import database_path
from radio.jobs import tasks
from tests.conftest import clip
from tests.webserver import add_account, csrf_token, log_in

RECEIPT = re.compile(r'href="(http://[^"]+/receipts/([A-Za-z0-9_-]+))"')


def upload(app, name: str, title: str, **extra) -> tuple[str, str]:  # noqa: ANN001
    """Upload ``name`` as joseph through the form; (receipt URL, token) from the answer."""
    client = app.test_client()
    log_in(client, "joseph")
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    data = {
        "csrf_token": token,
        "title": title,
        "visibility": "public",
        "files": [(clip(name).open("rb"), name)],
        **extra,
    }
    response = client.post("/upload", data=data, content_type="multipart/form-data")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    found = RECEIPT.search(page)
    assert found, "the answer shows no receipt link"
    assert '<svg role="img"' in page and 'class="qr"' in page  # its QR code, inline
    return found.group(1), found.group(2)


@pytest.fixture
def joseph(app):  # noqa: ANN001, ANN201
    add_account(app, "joseph", "uploader")


def test_the_token_is_long_random_and_only_its_hash_is_kept(app, db, joseph):
    url, token = upload(app, "jfk.flac", "Moon speech")
    assert len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8 >= 128
    assert len(token) == receipts.TOKEN_CHARS
    rows = list(db.query("select * from receipts"))
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(rows)
    db.conn.execute("pragma wal_checkpoint(truncate)")
    stored = database_path(app).read_bytes()
    assert token.encode() not in stored  # nowhere in the database, in any table
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored
    # a second upload gets another token
    _url, other = upload(app, "LJ001-0001.wav", "Printing")
    assert other != token


def test_a_wrong_or_cut_token_is_a_404(app, client, joseph):
    _url, token = upload(app, "jfk.flac", "Moon speech")
    assert client.get(f"/receipts/{token}").status_code == 200
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    for wrong in (token[:-1], token[:16], flipped, token + "x", "x" * 32, "../" + token[3:]):
        assert client.get(f"/receipts/{wrong}").status_code == 404, wrong


def test_a_receipt_shows_its_own_contribution_and_no_other(app, client, db, joseph):
    _url, first = upload(app, "jfk.flac", "Moon speech", participants="Amina=yes")
    _url, second = upload(app, "LJ001-0001.wav", "Printing history")
    ids = [r[0] for r in db.execute("select id from episodes order by id").fetchall()]
    for episode_id in ids:
        tasks.run_episode(app, episode_id)
    one, two = (get_episode(db, i) for i in ids)

    page = client.get(f"/receipts/{first}").get_data(as_text=True)
    assert "Moon speech" in page and "jfk.flac" in page and one.source_sha256 in page
    assert "Amina" in page
    assert "Printing history" not in page and "LJ001-0001.wav" not in page
    assert two.source_sha256 not in page and two.guid not in page

    page = client.get(f"/receipts/{second}").get_data(as_text=True)
    assert "Printing history" in page and two.source_sha256 in page
    assert "Moon speech" not in page and "jfk.flac" not in page and "Amina" not in page
    assert one.source_sha256 not in page and one.guid not in page


def test_it_tells_what_happened_edits_included(app, client, db, joseph):
    _url, token = upload(app, "jfk.flac", "Moon speech", visibility="draft")
    episode_id = db.execute("select id from episodes").fetchone()[0]
    page = client.get(f"/receipts/{token}").get_data(as_text=True)
    assert "Received" in page and "being processed" in page

    assert tasks.run_episode(app, episode_id) == "ready"
    page = client.get(f"/receipts/{token}").get_data(as_text=True)
    assert "Listening copy MP3" in page and "Not published." in page
    assert "It is a draft" in page

    add_account(app, "amina", "editor")
    editor = app.test_client()
    log_in(editor, "amina")
    guid = get_episode(db, episode_id).guid
    edit = editor.get(f"/episodes/{guid}/edit").get_data(as_text=True)
    answer = editor.post(
        f"/episodes/{guid}/edit",
        data={
            "csrf_token": csrf_token(edit),
            "part": "details",
            "title": "We choose to go to the moon",
            "description": "",
            "recorded_at": "",
            "language": "",
            "visibility": "public",
        },
    )
    assert answer.status_code == 302
    page = client.get(f"/receipts/{token}").get_data(as_text=True)
    assert "Changed the title." in page and "(amina)" in page
    assert "<del>Moon speech</del> <ins>We choose to go to the moon</ins>" in page
    assert "Published. Anyone can listen to it:" in page
    assert f"/episodes/{guid}" in page and "/feeds/all.xml" in page
    assert "Not published." not in page


def test_the_page_is_private_to_its_link(app, client, joseph):
    _url, token = upload(app, "jfk.flac", "Moon speech")
    response = client.get(f"/receipts/{token}")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert '<meta name="robots" content="noindex, nofollow">' in response.get_data(as_text=True)
    assert "noindex" in response.headers["X-Robots-Tag"]


def test_a_deleted_contribution_says_so_and_an_emptied_one_is_gone(app, client, db, joseph):
    from radio.data import trash

    _url, token = upload(app, "jfk.flac", "Moon speech", participants="Amina=pending")
    episode_id = db.execute("select id from episodes").fetchone()[0]
    trash.move_to_trash(db, episode_id, None)
    page = client.get(f"/receipts/{token}").get_data(as_text=True)
    assert "It was taken out of the archive (in the trash)." in page

    trash.remove_rows(db, episode_id)  # its participants and receipt go with its rows
    assert client.get(f"/receipts/{token}").status_code == 404
    assert db.execute("select count(*) from receipts").fetchone()[0] == 0
    assert db.execute("select count(*) from participants").fetchone()[0] == 0
