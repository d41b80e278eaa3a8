"""A feedgen extension for the Podcasting 2.0 namespace (https://podcastindex.org/namespace/1.0).

feedgen ships an iTunes extension under the name ``podcast``, so this one is registered
as ``podcastindex``, after the namespace's home::

    fg.load_extension("podcast")  # iTunes tags
    fg.register_extension("podcastindex", PodcastExtension, PodcastEntryExtension)
    fg.podcastindex.guid("...")
    fe.podcastindex.transcript(url, "text/vtt", language="en", rel="captions")

Setters follow feedgen's style (call with a value to set, without to get); the lists
(persons, transcripts, alternate enclosures) grow with each call.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from lxml import etree

from feeds import FeedError

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
# The namespace's own UUID for podcast:guid (UUIDv5 of the feed URL).
GUID_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")

PERSON_GROUPS = ("cast", "writing", "audio post-production", "creative direction", "misc")
MEDIUMS = ("podcast", "music", "video", "film", "audiobook", "newsletter", "blog")


def xml_elem(name: str, parent: Any, **attrs: str) -> Any:
    # Not feedgen.util's: importing that module first fails (it uses lxml.etree unimported).
    return etree.SubElement(parent, name, **attrs)


def _tag(name: str) -> str:
    return f"{{{PODCAST_NS}}}{name}"


def podcast_guid(feed_url: str) -> str:
    """The channel's podcast:guid: UUIDv5 of the URL without its scheme or trailing slashes."""
    bare = feed_url.split("://", 1)[-1].rstrip("/")
    if not bare:
        raise FeedError(f"{feed_url!r} is not a feed URL; podcast:guid needs the feed's address.")
    return str(uuid.uuid5(GUID_NAMESPACE, bare))


@dataclass(frozen=True)
class PersonTag:
    name: str
    role: str = "host"
    group: str = "cast"
    href: str | None = None
    img: str | None = None


@dataclass(frozen=True)
class LicenseTag:
    """podcast:license: an SPDX identifier in lower case ("cc-by-4.0") or a name of one's
    own, and the URL of its legal text (required for a licence SPDX doesn't list)."""

    identifier: str
    url: str | None = None


@dataclass(frozen=True)
class SoundbiteTag:
    """podcast:soundbite: a moment of the item's enclosure, ``start`` and ``duration`` in
    seconds (the namespace recommends 15 to 120), with an optional title (up to 128 chars)."""

    start: float
    duration: float
    title: str = ""


@dataclass(frozen=True)
class SourceTag:
    uri: str
    content_type: str | None = None


@dataclass(frozen=True)
class AlternateEnclosureTag:
    mime: str
    length: int
    sources: tuple[SourceTag, ...]
    bitrate: float | None = None
    title: str | None = None
    codecs: str | None = None
    lang: str | None = None
    default: bool = False


def _add_person(parent: Any, person: PersonTag) -> None:
    attrs = {"role": person.role, "group": person.group}
    if person.href:
        attrs["href"] = person.href
    if person.img:
        attrs["img"] = person.img
    xml_elem(_tag("person"), parent, **attrs).text = person.name


def _person(
    persons: list[PersonTag],
    name: str | None,
    role: str,
    group: str,
    href: str | None,
    img: str | None,
) -> list[PersonTag]:
    """feedgen's getter-setter shape: add a person when named, return them all."""
    if name is not None:
        _check_person(name, group)
        persons.append(PersonTag(name.strip(), role, group, href, img))
    return list(persons)


def _check_person(name: str, group: str) -> None:
    if not name.strip():
        raise FeedError("podcast:person needs a name; leave the person out instead.")
    if group not in PERSON_GROUPS:
        raise FeedError(f"podcast:person group {group!r} is not one of {', '.join(PERSON_GROUPS)}.")


class PodcastExtension(BaseExtension):
    """Channel tags: podcast:guid, podcast:locked, podcast:person, podcast:medium."""

    def __init__(self) -> None:
        self._guid: str | None = None
        self._locked: tuple[bool, str | None] | None = None
        self._persons: list[PersonTag] = []
        self._medium: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        if self._guid:
            xml_elem(_tag("guid"), channel).text = self._guid
        if self._locked is not None:
            locked, owner = self._locked
            attrs = {"owner": owner} if owner else {}
            xml_elem(_tag("locked"), channel, **attrs).text = "yes" if locked else "no"
        if self._medium:
            xml_elem(_tag("medium"), channel).text = self._medium
        for person in self._persons:
            _add_person(channel, person)
        return rss_feed

    def extend_atom(self, atom_feed: Any) -> Any:
        return atom_feed  # the namespace is defined for RSS only

    def guid(self, guid: str | None = None) -> str | None:
        if guid is not None:
            try:
                uuid.UUID(guid)
            except ValueError:
                raise FeedError(
                    f"podcast:guid must be a UUID, not {guid!r}; use podcast_guid(feed_url)."
                ) from None
            self._guid = guid
        return self._guid

    def locked(
        self, locked: bool | None = None, owner: str | None = None
    ) -> tuple[bool, str | None] | None:
        if locked is not None:
            self._locked = (bool(locked), owner)
        return self._locked

    def person(
        self,
        name: str | None = None,
        role: str = "host",
        group: str = "cast",
        href: str | None = None,
        img: str | None = None,
    ) -> list[PersonTag]:
        return _person(self._persons, name, role, group, href, img)

    def medium(self, medium: str | None = None) -> str | None:
        if medium is not None:
            if medium not in MEDIUMS:
                raise FeedError(f"podcast:medium {medium!r} is not one of {', '.join(MEDIUMS)}.")
            self._medium = medium
        return self._medium


@dataclass
class _EntryState:
    transcripts: list[dict[str, str]] = field(default_factory=list)
    chapters: dict[str, str] | None = None
    alternates: list[AlternateEnclosureTag] = field(default_factory=list)
    persons: list[PersonTag] = field(default_factory=list)
    license: LicenseTag | None = None
    soundbites: list[SoundbiteTag] = field(default_factory=list)


class PodcastEntryExtension(BaseEntryExtension):
    """Item tags: podcast:transcript, podcast:chapters, podcast:alternateEnclosure,
    podcast:person, podcast:license, podcast:soundbite."""

    def __init__(self) -> None:
        self._state = _EntryState()

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, entry: Any) -> Any:
        state = self._state
        for attrs in state.transcripts:
            xml_elem(_tag("transcript"), entry, **attrs)
        if state.chapters:
            xml_elem(_tag("chapters"), entry, **state.chapters)
        for alt in state.alternates:
            _add_alternate(entry, alt)
        for person in state.persons:
            _add_person(entry, person)
        if state.license:
            attrs = {"url": state.license.url} if state.license.url else {}
            xml_elem(_tag("license"), entry, **attrs).text = state.license.identifier
        for bite in state.soundbites:
            times = {"startTime": _seconds(bite.start), "duration": _seconds(bite.duration)}
            xml_elem(_tag("soundbite"), entry, **times).text = bite.title or None
        return entry

    def extend_atom(self, entry: Any) -> Any:
        return entry

    def transcript(
        self,
        url: str | None = None,
        mime: str | None = None,
        language: str | None = None,
        rel: str | None = None,
    ) -> list[dict[str, str]]:
        if url is not None:
            if not mime:
                raise FeedError(f"podcast:transcript {url} needs its MIME type (text/vtt, ...).")
            attrs = {"url": url, "type": mime}
            if language:
                attrs["language"] = language
            if rel:
                attrs["rel"] = rel
            self._state.transcripts.append(attrs)
        return list(self._state.transcripts)

    def chapters(
        self, url: str | None = None, mime: str = "application/json+chapters"
    ) -> dict[str, str] | None:
        if url is not None:
            self._state.chapters = {"url": url, "type": mime}
        return self._state.chapters

    def alternate_enclosure(
        self, alternate: AlternateEnclosureTag | None = None
    ) -> list[AlternateEnclosureTag]:
        if alternate is not None:
            if not alternate.sources:
                raise FeedError(
                    f"podcast:alternateEnclosure {alternate.title or alternate.mime} needs at "
                    "least one podcast:source with a URI."
                )
            if alternate.length < 0:
                raise FeedError(f"podcast:alternateEnclosure length {alternate.length} is < 0.")
            self._state.alternates.append(alternate)
        return list(self._state.alternates)

    def person(
        self,
        name: str | None = None,
        role: str = "host",
        group: str = "cast",
        href: str | None = None,
        img: str | None = None,
    ) -> list[PersonTag]:
        return _person(self._state.persons, name, role, group, href, img)

    def license(self, license: LicenseTag | None = None) -> LicenseTag | None:
        if license is not None:
            if not license.identifier.strip():
                raise FeedError("podcast:license needs a licence's name; leave it out instead.")
            self._state.license = license
        return self._state.license

    def soundbite(self, soundbite: SoundbiteTag | None = None) -> list[SoundbiteTag]:
        if soundbite is not None:
            if not soundbite.start >= 0 or not soundbite.duration > 0:
                raise FeedError(
                    f"podcast:soundbite at {soundbite.start} s for {soundbite.duration} s needs "
                    "a start of 0 or more and a duration over 0."
                )
            self._state.soundbites.append(soundbite)
        return list(self._state.soundbites)


def _seconds(value: float) -> str:
    """Seconds as the namespace writes them: ``73.0``, ``1234.5``, at most milliseconds."""
    text = f"{float(value):.3f}".rstrip("0")
    return text + "0" if text.endswith(".") else text


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _add_alternate(entry: Any, alt: AlternateEnclosureTag) -> None:
    attrs = {"type": alt.mime, "length": str(alt.length)}
    if alt.bitrate:
        attrs["bitrate"] = _number(alt.bitrate)
    if alt.title:
        attrs["title"] = alt.title
    if alt.codecs:
        attrs["codecs"] = alt.codecs
    if alt.lang:
        attrs["lang"] = alt.lang
    if alt.default:
        attrs["default"] = "true"
    node = xml_elem(_tag("alternateEnclosure"), entry, **attrs)
    for source in alt.sources:
        source_attrs = {"uri": source.uri}
        if source.content_type:
            source_attrs["contentType"] = source.content_type
        xml_elem(_tag("source"), node, **source_attrs)
