"""A feed's channel and items (``feeds.build`` dataclasses) from its rows
(``radio.data.feeds``) and the URL builder (``radio.web.urls``).

Every URL in a feed is made here, through ``Urls``, so each one is a route of this app.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from feeds.build import Enclosure, FeedInfo, FeedItem, License, Paging, Person, Transcript
from radio.data import licences
from radio.data.feeds import (
    MAIN_RENDITION,
    FeedEpisode,
    FeedKind,
    FeedPage,
    FeedSpec,
    RenditionFacts,
    feed_page,
)
from radio.data.turns import episode_speakers, is_placeholder
from radio.web.http.mediafiles import MEDIA_FILE_OF_KIND
from radio.web.urls import Urls
from transcription.formats import FORMATS

OPENING_CHARS = 320
CATEGORY = "Society & Culture"
DATA_SAVER = "opus"  # the rendition offered as podcast:alternateEnclosure
TRANSCRIPT_FORMATS = ("vtt", "srt", "json")  # those podcast apps read
CAPTIONS = "vtt"  # timed text a player can show as subtitles


@dataclass(frozen=True)
class FeedData:
    info: FeedInfo
    items: list[FeedItem]
    last_modified: datetime | None


def load_feed(
    db: sqlite_utils.Database, config: dict[str, Any], urls: Urls, spec: FeedSpec
) -> FeedData:
    """The channel and one page of items for ``spec``."""
    page = feed_page(db, spec, limit=max(1, int(config.get("FEED_LIMIT") or 300)))
    heard = episode_speakers(db, [episode.id for episode in page.episodes])
    items = [_item(urls, episode, heard.get(episode.id, ())) for episode in page.episodes]
    stamps = [e.updated or e.published for e in page.episodes]
    return FeedData(
        info=_info(config, urls, page, items),
        items=items,
        last_modified=max((s for s in stamps if s), default=None),
    )


def _item(urls: Urls, episode: FeedEpisode, heard: Sequence[str] = ()) -> FeedItem:
    guid = episode.guid
    alternate = episode.renditions.get(DATA_SAVER)
    return FeedItem(
        guid=guid,
        title=episode.title,
        link=urls.episode(guid),
        published=episode.published or datetime.now(UTC),
        duration=episode.duration,
        enclosure=_enclosure(urls, guid, episode.renditions[MAIN_RENDITION]),
        alternates=(_enclosure(urls, guid, alternate, "Data saver"),) if alternate else (),
        transcripts=_transcripts(urls, guid, episode.language) if episode.opening else (),
        chapters_url=urls.chapters(guid) if episode.chaptered else None,
        summary=episode.description,
        opening=_opening(episode.opening),
        language=episode.language,
        persons=_persons(episode, heard),
        topics=episode.topics,
        license=_license(urls, episode),
    )


def _license(urls: Urls, episode: FeedEpisode) -> License | None:
    """podcast:license: the licence's SPDX identifier and legal text; "all rights reserved"
    is no public licence, so its URL (which the namespace asks for, for a name SPDX doesn't
    list) is the episode page, where the station says so."""
    licence = licences.find(episode.licence)
    if licence is None:
        return None
    return License(licence.identifier, licence.url or urls.episode(episode.guid))


def _persons(episode: FeedEpisode, heard: Sequence[str]) -> tuple[Person, ...]:
    """podcast:person for the people in an episode: the names given at upload, then those
    heard in its transcript, once each whatever their case; a label such as "Speaker 2" is
    a voice nobody has named, not a person. Its show's hosts are hosts, the others guests."""
    names: dict[str, str] = {}
    for name in (*episode.speakers, *heard):
        if not is_placeholder(name):
            names.setdefault(name.casefold(), name)
    hosts = {host.casefold() for host in episode.hosts}
    return tuple(
        Person(name, role="host" if key in hosts else "guest") for key, name in names.items()
    )


def _enclosure(
    urls: Urls, guid: str, rendition: RenditionFacts, title: str | None = None
) -> Enclosure:
    return Enclosure(
        url=urls.media(guid, MEDIA_FILE_OF_KIND[rendition.kind]),
        length=int(rendition.bytes),
        mime=rendition.mime,
        bitrate=int(rendition.bitrate) if rendition.bitrate else None,
        codecs="opus" if rendition.kind == "opus" else None,
        title=title,
    )


def _transcripts(urls: Urls, guid: str, language: str | None) -> tuple[Transcript, ...]:
    return tuple(
        Transcript(
            urls.transcript(guid, fmt), FORMATS[fmt][1], language=language, captions=fmt == CAPTIONS
        )
        for fmt in TRANSCRIPT_FORMATS
    )


def _opening(texts: Sequence[str]) -> str:
    """The first few things said, cut at a word near OPENING_CHARS."""
    text = " ".join(t.strip() for t in texts if t and t.strip())
    if len(text) <= OPENING_CHARS:
        return text
    cut = text[:OPENING_CHARS].rsplit(" ", 1)[0]
    return cut + "…"


def _title_and_description(station: str, page: FeedPage) -> tuple[str, str]:
    subject = page.subject.title
    if page.spec.kind == FeedKind.SHOW:
        return subject, page.subject.description or f"{subject}, from {station}."
    if page.spec.kind == FeedKind.TOPIC:
        return f"{subject} · {station}", f"Episodes of {station} about {subject}."
    if page.spec.kind == FeedKind.SEARCH:
        return f"“{subject}” · {station}", f"Episodes of {station} where “{subject}” is said."
    return station, f"Everything {station} has published, newest first."


def _info(config: dict[str, Any], urls: Urls, page: FeedPage, items: list[FeedItem]) -> FeedInfo:
    station = config.get("STATION_NAME") or "Community Radio Archive"
    title, description = _title_and_description(station, page)
    languages = Counter(i.language for i in items if i.language)
    language = page.subject.language or (languages.most_common(1)[0][0] if languages else None)
    spec = page.spec
    return FeedInfo(
        title=title,
        link=urls.page(spec),
        self_url=urls.feed(spec, spec.page),
        guid_url=urls.feed(spec),
        description=description,
        author=station,
        language=language,
        owner_email=config.get("FEED_OWNER_EMAIL") or None,
        image_url=_image(urls, config.get("FEED_IMAGE_URL")),
        category=config.get("FEED_CATEGORY") or CATEGORY,
        locked=bool(config.get("FEED_LOCKED", True)),
        hosts=tuple(Person(name) for name in page.subject.hosts),
        paging=_paging(urls, spec, page.pages),
    )


def _image(urls: Urls, value: str | None) -> str | None:
    """FEED_IMAGE_URL: a full URL, or a path on the archive such as /static/cover.png."""
    if not value:
        return None
    return urls.path(value) if value.startswith("/") else value


def _paging(urls: Urls, spec: FeedSpec, pages: int) -> Paging | None:
    if pages == 1:
        return None
    return Paging(
        first=urls.feed(spec, 1),
        previous=urls.feed(spec, spec.page - 1) if spec.page > 1 else None,
        next=urls.feed(spec, spec.page + 1) if spec.page < pages else None,
        last=urls.feed(spec, pages),
    )
