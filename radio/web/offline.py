"""The archive as an installable web app that plays saved episodes with no connection (#14).

- ``/manifest.webmanifest``: name, colours and icons, so a phone can add it to its home
  screen;
- ``/sw.js``: the service worker (``static/sw.js``), served from the root so its scope is
  the whole archive, with the URLs it precaches and a version written in front: a new
  release (any changed static file) is a changed worker, which replaces its caches;
- ``/offline``: what the worker shows for a page never opened while online;
- ``/saved``: the shell of the "Saved" page; ``static/offline.js`` lists what this browser
  keeps, from its Cache Storage.

``save_offer`` gives the episode page the two downloads a listener can keep, with their
sizes, so the choice is made before a byte of audio is fetched. Everything here is an
improvement on top: without JavaScript or service workers the pages are as they were.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_babel import gettext

from radio.data.episodes import Episode
from radio.web.http.compress import static_url
from radio.web.http.mediafiles import MEDIA_FILE_OF_KIND, MediaFile, file_name
from radio.web.urls import episode_stem
from transcription.formats import FORMATS

bp = Blueprint("offline", __name__)

THEME_COLOUR = "#b3261e"  # --accent in static/style.css; base.html's theme-color meta too
BACKGROUND_COLOUR = "#ffffff"
ICONS = (
    ("icon-192.png", "192x192", "any"),
    ("icon-512.png", "512x512", "any"),
    ("icon-maskable-512.png", "512x512", "maskable"),
)
# what every page needs, kept at install
STATIC_FILES = ("style.css", "strings.js", "app.js", "offline.js")
# The data saver is the smallest rendition every browser here can play: AAC in M4A where the
# archive made one (iPhones play it, not Ogg), else Opus. Standard is the MP3.
SAVER_FILES = ("audio.m4a", "audio.opus")
STANDARD_FILES = (MediaFile.MP3.value,)
MEDIA_TYPES = {
    "audio.m4a": "audio/mp4",
    "audio.opus": 'audio/ogg; codecs="opus"',
    "audio.mp3": "audio/mpeg",
}


@dataclass(frozen=True)
class SaveChoice:
    """One download the episode page offers to keep for offline listening."""

    quality: str  # "saver" or "standard"
    label: str
    url: str
    type: str
    bytes: int
    kbps: int | None


@dataclass(frozen=True)
class SaveOffer:
    """What "Save for offline" keeps: one of ``choices``, and the episode page with
    ``files`` (its transcripts, peaks and chapters, so a player can use them offline)."""

    choices: list[SaveChoice]
    files: list[str]


def save_offer(
    episode: Episode, files: dict[str, dict[str, Any]], *, transcript: bool
) -> SaveOffer | None:
    """The episode page's offer, from its renditions' rows (``renditions`` by kind); None
    when there is no audio to keep."""
    choices = save_choices(episode.guid, files, episode_stem(episode))
    if not choices:
        return None
    extra = [
        url_for("archive.transcript", guid=episode.guid, fmt=fmt)
        for fmt in (FORMATS if transcript else ())
    ]
    if episode.peaks_path:
        extra.append(url_for("media.media", guid=episode.guid, name=MediaFile.PEAKS))
    if transcript and episode.is_public:  # chapters come from the transcript; 404 if none
        extra.append(url_for("feeds.chapters", guid=episode.guid))
    return SaveOffer(choices, extra)


def save_choices(
    guid: str, files: dict[str, dict[str, Any]], stem: str | None = None
) -> list[SaveChoice]:
    """The data saver and standard downloads of an episode; either may be missing. Their
    URLs are those the page's player plays (named ``stem``), so the worker's saved copy
    is what the player asks for."""
    by_name = {
        MEDIA_FILE_OF_KIND[kind].value: row
        for kind, row in files.items()
        if kind in MEDIA_FILE_OF_KIND
    }
    choices = []
    for quality, label, names in (
        ("saver", gettext("Data saver"), SAVER_FILES),
        ("standard", gettext("Standard"), STANDARD_FILES),
    ):
        name = next((n for n in names if n in by_name and by_name[n].get("bytes")), None)
        if name is None:
            continue
        row = by_name[name]
        choices.append(
            SaveChoice(
                quality=quality,
                label=label,
                url=url_for(
                    "media.media",
                    guid=guid,
                    name=file_name(stem, MediaFile(name)) if stem else name,
                ),
                type=MEDIA_TYPES.get(name, row.get("mime") or "application/octet-stream"),
                bytes=int(row["bytes"]),
                kbps=int(row["bitrate"]) // 1000 if row.get("bitrate") else None,
            )
        )
    return choices


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    name = current_app.config["STATION_NAME"]
    body = {
        "name": name,
        "short_name": short_name(name),
        "description": f"Listen to {name}: search what was said, save episodes for offline.",
        "id": url_for("archive.index"),
        "start_url": url_for("archive.index"),
        "scope": url_for("archive.index"),
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": static_url(file), "sizes": sizes, "type": "image/png", "purpose": purpose}
            for file, sizes, purpose in ICONS
        ],
    }
    response = current_app.response_class(
        json.dumps(body, ensure_ascii=False, indent=1), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


def short_name(name: str, limit: int = 12) -> str:
    """A home-screen label: the name if it fits under an icon, else its first words."""
    if len(name) <= limit:
        return name
    words, short = name.split(), ""
    for word in words:
        if len(short) + len(word) + (1 if short else 0) > limit:
            break
        short = f"{short} {word}".strip()
    return short or name[:limit]


@bp.get("/sw.js")
def service_worker() -> Response:
    """``static/sw.js`` with its settings in front. Never cached by the browser's HTTP cache
    (browsers check a worker at most daily anyway): a release must reach listeners."""
    source = Path(current_app.static_folder or "", "sw.js").read_text(encoding="utf-8")
    precache = [
        url_for("offline.offline_page"),
        url_for("offline.saved"),
        *(static_url(name) for name in STATIC_FILES),
        *(static_url(file) for file, _sizes, _purpose in ICONS),
    ]
    settings = {
        "precache": precache,
        "offline": url_for("offline.offline_page"),
        "static": url_for("static", filename=""),
        "media": url_for("media.media", guid="g", name="n").rsplit("/g/n", 1)[0] + "/",
        "logout": url_for("auth.logout"),
    }
    version = hashlib.sha256((json.dumps(settings) + source).encode()).hexdigest()[:12]
    settings["version"] = version
    body = f"const RADIO = {json.dumps(settings)};\n{source}"
    response = current_app.response_class(body, mimetype="application/javascript")
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/offline")
def offline_page() -> str:
    return render_template("offline.html")


@bp.get("/saved")
def saved() -> str:
    return render_template("saved.html")
