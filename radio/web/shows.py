"""Shows' settings and artwork (#15).

- ``/shows/<slug>/settings`` (editors): description, artwork, hosts, language, default
  licence and the show feed's Apple category.
- ``POST /episodes/<guid>/artwork`` (editors): an episode's own artwork, or none.
- ``/artwork/<sha256>.<jpg|png>``: the pictures, with an ETag (their hash) and cached for
  good, since a new picture has a new name.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from werkzeug import Response
from werkzeug.datastructures import FileStorage

from feeds.categories import choices as category_choices
from feeds.categories import is_category
from radio.data import artwork as artworks
from radio.data import audit, episodes, fields
from radio.data import shows as shows_data
from radio.data.licences import LICENCES
from radio.data.users import Role
from radio.db import get_db
from radio.jobs import tasks
from radio.media.artwork import (
    MAX_ARTWORK_BYTES,
    ArtworkError,
    artwork_path,
    check_image,
    discard_image,
    keep_image,
)
from radio.web.audit import actor
from radio.web.auth import load_episode, login_required
from radio.web.http.fileserve import FileSnapshot, respond

bp = Blueprint("shows", __name__)
logger = logging.getLogger(__name__)

ARTWORK_CACHE = "public, max-age=31536000, immutable"  # the name changes with the picture
MAX_HOSTS = 20


@bp.route("/artwork/<name>", methods=["GET", "HEAD"])
def artwork_file(name: str) -> Response:
    path = artwork_path(current_app.config["HOME"], name)
    found = artworks.servable(get_db(), name) if path else None
    if found is None or path is None:
        abort(404, gettext("There is no artwork %(name)s.", name=name))
    try:
        snap = FileSnapshot.open(path, found.mime)
    except OSError:
        abort(404, gettext("The artwork %(name)s can't be read; upload it again.", name=name))
    snap = replace(snap, etag=found.sha256[:32])  # the same picture, the same tag, anywhere
    status, headers, body = respond(request.environ, snap, ARTWORK_CACHE)
    return Response(body, status, headers, direct_passthrough=True)


def take_artwork(upload: FileStorage | None) -> artworks.Artwork | None:
    """An uploaded picture checked, kept and recorded; None when no file was chosen."""
    if upload is None or not upload.filename:
        return None
    data = upload.stream.read(MAX_ARTWORK_BYTES + 1)
    image = check_image(data, fields.filename(upload.filename))
    keep_image(current_app.config["HOME"], image)
    return artworks.record_image(get_db(), image, user_id=g.user.id)


def drop_unused(names: list[str | None]) -> None:
    """Remove pictures nobody names any more (a replaced one)."""
    db = get_db()
    gone = artworks.unused(db, [n for n in names if n])
    for name in gone:
        discard_image(current_app.config["HOME"], name)
    artworks.forget(db, gone)


@bp.post("/episodes/<guid>/artwork")
@login_required(Role.EDITOR)
def episode_artwork(guid: str) -> Response:
    ep = load_episode(guid)
    back = redirect(url_for("archive.edit", guid=guid, _anchor="artwork"), 303)
    try:
        taken = take_artwork(request.files.get("artwork"))
    except ArtworkError as e:
        flash(gettext("The artwork was not changed: %(error)s", error=e), "error")
        return back
    if taken is None and not request.form.get("remove"):
        flash(gettext("Choose a JPEG or PNG picture to upload."), "error")
        return back
    artworks.set_episode_artwork(get_db(), ep.id, taken.name if taken else None)
    if ep.artwork != (taken.name if taken else None):
        audit.record(get_db(), actor(), "artwork.set", audit.subject("episode", ep.id),
                     before=ep.artwork, after=taken.name if taken else None)  # fmt: skip
        drop_unused([ep.artwork])
        tasks.enqueue_file_tags(ep.id)  # the listening files carry the cover too
    flash(
        gettext("Saved the episode's artwork.")
        if taken
        else gettext("Removed the episode's own artwork.")
    )
    return back


def _show_or_404(slug: str) -> shows_data.Show:
    found = shows_data.get_show(get_db(), slug)
    if found is None:
        abort(
            404, gettext("Show %(slug)s doesn't exist. The home page lists the shows.", slug=slug)
        )
    return found


@bp.route("/shows/<slug>/settings", methods=["GET", "POST"])
@login_required(Role.EDITOR)
def settings(slug: str) -> str | Response | tuple[str, int]:
    show = _show_or_404(slug)
    if request.method == "GET":
        return _settings_page(show)
    try:
        changed = _read_settings(show)
        taken = take_artwork(request.files.get("artwork"))
    except (fields.FieldError, ArtworkError) as e:
        flash(gettext("Nothing was saved: %(error)s", error=e), "error")
        return _settings_page(show, sent=request.form), 400 if isinstance(
            e, fields.FieldError
        ) else 422
    if taken is not None:
        changed["artwork"] = taken.name
    elif request.form.get("remove_artwork"):
        changed["artwork"] = None
    db = get_db()
    shows_data.update_show(db, show.id, **changed)
    _record_settings(show, changed)
    if "artwork" in changed and changed["artwork"] != show.artwork:
        drop_unused([show.artwork])
        _retag_show_files(show.id)
    flash(gettext("Saved the show's settings."))
    return redirect(url_for("shows.settings", slug=slug), 303)


def _record_settings(show: shows_data.Show, changed: dict[str, object]) -> None:
    """What changed, in the audit history: the artwork as its own action."""
    differ = {k: v for k, v in changed.items() if getattr(show, k) != v}
    subject = audit.subject("show", show.slug)
    if "artwork" in differ:
        audit.record(get_db(), actor(), "artwork.set", subject,
                     before=show.artwork, after=differ.pop("artwork"))  # fmt: skip
    if differ:
        before = {k: getattr(show, k) for k in differ}
        audit.record(get_db(), actor(), "setting.show", subject, before=before, after=differ)


def _read_settings(show: shows_data.Show) -> dict[str, object]:
    form = request.form
    category = fields.clean_text(form.get("itunes_category")) or None
    if category is not None and not is_category(category):
        raise fields.FieldError(
            gettext(
                "%(category)s is not one of Apple's podcast categories.", category=repr(category)
            )
        )
    hosts = fields.names(form.get("hosts", "").split(","))
    if len(hosts) > MAX_HOSTS:
        raise fields.FieldError(
            gettext(
                "%(count)d hosts were given; name at most %(most)d.",
                count=len(hosts),
                most=MAX_HOSTS,
            )
        )
    return {
        "description": fields.description(form.get("description")),
        "language": fields.language(form.get("language")),
        "hosts": json.dumps(list(hosts)) if hosts else None,
        "licence": fields.licence(form.get("licence")),
        "itunes_category": category,
    }


def _retag_show_files(show_id: int) -> None:
    """The show's episodes without artwork of their own carry the show's in their files."""
    for episode_id in artworks.episodes_using_show_artwork(get_db(), show_id):
        tasks.enqueue_file_tags(episode_id)


def _settings_page(show: shows_data.Show, sent: object = None) -> str:
    return render_template(
        "show_settings.html",
        show=show,
        hosts=", ".join(episodes.names_from_json(show.hosts)),
        sent=sent,
        licences=LICENCES,
        categories=category_choices(),
        artwork=artworks.get(get_db(), show.artwork) if show.artwork else None,
        max_mb=MAX_ARTWORK_BYTES // (1024 * 1024),
    )
