"""Who is heard and whether each agreed (#16), on the web: the "Who is heard" fields of the
upload and edit forms, the edit page's save, and what the episode page tells an editor or
the contributor about consent that holds an episode back (``radio.data.consent``)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, g, redirect, request, url_for
from flask_babel import gettext
from werkzeug import Response
from werkzeug.datastructures import MultiDict

from radio.data import consent, history
from radio.data.episodes import Episode
from radio.data.users import Role
from radio.db import get_db
from radio.web.auth import can_see, current_user, load_episode, login_required

bp = Blueprint("consent", __name__)

EMPTY_ROWS = 2  # blank "Who is heard" rows a form offers beyond those filled in


@bp.app_context_processor
def consent_helpers() -> dict[str, Any]:
    return {
        "consent_state": consent_state,
        "consent_choices": consent.CONSENTS,
        "consent_empty_rows": EMPTY_ROWS,
    }


def participants_from_form(form: MultiDict[str, str]) -> list[consent.Participant]:
    """The form's rows (``participant_name`` with ``participant_consent``; a row with no
    name is skipped) and then its ``participants`` text ("Amina=yes, anonymous=pending");
    ConsentError (a FieldError at the edge: 400) if one can't be taken."""
    names = form.getlist("participant_name")
    answers = form.getlist("participant_consent")
    rows = [
        consent.checked(name, answers[i] if i < len(answers) else None)
        for i, name in enumerate(names)
        if name.strip()
    ]
    typed = consent.parse_list([form.get("participants", "")])
    return consent.checked_list(rows + typed)


def consent_state(episode: Episode) -> dict[str, Any] | None:
    """What the consent includes show: for editors (and the page's note, for the uploader
    who may see it), the participants and why the episode is held; None for listeners."""
    user = current_user()
    if user is None or not (user.can(Role.EDITOR) or can_see(episode)):
        return None
    listed = consent.participants(get_db(), episode.id)
    return {
        "participants": listed,
        "held": [history.consent_reason(p) for p in consent.holds(listed)],
        "editor": user.can(Role.EDITOR),
    }


@bp.post("/episodes/<guid>/consent")
@login_required(Role.EDITOR)
def set_consent(guid: str) -> Response:
    db = get_db()
    episode = load_episode(guid)  # editors see every episode not in the trash
    back = redirect(url_for("archive.edit", guid=guid, _anchor="consent"))
    try:
        listed = participants_from_form(request.form)
        changes = consent.set_participants(db, episode.id, listed, g.user.id)
    except consent.ConsentError as e:
        flash(str(e), "error")
        return back
    if not changes:
        flash(gettext("Nothing changed."))
    elif consent.holds(listed):
        flash(gettext("Saved. Listeners can't hear it until everyone heard in it says yes."))
    else:
        flash(gettext("Saved. Everyone heard in it has agreed."))
    return back
