"""Podlove Simple Chapters (https://podlove.org/simple-chapters/) inside each feed item.

The Podcasting 2.0 ``podcast:chapters`` tag points at a JSON file an app fetches at play
time; gPodder (podcastparser) reads it only under the namespace's old GitHub address, and
an episode downloaded for offline listening without that file loses its chapters. The
same chapters written inline as ``psc:chapters`` travel with the feed itself, and gPodder,
AntennaPod and Podlove-aware apps read them. Registered as a feedgen extension::

    fg.register_extension("psc", PodloveExtension, PodloveEntryExtension, atom=False)
    fe.psc.chapters([ChapterMark(0, "Welcome"), ChapterMark(95.5, "Water committee")])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension

from feeds.chapters import ChapterMark
from feeds.podcast import xml_elem

PSC_NS = "http://podlove.org/simple-chapters"
VERSION = "1.2"


def normal_play_time(seconds: float) -> str:
    """``HH:MM:SS.mmm``, the Normal Play Time form every Podlove reader accepts."""
    millis = max(0, round(float(seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    return f"{hours:02d}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"


class PodloveExtension(BaseExtension):
    def extend_ns(self) -> dict[str, str]:
        return {"psc": PSC_NS}


class PodloveEntryExtension(BaseEntryExtension):
    def __init__(self) -> None:
        self._chapters: tuple[ChapterMark, ...] = ()

    def chapters(self, marks: Sequence[ChapterMark] | None = None) -> tuple[ChapterMark, ...]:
        if marks is not None:
            self._chapters = tuple(sorted(marks, key=lambda m: m.start))
        return self._chapters

    def extend_rss(self, entry: Any) -> Any:
        if self._chapters:
            box = xml_elem(f"{{{PSC_NS}}}chapters", entry, version=VERSION)
            for mark in self._chapters:
                attrs = {"start": normal_play_time(mark.start), "title": mark.title}
                if mark.url:
                    attrs["href"] = mark.url
                xml_elem(f"{{{PSC_NS}}}chapter", box, **attrs)
        return entry
