"""Editors name an episode's speakers: the "Speakers" fieldset of the edit page posts here.

The edit page (``radio.web.archive``) renders ``edit.html`` with the episode's speakers.
One POST route takes
the names typed (a label given another label's name becomes one speaker with it), or a
suggested name confirmed or dismissed, and goes back to the edit page with what it did.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_babel import gettext
from werkzeug import Response

from radio.data import audit
from radio.data import speakers as speaker_data
from radio.data.errors import DataError
from radio.data.users import Role
from radio.db import get_db
from radio.web.audit import actor
from radio.web.auth import load_episode, login_required

bp = Blueprint("speakers", __name__)


@bp.post("/episodes/<guid>/speakers")
@login_required(Role.EDITOR)
def save(guid: str) -> Response:
    """Rename speakers (fields ``label-N`` and ``name-N``), or ``confirm`` or ``dismiss``
    the suggested name of the label they carry."""
    ep = load_episode(guid)
    db = get_db()
    form = request.form
    try:
        if form.get("confirm"):
            label = form["confirm"]
            named = {s.label: s.suggestion for s in speaker_data.of_episode(db, ep.id)}
            flash(str(speaker_data.confirm_suggestion(db, ep.id, label)))
            _record(ep.id, [(label, named.get(label) or "")])
        elif form.get("dismiss"):
            label = form["dismiss"]
            speaker_data.dismiss_suggestion(db, ep.id, label)
            flash(gettext("%(label)s keeps its label; the suggested name is gone.", label=label))
        else:
            flash(_rename_all(ep.id))
    except DataError as e:
        flash(str(e), "error")
    return redirect(url_for("archive.edit", guid=guid, _anchor="speakers"))


def _rename_all(episode_id: int) -> str:
    """Apply every name that changed; all of them are checked before any is applied."""
    changes = []
    for key, label in request.form.items():
        if not key.startswith("label-"):
            continue
        typed = request.form.get(f"name-{key[6:]}", "")
        if typed.strip() and speaker_data.clean_name(typed) != label:
            changes.append((label, speaker_data.clean_name(typed)))
    if not changes:
        return gettext("The speakers' names were already like that.")
    db = get_db()
    said = " ".join(str(speaker_data.rename(db, episode_id, a, b)) for a, b in changes)
    _record(episode_id, changes)
    return said


def _record(episode_id: int, changes: list[tuple[str, str]]) -> None:
    audit.record(
        get_db(),
        actor(),
        "speakers.rename",
        audit.subject("episode", episode_id),
        after={"renamed": [[label, name] for label, name in changes]},
    )
