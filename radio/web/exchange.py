"""The HTTP side of programmes between stations (#17): what ``radio sync`` on another archive
pulls. Only what listeners may already have, and only what its licence lets travel
(``radio.data.exchange``), plus the signatures:

- ``/exchange/catalogue.json[?show=S]``: ``{"manifest": "<manifest.json>", "signature": ...}``,
  the signed list of every such episode's files with their sha256 (no originals);
- ``/exchange/withdrawn.json?guid=...&nonce=...``: which of those GUIDs may not be passed on
  any more, signed with the asker's nonce inside (``radio sync --show`` asks it);
- ``/exchange/files/episodes/<guid>/<name>``: an episode's ``episode.json``, renditions,
  peaks and pictures, with byte ranges (206), so a broken download continues where it stopped.

It also gives every page ``imported_from(episode)``: the station an imported episode came
from, which its page names ("From Radio X").
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, jsonify, request
from flask_babel import gettext
from werkzeug import Response

from radio.data import exchange as exchange_data
from radio.data.episodes import Episode
from radio.db import get_db
from radio.jobs.exchange import catalogue, served_file, withdrawals
from radio.web.http.fileserve import FileSnapshot, respond

bp = Blueprint("exchange", __name__, url_prefix="/exchange")

CACHE = "no-cache"  # the catalogue changes with every new episode; files are checked by hash
_MIME = {
    ".mp3": "audio/mpeg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".json": "application/json",
    ".jpg": "image/jpeg",
    ".png": "image/png",
}


@bp.app_template_global()
def imported_from(episode: Episode) -> str | None:
    """The name of the station an imported episode came from; None for the station's own."""
    found = exchange_data.origin(get_db(), episode.id)
    return found.station if found else None


@bp.get("/catalogue.json")
def catalogue_json() -> Response:
    show = (request.args.get("show") or "").strip()[:200] or None
    manifest, signature = catalogue(get_db(), current_app.config, show)
    response = jsonify({"manifest": manifest.decode(), "signature": signature})
    response.headers["Cache-Control"] = CACHE
    return response


@bp.get("/withdrawn.json")
def withdrawn_json() -> Response:
    """Which of ``?guid=...`` may not be passed on any more, signed, with the asker's
    ``?nonce=`` inside (``radio sync --show`` asks for what it got from this station)."""
    guids = [g[:200] for g in request.args.getlist("guid")]
    nonce = (request.args.get("nonce") or "")[:100]
    answer, signature = withdrawals(get_db(), current_app.config, guids, nonce)
    response = jsonify({"manifest": answer.decode(), "signature": signature})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/files/episodes/<guid>/<name>", methods=["GET", "HEAD"])
def episode_file(guid: str, name: str) -> Response:
    found = served_file(get_db(), current_app.config, guid, name)
    if found is None:
        abort(404, gettext("Episode %(guid)s has no %(name)s to share.", guid=guid, name=name))
    if isinstance(found, bytes):
        response = Response(found, mimetype="application/json")
        response.headers["Cache-Control"] = CACHE
        return response
    try:
        snap = FileSnapshot.open(found, _MIME.get(found.suffix, "application/octet-stream"))
    except OSError:
        abort(404, gettext("Episode %(guid)s has no %(name)s to share.", guid=guid, name=name))
    status, headers, body = respond(request.environ, snap, CACHE)
    return Response(body, status, headers, direct_passthrough=True)
