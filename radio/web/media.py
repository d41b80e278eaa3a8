"""Audio and peaks files, for browsers and podcast apps: HEAD, ranges, ETag, 304.

``/media/<guid>/<name>`` serves only the few files the database names for an episode
(``MediaFile``), inside the media folder, so no URL can reach any other file. Listeners
get public episodes only (``public_sql``); originals need a login. A listening copy's
name is ``<stem>.<ext>`` with any stem (``mediafiles.media_file``): the archive hands out
meaningful ones, and the fixed ``audio.mp3`` of before still answers. ``?download=1``
adds Content-Disposition, so the episode page's download links save the file.

A listener's request for a public file is usually answered before Flask, by the WSGI
layer ``radio.web.http.mediacache.PublicMedia`` (installed in ``create_app``); this view
answers everything else: volunteers (a session), originals, and every miss.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, current_app, request
from flask_babel import gettext
from werkzeug import Response

from radio.data.episodes import Episode, find_episode
from radio.data.renditions import rendition_file
from radio.web.auth import can_see, current_user
from radio.web.http.fileserve import FileSnapshot, respond
from radio.web.http.mediafiles import (
    PUBLIC_CACHE,
    RENDITION_KINDS,
    MediaFile,
    attachment,
    inside_media,
    media_file,
    reader,
    wants_download,
)

bp = Blueprint("media", __name__, url_prefix="/media")

PRIVATE_CACHE = "private, max-age=0"
_NAMES = "NAME.mp3, NAME.opus, NAME.m4a, peaks.json and original"


@bp.route("/<guid>/<name>", methods=["GET", "HEAD"])
def media(guid: str, name: str) -> Response:
    file = media_file(name)
    if file is None:
        abort(
            404,
            gettext("There is no %(name)s here; episodes have %(names)s.", name=name, names=_NAMES),
        )
    db = reader(current_app)
    episode = find_episode(db, guid)
    if episode is None or not can_see(episode):
        abort(404, gettext("Episode %(guid)s doesn't exist.", guid=guid))
    if file == MediaFile.ORIGINAL and current_user() is None:
        abort(404, gettext("Originals are for the station's volunteers; log in to download them."))
    relpath, mime = _locate(episode, file)
    path = inside_media(current_app, relpath)
    if path is None or not path.is_file():
        abort(
            404,
            gettext(
                "The %(name)s of episode %(guid)s isn't available; `radio retry` rebuilds it.",
                name=name,
                guid=guid,
            ),
        )
    try:
        snap = FileSnapshot.open(path, mime)
    except OSError:
        abort(
            404,
            gettext(
                "The %(name)s of episode %(guid)s can't be read; `radio retry` rebuilds it.",
                name=name,
                guid=guid,
            ),
        )
    public = episode.is_public and file != MediaFile.ORIGINAL
    status, headers, body = respond(
        request.environ, snap, PUBLIC_CACHE if public else PRIVATE_CACHE
    )
    if wants_download(request.query_string.decode("latin-1")):
        saved_as = episode.source_name if file == MediaFile.ORIGINAL else None
        headers.append(("Content-Disposition", attachment(saved_as or name)))
    return Response(body, status, headers, direct_passthrough=True)


def _locate(episode: Episode, file: MediaFile) -> tuple[str, str]:
    """(path under media/, MIME type) of one of the episode's files; 404 if it has none."""
    if file in RENDITION_KINDS:
        found = rendition_file(reader(current_app), episode.id, RENDITION_KINDS[file])
        if found is None:
            abort(
                404,
                gettext(
                    "Episode %(guid)s has no %(file)s yet; it may still be processing.",
                    guid=episode.guid,
                    file=file,
                ),
            )
        return found
    if file == MediaFile.PEAKS:
        if not episode.peaks_path:
            abort(404, gettext("Episode %(guid)s has no peaks yet.", guid=episode.guid))
        return episode.peaks_path, "application/json"
    suffix = Path(episode.source_path or "").suffix.lower()
    return episode.source_path or "", _ORIGINAL_TYPES.get(suffix, "application/octet-stream")


_ORIGINAL_TYPES = {
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".oga": "audio/ogg",
    ".m4a": "audio/mp4",
    ".mp4": "audio/mp4",
    ".aac": "audio/aac",
    ".webm": "audio/webm",
    ".aif": "audio/aiff",
    ".aiff": "audio/aiff",
    ".amr": "audio/amr",
    ".wma": "audio/x-ms-wma",
}
