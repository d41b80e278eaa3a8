"""The station's look from config (#15): LOGO and ACCENT_COLOUR, checked when the app is
made, served at stable URLs with ETags, linked from every page."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from radio import create_app
from radio.config import ConfigError
from radio.web.station import contrast_with_white, parse_colour
from tests.conftest import settings

ICON = Path(__file__).resolve().parent.parent / "static" / "icon-192.png"


def make(home: Path, **config: object):  # noqa: ANN201
    home.mkdir(parents=True, exist_ok=True)
    return create_app(settings(home, **config))


def test_the_accent_is_a_stylesheet_with_an_etag(tmp_path):
    app = make(tmp_path / "home", ACCENT_COLOUR="#0b6e4f")
    client = app.test_client()
    html = client.get("/").get_data(as_text=True)
    link = html.split('href="/station.css?v=')[1].split('"')[0]
    assert '<meta name="theme-color" content="#0b6e4f">' in html
    r = client.get(f"/station.css?v={link}")
    assert r.status_code == 200 and r.mimetype == "text/css"
    assert r.get_data(as_text=True).strip() == ":root{--accent:#0b6e4f}"
    assert "immutable" in r.headers["Cache-Control"]
    again = client.get("/station.css", headers={"If-None-Match": r.headers["ETag"]})
    assert again.status_code == 304
    assert "<style" not in html and " style=" not in html  # the CSP allows no inline style


def test_a_pale_accent_is_darkened_to_aa_and_the_log_says_so(tmp_path, caplog):
    app = make(tmp_path / "home", ACCENT_COLOUR="#ffcc00")
    css = app.test_client().get("/station.css").get_data(as_text=True)
    used = css.split("--accent:")[1].split("}")[0]
    assert used != "#ffcc00"
    assert contrast_with_white(parse_colour(used)) >= 4.5
    assert contrast_with_white(parse_colour(used)) < 5.0  # darkened just enough
    assert "ACCENT_COLOUR #ffcc00" in caplog.text and used in caplog.text


@pytest.mark.parametrize("bad", ["red-ish", "#12345", "rgb(300, 0, 0)", "url(x)"])
def test_a_colour_that_isnt_one_is_refused(tmp_path, bad):
    with pytest.raises(ConfigError, match="ACCENT_COLOUR .* #b3261e"):
        make(tmp_path / "home", ACCENT_COLOUR=bad)


def test_without_an_accent_no_station_css_is_linked(client):
    assert "/station.css" not in client.get("/").get_data(as_text=True)
    assert client.get("/station/logo").status_code == 404


def test_the_logo_is_served_with_an_etag_and_shown_in_the_header(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(ICON, home / "logo.png")
    client = make(home, LOGO="logo.png").test_client()
    html = client.get("/").get_data(as_text=True)
    assert '<img src="/station/logo?v=' in html
    r = client.get("/station/logo")
    assert r.status_code == 200 and r.mimetype == "image/png"
    assert r.data == ICON.read_bytes()
    assert (
        client.get("/station/logo", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304
    )


def test_a_logo_that_isnt_an_image_is_refused(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "logo.png").write_text("not a picture")
    with pytest.raises(ConfigError, match="PNG, JPEG or SVG"):
        make(home, LOGO="logo.png")
    with pytest.raises(ConfigError, match="can't be read"):
        make(home, LOGO="missing.svg")
