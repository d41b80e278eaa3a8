"""Taking an episode down (#16 item 4): gone from pages, feeds, search and media URLs at
once, for everyone; and, as an admin chooses, destroyed.

``take_down`` is the one entry point (the CLI, the admins' form and the requests queue call
it). It marks the row and records the audit entry in one transaction: from that commit on
the visibility rule (``radio.data.episodes.live_sql``) leaves the episode out of every
listing, feed build, search and media lookup, the feed cache and the media fast path see
the commit and forget what they held, and ``radio.web.takedown`` answers 410 Gone at each
of its addresses. With ``destroy`` its content rows go next (``radio.data.takedowns
.erase_content``, one transaction), then its files: the episode's media folder, its
original unless another episode shares it, its own artwork unless something else names it.
Rows first, as the trash does: a crash between the two leaves files nothing names.

Without ``destroy`` the files and rows stay on this machine, unreachable, and
``undo_takedown`` brings the episode back as it was; either way backups made afterwards
hold none of it (``radio.upkeep.backup``).
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import artwork as artworks
from radio.data import audit, takedowns
from radio.data.episodes import Episode, EpisodeStatus, get_episode
from radio.data.errors import Invalid
from radio.db import transaction, utcnow
from radio.i18n import _
from radio.media.artwork import discard_image
from radio.media.store import episode_dir, media_root

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Takedown:
    episode_id: int
    guid: str
    title: str
    at: str  # when it was taken down (UTC)
    by: str  # who, by name as the audit names them
    reason: str
    destroyed: bool
    freed_bytes: int = 0  # what destroying removed from disk
    original_kept: bool = False  # destroyed, but its original is shared with another episode


def take_down(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    episode_id: int,
    *,
    actor: audit.Actor,
    reason: str,
    destroy: bool,
) -> Takedown:
    """Take the episode down now; with ``destroy``, also delete its files and content.
    Taking down again what is already down (kept) may destroy it; nothing else changes."""
    reason = takedowns.check_reason(reason)
    episode = get_episode(db, episode_id)
    if episode.takedown_destroyed:
        raise Invalid(
            _("Episode {episode} was already taken down and destroyed.").format(episode=episode_id)
        )
    if destroy and episode.status in (EpisodeStatus.QUEUED, EpisodeStatus.PROCESSING):
        raise Invalid(
            _(
                "Episode {episode} is still being processed, so its files can't be destroyed "
                "yet: take it down without destroying now, and destroy it once processing ends."
            ).format(episode=episode_id)
        )
    if episode.taken_down_at and not destroy:
        raise Invalid(_("Episode {episode} is already taken down.").format(episode=episode_id))
    with transaction(db) as conn:
        takedowns.mark(conn, episode.id, actor.name, reason, utcnow())
        audit.record(
            conn,
            actor,
            "episode.takedown",
            audit.subject("episode", episode.id),
            before={"guid": episode.guid, "title": episode.title},
            after={"taken_down": True, "destroyed": destroy},
            why=reason,
        )
    freed, kept = _destroy(db, Path(config["HOME"]), episode) if destroy else (0, False)
    done = get_episode(db, episode.id)
    logger.info(
        "[episode %s] taken down by %s%s",
        episode.id,
        actor.name,
        " and destroyed" if destroy else "",
    )
    return Takedown(
        episode.id, episode.guid, episode.title, done.taken_down_at or "", actor.name, reason,
        destroy, freed, kept,
    )  # fmt: skip


def undo_takedown(db: sqlite_utils.Database, episode_id: int, *, actor: audit.Actor) -> Episode:
    """Bring back a takedown whose content was kept: the episode is as it was before."""
    episode = get_episode(db, episode_id)
    if not episode.taken_down_at:
        raise Invalid(_("Episode {episode} isn't taken down.").format(episode=episode_id))
    if episode.takedown_destroyed:
        raise Invalid(
            _(
                "Episode {episode} can't come back: its recording, files and transcript were "
                "destroyed when it was taken down."
            ).format(episode=episode_id)
        )
    with transaction(db) as conn:
        takedowns.unmark(conn, episode.id, utcnow())
        audit.record(
            conn,
            actor,
            "episode.takedown_undo",
            audit.subject("episode", episode.id),
            before={"taken_down": True, "reason": episode.takedown_reason},
            after={"taken_down": False},
        )
    logger.info("[episode %s] takedown undone by %s", episode.id, actor.name)
    return get_episode(db, episode.id)


def _destroy(db: sqlite_utils.Database, home: Path, episode: Episode) -> tuple[int, bool]:
    """Its content rows, then its files; (bytes freed, whether the original was kept)."""
    shared = takedowns.shares_original(db, episode, live=False)
    with transaction(db) as conn:
        takedowns.erase_content(db, conn, episode.id)
    freed = _remove_tree(episode_dir(home, episode.guid))
    if episode.source_path and not shared:
        freed += _remove_original(home, episode.source_path)
    if episode.artwork and artworks.unused(db, [episode.artwork]):
        discard_image(home, episode.artwork)
        artworks.forget(db, [episode.artwork])
    logger.info("[episode %s] destroyed: %d bytes freed", episode.id, freed)
    return freed, bool(episode.source_path) and shared


def _remove_tree(folder: Path) -> int:
    if not folder.is_dir():
        return 0
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder)
    return size


def _remove_original(home: Path, relpath: str) -> int:
    root = media_root(home).resolve()
    original = (media_root(home) / relpath).resolve()
    if not original.is_relative_to(root) or not original.is_file():
        return 0
    size = original.stat().st_size
    original.unlink()  # read-only, but its folder isn't
    return size
