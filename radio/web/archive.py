"""The public archive: home, show pages, episode pages, processing progress, transcripts.

Pages are server-rendered and complete without JavaScript; ``static/app.js`` only
adds the player following the transcript and live progress.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext
from markupsafe import Markup, escape
from sqlite_utils import Database

from radio.config import load_station_taxonomy
from radio.data import consent, episodes, fields
from radio.data import edits as editing
from radio.data import shows as shows_data
from radio.data import tags as tagging
from radio.data.episodes import VISIBILITIES, Episode, EpisodeStatus
from radio.data.facets import cached, shows_listed, station_topics_listed
from radio.data.feeds import FeedKind, FeedSpec
from radio.data.licences import LICENCES
from radio.data.processing import StepName
from radio.data.renditions import renditions
from radio.data.soundbites import of_episode as soundbite_rows
from radio.data.speakers import of_episode as speaker_rows
from radio.data.transcripts import (
    Phase,
    TranscriptLine,
    get_retranscription,
    has_transcript,
    load_segments,
    transcript_lines,
)
from radio.data.turns import clean_name
from radio.data.users import Role
from radio.db import get_db
from radio.jobs import retranscribe as again
from radio.jobs import tasks
from radio.web import edit as editing_page
from radio.web.audit import actor
from radio.web.auth import current_user, load_episode, login_required, sees_hidden
from radio.web.errors import wants_json
from radio.web.offline import save_offer
from radio.web.subscribe import page_feeds
from radio.web.templating import clock, seconds_text
from radio.web.urls import media_names
from transcription.formats import FORMATS, to_podcast_json
from transcription.taxonomy import TaxonomyError

bp = Blueprint("archive", __name__)

TRANSCRIPT_FORMATS = tuple(FORMATS)  # vtt, srt, json, txt
VOICES = 6  # speakers' colours, .turn.v1 to .v6 in static/style.css; then they repeat
STEP_LABELS: dict[StepName | None, str] = {
    None: lazy_gettext("Waiting for a worker"),
    StepName.AUDIO: lazy_gettext("Making the listening copies"),
    StepName.TRANSCRIBE: lazy_gettext("Transcribing"),
    StepName.SPEAKERS: lazy_gettext("Finding who speaks when"),
    StepName.TOPICS: lazy_gettext("Finding topics and chapters"),
    StepName.TAGS: lazy_gettext("Writing titles and chapters into the files"),
}
RETRANSCRIBE_PHASES: dict[str, str] = {
    Phase.QUEUED: lazy_gettext("Waiting for a worker to transcribe it again"),
    Phase.RUNNING: lazy_gettext("Transcribing again"),
    Phase.STAGED: lazy_gettext("The new transcript is complete; putting it in place"),
    Phase.TOPICS: lazy_gettext("The new transcript is in; finding topics and chapters"),
}


def page_number() -> int:
    """``?page=`` of a listing: 400 for what isn't a page number (``²``, ``-1``), 404 for a
    number no listing reaches (``fields.page`` raises; ``radio.web.errors`` translates)."""
    return fields.page(request.args.get("page"))


@bp.get("/")
def index() -> str:
    db = get_db()
    hidden = sees_hidden()
    return render_template(
        "index.html",
        latest=_latest(db, hidden, page_number()),
        # kept until the archive changes (radio.data.facets): each is a scan of every episode
        shows=shows_listed(db, hidden),
        # the station's own topics: keyphrases are too many for the home page (see /topics)
        topics=station_topics_listed(db, hidden),
    )


def _latest(db: Database, hidden: bool, page: int) -> episodes.Page:
    """A page of the newest episodes: a scan of every episode, so kept until one changes."""
    return cached(
        db,
        "latest",
        (hidden, page),
        lambda: episodes.latest_episodes(db, include_hidden=hidden, page=page),
    )


@bp.get("/shows/<slug>")
def show(slug: str) -> str:
    db = get_db()
    found = shows_data.get_show(db, slug)
    hidden = sees_hidden()
    listed = episodes.latest_episodes(
        db, include_hidden=hidden, show_id=found.id if found else -1, page=page_number()
    )
    if found is None or (listed.total == 0 and not hidden):
        abort(
            404, gettext("Show %(slug)s doesn't exist. The home page lists the shows.", slug=slug)
        )
    feeds = page_feeds((FeedSpec(FeedKind.SHOW, found.slug), found.title))
    return render_template("show.html", show=found, latest=listed, page_feeds=feeds)


@bp.get("/episodes/<guid>")
def episode(guid: str) -> str | Response:
    ep = load_episode(guid)
    if ep.status != EpisodeStatus.READY and not has_transcript(get_db(), ep.id):
        return redirect(url_for("archive.progress", guid=guid))
    db = get_db()
    files = {r["kind"]: r for r in renditions(db, ep.id)}
    start = request.args.get("t", type=float)
    segments = transcript_lines(db, ep.id)
    return render_template(
        "episode.html",
        episode=ep,
        files=files,
        segments=segments,
        transcript=transcript_html(segments, start),
        chapters=tagging.chapters(db, ep.id),
        topics=tagging.episode_tags(db, ep.id),
        start=start if start is not None and start >= 0 else None,
        formats=TRANSCRIPT_FORMATS,
        soundbites=soundbite_rows(db, ep.id),
        page_feeds=episode_feeds(ep),
        saves=save_offer(ep, files, transcript=bool(segments)),
        names=media_names(ep),
    )


def episode_feeds(ep: Episode) -> list:
    """An episode page's feeds: its show's, then the whole archive's."""
    show = [(FeedSpec(FeedKind.SHOW, ep.show_slug), ep.show_title)] if ep.show_slug else []
    return page_feeds(*show, (FeedSpec(FeedKind.ALL), ""))


def transcript_html(segments: list[TranscriptLine], start: float | None) -> Markup:
    """The transcript's paragraphs. Built here rather than in a Jinja loop: an hour is 750
    segments, and this is the episode page's main cost.

    Each segment's id is ``t=<start>`` and its timestamp links to ``?t=<start>#t=<start>``:
    without JavaScript the page reloads with the player set there and scrolls to it; with
    it, app.js seeks the player in place.

    Consecutive segments of one speaker are a turn, ``<div class="turn vN">``, whose name is
    written once at its start; each speaker keeps one of ``VOICES`` colours (in the order
    they first speak) for the border and the name. Segments without a speaker stand alone.
    """
    parts = []
    voices: dict[str, int] = {}
    speaker: str | None = None  # whose turn is open
    for s in segments:
        who = clean_name(s.speaker)
        if who != speaker:
            if speaker is not None:
                parts.append("</div>")
            if who is not None:
                voice = voices.setdefault(who, len(voices) % VOICES + 1)
                parts.append(f'<div class="turn v{voice}"><p class="who">{escape(who)}</p>')
            speaker = who
        t = seconds_text(s.start)
        now = ' class="now"' if start is not None and s.start <= start < s.end else ""
        # data-end: where a moment selected in this segment ends (static/share.js)
        parts.append(
            f'<p id="t={t}" data-end="{seconds_text(s.end)}"{now}><a href="?t={t}#t={t}">'
            f"{clock(s.start)}</a> {escape(s.text)}</p>"
        )
    if speaker is not None:
        parts.append("</div>")
    return Markup("\n".join(parts))


def progress_data(ep: Episode) -> dict[str, Any]:
    return {
        "guid": ep.guid,
        "title": ep.title,
        "status": ep.status,
        "step": ep.step,
        "step_label": str(STEP_LABELS.get(ep.step, ep.step) or ""),
        "progress": round(ep.progress or 0.0, 4),
        "error": ep.error,
        "url": url_for("archive.episode", guid=ep.guid),
    }


@bp.get("/episodes/<guid>/progress")
def progress(guid: str) -> str | Response:
    ep = load_episode(guid)
    if wants_json():
        return jsonify(progress_data(ep))
    return render_template("progress.html", episode=ep, data=progress_data(ep))


@bp.get("/api/episodes/<guid>/progress")
def progress_json(guid: str) -> Response:
    return jsonify(progress_data(load_episode(guid)))


@bp.get("/episodes/<guid>/transcript.<fmt>")
def transcript(guid: str, fmt: str) -> Response:
    ep = load_episode(guid)
    if fmt not in TRANSCRIPT_FORMATS:
        abort(
            404,
            gettext(
                "Transcripts come as %(formats)s, not %(fmt)s.",
                formats=", ".join(TRANSCRIPT_FORMATS),
                fmt=fmt,
            ),
        )
    segments = load_segments(get_db(), ep.id)
    if not segments:
        abort(
            404,
            gettext(
                "Episode %(guid)s has no transcript yet (status: %(status)s).",
                guid=guid,
                status=ep.status,
            ),
        )
    render, mime = FORMATS[fmt]
    licence = ep.licence_info
    if fmt == "json":  # the licence and who agreed to be heard (#16) go with the words
        heard = consent.summary(consent.participants(get_db(), ep.id))
        text = to_podcast_json(
            segments, license=licence.summary() if licence else None, consent=heard
        )
    else:
        text = render(segments)
    response = current_app.response_class(text, mimetype=mime)
    if mime.startswith("text/") and "charset" not in mime:
        response.charset = "utf-8"
    response.headers["Cache-Control"] = (
        "public, max-age=300" if ep.is_public else "private, max-age=0"
    )
    response.headers["Access-Control-Allow-Origin"] = "*"  # podcast web players fetch these
    return response


@bp.route("/episodes/<guid>/edit", methods=["GET", "POST"])
@login_required(Role.EDITOR)
def edit(guid: str) -> str | Response | tuple[str, int]:
    ep = load_episode(guid)
    status, sent = 200, {}
    if request.method == "POST":
        part = request.form.get("part")
        try:
            _save_edit(ep)
            anchor = part if part in ("tags", "chapters") else None
            return redirect(url_for("archive.edit", guid=guid, _anchor=anchor))
        except (editing.EditError, fields.FieldError, TaxonomyError) as e:
            flash(str(e), "error")
            # a value the form can't take as sent is a bad request (as errors.py says of
            # FieldError); one that can't be stored is unprocessable
            status = 400 if isinstance(e, fields.FieldError) else 422
            if part == "chapters":  # show the editor's rows again, not the stored ones
                sent = editing_page.rows_as_sent()
    return _edit_page(ep, **sent), status


def _save_edit(ep: Episode) -> None:
    """One part of the edit page, its fields cleaned and checked as everywhere else
    (``radio.data.fields``): details, tags or transcript."""
    db, part = get_db(), request.form.get("part")
    if part == "tags":
        added = [fields.tag(name) for name in request.form.get("add", "").split(",")]
        flash(
            editing.change_tags(
                db,
                ep.id,
                add=",".join(name for name in added if name),
                remove=request.form.getlist("remove"),
                taxonomy=load_station_taxonomy(current_app.config["HOME"]),
                actor=actor(),
            )
        )
    elif part == "transcript":
        changed = editing.edit_segments(db, ep.id, g.user.id, _segment_texts())
        flash(
            ngettext(
                "Saved %(num)d changed segment(s); search finds the new words now.",
                "Saved %(num)d changed segment(s); search finds the new words now.",
                changed,
            )
        )
    elif part == "chapters":
        editing_page.save_chapters(db, ep)
    else:
        editing_page.save_details(db, ep)


def _edit_page(ep: Episode, **sent: Any) -> str:
    db = get_db()
    return render_template(
        "edit.html",
        episode=ep,
        **(editing_page.page_context(db, ep) | sent),
        files={r["kind"]: r for r in renditions(db, ep.id)},
        segments=transcript_lines(db, ep.id),
        edits=editing.recent_edits(db, ep.id),
        tags=tagging.episode_tags(db, ep.id, include_removed=True),
        visibilities=VISIBILITIES,
        licences=LICENCES,
        user=current_user(),
        again=get_retranscription(db, ep.id),
        phases=RETRANSCRIBE_PHASES,
        speakers=speaker_rows(db, ep.id),
        soundbites=soundbite_rows(db, ep.id),
    )


@bp.post("/episodes/<guid>/retranscribe")
@login_required(Role.EDITOR)
def retranscribe(guid: str) -> Response | tuple[str, int]:
    """Queue a new transcript; listeners keep the old one until the new one is complete."""
    ep = load_episode(guid)
    try:
        again.request(
            get_db(),
            current_app.config,
            ep.id,
            language=request.form.get("language", "").strip() or None,
            user_id=g.user.id,
        )
    except again.RetranscribeError as e:
        flash(str(e), "error")
        return _edit_page(ep), 422
    tasks.enqueue_retranscription(ep.id)
    flash(
        gettext(
            "Queued to be transcribed again. Listeners keep this transcript until the new one "
            "is complete; your corrections stay where the new segments say the same thing."
        )
    )
    return redirect(url_for("archive.edit", guid=guid, _anchor="transcribe-again"))


def _segment_texts() -> dict[int, str]:
    texts = {}
    for key, value in request.form.items():
        if key.startswith("seg-") and key[4:].isascii() and key[4:].isdigit():
            texts[int(key[4:])] = fields.clean_text(value)
    return texts
