"""Receipt pages (#16): ``/receipts/<token>`` shows one contribution's whole life to whoever
holds its link, with no account: received, processed, published (where) or why not, every
edit, who agreed to be heard.

The token is the only key (``radio.data.receipts``: 192 bits, stored as a hash, compared in
constant time); a wrong or cut token is the same 404 as a missing one. The page is bound to
the token's one episode and shows nothing of any other, and it tells no one else it exists:
``no-store`` (no shared cache keeps it), no referrer (the token never leaks through a link
followed from it), ``noindex``.
"""

from __future__ import annotations

import segno
from flask import Blueprint, abort, render_template
from flask_babel import gettext
from markupsafe import Markup
from werkzeug import Response

from radio.data import consent, history, receipts, requests
from radio.data.episodes import get_episode
from radio.db import get_db
from radio.web.subscribe import phone_urls
from radio.web.urls import for_request

bp = Blueprint("receipts", __name__)


@bp.get("/receipts/<token>")
def receipt(token: str) -> Response:
    db = get_db()
    episode_id = receipts.receipt_episode(db, token)
    if episode_id is None:
        abort(404, gettext("No receipt has this address. Check the link you were given."))
    episode = get_episode(db, episode_id)
    listed = consent.participants(db, episode.id)
    page = render_template(
        "receipts.html",
        episode=episode,
        participants=listed,
        made=history.processed(db, episode.id),
        reasons=history.reasons_not_public(episode, listed),
        entries=history.contribution_history(db, episode.id),
        feeds=_feeds(episode.show_slug),
        token=token,
        asked=requests.requests_for(db, episode.id),  # this episode's only
        may_withdraw=[p for p in listed if p.consent != consent.Consent.NO],
    )
    response = Response(page, mimetype="text/html")
    private_page(response)
    return response


def private_page(response: Response) -> None:
    """For a page only its link's holder should see."""
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"


def _feeds(show_slug: str | None) -> list[tuple[str, str]]:
    """(label, URL) of the feeds a published episode is in."""
    urls = for_request()
    found = [(gettext("Every episode"), urls.build("feeds.all_episodes"))]
    if show_slug:
        found.append((gettext("Its show"), urls.build("feeds.show", slug=show_slug)))
    return found


def receipt_link(token: str) -> str:
    """The receipt's full address, at the host this request came to (what the uploader's
    browser can open now)."""
    return for_request().build("receipts.receipt", token=token)


def receipt_phone_link(token: str) -> str:
    """The receipt's address as a phone on the station's network can open it (the QR
    code's: a page opened at localhost gives the machine's LAN address instead)."""
    return phone_urls().build("receipts.receipt", token=token)


def receipt_qr(url: str) -> Markup:
    """The receipt's address as an inline SVG QR code (segno; no script, no outside asset)."""
    svg = segno.make(url, error="m").svg_inline(
        scale=2,
        border=2,
        dark="#000",
        light="#fff",
        omitsize=True,
        title=gettext("QR code of your receipt"),
        svgclass="qr",
    )
    return Markup(svg.replace("<svg ", '<svg role="img" ', 1))
