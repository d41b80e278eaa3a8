"""``/admin/exchange``: programmes between stations for admins (#17): take in a bundle from
the browser (a ``.radio`` or ``.tar`` file, with the same checks as ``radio import``: the
signature and every file before anything is added), see where imported episodes came from,
and this station's key fingerprint to give other stations.

The upload is streamed to the data folder's incoming area (after a check that the disk has
room for it), imported, and removed whatever happens.
"""

from __future__ import annotations

import logging
import shutil
import uuid
from pathlib import Path

from flask import Blueprint, current_app, render_template, request
from flask_babel import gettext
from werkzeug.datastructures import FileStorage

from radio.data import exchange
from radio.data.station_key import station_key
from radio.data.users import Role
from radio.db import get_db
from radio.jobs.errors import JobError
from radio.jobs.exchange_bundle import TAR_SUFFIXES
from radio.jobs.exchange_import import ImportResult, import_bundle
from radio.media import store
from radio.media.errors import MediaError
from radio.web.audit import actor
from radio.web.auth import login_required

bp = Blueprint("exchange_admin", __name__)
logger = logging.getLogger(__name__)

MAX_TRUST_CHARS = 200


@bp.get("/admin/exchange")
@login_required(Role.ADMIN)
def index() -> str:
    return _page()


@bp.post("/admin/exchange")
@login_required(Role.ADMIN)
def take_in() -> tuple[str, int] | str:
    upload = request.files.get("bundle")
    trust = (request.form.get("trust") or "").strip()[:MAX_TRUST_CHARS] or None
    if upload is None or not upload.filename:
        return _page(error=gettext("Choose a bundle file (.radio or .tar) first.")), 422
    if Path(upload.filename).suffix.lower() not in TAR_SUFFIXES:
        return _page(
            error=gettext(
                "%(name)s is not a bundle: bundles are .radio or .tar files made by radio "
                "export on another archive.",
                name=Path(upload.filename).name,
            )
        ), 422
    try:
        result = _import_upload(upload, trust, draft=bool(request.form.get("draft")))
    except (JobError, MediaError) as e:
        return _page(error=str(e)), 422
    return _page(result=result)


def _import_upload(upload: FileStorage, trust: str | None, *, draft: bool) -> ImportResult:
    home = current_app.config["HOME"]
    store.ensure_free(home, request.content_length or 0)
    folder = store.incoming_dir(home) / "exchange"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"upload-{uuid.uuid4().hex}.radio"
    try:
        with path.open("wb") as out:
            shutil.copyfileobj(upload.stream, out, 1024 * 1024)
        return import_bundle(
            get_db(), current_app.config, path, trust=trust, draft=draft, actor=actor()
        )
    finally:
        path.unlink(missing_ok=True)


def _page(*, error: str | None = None, result: ImportResult | None = None) -> str:
    key = station_key(current_app.config["HOME"])
    return render_template(
        "exchange_admin.html",
        fingerprint=key.fingerprint,
        imported=exchange.imports(get_db()),
        error=error,
        result=result,
        trust=request.form.get("trust", ""),
    )
