"""Requests about an episode (#16) on the web.

- From a receipt (``/receipts/<token>/...``, no account, the token as the only key):
  withdraw consent (at once), ask for a passage to be removed, ask for a takedown (held
  from listeners at once while open).
- From an episode page: ``/episodes/<guid>/correct?t=SECONDS``, a listener's suggested
  correction of the segment at that time; no account, at most ``PER_DEVICE`` suggestions
  per device in ``WINDOW_S`` (the login throttle's counting, kept apart).
- For editors: ``/admin/requests``, the queue, to accept or refuse each with a reason
  (``radio.jobs.decide``; takedowns only by admins).
"""

from __future__ import annotations

import difflib
import logging
from typing import Any

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
from flask_babel import gettext, ngettext
from werkzeug import Response
from werkzeug.exceptions import TooManyRequests

from radio.data import fields, history, receipts, requests
from radio.data.episodes import get_episode
from radio.data.errors import DataError
from radio.data.transcripts import TranscriptLine, transcript_lines
from radio.data.users import Role
from radio.db import get_db
from radio.jobs import decide
from radio.web.audit import actor
from radio.web.auth import current_user, load_episode, login_required
from radio.web.errors import handle_http_error
from radio.web.http.throttle import PER_NAME_AND_ADDRESS, WINDOW_S, LoginThrottle

bp = Blueprint("requests", __name__)
logger = logging.getLogger(__name__)

PER_DEVICE = PER_NAME_AND_ADDRESS  # suggestions a device may send in WINDOW_S
NEIGHBOURS = 2  # segments offered on each side of the one at the time asked


# -- from a receipt ------------------------------------------------------------------------


def _receipt_episode(token: str) -> int:
    episode_id = receipts.receipt_episode(get_db(), token)
    if episode_id is None:
        abort(404, gettext("No receipt has this address. Check the link you were given."))
    return episode_id


def _back_to_receipt(token: str) -> Response:
    return redirect(url_for("receipts.receipt", token=token, _anchor="requests"), 303)


@bp.post("/receipts/<token>/withdraw")
def withdraw(token: str) -> Response:
    episode_id = _receipt_episode(token)
    who = request.form.get("participant", "").strip() or None
    try:
        requests.withdraw_consent(get_db(), episode_id, who, request.form.get("message"))
    except DataError as e:
        flash(str(e), "error")
        return _back_to_receipt(token)
    flash(gettext("Consent withdrawn: listeners can no longer hear this recording."))
    return _back_to_receipt(token)


@bp.post("/receipts/<token>/passage")
def passage(token: str) -> Response:
    db = get_db()
    episode = get_episode(db, _receipt_episode(token))
    try:
        start = fields.chapter_start(request.form.get("start"))
        end = fields.chapter_start(request.form.get("end"))
        requests.ask_passage_removed(
            db, episode.id, start, end, episode.duration, request.form.get("message")
        )
    except DataError as e:
        flash(str(e), "error")
        return _back_to_receipt(token)
    flash(gettext("Asked. An editor will answer here; the answer shows on this page."))
    return _back_to_receipt(token)


@bp.post("/receipts/<token>/takedown")
def takedown(token: str) -> Response:
    episode_id = _receipt_episode(token)
    try:
        requests.ask_takedown(get_db(), episode_id, request.form.get("message"))
    except DataError as e:
        flash(str(e), "error")
        return _back_to_receipt(token)
    flash(
        gettext(
            "Asked. Listeners can't hear the recording while an editor decides; the answer "
            "shows on this page."
        )
    )
    return _back_to_receipt(token)


# -- a listener's correction ---------------------------------------------------------------


@bp.get("/episodes/<guid>/correct")
def correct(guid: str) -> str:
    episode = load_episode(guid)
    lines = transcript_lines(get_db(), episode.id)
    if not lines:
        abort(404, gettext("This recording has no transcript to correct."))
    at = _position(lines, request.args.get("t", type=float) or 0.0)
    return render_template(
        "correct.html",
        episode=episode,
        line=lines[at],
        nearby=lines[max(0, at - NEIGHBOURS) : at + NEIGHBOURS + 1],
        limit=requests.MAX_SEGMENT_CHARS,
        note_limit=requests.MAX_MESSAGE_CHARS,
    )


@bp.post("/episodes/<guid>/correct")
def suggest(guid: str) -> Response | tuple[str, int]:
    episode = load_episode(guid)
    lines = {line.id: line for line in transcript_lines(get_db(), episode.id)}
    line = lines.get(request.form.get("segment", type=int) or -1)
    if line is None:
        abort(400, gettext("That part of the transcript is gone; reload the page."))
    address = request.remote_addr or "?"
    wait = _throttle().wait_seconds("suggestions", address)
    if wait:
        _refuse(wait)
    try:
        requests.suggest_correction(
            get_db(),
            episode.id,
            (line.id, line.start, line.text),
            request.form.get("text"),
            request.form.get("note"),
        )
    except DataError as e:
        flash(str(e), "error")
        return redirect(url_for("requests.correct", guid=guid, t=f"{line.start:g}"), 303)
    _throttle().failed("suggestions", address)
    flash(gettext("Thank you: an editor will look at your correction."))
    return redirect(url_for("archive.episode", guid=guid, t=f"{line.start:g}"), 303)


def _position(lines: list[TranscriptLine], t: float) -> int:
    """The segment playing at ``t`` (the last one starting at or before it)."""
    at = 0
    for i, line in enumerate(lines):
        if line.start <= t:
            at = i
    return at


def _refuse(wait: int) -> None:
    minutes = -(-wait // 60)
    message = ngettext(
        "This device has sent %(most)d corrections in the last %(window)d minutes, the most "
        "it may; try again in %(num)d minute. Thank you for them.",
        "This device has sent %(most)d corrections in the last %(window)d minutes, the most "
        "it may; try again in %(num)d minutes. Thank you for them.",
        minutes,
        most=PER_DEVICE,
        window=WINDOW_S // 60,
    )
    response = current_app.make_response(handle_http_error(TooManyRequests(message)))
    response.headers["Retry-After"] = str(wait)
    abort(response)


def _throttle() -> LoginThrottle:
    """Counted per device (the "name" is fixed): ``PER_DEVICE`` in ``WINDOW_S``."""
    return current_app.extensions.setdefault("radio.suggestion_throttle", LoginThrottle())


# -- the editors' queue --------------------------------------------------------------------


@bp.get("/admin/requests")
@login_required(Role.EDITOR)
def queue() -> str:
    return render_template(
        "requests.html",
        queue=requests.queue(get_db()),
        sounds=decide.SOUNDS,
        may_take_down=current_user().can(Role.ADMIN),  # type: ignore[union-attr]
    )


@bp.post("/admin/requests/<int:request_id>/accept")
@login_required(Role.EDITOR)
def accept(request_id: int) -> Response:
    choices = decide.Choices(
        destroy=request.form.get("destroy") == "yes",
        sound=request.form.get("sound", "tone"),
        may_take_down=g.user.can(Role.ADMIN),
    )
    try:
        done = decide.accept(get_db(), current_app.config, request_id, actor=actor(),
                             answer=request.form.get("answer"), choices=choices)  # fmt: skip
    except DataError as e:
        flash(str(e), "error")
    except ImportError:  # the redaction or takedown work isn't installed in this build
        logger.exception("request %s: what accepting it needs is missing", request_id)
        flash(gettext("This archive can't do that yet; the request stays open."), "error")
    else:
        flash(gettext("Accepted request %(id)s: %(title)s.", id=done.id, title=done.episode_title))
    return redirect(url_for("requests.queue", _anchor=f"request-{request_id}"), 303)


@bp.post("/admin/requests/<int:request_id>/refuse")
@login_required(Role.EDITOR)
def refuse(request_id: int) -> Response:
    try:
        done = decide.refuse(get_db(), request_id, actor=actor(), answer=request.form.get("answer"))
    except DataError as e:
        flash(str(e), "error")
    else:
        flash(gettext("Refused request %(id)s: %(title)s.", id=done.id, title=done.episode_title))
    return redirect(url_for("requests.queue", _anchor=f"request-{request_id}"), 303)


@bp.app_template_filter("word_diff")
def word_diff(pair: tuple[str | None, str | None]) -> list[tuple[str, str]]:
    """(op, words) runs between two texts: ``same``, ``del`` or ``ins``, word by word."""
    before, after = (pair[0] or "").split(), (pair[1] or "").split()
    runs: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=before, b=after, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            runs.append(("same", " ".join(before[i1:i2])))
            continue
        if i2 > i1:
            runs.append(("del", " ".join(before[i1:i2])))
        if j2 > j1:
            runs.append(("ins", " ".join(after[j1:j2])))
    return runs


@bp.app_context_processor
def request_helpers() -> dict[str, Any]:
    return {
        "request_kinds": requests.Kind,
        "describe_request": history.request_words,
        "request_outcome": history.outcome_words,
    }
