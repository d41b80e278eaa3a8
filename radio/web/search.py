"""Search what was said: hits grouped by episode, each linking to the moment it is said."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, render_template, request
from flask_babel import gettext
from sqlite_utils import Database

from radio.data import episodes, fields
from radio.data.facets import (
    languages_listed,
    shows_listed,
    speakers_listed,
    station_topics_listed,
)
from radio.data.feeds import FeedKind, FeedSpec
from radio.data.search import BadQuery, Results, search
from radio.data.tags import (
    TopicCount,
    TopicNotFound,
    episodes_for_topic,
    get_topic,
)
from radio.data.turns import is_placeholder
from radio.db import get_db
from radio.web.archive import page_number
from radio.web.auth import sees_hidden
from radio.web.subscribe import page_feeds

bp = Blueprint("search", __name__)

PER_PAGE = 10
FILTERS = ("q", "show", "language", "topic", "speaker")


@bp.get("/search")
def search_page() -> tuple[str, int]:
    db = get_db()
    hidden = sees_hidden()
    date_from, date_to = _date_arg("from"), _date_arg("to")
    page = page_number()
    results: Results | None = None
    error, status = None, 200
    try:
        args = {key: fields.query(request.args.get(key), key) for key in FILTERS}
    except fields.FieldError as e:  # a search or filter too long to be one
        args = dict.fromkeys(FILTERS, "")
        error, status = str(e), 400
    if error is None and None in (date_from, date_to):
        error, status = gettext("Dates are written YYYY-MM-DD, e.g. 2026-11-02."), 400
    elif error is None and args["q"]:
        try:
            results = search(
                db,
                args["q"],
                show=args["show"] or None,
                language=args["language"] or None,
                date_from=date_from or None,
                date_to=date_to or None,
                topic=args["topic"] or None,
                speaker=args["speaker"] or None,
                page=page,
                per_page=PER_PAGE,
                include_hidden=hidden,
            )
        except BadQuery as e:
            error, status = str(e), 400
    listed = episodes.by_ids(db, [r.episode_id for r in results.episodes] if results else [])
    return render_template(
        "search.html",
        args={**args, "from": date_from or "", "to": date_to or ""},
        results=results,
        listed=listed,  # the results' episodes in full: description, dates, artwork
        error=error,
        shows=shows_listed(db, hidden),  # kept by episode (radio.data.facets)
        languages=languages_listed(db, hidden),
        topics=topic_choices(db, args["topic"], hidden),
        speakers=speaker_choices(db, args["speaker"], hidden),
        **search_feeds(args["q"] if results is not None else ""),
    ), status


def search_feeds(query: str) -> dict[str, list]:
    """A search page names the saved search's feeds (of the words alone: a feed has no
    filters), or, with nothing searched, the page's default ones."""
    if not query:
        return {}
    return {"page_feeds": page_feeds((FeedSpec(FeedKind.SEARCH, query), query))}


def topic_choices(db: Database, chosen: str, hidden: bool) -> list[dict[str, str]]:
    """The station's topics for the filter, and the chosen topic if it is another tag (a
    topic page's "search within" sends any tag)."""
    rows = station_topics(db, hidden)
    choices = [{"slug": t.slug, "label": t.label} for t in rows]
    if chosen and all(c["slug"] != chosen for c in choices):
        try:  # a tag's name only when this visitor may see an episode that has it
            seen = episodes_for_topic(db, chosen, public_only=not hidden, limit=1)
            label = get_topic(db, chosen).label if seen else chosen
        except TopicNotFound:
            label = chosen
        choices.append({"slug": chosen, "label": label})
    return choices


def speaker_choices(db: Database, chosen: str, hidden: bool) -> list[str]:
    """The people heard in the archive, for the filter: named speakers, not the "Speaker 2"
    labels of voices nobody named yet (those differ from one recording to the next); and
    the chosen speaker as typed if it is another (a link, a label, another spelling)."""
    heard = speakers_listed(db, hidden)
    names = [n for n in heard if not is_placeholder(n)]
    if chosen and all(n.casefold() != chosen.casefold() for n in names):
        names.append(chosen)
    return names


def station_topics(db: Database, hidden: bool) -> list[TopicCount]:
    """The station's own topics with their episode counts (search and home pages)."""
    return station_topics_listed(db, hidden)


def _date_arg(name: str) -> str | None:
    """'' when not given, the date when valid, None when it isn't a date."""
    value = (request.args.get(name) or "").strip()
    if not value:
        return ""
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return None
