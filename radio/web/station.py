"""The station's own look: its logo and accent colour, from config (issue #15).

- ``LOGO``: a PNG, JPEG or SVG in the data folder, served at ``/station/logo`` with an
  ETag (pages link it with ``?v=`` its version, so a new logo shows at once).
- ``ACCENT_COLOUR``: a CSS hex or ``rgb()`` colour, served in ``/station.css`` as the
  ``--accent`` custom property (the Content-Security-Policy allows no inline style).
  Buttons write white on it, so a colour under WCAG AA's 4.5:1 against white is darkened
  until it passes, with a warning in the log naming the colour used.

Both are checked when the app is made (``ConfigError`` with the fix in the message).
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, request
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext
from werkzeug import Response

from radio.config import ConfigError
from radio.web.http.fileserve import FileSnapshot, respond

bp = Blueprint("station", __name__)
logger = logging.getLogger(__name__)

AA_CONTRAST = 4.5  # WCAG 2.1 AA for normal text
MAX_LOGO_BYTES = 512 * 1024
LOGO_CACHE = "public, max-age=86400"
STYLE_CACHE = "public, max-age=31536000, immutable"  # linked with ?v=<its hash>
LOGO_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "svg": "image/svg+xml"}
_HEX = re.compile(r"^#([0-9a-f]{3}|[0-9a-f]{6})$", re.I)
_RGB = re.compile(r"^rgb\(\s*(\d{1,3})\s*,\s*(\d{1,3})\s*,\s*(\d{1,3})\s*\)$", re.I)


@dataclass(frozen=True)
class Look:
    """What the pages need: the accent (or None for the stylesheet's own), the logo's
    file and type (or None), and the versions their URLs carry."""

    accent: str | None
    css: bytes
    css_version: str
    logo: Path | None
    logo_type: str | None
    logo_version: str


@bp.record_once
def _check_config(state: BlueprintSetupState) -> None:
    app: Flask = state.app
    look = load_look(app.config)
    app.extensions["radio.station_look"] = look
    app.jinja_env.globals["station_look"] = look


def load_look(config: dict) -> Look:
    accent = accent_colour(config.get("ACCENT_COLOUR"))
    css = f":root{{--accent:{accent}}}\n".encode() if accent else b""
    logo, logo_type = logo_file(config)
    logo_version = ""
    if logo is not None:
        logo_version = hashlib.sha256(logo.read_bytes()).hexdigest()[:12]
    return Look(accent, css, hashlib.sha256(css).hexdigest()[:12], logo, logo_type, logo_version)


def accent_colour(value: object) -> str | None:
    """``#rrggbb`` for ``value``, darkened to reach AA contrast with white; None if unset."""
    if value is None or str(value).strip() == "":
        return None
    rgb = parse_colour(str(value).strip())
    if rgb is None:
        raise ConfigError(
            f"ACCENT_COLOUR {value!r} isn't a colour the archive understands; write it as "
            '#b3261e, #c00 or rgb(179, 38, 30) in config.toml (accent_colour = "#b3261e").'
        )
    given = contrast_with_white(rgb)
    adjusted = rgb
    while contrast_with_white(adjusted) < AA_CONTRAST:
        adjusted = tuple(int(c * 0.95) for c in adjusted)  # type: ignore[assignment]
    if adjusted != rgb:
        logger.warning(
            "ACCENT_COLOUR %s has %.1f:1 contrast with white button text, under the 4.5:1 "
            "WCAG AA asks; the pages use %s (%.1f:1). Choose a darker colour to keep yours.",
            value,
            given,
            hex_colour(adjusted),
            contrast_with_white(adjusted),
        )
    return hex_colour(adjusted)


def parse_colour(text: str) -> tuple[int, int, int] | None:
    if m := _HEX.match(text):
        digits = m.group(1)
        if len(digits) == 3:
            digits = "".join(d * 2 for d in digits)
        return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)
    if m := _RGB.match(text):
        parts = tuple(int(g) for g in m.groups())
        if all(p <= 255 for p in parts):
            return parts  # type: ignore[return-value]
    return None


def hex_colour(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def contrast_with_white(rgb: tuple[int, int, int]) -> float:
    """WCAG 2.1 contrast ratio of ``rgb`` against white (1 to 21)."""

    def linear(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def logo_file(config: dict) -> tuple[Path | None, str | None]:
    """The logo's path and MIME type, checked: a PNG, JPEG or SVG under MAX_LOGO_BYTES."""
    name = config.get("LOGO")
    if not name:
        return None, None
    path = Path(config["HOME"]) / Path(str(name)).expanduser()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(
            f"LOGO {path} can't be read ({e.strerror}); put the file in the data folder "
            "or remove the setting."
        ) from e
    kind = _image_kind(data)
    if kind is None:
        raise ConfigError(f"LOGO {path} must be a PNG, JPEG or SVG image.")
    if len(data) > MAX_LOGO_BYTES:
        raise ConfigError(
            f"LOGO {path} is {len(data) // 1024} KB; every page shows it, so keep it under "
            f"{MAX_LOGO_BYTES // 1024} KB (an SVG or a 256x256 PNG is a few KB)."
        )
    return path, LOGO_TYPES[kind]


def _image_kind(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    head = data[:1024].lstrip().lower()
    if (head.startswith(b"<svg") or head.startswith(b"<?xml")) and b"<svg" in data[:4096].lower():
        return "svg"
    return None


def current_look() -> Look:
    return current_app.extensions["radio.station_look"]


@bp.get("/station.css")
def style() -> Response:
    """The accent as a custom property, after static/style.css; empty without one."""
    look = current_look()
    response = Response(look.css, mimetype="text/css")
    response.set_etag(look.css_version)
    response.headers["Cache-Control"] = STYLE_CACHE if request.args.get("v") else "no-cache"
    return response.make_conditional(request)


@bp.route("/station/logo", methods=["GET", "HEAD"])
def logo() -> Response:
    look = current_look()
    if look.logo is None or look.logo_type is None:
        abort(404, gettext("This station has no logo; set LOGO in config.toml to show one."))
    try:
        snap = FileSnapshot.open(look.logo, look.logo_type)
    except OSError:
        abort(404, gettext("The station's logo can't be read; check LOGO in config.toml."))
    status, headers, body = respond(request.environ, snap, LOGO_CACHE)
    return Response(body, status, headers, direct_passthrough=True)
