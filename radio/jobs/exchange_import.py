"""Taking in another station's bundle (#17): ``open_bundle`` checks the signature and every
file first; then each episode the archive lacks (by GUID and by the original's sha256) is
added as it was at the source: ready, with the source's renditions, transcript, chapters and
topics, its licence and the source station's name. One imported earlier from the same key
and changed since is updated, and one its station withdrew is taken down
(``exchange_update``).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import audit, exchange
from radio.db import utcnow
from radio.i18n import _
from radio.jobs import exchange_update
from radio.jobs.exchange_artwork import take_picture, take_show
from radio.jobs.exchange_bundle import Verified, open_bundle
from radio.jobs.exchange_place import place_episode_files, place_original

_GUID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{3,120}$")


@dataclass
class ImportResult:
    station: str
    fingerprint: str
    key_known: bool
    added: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # guid -> "guid" | "content" | ...
    refused: dict[str, str] = field(default_factory=dict)  # guid -> why
    updated: list[str] = field(default_factory=list)  # changed by their station since
    withdrawn: list[str] = field(default_factory=list)  # taken down: their station withdrew


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
        arrived = exchange.Arrival(bundle.manifest_sha256, bundle.manifest["files"][name]["sha256"])
        _take_one(db, config["HOME"], bundle, document, arrived, draft, actor, result)
    listed = bundle.manifest.get("withdrawn")
    withdrawn = [str(g) for g in listed] if isinstance(listed, list) else []
    result.withdrawn = exchange_update.withdraw(db, config, bundle, withdrawn, actor)
    return result


def _take_one(
    db: sqlite_utils.Database,
    home: str,
    bundle: Verified,
    document: dict[str, Any],
    arrived: exchange.Arrival,
    draft: bool,
    actor: audit.Actor,
    result: ImportResult,
) -> None:
    """Add it, update the copy imported earlier, or say why not."""
    guid = document["guid"]
    before = exchange.previous(db, guid)
    if before is None:
        here = exchange.already_here(db, guid, str(document["source_sha256"]))
        if here:
            result.skipped[guid] = here
        else:
            _add_one(db, home, bundle, document, arrived, draft, actor)
            result.added.append(guid)
        return
    skip, refusal = exchange_update.changed_here(
        db, before, bundle.fingerprint, arrived.content_sha256
    )
    if skip:
        result.skipped[guid] = skip
    elif refusal:
        result.refused[guid] = refusal
    else:
        exchange_update.replace_imported(
            db, home, bundle, document, before.episode_id, arrived, actor, _COPIED
        )
        result.updated.append(guid)


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
    arrived: exchange.Arrival,
    draft: bool,
    actor: audit.Actor,
) -> int:
    guid = document["guid"]
    show_id = take_show(db, home, bundle, document.get("show"))  # joins a show of that name
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
            "artwork": take_picture(db, home, bundle, document.get("artwork")),
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
            origin_fingerprint=document["source"].get("fingerprint") or bundle.fingerprint,
        )
        return exchange.add_imported(db, row, document, made, came_from, arrived, actor)
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
