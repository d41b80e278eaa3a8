"""The edit page's episode details and chapters (#15): reading the forms, saving, and what
the page shows of them. The route itself is ``archive.edit``.

Both forms work without JavaScript: a chapter is a row of inputs, and adding or removing
one is a submit button that saves the whole list, so every press leaves a checked,
consistent set of chapters (``static/edit.js`` only adds "use the player's time").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlite_utils
from flask import current_app, flash, g, request
from flask_babel import gettext, ngettext

from radio.data import edits as editing
from radio.data import episodes, fields
from radio.data import shows as shows_data
from radio.data import tags as tagging
from radio.data.episodes import Episode
from radio.data.transcripts import transcript_lines
from radio.jobs import tasks
from radio.web.upload import languages
from transcription.languages import language_name
from transcription.segments import Chapter

logger = logging.getLogger(__name__)

# A change to any of these is written into the listening files too (#14).
IN_THE_FILES = {"title", "description", "licence", "show_id", "recorded_at", "language"}
# The latest recording date accepted: today somewhere on Earth (UTC+14).
DATE_LINE_AHEAD = timedelta(hours=14)


@dataclass(frozen=True)
class ChapterRow:
    """A chapter as the form shows it: the start as typed (or as stored, m:ss)."""

    start: str
    title: str


def save_details(db: sqlite_utils.Database, ep: Episode) -> None:
    """The details form: show, title, description, recorded date, language, visibility and
    licence, checked by ``radio.data.fields`` and saved in one transaction with history."""
    form = request.form
    changes: dict[str, Any] = {
        "show_id": _show_id(db, ep),
        "title": fields.title(form.get("title"), required=True),
        "description": fields.description(form.get("description")),
        "recorded_at": fields.edited_recorded_at(
            form.get("recorded_at"), ep.recorded_at, today=_latest_day()
        ),
        "visibility": form.get("visibility", ep.visibility),
    }
    if "licence" in form:  # a form without the field leaves the licence as it is
        changes["licence"] = fields.licence(form.get("licence"))
    language = fields.language(form.get("language"), [code for code, _ in language_choices(ep)])
    if language is not None:  # '' keeps the episode's language: there is nothing to detect
        changes["language"] = language
    if changes["visibility"] not in episodes.VISIBILITIES:
        raise fields.FieldError(
            gettext(
                "Who can listen must be one of %(choices)s.",
                choices=", ".join(episodes.VISIBILITIES),
            )
        )
    if "language" in changes and changes["language"] == ep.spoken_language:
        del changes["language"]
    changed = editing.edit_episode(db, ep.id, g.user.id, changes)
    if IN_THE_FILES.intersection(changed):
        tasks.enqueue_file_tags(ep.id)
    if not changed:
        flash(gettext("Nothing changed."))
    elif "language" in changed and ep.transcript_model:
        flash(
            gettext(
                "Saved. The transcript was made before you set the language; if it isn't in "
                "%(language)s, transcribe it again below.",
                language=language_name(changes["language"]),
            )
        )
    else:
        flash(gettext("Saved the episode's details."))


def _show_id(db: sqlite_utils.Database, ep: Episode) -> int | None:
    """The show picked, or a new one typed (which wins); none when both are empty."""
    typed = fields.show(request.form.get("new_show"))
    if typed:
        return shows_data.get_or_create_show(db, typed)
    slug = request.form.get("show", ep.show_slug or "")
    if not slug:
        return None
    found = shows_data.get_show(db, slug)
    if found is None:
        raise fields.FieldError(
            gettext("There is no show %(slug)s; pick one or type a new name.", slug=repr(slug[:40]))
        )
    return found.id


def _latest_day() -> Any:
    return (datetime.now(UTC) + DATE_LINE_AHEAD).date()


def save_chapters(db: sqlite_utils.Database, ep: Episode) -> None:
    """The chapters form: every row, less a removed one, plus the new one; or, with
    ``action=auto``, the chapters handed back to the archive and found again now."""
    if request.form.get("action") == "auto":
        if editing.save_chapters(db, ep.id, g.user.id, None):
            from radio.jobs.topics import retag  # the computation, for this one episode

            retag(db, current_app.config, [ep.id])
            tasks.enqueue_file_tags(ep.id)
        flash(gettext("The archive found the chapters again; a retag will keep finding them."))
        return
    rows = submitted_rows()
    marks = [(fields.chapter_start(r.start), fields.chapter_title(r.title)) for r in rows]
    checked = fields.chapter_list(marks, recording_length(db, ep))
    chapters = [Chapter(start, end, title) for start, end, title in checked]
    if editing.save_chapters(db, ep.id, g.user.id, chapters):
        tasks.enqueue_file_tags(ep.id)
        flash(
            ngettext(
                "Saved %(num)d chapter(s); the feeds, the chapters file and the listening "
                "files follow.",
                "Saved %(num)d chapter(s); the feeds, the chapters file and the listening "
                "files follow.",
                len(chapters),
            )
        )
    else:
        flash(gettext("The chapters were already like that."))


def submitted_rows() -> list[ChapterRow]:
    """The chapter rows as sent, in the form's order: ``start-N``/``title-N``, less the one
    whose Remove was pressed, plus ``new-start``/``new-title`` when typed (both needed)."""
    form = request.form
    removed = form.get("remove")
    rows = []
    for key in form:
        index = key.removeprefix("start-")
        if key.startswith("start-") and index.isascii() and index.isdigit() and index != removed:
            rows.append(ChapterRow(form.get(key, ""), form.get(f"title-{index}", "")))
    new = ChapterRow(form.get("new-start", "").strip(), form.get("new-title", "").strip())
    if new.start or new.title:
        if not (new.start and new.title):
            raise fields.FieldError(
                gettext("A new chapter needs both a start (m:ss, e.g. 12:30) and a title.")
            )
        rows.append(new)
    elif form.get("action") == "add":
        raise fields.FieldError(
            gettext("Type the new chapter's start (m:ss, e.g. 12:30) and its title.")
        )
    return rows


def rows_as_sent() -> dict[str, Any]:
    """The chapters form's rows as the editor sent them, to show again with the error."""
    form = request.form
    rows = [
        ChapterRow(form.get(key, ""), form.get(f"title-{key[6:]}", ""))
        for key in form
        if key.startswith("start-") and key[6:].isascii() and key[6:].isdigit()
    ]
    new = ChapterRow(form.get("new-start", ""), form.get("new-title", ""))
    return {"chapter_rows": rows, "new_chapter": new}


def recording_length(db: sqlite_utils.Database, ep: Episode) -> float | None:
    """How long the recording is: its duration, else where its transcript ends."""
    if ep.duration:
        return ep.duration
    lines = transcript_lines(db, ep.id)
    return max((line.end for line in lines), default=None)


def chapter_rows(db: sqlite_utils.Database, ep: Episode) -> list[ChapterRow]:
    return [ChapterRow(fields.clock_text(c.start), c.title) for c in tagging.chapters(db, ep.id)]


def language_choices(ep: Episode) -> list[tuple[str, str]]:
    """(code, name) of the languages the installed models know (as the upload form lists
    them), with the episode's own even if no installed model knows it."""
    known = languages(current_app.config.get("WHISPER_MODEL"))
    own = ep.spoken_language
    if own and own not in {code for code, _ in known}:
        known = [(own, language_name(own)), *known]
    return known


def page_context(db: sqlite_utils.Database, ep: Episode) -> dict[str, Any]:
    """What the edit page shows of the details and chapters."""
    show_list = shows_data.shows(db, include_hidden=True)
    return {
        "shows": show_list,
        "languages": language_choices(ep),
        "chapter_rows": chapter_rows(db, ep),
        "chapters_by_hand": tagging.chapters_by_hand(db.conn, ep.id),
        "recording_length": recording_length(db, ep),
        "field_edits": editing.recent_field_edits(db, ep.id),
        "max_chapter_title": fields.MAX_CHAPTER_TITLE_CHARS,
        "max_chapters": fields.MAX_CHAPTERS,
    }
