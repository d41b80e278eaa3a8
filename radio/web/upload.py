"""Upload recordings from a browser: several files at once, each checked like `radio ingest`.

The request body never sits in memory: waitress spools it to disk, and werkzeug
writes each file part to a temporary file in ``media/incoming`` as it parses
(``radio.web.http.uploads``); ``ingest_stream`` then streams that into the archive while
hashing it. Each file gets its own answer
(added, already here, refused and why), shown next to its name.

The fields are checked once for the whole form with ``radio.data.fields`` (as ``radio
ingest`` checks its options), and a file's name is only shown, never used as a path. A
recording already in the archive is shown to whoever may see it; to anyone else the answer
says only that it is here and an editor has been told (``radio.web.auth.can_see``): the
same bytes must not open a private episode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import FileStorage

from radio.data import episodes, fields, licences
from radio.data import shows as shows_data
from radio.data.consent import ConsentError, Participant
from radio.data.episodes import VISIBILITIES, Visibility
from radio.data.users import Role, User
from radio.db import get_db
from radio.jobs import tasks
from radio.web.auth import can_see, current_user, login_required, remember_upload, sees_hidden
from radio.web.consent import participants_from_form
from radio.web.errors import wants_json
from radio.web.receipts import receipt_link, receipt_phone_link, receipt_qr
from transcription.languages import installed_languages, language_name

if TYPE_CHECKING:  # the ingest module loads only when a file arrives
    from radio.jobs.ingest import IngestResult

bp = Blueprint("upload", __name__)
logger = logging.getLogger(__name__)

FIELDS = (
    "title",
    "show",
    "recorded_at",
    "language",
    "licence",
    "description",
    "visibility",
    "participants",
)
ALREADY_HERE = lazy_gettext(
    "This recording is already in the archive, and an editor has been told."
)


@dataclass(frozen=True)
class FileResult:
    filename: str
    outcome: str  # added | duplicate | refused
    message: str
    guid: str | None = None
    receipt_url: str | None = None  # a new episode's receipt (#16): shown once, here
    receipt_qr_url: str | None = None  # the same, as a phone on the network reaches it


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
        try:
            checked = checked_form(form)
            heard = participants_from_form(request.form)
        except (fields.FieldError, ConsentError) as e:
            return _answer(form, [], str(e), 400)
        if not files:
            return _answer(form, [], gettext("Choose at least one recording to upload."), 400)
        results = [
            _ingest(f, checked, heard, index=i, count=len(files)) for i, f in enumerate(files, 1)
        ]
        if all(r.outcome == "refused" for r in results):
            status = 422
        if wants_json():
            return jsonify({"files": [result_json(r) for r in results]}), status
    return _render(form, results, None), status


def checked_form(form: dict[str, str]) -> dict[str, str]:
    """The form's fields cleaned and checked as ``radio ingest`` checks its options."""
    if form["visibility"] not in VISIBILITIES:
        raise fields.FieldError(
            gettext("Who can listen must be one of %(choices)s.", choices=", ".join(VISIBILITIES))
        )
    allowed = languages(current_app.config.get("WHISPER_MODEL"))
    return {
        "title": fields.title(form["title"]),
        "show": fields.show(form["show"]),
        "description": fields.description(form["description"]),
        "recorded_at": fields.recorded_at(form["recorded_at"]),
        "language": fields.language(form["language"], [code for code, _ in allowed]) or "",
        "licence": fields.licence(form["licence"]) or "",
        "visibility": form["visibility"],
    }


def _answer(
    form: dict[str, str], results: list[FileResult], error: str, status: int
) -> tuple[str | Response, int]:
    if wants_json():
        return jsonify({"error": {"status": status, "detail": error}, "files": []}), status
    return _render(form, results, error), status


def _render(form: dict[str, str], results: list[FileResult], error: str | None) -> str:
    return render_template(
        "upload.html",
        form=form,
        results=results,
        error=error,
        shows=shows_data.shows(get_db(), include_hidden=sees_hidden()),
        languages=languages(current_app.config.get("WHISPER_MODEL")),
        visibilities=VISIBILITIES,
        licences=licences.LICENCES,
        station_licence=licences.find(current_app.config.get("LICENCE")),
        max_bytes=current_app.config["MAX_CONTENT_LENGTH"],
        heard=_rows_as_sent(),
        receipt_qr=receipt_qr,
    )


def _rows_as_sent() -> list[tuple[str, str]]:
    """The "Who is heard" rows as sent, to show again with the answer."""
    names = request.form.getlist("participant_name")
    answers = request.form.getlist("participant_consent")
    return [
        (name, answers[i] if i < len(answers) else "pending")
        for i, name in enumerate(names)
        if name.strip()
    ]


def languages(configured: str | None) -> list[tuple[str, str]]:
    """(code, name) of every language the installed models know, by name: the hint
    choices. Read from the models' tokenizers (cached), never loading a model."""
    from radio.web.i18n import language_label

    codes = installed_languages(configured)
    # named in the interface's language where Babel knows the language (sw: Kiswahili)
    named = ((code, language_label(code, language_name(code))) for code in codes)
    return sorted(named, key=lambda c: c[1].casefold())


def _ingest(
    file: FileStorage,
    form: dict[str, str],
    heard: list[Participant],
    *,
    index: int,
    count: int,
) -> FileResult:
    from radio.jobs.ingest import IngestError, Limits, Metadata, ingest_stream, title_in_batch

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    name = fields.filename(file.filename)  # shown and kept; the file is stored by its hash
    title = title_in_batch(form["title"] or None, index, count)
    user = current_user()
    meta = Metadata(
        title=title,
        show=form["show"] or None,
        description=form["description"],
        recorded_at=form["recorded_at"] or None,
        language=form["language"] or None,
        licence=form["licence"] or None,  # None: the show's, else the station's
        visibility=form["visibility"],
        uploaded_by=user.id if user else None,
        participants=heard,
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
        return FileResult(name, "refused", str(e.reason))
    if result.created:
        remember_upload(result.guid)
        token = result.receipt_token
        return FileResult(
            name,
            "added",
            gettext("Added; it is being processed now."),
            result.guid,
            receipt_link(token) if token else None,
            receipt_phone_link(token) if token else None,
        )
    return _already_here(name, result, user)


def _already_here(name: str, result: IngestResult, user: User | None) -> FileResult:
    """The answer to an upload of bytes the archive already holds."""
    existing = episodes.find_episode(get_db(), result.guid)
    if existing is None or not can_see(existing):
        # Nothing about an episode this person may not see: not its page, not its name.
        logger.warning(
            "%s uploaded %s, the same bytes as episode %s, which they may not see; "
            "an editor may want to talk to them",
            user.name if user else "someone",
            name,
            result.episode_id,
        )
        return FileResult(name, "duplicate", str(ALREADY_HERE))
    remember_upload(result.guid)
    return FileResult(
        name, "duplicate", gettext("These exact bytes are already in the archive."), result.guid
    )


def result_json(result: FileResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "filename": result.filename,
        "outcome": result.outcome,
        "message": result.message,
        "guid": result.guid,
        "receipt_url": result.receipt_url,
    }
    if result.guid:
        data["progress_url"] = url_for("archive.progress_json", guid=result.guid)
    return data
