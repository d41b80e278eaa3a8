"""Upload recordings from a browser: several files at once, each checked like `radio ingest`.

The request body never sits in memory: waitress spools it to disk, and werkzeug
writes each file part to a temporary file in ``media/incoming`` as it parses
(``radio.web.http.uploads``); ``ingest_stream`` then streams that into the archive while
hashing it. Each file gets its own answer
(added, already here, refused and why), shown next to its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from werkzeug.datastructures import FileStorage

from radio.data import episodes
from radio.data.episodes import VISIBILITIES, Visibility
from radio.data.users import Role
from radio.db import get_db
from radio.jobs import tasks
from radio.web.auth import login_required, remember_upload, sees_hidden
from radio.web.errors import wants_json
from transcription.languages import installed_languages, language_name

bp = Blueprint("upload", __name__)

FIELDS = ("title", "show", "recorded_at", "language", "description", "visibility")


@dataclass(frozen=True)
class FileResult:
    filename: str
    outcome: str  # added | duplicate | refused
    message: str
    guid: str | None = None


@bp.route("/upload", methods=["GET", "POST"])
@login_required(Role.UPLOADER)
def upload() -> tuple[str | Response, int]:
    form = {key: (request.form.get(key) or "").strip() for key in FIELDS}
    form["recorded_at"] = form["recorded_at"] or date.today().isoformat()
    form["visibility"] = form["visibility"] or Visibility.PUBLIC
    results: list[FileResult] = []
    status = 200
    if request.method == "POST":
        files = [f for f in request.files.getlist("files") if f and f.filename]
        if not files:
            return _render(form, [], "Choose at least one recording to upload."), 400
        results = [_ingest(f, form, several=len(files) > 1) for f in files]
        if all(r.outcome == "refused" for r in results):
            status = 422
        if wants_json():
            return jsonify({"files": [result_json(r) for r in results]}), status
    return _render(form, results, None), status


def _render(form: dict[str, str], results: list[FileResult], error: str | None) -> str:
    return render_template(
        "upload.html",
        form=form,
        results=results,
        error=error,
        shows=episodes.shows(get_db(), include_hidden=sees_hidden()),
        languages=languages(current_app.config.get("WHISPER_MODEL")),
        visibilities=VISIBILITIES,
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
    )


def languages(configured: str | None) -> list[tuple[str, str]]:
    """(code, name) of every language the installed models know, by name: the hint
    choices. Read from the models' tokenizers (cached), never loading a model."""
    codes = installed_languages(configured)
    return sorted(((code, language_name(code)) for code in codes), key=lambda c: c[1])


def _ingest(file: FileStorage, form: dict[str, str], *, several: bool) -> FileResult:
    from radio.jobs.ingest import IngestError, Limits, Metadata, default_title, ingest_stream

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = _display_name(file.filename or "upload")
    title = form["title"] or None
    if title and several:  # one title for several recordings: tell them apart by file name
        title = f"{title}: {default_title(name)}"
    meta = Metadata(
        title=title,
        show=form["show"] or None,
        description=form["description"],
        recorded_at=form["recorded_at"] or None,
        language=form["language"] or None,
        visibility=form["visibility"],
    )
    try:
        with file.stream as stream:
            result = ingest_stream(
                get_db(),
                app.config["HOME"],
                stream,
                name,
                meta,
                Limits.from_config(app.config),
                enqueue=lambda episode_id: tasks.enqueue(episode_id, app),
            )
    except IngestError as e:
        return FileResult(name, "refused", e.reason)
    remember_upload(result.guid)
    if result.created:
        return FileResult(name, "added", "Added; it is being processed now.", result.guid)
    return FileResult(
        name, "duplicate", "These exact bytes are already in the archive.", result.guid
    )


def _display_name(filename: str) -> str:
    """Browsers send a bare name, but some old ones send the whole path."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload"


def result_json(result: FileResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "filename": result.filename,
        "outcome": result.outcome,
        "message": result.message,
        "guid": result.guid,
    }
    if result.guid:
        data["progress_url"] = url_for("archive.progress_json", guid=result.guid)
    return data
