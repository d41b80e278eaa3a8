"""Share a moment (#14): voice notes of a span of an episode, and editors' soundbites.

- ``/episodes/<guid>/clip.opus?from=12.5&to=43``: a voice note (``radio.media.clips``,
  Ogg Opus that messaging apps play inline), made on demand from the MP3 rendition and
  kept under the episode's media folder (``media/episodes/<guid>/clips/``), so the next
  listener who shares the same moment gets the same file at once. Making one costs a
  second of CPU, so each device may make ``PER_EPISODE`` of one episode and ``PER_DEVICE``
  in all every 15 minutes (``radio.web.http.throttle``); a clip already made is never
  refused. Listeners get public episodes only, as for media.
- ``POST /episodes/<guid>/soundbites`` and ``.../soundbites/<id>/delete``: editors mark
  and remove soundbites (``radio.data.soundbites``), the feeds' ``podcast:soundbite``.

The page side is ``templates/_share.html`` (a plain form that works without JavaScript)
and ``static/share.js`` (the span from the transcript or the player, and the dialog).
"""

from __future__ import annotations

import logging
import math
import threading
import unicodedata
from pathlib import Path
from urllib.parse import quote

from flask import Blueprint, Response, abort, current_app, flash, g, redirect, request, url_for
from flask_babel import gettext, lazy_gettext, ngettext
from werkzeug.exceptions import TooManyRequests

from radio.data import audit
from radio.data import soundbites as bites
from radio.data.episodes import Episode
from radio.data.renditions import rendition_file
from radio.data.shows import slugify
from radio.data.users import Role
from radio.db import get_db
from radio.media import store
from radio.web.audit import actor
from radio.web.auth import load_episode, login_required
from radio.web.errors import handle_http_error
from radio.web.http.fileserve import FileSnapshot, respond
from radio.web.http.mediafiles import PUBLIC_CACHE, inside_media
from radio.web.http.throttle import PER_ADDRESS, PER_NAME_AND_ADDRESS, WINDOW_S, LoginThrottle

bp = Blueprint("share", __name__)

logger = logging.getLogger(__name__)

MAX_SECONDS = 120.0  # a moment, not a programme (the command line allows 10 minutes)
SOURCE_KIND = "mp3"  # the rendition clips are cut from: loudness-normalised, as the feed
VOICE_NOTE_MIME = "audio/ogg"
CACHED_PER_EPISODE = 100  # clips kept per episode; the oldest go first
PER_EPISODE, PER_DEVICE = PER_NAME_AND_ADDRESS, PER_ADDRESS  # new clips per device, 15 min
PRIVATE_CACHE = "private, max-age=0"
_TIME_HELP = lazy_gettext("seconds (75.5) or minutes and seconds (1:15.5)")
# Whole sentences per case, so that each language can say them its own way.
_MISSING_TIME = {
    "start": lazy_gettext("Say where the moment starts: start= in %(help)s."),
    "end": lazy_gettext("Say where the moment ends: end= in %(help)s."),
}
_TOO_LONG = {
    "A voice note": lazy_gettext(
        "A voice note is at most %(limit)s minutes; %(start)s to %(end)s is %(length)s "
        "minutes. Choose a shorter moment."
    ),
    "A soundbite": lazy_gettext(
        "A soundbite is at most %(limit)s minutes; %(start)s to %(end)s is %(length)s "
        "minutes. Choose a shorter moment."
    ),
}


class SpanError(ValueError):
    """A span the request gave that can't be a voice note or soundbite; says what to do."""


def parse_time(value: str | None, name: str) -> float:
    """``12.5``, ``12:30`` or ``1:02:03.5`` to seconds; a clear 400 for anything else."""
    text = (value or "").strip()
    if not text:
        raise SpanError(str(_MISSING_TIME[name]) % {"help": _TIME_HELP})
    try:
        parts = [float(p) for p in text.split(":")] if len(text) <= 20 else []
    except ValueError:
        parts = []
    if not parts or len(parts) > 3 or any(not math.isfinite(p) or p < 0 for p in parts):
        raise SpanError(
            gettext(
                "%(name)s=%(text)s is not a time; give %(help)s.",
                name=name,
                text=repr(text[:20]),
                help=_TIME_HELP,
            )
        )
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def clock_text(seconds: float) -> str:
    """``12:30`` or ``0:12.5`` for messages: the way people type times into the form."""
    minutes, rest = divmod(round(seconds, 1), 60)
    return f"{int(minutes)}:{rest:04.1f}".removesuffix(".0")


def read_span(
    episode: Episode, max_seconds: float = MAX_SECONDS, what: str = "A voice note"
) -> tuple[float, float]:
    """``from`` and ``to`` of the request, to a tenth of a second, checked against the
    episode; a span running past the end stops at the end."""
    start = round(parse_time(request.values.get("from"), "start"), 1)
    end = round(parse_time(request.values.get("to"), "end"), 1)
    if end <= start:
        raise SpanError(
            gettext(
                "The end (%(end)s) must come after the start (%(start)s).",
                end=clock_text(end),
                start=clock_text(start),
            )
        )
    if end - start > max_seconds:
        raise SpanError(
            str(_TOO_LONG[what])
            % {
                "limit": f"{max_seconds / 60:g}",
                "start": clock_text(start),
                "end": clock_text(end),
                "length": f"{(end - start) / 60:.1f}",
            }
        )
    duration = episode.duration or 0.0
    if duration and start >= duration:
        raise SpanError(
            gettext(
                "The episode lasts %(duration)s, so nothing starts at %(start)s; choose a "
                "moment inside it.",
                duration=clock_text(duration),
                start=clock_text(start),
            )
        )
    return start, round(min(end, duration), 1) if duration else end


@bp.route("/episodes/<guid>/clip.opus", methods=["GET", "HEAD"])
def voice_note(guid: str) -> Response:
    episode = load_episode(guid)  # the same 404 for a private episode as a missing one
    try:
        start, end = read_span(episode)
    except SpanError as e:
        abort(400, str(e))
    source = _source(episode)
    path = store.episode_dir(current_app.config["HOME"], guid) / "clips" / _clip_name(start, end)
    if not _fresh(path, source):
        _make(episode, source, path, start, end)
    return _send(episode, path, start, end)


def _source(episode: Episode) -> Path:
    found = rendition_file(get_db(), episode.id, SOURCE_KIND)
    path = inside_media(current_app, found[0]) if found else None
    if path is None or not path.is_file():
        abort(
            404,
            gettext(
                "Episode %(guid)s has no audio to cut a voice note from yet.", guid=episode.guid
            ),
        )
    return path


def _clip_name(start: float, end: float) -> str:
    return f"{round(start * 10)}-{round(end * 10)}.opus"  # tenths of a second


def _fresh(path: Path, source: Path) -> bool:
    """Made, and after the rendition it was cut from (``radio retry`` remakes those)."""
    try:
        return path.stat().st_mtime >= source.stat().st_mtime
    except OSError:
        return False


def _make(episode: Episode, source: Path, path: Path, start: float, end: float) -> None:
    address = request.remote_addr or "?"
    throttle = _throttle()
    wait = throttle.wait_seconds(episode.guid, address)
    if wait:
        _refuse(wait)
    from radio.media import clips  # PyAV: only a process that makes clips loads it

    home = current_app.config["HOME"]
    store.ensure_free(home, 256 * 1024, int(float(current_app.config.get("MIN_FREE_MB") or 0)))
    # One clip at a time: the machine has few cores, and a second request for the same
    # moment then finds it made.
    with current_app.extensions.setdefault("radio.clip_lock", threading.Lock()):
        if _fresh(path, source):
            return
        throttle.failed(episode.guid, address)  # counted as spent, made or not
        try:
            clips.make_voice_note(source, path, start, end, max_seconds=MAX_SECONDS)
        except clips.AudioError as e:
            abort(
                400,
                gettext(
                    "No voice note from %(start)s to %(end)s: %(error)s",
                    start=clock_text(start),
                    end=clock_text(end),
                    error=e,
                ),
            )
        logger.info("made voice note %s of episode %s for %s", path.name, episode.guid, address)
    _prune(path.parent)


def _refuse(wait: int) -> None:
    minutes = -(-wait // 60)
    message = ngettext(
        "This device has made %(per_episode)d voice notes of this episode (or %(per_device)d "
        "in all) in the last %(window)d minutes, the most it may; try again in %(num)d "
        "minute. Links to a moment have no limit.",
        "This device has made %(per_episode)d voice notes of this episode (or %(per_device)d "
        "in all) in the last %(window)d minutes, the most it may; try again in %(num)d "
        "minutes. Links to a moment have no limit.",
        minutes,
        per_episode=PER_EPISODE,
        per_device=PER_DEVICE,
        window=WINDOW_S // 60,
    )
    response = current_app.make_response(handle_http_error(TooManyRequests(message)))
    response.headers["Retry-After"] = str(wait)
    abort(response)


def _throttle() -> LoginThrottle:
    """The login throttle's counting, kept apart from logins': per device and episode
    (the "name") ``PER_EPISODE`` clips, and per device ``PER_DEVICE``, in ``WINDOW_S``."""
    return current_app.extensions.setdefault("radio.clip_throttle", LoginThrottle())


def _prune(folder: Path) -> None:
    """Keep the newest ``CACHED_PER_EPISODE`` clips: every new span is a new file."""
    try:
        made = sorted(folder.glob("*.opus"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return
    for old in made[CACHED_PER_EPISODE:]:
        old.unlink(missing_ok=True)


def _send(episode: Episode, path: Path, start: float, end: float) -> Response:
    try:
        snap = FileSnapshot.open(path, VOICE_NOTE_MIME)
    except OSError:
        abort(404, gettext("That voice note was just replaced; ask for it again."))
    cache = PUBLIC_CACHE if episode.is_public else PRIVATE_CACHE
    status, headers, body = respond(request.environ, snap, cache)
    response = Response(body, status, headers, direct_passthrough=True)
    response.headers["Content-Disposition"] = _attachment(download_name(episode, start, end))
    return response


def download_name(episode: Episode, start: float, end: float) -> str:
    """``water-committee-12m30s-13m45s.opus``: what the moment is, in the file's name."""
    title = slugify(episode.title)[:60].rstrip("-") or "moment"
    return f"{title}-{_stamp(start)}-{_stamp(end)}.opus"


def _stamp(seconds: float) -> str:
    minutes, rest = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}h" if hours else "") + f"{minutes}m{rest:02d}s"


def _attachment(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"


# --- soundbites (editors) ---------------------------------------------------------------


@bp.post("/episodes/<guid>/soundbites")
@login_required(Role.EDITOR)
def add_soundbite(guid: str) -> Response:
    episode = load_episode(guid)
    try:
        start, end = read_span(episode, bites.MAX_SECONDS, "A soundbite")
        soundbite_id = bites.add_soundbite(
            get_db(),
            episode.id,
            start=start,
            duration=end - start,
            title=request.form.get("title"),
            user_id=g.user.id,
            episode_duration=episode.duration,
        )
    except (SpanError, bites.SoundbiteError) as e:
        flash(gettext("No soundbite marked: %(error)s", error=e), "error")
        return _back(episode, 303)
    audit.record(get_db(), actor(), "soundbite.add", audit.subject("episode", episode.id),
                 after={"soundbite": soundbite_id, "start": start, "end": end})  # fmt: skip
    flash(
        gettext(
            "Marked %(start)s to %(end)s as a soundbite; feeds carry it now.",
            start=clock_text(start),
            end=clock_text(end),
        )
    )
    return _back(episode, 303)


@bp.post("/episodes/<guid>/soundbites/<int:soundbite_id>/delete")
@login_required(Role.EDITOR)
def remove_soundbite(guid: str, soundbite_id: int) -> Response:
    episode = load_episode(guid)
    bites.remove_soundbite(get_db(), episode.id, soundbite_id)  # NotFound: a 404
    audit.record(get_db(), actor(), "soundbite.remove", audit.subject("episode", episode.id),
                 before={"soundbite": soundbite_id})  # fmt: skip
    flash(gettext("Removed the soundbite; feeds no longer carry it."))
    return _back(episode, 303)


def _back(episode: Episode, status: int) -> Response:
    """Back to the page the form was on: the edit page's list, or the episode page."""
    if request.form.get("back") == "episode":
        target = url_for("archive.episode", guid=episode.guid)
    else:
        target = url_for("archive.edit", guid=episode.guid, _anchor="soundbites")
    return redirect(target, status)
