"""A feed's channel and items (``feeds.build`` dataclasses) from its rows
(``radio.data.feeds``) and the URL builder (``radio.web.urls``).

Every URL in a feed is made here, through ``Urls``, so each one is a route of this app.

A feed and its data-saver twin list the same episodes with the same item guids (it is
the same episode; an app following both, or moving from one to the other, knows it has
heard it) under their own ``podcast:guid``. The standard feed encloses the MP3 and offers
the small renditions (AAC, Opus) as ``podcast:alternateEnclosure``; the twin encloses the
small one (``radio.data.renditions.saver_kind``) and offers the rest. Each names the other
in an ``atom:link``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from feeds.build import (
    Enclosure,
    FeedInfo,
    FeedItem,
    License,
    Paging,
    Person,
    RelatedFeed,
    Soundbite,
    Transcript,
)
from feeds.chapters import ChapterMark
from radio.data import licences
from radio.data.episodes import naming_facts
from radio.data.feeds import (
    MAIN_RENDITION,
    FeedEpisode,
    FeedKind,
    FeedPage,
    FeedSpec,
    RenditionFacts,
    feed_page,
)
from radio.data.renditions import SAVER_KINDS, saver_kind
from radio.data.turns import episode_speakers, is_placeholder
from radio.web.feedparts import KeptUrls
from radio.web.http.mediafiles import MEDIA_FILE_OF_KIND, download_stem
from radio.web.urls import Urls
from transcription.formats import FORMATS

OPENING_CHARS = 320
CATEGORY = "Society & Culture"
# How each rendition is named to listeners and described to players (RFC 6381 codecs;
# the AAC is AAC-LC, all PyAV's encoder makes).
KIND_LABELS = {"mp3": "MP3", "aac": "AAC", "opus": "Opus"}
CODECS = {"mp3": "mp3", "aac": "mp4a.40.2", "opus": "opus"}
SAVER_ENDPOINTS = {
    FeedKind.ALL: "feeds.saver_all",
    FeedKind.SHOW: "feeds.saver_show",
    FeedKind.TOPIC: "feeds.saver_topic",
    FeedKind.SEARCH: "feeds.saver_search",
}
SAVER_SUFFIX = " (data saver)"
SAVER_NOTE = "Data saver: small downloads (AAC or Opus, about 11 MB an hour of speech)."
# The small kinds the archive can serve (a kind with no media URL can't be enclosed).
SAVER_KINDS_SERVED = tuple(kind for kind in SAVER_KINDS if kind in MEDIA_FILE_OF_KIND)
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
    ids = [episode.id for episode in page.episodes]
    heard = episode_speakers(db, ids)
    named = naming_facts(db, ids)
    items = [
        _kept_item(urls, episode, tuple(heard.get(episode.id, ())), spec.saver,
                   named.get(episode.id, (None, None)))
        for episode in page.episodes
    ]  # fmt: skip
    stamps = [e.updated or e.published for e in page.episodes]
    return FeedData(
        info=_info(config, urls, page, items),
        items=items,
        last_modified=max((s for s in stamps if s), default=None),
    )


def _kept_item(
    urls: Urls,
    episode: FeedEpisode,
    heard: tuple[str, ...],
    saver: bool,
    named: tuple[str | None, str | None],
) -> FeedItem:
    """``_item``, built once for the same facts when ``urls`` keeps what it builds (the
    server's ``KeptUrls``): an item is a pure function of its episode's facts, the people
    heard, the feed's kind and the URL root, and building 300 of them again after one
    title's edit cost the next listener 15-20 ms at 10,000 hours."""

    def make() -> FeedItem:
        return _item(urls, episode, heard, saver, download_stem(*named, episode.title))

    if not isinstance(urls, KeptUrls) or episode.published is None:  # "now" is no fact
        return make()
    return urls.item((_episode_facts(episode), heard, saver, named), make)


def _episode_facts(episode: FeedEpisode) -> tuple:
    """Everything of ``episode`` an item is made of, hashable (its renditions are a dict)."""
    return tuple(
        tuple(value.items()) if isinstance(value, dict) else value
        for value in map(episode.__getattribute__, _EPISODE_FIELDS)
    )


_EPISODE_FIELDS = tuple(f.name for f in fields(FeedEpisode))


def _item(
    urls: Urls,
    episode: FeedEpisode,
    heard: Sequence[str] = (),
    saver: bool = False,
    stem: str | None = None,
) -> FeedItem:
    """One item; its files are named ``stem`` (``download_stem``), what apps save them as."""
    guid = episode.guid
    main, others = enclosed_kinds(episode.renditions, saver)
    return FeedItem(
        guid=guid,
        title=episode.title,
        link=urls.episode(guid),
        published=episode.published or datetime.now(UTC),
        duration=episode.duration,
        enclosure=_enclosure(urls, guid, stem, episode.renditions[main]),
        alternates=tuple(
            _enclosure(urls, guid, stem, episode.renditions[kind], rendition_title(episode, kind))
            for kind in others
        ),
        transcripts=_transcripts(urls, guid, episode.language) if episode.opening else (),
        chapters_url=urls.chapters(guid) if episode.chapters else None,
        chapters=tuple(ChapterMark(c.start, c.title, c.end) for c in episode.chapters),
        summary=episode.description,
        opening=_opening(episode.opening),
        language=episode.language,
        persons=_persons(episode, heard),
        topics=episode.topics,
        license=_license(urls, episode),
        soundbites=tuple(Soundbite(b.start, b.duration, b.title) for b in episode.soundbites),
        # its own artwork, else its show's; with neither, apps show the channel's image
        image_url=artwork_url(urls, episode.artwork),
    )


def artwork_url(urls: Urls, name: str | None) -> str | None:
    """The absolute URL of a picture of radio.data.artwork, if there is one."""
    return urls.build("shows.artwork_file", name=name) if name else None


def enclosed_kinds(
    renditions: dict[str, RenditionFacts], saver: bool
) -> tuple[str, tuple[str, ...]]:
    """(the enclosure's kind, the alternates' kinds) of an episode with these renditions:
    the MP3 then the small ones, or in a data-saver feed the small one (the MP3 if it has
    none), then the MP3, then any other small one. Only kinds the archive serves count."""
    served = [k for k in (MAIN_RENDITION, *SAVER_KINDS_SERVED) if k in renditions]
    main = (saver and saver_kind(served)) or MAIN_RENDITION
    return main, tuple(k for k in served if k != main)


def rendition_title(episode: FeedEpisode, kind: str) -> str:
    """What an app shows to choose a file by: "Data saver (AAC, 24 kbps)", "Standard (MP3)"."""
    rendition = episode.renditions[kind]
    what = "Standard" if kind == MAIN_RENDITION else "Data saver"
    label = KIND_LABELS.get(kind, kind.upper())
    rate = f", {round(rendition.bitrate / 1000)} kbps" if rendition.bitrate else ""
    return f"{what} ({label}{rate})"


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
    urls: Urls, guid: str, stem: str | None, rendition: RenditionFacts, title: str | None = None
) -> Enclosure:
    return Enclosure(
        url=urls.media(guid, MEDIA_FILE_OF_KIND[rendition.kind], stem),
        length=int(rendition.bytes),
        mime=rendition.mime,
        bitrate=int(rendition.bitrate) if rendition.bitrate else None,
        codecs=CODECS.get(rendition.kind),
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


def feed_title(station: str, spec: FeedSpec, subject: str) -> str:
    """A feed's title, as its channel and every link to it name it."""
    if spec.kind == FeedKind.SHOW:
        title = subject
    elif spec.kind == FeedKind.TOPIC:
        title = f"{subject} · {station}"
    elif spec.kind == FeedKind.SEARCH:
        title = f"“{subject}” · {station}"
    else:
        title = station
    return title + (SAVER_SUFFIX if spec.saver else "")


def feed_url(urls: Urls, spec: FeedSpec, page: int = 1) -> str:
    """The absolute URL of ``spec``'s feed (its twin's when ``spec.saver``)."""
    if not spec.saver:
        return urls.feed(spec, page)
    values = {}
    if spec.kind in (FeedKind.SHOW, FeedKind.TOPIC):
        values["slug"] = spec.key
    elif spec.kind == FeedKind.SEARCH:
        values["q"] = spec.key
    return urls.build(SAVER_ENDPOINTS[spec.kind], **values, page=page if page > 1 else None)


def twin(spec: FeedSpec) -> FeedSpec:
    """The other feed of the same episodes, on its first page."""
    return replace(spec, page=1, saver=not spec.saver)


def _description(station: str, page: FeedPage) -> str:
    subject = page.subject.title
    if page.spec.kind == FeedKind.SHOW:
        text = page.subject.description or f"{subject}, from {station}."
    elif page.spec.kind == FeedKind.TOPIC:
        text = f"Episodes of {station} about {subject}."
    elif page.spec.kind == FeedKind.SEARCH:
        text = f"Episodes of {station} where “{subject}” is said."
    else:
        text = f"Everything {station} has published, newest first."
    if page.spec.saver:
        text += f" {SAVER_NOTE}"
    return text


def _info(config: dict[str, Any], urls: Urls, page: FeedPage, items: list[FeedItem]) -> FeedInfo:
    station = config.get("STATION_NAME") or "Community Radio Archive"
    languages = Counter(i.language for i in items if i.language)
    language = page.subject.language or (languages.most_common(1)[0][0] if languages else None)
    spec = page.spec
    other = twin(spec)
    return FeedInfo(
        title=feed_title(station, spec, page.subject.title),
        link=urls.page(spec),
        self_url=feed_url(urls, spec, spec.page),
        guid_url=feed_url(urls, replace(spec, page=1)),
        description=_description(station, page),
        author=station,
        language=language,
        owner_email=config.get("FEED_OWNER_EMAIL") or None,
        # a show's own artwork and category, else the station's
        image_url=artwork_url(urls, page.subject.artwork)
        or _image(urls, config.get("FEED_IMAGE_URL")),
        category=page.subject.category or config.get("FEED_CATEGORY") or CATEGORY,
        locked=bool(config.get("FEED_LOCKED", True)),
        hosts=tuple(Person(name) for name in page.subject.hosts),
        paging=_paging(urls, spec, page.pages),
        related=(
            RelatedFeed(feed_url(urls, other), feed_title(station, other, page.subject.title)),
        ),
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
        first=feed_url(urls, spec, 1),
        previous=feed_url(urls, spec, spec.page - 1) if spec.page > 1 else None,
        next=feed_url(urls, spec, spec.page + 1) if spec.page < pages else None,
        last=feed_url(urls, spec, pages),
    )
