"""Programmes between stations after the first import (#17): an episode its station changed
(edited, corrected, re-chaptered, relicensed, redacted) replaces the copy imported earlier,
and one its station withdrew (taken down, consent withdrawn, made private, deleted) is taken
down here too.

Only the key that signed the bundle an episode first came in may change or withdraw it: a
bundle signed by another key is refused for that episode, whatever it claims.

What the source sends wins over edits made here to the title, description, transcript,
chapters and topics (the audit keeps what was overwritten): after a redaction at the source
its audio, words and original must be replaced everywhere, and a half-merged transcript
would bring removed words back. Kept from this archive: the show it was filed under and its
visibility. An episode redacted or taken down here is never changed by its source again: a
passage removed here must not come back through a bundle.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import audit, exchange
from radio.data.episodes import Episode, get_episode
from radio.data.redactions import redactions_of
from radio.i18n import _
from radio.jobs.exchange_artwork import take_picture
from radio.jobs.exchange_bundle import Verified
from radio.jobs.exchange_place import place_original, stage_episode_files
from radio.jobs.takedown import take_down, undo_takedown
from radio.media import store

logger = logging.getLogger(__name__)

UPDATED = "updated"
# why an episode already here stays as it is (ImportResult.skipped's values)
UNCHANGED = "guid"
TAKEN_DOWN_HERE = "taken down here"
REDACTED_HERE = "redacted here"


def changed_here(
    db: sqlite_utils.Database, before: exchange.Previous, signer: str, content_sha256: str
) -> tuple[str | None, str | None]:
    """(skip code, refusal) for an incoming episode whose GUID is here, in a bundle signed by
    the key ``signer``; (None, None): update it."""
    if before.signer is None:
        return UNCHANGED, None  # made here
    if before.withdrawn and before.signer == signer:
        return None, None  # its station withdrew it and now offers it again: it comes back
    if before.content_sha256 == content_sha256:
        return UNCHANGED, None  # the same as it came last time
    if before.signer != signer:
        return None, _(
            "it came here first in a bundle signed by another key ({key}); only that key may "
            "change it"
        ).format(key=before.signer)
    if before.taken_down:
        return TAKEN_DOWN_HERE, None
    if redactions_of(db, before.episode_id):
        return REDACTED_HERE, None
    return None, None


def replace_imported(
    db: sqlite_utils.Database,
    home: str,
    bundle: Verified,
    document: dict[str, Any],
    episode_id: int,
    arrived: exchange.Arrival,
    actor: audit.Actor,
    copied: tuple[str, ...],
) -> None:
    """The new files beside the old, the rows in one transaction, the files renamed into
    place last inside it; then what the old files were is removed (a redacted original).
    One taken down because its station withdrew it comes back first."""
    episode = get_episode(db, episode_id)
    if episode.taken_down_at:  # only a withdrawn one gets here (``changed_here``)
        undo_takedown(db, episode_id, actor=actor)
        exchange.mark_withdrawn(db, episode_id, withdrawn=False)
    staged = stage_episode_files(home, bundle, document)
    placed: list[Path] = []
    try:
        row = {k: document.get(k) for k in copied}
        row.update(peaks_path=staged.peaks, transcript_model=f"from {_station(document)}")
        row["artwork"] = take_picture(db, home, bundle, document.get("artwork"))
        row.update(_original_fields(home, bundle, document, episode, placed))
        update = exchange.Update(
            row=row,
            content=document,
            made=staged.made,
            station=_station(document),
            signer=bundle.fingerprint,
            arrived=arrived,
            before={k: getattr(episode, k) for k in ("title", "licence", "source_sha256")},
        )
        exchange.update_imported(db, episode_id, update, actor, staged.swap_in)
    except BaseException:
        staged.undo()
        for path in placed:
            path.unlink(missing_ok=True)
        raise
    staged.finish()
    old = episode.source_path
    if old and row.get("source_path") != old and not exchange.original_in_use(db, old):
        store.discard(home, old)  # the recording as it was before its station changed it
    logger.info("[episode %s] updated from %s", episode_id, _station(document))


def _station(document: dict[str, Any]) -> str:
    return str((document.get("source") or {}).get("station") or "?")


def _original_fields(
    home: str, bundle: Verified, document: dict[str, Any], episode: Episode, placed: list[Path]
) -> dict[str, Any]:
    """The new original when the bundle has one; the one here while it is still the same
    recording; none when the source changed its recording (a redaction) and sent no new one."""
    if document.get("original"):
        return place_original(home, bundle, document, placed)
    if document.get("source_sha256") == episode.source_sha256:
        return {
            "source_path": episode.source_path,
            "source_bytes": episode.source_bytes,
            "source_format": episode.source_format,
        }
    return {"source_path": None, "source_bytes": None, "source_format": None}


def withdraw(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    bundle: Verified,
    guids: list[str],
    actor: audit.Actor,
) -> list[str]:
    """Take down each of ``guids`` that came here signed by this bundle's key (others are
    not its to withdraw); kept, not destroyed: an admin here can undo it, and it comes back
    by itself when its station offers it again."""
    done = []
    for guid in guids:
        before = exchange.previous(db, str(guid))
        if before is None or before.signer != bundle.fingerprint or before.taken_down:
            continue
        reason = _("Withdrawn by {station}, the station it came from.").format(
            station=bundle.station
        )
        take_down(db, config, before.episode_id, actor=actor, reason=reason, destroy=False)
        exchange.mark_withdrawn(db, before.episode_id)
        done.append(str(guid))
        logger.info("[episode %s] withdrawn by %s", before.episode_id, bundle.station)
    return done
