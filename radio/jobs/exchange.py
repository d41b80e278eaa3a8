"""Programmes between stations (#17): export a signed bundle, import one, and the catalogue
the HTTP exchange serves. The bundle's format and its checks are ``exchange_bundle``; the
SQL, and the rule of what may leave, ``radio.data.exchange``.

Export carries only what listeners may already have and what its licence lets travel; it
remembers each bundle per target, so the next one to the same target carries only new work.
Import checks the signature and every file first (``open_bundle``), then adds each episode it
lacks (by GUID and by the original's sha256) as it was at the source: ready, with the source's
renditions, transcript, chapters and topics, its licence and the source station's name.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import audit, exchange
from radio.data.episodes import Episode
from radio.data.renditions import rendition_file
from radio.data.shows import get_or_create_show
from radio.data.station_key import station_key
from radio.db import utcnow
from radio.i18n import _
from radio.jobs.exchange_bundle import (
    BundleError,
    Contents,
    Verified,
    document_bytes,
    open_bundle,
    signed_manifest,
    write_bundle,
)
from radio.jobs.exchange_place import place_episode_files, place_original
from radio.media import store

logger = logging.getLogger(__name__)

_GUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{3,120}$")
SINCE_LAST = "last"


@dataclass
class ExportResult:
    path: Path | None  # None: nothing to export, no bundle written
    target: str
    since: str | None
    guids: list[str]
    no_licence: int
    reserved: int


@dataclass
class ImportResult:
    station: str
    fingerprint: str
    key_known: bool
    added: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # guid -> "guid" | "content"
    refused: dict[str, str] = field(default_factory=dict)  # guid -> why


# --- export -------------------------------------------------------------------------------


def export_bundle(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    out: str | Path,
    *,
    show: str | None = None,
    since: str | None = None,
    with_originals: bool = False,
    target: str | None = None,
    everything: bool = False,
) -> ExportResult:
    """Write a bundle of what may leave the archive; ``since``: a date, "last" (what no earlier
    export to ``target`` carried; the default when there was one, unless ``everything``)."""
    out = Path(out)
    target = target or out.name
    if since is None and not everything and exchange.has_exported(db, target):
        since = SINCE_LAST
    date = audit.since_moment(since) if since and since != SINCE_LAST else None
    chosen = exchange.select_exportable(
        db, show=show, since=date, new_for_target=target if since == SINCE_LAST else None
    )
    result = ExportResult(None, target, since, [], chosen.no_licence, chosen.reserved)
    if not chosen.episodes:
        return result
    home, station = config["HOME"], config["STATION_NAME"]
    contents = Contents({}, {})
    for episode in chosen.episodes:
        _add_episode(db, home, station, episode, contents, with_originals)
        result.guids.append(episode.guid)
    header = {
        "created_at": utcnow(),
        "request": {"show": show, "since": since, "originals": with_originals},
        "episodes": result.guids,
    }
    manifest, signature = signed_manifest(station_key(home), station, header, contents.listing())
    write_bundle(out, manifest, signature, contents)
    exchange.record_export(
        db,
        target=target,
        since=since,
        show=show,
        with_originals=with_originals,
        guids=result.guids,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
    )
    result.path = out
    logger.info("exported %d episodes to %s", len(result.guids), out)
    return result


def _add_episode(
    db: sqlite_utils.Database,
    home: str,
    station: str,
    episode: Episode,
    contents: Contents,
    with_originals: bool,
) -> None:
    document, files = episode_document(db, home, station, episode, with_originals)
    contents.documents[f"episodes/{episode.guid}/episode.json"] = document_bytes(document)
    contents.files.update(files)


def episode_document(
    db: sqlite_utils.Database, home: str, station: str, episode: Episode, with_originals: bool
) -> tuple[dict[str, Any], dict[str, Path]]:
    """(episode.json's content, bundle name -> file on disk). Never the original's file
    name (it may name someone) nor anything listeners can't already read, but the consent
    summary's counts and the original's hash (which makes a second import a no-op)."""
    folder = f"episodes/{episode.guid}"
    content = exchange.episode_content(db, episode.id)
    files: dict[str, Path] = {}
    for r in content["renditions"]:
        name = f"{folder}/{Path(r.pop('path')).name}"
        files[name] = store.resolve(home, _rendition_path(db, episode.id, r["kind"]))
        r["file"] = name
    peaks = None
    if episode.peaks_path and store.resolve(home, episode.peaks_path).is_file():
        peaks = f"{folder}/peaks.json"
        files[peaks] = store.resolve(home, episode.peaks_path)
    original = None
    if with_originals and episode.source_path:
        source = store.resolve(home, episode.source_path)
        if source.is_file():
            name = f"originals/{episode.source_sha256}{store.safe_suffix(source.name)}"
            files[name] = source
            original = {"file": name, "format": episode.source_format}
    came_from = exchange.origin(db, episode.id)
    document = {
        "guid": episode.guid,
        "title": episode.title,
        "description": episode.description,
        "show": {"slug": episode.show_slug, "title": episode.show_title}
        if episode.show_title
        else None,
        "recorded_at": episode.recorded_at,
        "published_at": episode.published_at,
        "language": episode.language,
        "transcript_language": episode.transcript_language,
        "duration": episode.duration,
        "licence": episode.licence,
        "source": {"station": came_from.station if came_from else station},
        "exported_by": station,
        "source_sha256": episode.source_sha256,
        "original": original,
        "loudness_after": episode.loudness_after,
        "true_peak_after": episode.true_peak_after,
        "peaks": peaks,
        **content,
    }
    return document, files


def _rendition_path(db: sqlite_utils.Database, episode_id: int, kind: str) -> str:
    found = rendition_file(db, episode_id, kind)
    if found is None:  # listed a moment ago: only a concurrent re-render can get here
        raise BundleError(_("A listening file of episode {id} went missing.").format(id=episode_id))
    return found[0]


def catalogue(
    db: sqlite_utils.Database, config: dict[str, Any], show: str | None = None
) -> tuple[bytes, str]:
    """What the HTTP exchange offers: the signed manifest of every episode that may leave
    (renditions only: originals are not for listeners), as ``radio export`` would write it."""
    home, station = config["HOME"], config["STATION_NAME"]
    chosen = exchange.select_exportable(db, show=show)
    contents = Contents({}, {})
    for episode in chosen.episodes:
        _add_episode(db, home, station, episode, contents, with_originals=False)
    header = {
        "created_at": None,  # the same archive gives the same bytes: resumable downloads
        "request": {"show": show, "since": None, "originals": False},
        "episodes": [e.guid for e in chosen.episodes],
    }
    return signed_manifest(station_key(home), station, header, contents.listing())


def served_file(
    db: sqlite_utils.Database, config: dict[str, Any], guid: str, name: str
) -> bytes | Path | None:
    """One file of the HTTP exchange: an episode's episode.json (bytes) or one of its files,
    if the episode may leave; None otherwise."""
    episode = exchange.exportable_episode(db, guid)
    if episode is None:
        return None
    document, files = episode_document(
        db, config["HOME"], config["STATION_NAME"], episode, with_originals=False
    )
    if name == "episode.json":
        return document_bytes(document)
    return files.get(f"episodes/{guid}/{name}")


# --- import -------------------------------------------------------------------------------


def import_bundle(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    path: str | Path,
    *,
    trust: str | None = None,
    draft: bool = False,
    actor: audit.Actor | None = None,
) -> ImportResult:
    """Check the bundle whole, then add what the archive lacks; BundleError refuses it all."""
    with open_bundle(path, config["HOME"], trust) as bundle:
        return import_verified(db, config, bundle, draft=draft, actor=actor)


def import_verified(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    bundle: Verified,
    *,
    draft: bool = False,
    actor: audit.Actor | None = None,
) -> ImportResult:
    result = ImportResult(
        bundle.station, bundle.fingerprint, exchange.key_seen(db, bundle.fingerprint)
    )
    actor = actor or audit.command_line()
    for name in bundle.episode_documents:
        document = json.loads(bundle.path(name).read_bytes())
        guid = str(document.get("guid") or "")
        why = _refusal(document, bundle)
        if why:
            result.refused[guid or name] = why
            continue
        here = exchange.already_here(db, guid, str(document["source_sha256"]))
        if here:
            result.skipped[guid] = here
            continue
        _add_one(db, config["HOME"], bundle, document, draft, actor)
        result.added.append(guid)
    return result


def _refusal(document: dict[str, Any], bundle: Verified) -> str | None:
    """Why an episode of a (validly signed) bundle may not come in, if it may not: the same
    rule as export, checked again here."""
    if not _GUID.match(str(document.get("guid") or "")) or not document.get("source_sha256"):
        return _("its GUID or content hash is missing or malformed")
    original = (document.get("original") or {}).get("file")
    listed = bundle.manifest["files"].get(original) if original else None
    if original and (listed is None or listed.get("sha256") != document["source_sha256"]):
        return _("its original is not the recording its content hash names")
    if not exchange.licence_shareable(document.get("licence")):
        return _("its licence ({licence}) does not allow passing it on").format(
            licence=document.get("licence") or _("none stated")
        )
    held = (document.get("consent") or {}).get("held", 1)
    state = (document.get("consent") or {}).get("state")
    if held or state not in ("given", "not tracked"):
        return _("not everyone heard in it agreed to its publication")
    return None


def _add_one(
    db: sqlite_utils.Database,
    home: str,
    bundle: Verified,
    document: dict[str, Any],
    draft: bool,
    actor: audit.Actor,
) -> int:
    guid = document["guid"]
    show = document.get("show") or {}
    title = show.get("title")
    show_id = get_or_create_show(db, title) if title else None  # joins a show of that name
    placed: list[Path] = []
    try:
        made, peaks = place_episode_files(home, bundle, document, placed)
        original = place_original(home, bundle, document, placed)
        row = {
            **{k: document.get(k) for k in _COPIED},
            "guid": guid,
            "show_id": show_id,
            "visibility": "draft" if draft else "public",
            "peaks_path": peaks,
            "transcript_model": f"from {document['source']['station']}",
            **original,
        }
        came_from = exchange.Origin(
            station=str(document["source"]["station"]),
            fingerprint=bundle.fingerprint,
            guid=guid,
            licence=document.get("licence"),
            signed_by=bundle.station,
            imported_at=utcnow(),
        )
        return exchange.add_imported(
            db, row, document, made, came_from, bundle.manifest_sha256, actor
        )
    except BaseException:
        for path in placed:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        raise


_COPIED = (
    "title",
    "description",
    "recorded_at",
    "published_at",
    "language",
    "transcript_language",
    "duration",
    "licence",
    "source_sha256",
    "loudness_after",
    "true_peak_after",
)
