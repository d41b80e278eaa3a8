"""``/about``: what this archive is and whose, and the station's public key (#17), so
another station can check that a bundle (``radio import`` prints the fingerprint of the key
that signed it) really comes from here. The private half never leaves the data folder."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from radio.data.station_key import station_key

bp = Blueprint("about", __name__)


@bp.get("/about")
def show() -> str:
    key = station_key(current_app.config["HOME"])
    return render_template("about.html", public_key=key.public_text, fingerprint=key.fingerprint)
