"""What travels with an episode besides its sound and words (#17): its own artwork, and its
show's title, description, licence and artwork.

Pictures travel inside the episode's folder of the bundle (``episodes/<guid>/artwork.jpg``,
``show-artwork.png``), so the HTTP exchange serves them as it serves the renditions; each
is checked again as an upload is (``radio.media.artwork.check_image``) before it is kept.
A bad picture in a validly signed bundle costs only the picture, never the episode.

A show is joined by its name, so it may be this station's own show of the same name: the
bundle fills in what the show here lacks (description, licence, artwork) and never changes
what this station set.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import artwork as artworks
from radio.data import exchange
from radio.data.episodes import Episode
from radio.data.shows import get_or_create_show, get_show, slugify, update_show
from radio.jobs.exchange_bundle import BundleError, Verified
from radio.media.artwork import ArtworkError, artwork_path, check_image, keep_image

logger = logging.getLogger(__name__)

MAX_DESCRIPTION_CHARS = 4000


def episode_extras(
    db: sqlite_utils.Database, home: str, episode: Episode
) -> tuple[dict[str, Any], dict[str, Path]]:
    """({"artwork": bundle name or None, "show": its settings or None}, bundle name -> file)."""
    files: dict[str, Path] = {}

    def picture(name: str | None, stem: str) -> str | None:
        path = artwork_path(home, name) if name else None
        if path is None or not path.is_file():
            return None
        # named by its content: a new picture changes episode.json, so it travels again
        listed = f"episodes/{episode.guid}/{stem}-{path.stem[:16]}{path.suffix}"
        files[listed] = path
        return listed

    show = get_show(db, episode.show_slug) if episode.show_slug else None
    settings = None
    if show is not None:
        settings = {
            "slug": show.slug,
            "title": show.title,
            "description": show.description or "",
            "licence": show.licence,
            "artwork": picture(show.artwork, "show-artwork"),
        }
    return {"artwork": picture(episode.artwork, "artwork"), "show": settings}, files


def picture_files(document: dict[str, Any]) -> list[str]:
    """The bundle names of an episode's pictures (what the HTTP exchange fetches)."""
    show = document.get("show") or {}
    return [name for name in (document.get("artwork"), show.get("artwork")) if name]


def take_picture(db: sqlite_utils.Database, home: str, bundle: Verified, name: Any) -> str | None:
    """A picture of the bundle kept and recorded as artwork here; its artwork name, or None
    (no picture, or one that isn't a picture the archive takes)."""
    if not name:
        return None
    try:
        image = check_image(bundle.path(str(name)).read_bytes(), Path(str(name)).name)
    except (ArtworkError, BundleError, OSError) as e:
        logger.warning("artwork %s of a bundle from %s left out: %s", name, bundle.station, e)
        return None
    keep_image(home, image)
    artworks.record_image(db, image)
    return image.name


def take_show(
    db: sqlite_utils.Database, home: str, bundle: Verified, settings: dict[str, Any] | None
) -> int | None:
    """The show here of that name (made if none), with what it lacks filled in."""
    title = str((settings or {}).get("title") or "").strip()
    if not settings or not title:
        return None
    show_id = get_or_create_show(db, title)
    here = get_show(db, slugify(title))
    if here is None:  # can't be: just made or found
        return show_id
    missing: dict[str, Any] = {}
    if not here.description and settings.get("description"):
        missing["description"] = str(settings["description"])[:MAX_DESCRIPTION_CHARS]
    if not here.licence and exchange.licence_shareable(settings.get("licence")):
        missing["licence"] = settings["licence"]
    name = None if here.artwork else take_picture(db, home, bundle, settings.get("artwork"))
    if name:
        missing["artwork"] = name
    if missing:
        update_show(db, show_id, **missing)
    return show_id
