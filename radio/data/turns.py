"""Who spoke: read-only questions about the ``segments.speaker`` column.

A segment's speaker is a display name ("Amina", or a label such as "Speaker 2" until an
editor names it), written by transcription (two-party calls), diarization and renames;
this module only reads it: an episode's speakers for its feed items, the archive's speakers
for the search filter, and the SQL that picks one speaker's segments for search.

Speakers are matched without regard to case ("amina" finds "Amina", "ágata" finds
"ÁGATA"); SQLite's ``lower`` folds only A-Z, so a name is compared in the few spellings
that fold to the same text in Python (``speaker_forms``).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Sequence

import sqlite_utils

# A label diarization or a two-party call gives before anyone names the voice.
_PLACEHOLDER = re.compile(r"speaker[\s_-]*\d+", re.IGNORECASE)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def is_placeholder(name: str) -> bool:
    """True for a label such as "Speaker 2" (or SPEAKER_02): a voice, not yet a person."""
    return bool(_PLACEHOLDER.fullmatch(name.strip()))


def clean_name(name: str | None) -> str | None:
    """A speaker's name as shown: spaces (and any line break) collapsed; None when blank."""
    text = " ".join((name or "").split())
    return text or None


def episode_speakers(
    db: sqlite_utils.Database, episode_ids: Sequence[int]
) -> dict[int, tuple[str, ...]]:
    """Each episode's distinct speakers, in the order they first speak (episodes without
    any are left out)."""
    if not episode_ids:
        return {}
    marks = ",".join("?" * len(episode_ids))
    # who speaks in each episode is kept by migration 0025's triggers (segment_speakers):
    # each one's first segment is one index seek, not a read of every segment (a feed of
    # 300 long episodes: 2 ms instead of 32)
    rows = db.execute(
        "select ss.episode_id, ss.speaker, (select min(s.idx) from segments s "
        "where s.episode_id = ss.episode_id and s.speaker = ss.speaker) as first "
        f"from segment_speakers ss where ss.episode_id in ({marks}) "
        "order by ss.episode_id, first",
        list(episode_ids),
    ).fetchall()
    found: dict[int, dict[str, None]] = defaultdict(dict)
    for episode_id, speaker, _first in rows:
        name = clean_name(speaker)
        if name:
            found[episode_id][name] = None
    return {episode_id: tuple(names) for episode_id, names in found.items()}


def speaker_forms(name: str) -> str:
    """The JSON list ``speaker_sql`` compares with: ``name`` in the spellings that SQLite's
    ``lower`` (which folds A-Z only) can meet, whatever the case of its other letters."""
    spellings = {name, name.lower(), name.upper(), name.title(), name.capitalize()}
    return json.dumps(sorted({s.translate(_ASCII_LOWER) for s in spellings}), ensure_ascii=False)


def speaker_sql(alias: str, param: str) -> str:
    """SQL for "segment ``alias`` was said by the speaker whose ``speaker_forms`` are in
    ``param``" (``:speakers`` or ``?``); a stray space or line break around the stored name
    does not count, as the pages don't show it."""
    name = f"trim({alias}.speaker, char(32, 9, 10, 13))"
    return f"lower({name}) in (select value from json_each({param}))"
