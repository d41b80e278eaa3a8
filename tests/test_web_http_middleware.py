"""What create_app installs for every request: where uploads spool, the media layer in front of
Flask, and the one error translation at the HTTP edge (no Python class name reaches anyone)."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import pytest
from flask import Flask, request

from feeds import FeedError
from radio import create_app
from radio.data.errors import Invalid, NotFound
from radio.data.search import BadQuery
from radio.jobs.errors import IngestError
from radio.web.http.headers import SecurityHeaders
from radio.web.http.mediacache import PublicMedia
from radio.web.http.uploads import IN_MEMORY_BYTES, SpoolingRequest
from tests.conftest import settings
from tests.webserver import csrf_token


def files_open_in(folder: Path) -> list[str]:
    """Files this process has open inside ``folder`` (unnamed temporary files included:
    /proc shows them as ``folder/#123 (deleted)``)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # closed since listed
            continue
        if target.startswith(f"{folder}/"):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux's /proc")
def test_an_uploaded_file_spools_inside_media_incoming(app: Flask, home: Path):
    incoming = home / "media" / "incoming"
    big = os.urandom(IN_MEMORY_BYTES * 4)  # past what werkzeug keeps in memory
    small = b"a few bytes stay in memory"
    seen: dict[str, object] = {}

    def probe() -> str:
        seen["open"] = files_open_in(incoming)  # the form is parsed: each part is somewhere
        seen["big"] = request.files["big"].read()
        seen["small"] = request.files["small"].read()
        return "ok"

    app.add_url_rule("/spool-probe", "spool_probe", probe, methods=["POST"])
    client = app.test_client()
    token = csrf_token(client.get("/login").get_data(as_text=True))
    assert files_open_in(incoming) == []
    response = client.post(
        "/spool-probe",
        data={
            "csrf_token": token,
            "big": (io.BytesIO(big), "long.wav"),
            "small": (io.BytesIO(small), "short.wav"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert app.request_class is SpoolingRequest
    # A request this big spools every part on the archive's disk (the size of the whole
    # body decides, before werkzeug knows how big each part is).
    assert len(seen["open"]) == 2, seen["open"]
    assert seen["big"] == big and seen["small"] == small
    assert not Path(tempfile.gettempdir()).resolve().is_relative_to(home)  # no global changed
    assert files_open_in(incoming) == [] and list(incoming.iterdir()) == []  # nothing left


def test_the_media_layer_is_in_front_of_flask(app: Flask):
    # and the safety headers in front of both, so the media layer's answers carry them
    assert isinstance(app.wsgi_app, SecurityHeaders)
    assert isinstance(app.wsgi_app.wsgi_app, PublicMedia)


CLASS_NAMES = ("RuntimeError", "NotFound", "Invalid", "IngestError", "FeedError", "Traceback")


@pytest.fixture
def failing_app(home: Path) -> Flask:
    """An app run as in production (exceptions don't propagate to the test), with views that
    raise each of the archive's errors."""
    app = create_app(settings(home, TESTING=False))
    raising = {
        "missing": NotFound("Episode abc doesn't exist. Search the archive."),
        "invalid": Invalid("The title can't be empty."),
        "query": BadQuery("The search is too long; use at most 500 characters."),
        "refused": IngestError("notes.wav", "this is not a recording."),
        "feed": FeedError("FEED_OWNER_EMAIL is not an address; fix it in config.toml."),
        "bug": RuntimeError("secret internals: /home/radio/archive.db"),
    }
    for name, error in raising.items():

        def view(error: Exception = error) -> str:
            raise error

        app.add_url_rule(f"/raise/{name}", name, view)
    return app


@pytest.mark.parametrize(
    ("name", "status", "says"),
    [
        ("missing", 404, "Episode abc doesn&#39;t exist"),
        ("invalid", 422, "can&#39;t be empty"),
        ("query", 400, "The search is too long"),
        ("refused", 400, "this is not a recording"),
        ("feed", 500, "FEED_OWNER_EMAIL is not an address"),
        ("bug", 500, "Something went wrong on the archive&#39;s side"),
    ],
)
def test_errors_are_translated_once_at_the_edge(failing_app: Flask, name, status, says):
    client = failing_app.test_client()
    page = client.get(f"/raise/{name}")
    assert page.status_code == status and page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert says in text
    assert not any(word in text for word in CLASS_NAMES), text
    assert "secret internals" not in text
    as_json = client.get(f"/raise/{name}", headers={"Accept": "application/json"})
    assert as_json.status_code == status
    error = as_json.json["error"]
    assert error["status"] == status and error["title"] and error["detail"]
    assert not any(word in str(error) for word in CLASS_NAMES)
    assert "secret internals" not in str(error)
