"""``/admin/exchange`` (#17): an admin takes in a bundle from the browser with the same checks
as ``radio import``, sees where imported episodes came from and the station's fingerprint;
nobody else may."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import html as lxml_html

from radio import create_app
from radio.data.station_key import station_key
from tests.conftest import AuthActions, Runner, settings
from tests.exchange_archives import RECEIVER, SOURCE, build_source, copy_home, make_home
from tests.test_jobs_exchange import shared_guids, tamper_byte
from tests.webserver import csrf_token


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(alpha's data folder, a bundle of its two shareable episodes)."""
    folder = tmp_path_factory.mktemp("alpha")
    alpha = Runner(copy_home(build_source(folder / "built"), folder / "home"))
    made = folder / "to-beta.radio"
    done = alpha("export", "-o", str(made))
    assert done.exit_code == 0, done.output
    return alpha.home, made


@pytest.fixture
def beta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    monkeypatch.setenv("RADIO_TRANSCRIBE", "false")
    home = make_home(tmp_path / "beta", RECEIVER)
    app = create_app(settings(home, STATION_NAME=RECEIVER))
    client = app.test_client()
    return app, client, AuthActions(app, client)


def send(client, data: bytes, name: str = "to-beta.radio", trust: str = ""):  # noqa: ANN001, ANN201
    token = csrf_token(client.get("/admin/exchange").get_data(as_text=True))
    return client.post(
        "/admin/exchange",
        data={"csrf_token": token, "trust": trust, "bundle": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_an_admin_takes_in_a_bundle_and_sees_where_it_came_from(bundle, beta):
    alpha_home, made = bundle
    app, client, auth = beta
    auth.login("root", role="admin")
    page = client.get("/admin/exchange").get_data(as_text=True)
    assert station_key(app.config["HOME"]).fingerprint in page
    assert 'href="/admin/exchange"' in page  # the admin's nav links it
    assert "No programme from another station yet." in page

    taken = send(client, made.read_bytes())
    assert taken.status_code == 200
    text = lxml_html.fromstring(taken.get_data(as_text=True)).text_content()
    assert f"Bundle from {SOURCE}" in text and "This key is new here" in text
    assert "Added 2, updated 0, already here 0, refused 0" in text
    rows = lxml_html.fromstring(taken.get_data(as_text=True)).xpath(
        "//table[@class='exchange-imports']/tbody/tr"
    )
    assert len(rows) == 2
    alpha_key = station_key(alpha_home).fingerprint
    for row in rows:
        assert SOURCE in row.text_content() and alpha_key in row.text_content()
    links = {row.xpath("string(.//a/@href)") for row in rows}
    assert links == {f"/episodes/{g}" for g in shared_guids(alpha_home)}
    assert not list((Path(app.config["HOME"]) / "media" / "incoming" / "exchange").glob("*"))

    again = send(client, made.read_bytes(), trust=alpha_key)
    assert "Added 0, updated 0, already here 2" in again.get_data(as_text=True)


def test_a_changed_bundle_or_another_file_is_refused_with_a_clear_message(bundle, beta, tmp_path):
    _, made = bundle
    app, client, auth = beta
    auth.login("root", role="admin")
    changed = tmp_path / "changed.radio"
    changed.write_bytes(made.read_bytes())
    tamper_byte(changed, at=changed.stat().st_size - 20_000)  # inside the audio
    refused = send(client, changed.read_bytes())
    assert refused.status_code == 422
    assert "nothing was imported" in refused.get_data(as_text=True)
    assert "No programme from another station yet." in refused.get_data(as_text=True)

    wrong = send(client, b"ID3 not a bundle", name="show.mp3")
    assert wrong.status_code == 422 and "is not a bundle" in wrong.get_data(as_text=True)

    other_key = send(client, made.read_bytes(), trust="0000 1111 2222 3333")
    assert other_key.status_code == 422 and "not by 0000" in other_key.get_data(as_text=True)


def test_only_admins_reach_the_exchange_page(beta):
    _, client, auth = beta
    assert client.get("/admin/exchange").status_code in (302, 303)
    auth.login("amina", role="editor")
    assert client.get("/admin/exchange").status_code == 403
    assert 'href="/admin/exchange"' not in client.get("/").get_data(as_text=True)


def test_a_bundle_larger_than_a_form_reaches_the_checks(bundle, beta, tmp_path):
    import tarfile

    _, made = bundle
    _, client, auth = beta
    auth.login("root", role="admin")
    padded = tmp_path / "padded.radio"
    padded.write_bytes(made.read_bytes())
    extra = tmp_path / "extra.bin"
    extra.write_bytes(bytes(9 * 1024 * 1024))
    with tarfile.open(padded, "a") as tar:
        tar.add(extra, arcname="extra.bin")
    answer = send(client, padded.read_bytes())
    assert answer.status_code == 422  # read whole, then refused by the signed manifest
    assert "extra.bin is in the bundle but not in its signed manifest" in answer.get_data(
        as_text=True
    )
