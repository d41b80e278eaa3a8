"""Programmes between stations (#17): export a signed bundle, and the catalogue the HTTP
exchange serves. The bundle's format and its checks are ``exchange_bundle``; importing one
``exchange_import``; the SQL, and the rule of what may leave, ``radio.data.exchange``.

Export carries only what listeners may already have and what its licence lets travel; it
remembers each bundle per target and what each episode was when sent, so the next one to the
same target carries only new work and what changed since (an edit, a correction, a
redaction), and tells it, signed, which episodes it had may not be passed on any more. An
episode nothing was written to since it was sent is not even built again (its change mark,
``radio.data.exchange_sent``): an incremental export costs what changed, not the archive.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import audit, consent, exchange, exchange_sent, renditions, tags, transcripts
from radio.data.episodes import Episode
from radio.data.station_key import station_key
from radio.db import utcnow
from radio.i18n import _
from radio.jobs.exchange_artwork import episode_extras
from radio.jobs.exchange_bundle import (
    BundleError,
    Contents,
    document_bytes,
    signed_manifest,
    write_bundle,
)
from radio.media import store

logger = logging.getLogger(__name__)

SINCE_LAST = "last"
# episode.json's layout: a change to what episode_document writes must raise it, so that an
# incremental export builds every episode again once (the marks only see the database)
DOCUMENT_VERSION = 2


@dataclass
class ExportResult:
    path: Path | None  # None: nothing to export, no bundle written
    target: str
    since: str | None
    guids: list[str]
    no_licence: int
    reserved: int
    updated: list[str] = field(default_factory=list)  # carried again: changed since
    withdrawn: list[str] = field(default_factory=list)  # the target is told to take down


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
    """Write a bundle of what may leave the archive; ``since``: a date, "last" (what the
    target lacks or has as it was before an edit here: the default when there was an earlier
    export to it, unless ``everything``). What the target was sent and may not leave any
    more travels as a signed withdrawal."""
    out = Path(out)
    target = target or out.name
    sent = exchange_sent.sent_to(db, target)
    if since is None and not everything and sent:
        since = SINCE_LAST
    date = audit.since_moment(since) if since and since != SINCE_LAST else None
    home, station = config["HOME"], config["STATION_NAME"]
    basis = _basis(station, station_key(home).fingerprint, with_originals)
    # "last": only what was written since it was sent is built again (its mark moved)
    exchange_sent.draw_line(db)
    marks = exchange_sent.marks(db)  # before the episodes are read
    same = exchange_sent.unchanged(db, sent, basis) if since == SINCE_LAST else set()
    chosen = exchange.select_exportable(db, show=show, since=date, leave_out=same)
    result = ExportResult(None, target, since, [], chosen.no_licence, chosen.reserved)
    result.withdrawn = exchange.no_longer_exportable(db, list(sent))
    contents, carried, checked = Contents({}, {}), {}, {}
    for episode in chosen.episodes:
        mark = exchange_sent.mark(marks.get(episode.id), basis)
        before = sent.get(episode.guid) if since == SINCE_LAST else None
        unless = before.content_sha256 if before else None
        sha256 = _add_episode(db, home, station, episode, contents, with_originals, unless)
        if sha256 == unless:
            checked[episode.guid] = mark  # the target has it as it is
            continue
        carried[episode.guid] = (sha256, mark)
        if episode.guid in sent:
            result.updated.append(episode.guid)
    exchange_sent.confirm(db, sent, checked)
    result.guids = list(carried)
    if carried or result.withdrawn:
        _write(db, out, station, home, result, contents, carried, show, with_originals)
    return result


def _write(
    db: sqlite_utils.Database,
    out: Path,
    station: str,
    home: str,
    result: ExportResult,
    contents: Contents,
    carried: dict[str, tuple[str, str | None]],
    show: str | None,
    with_originals: bool,
) -> None:
    """The signed bundle, and what it carried recorded for the next export to its target."""
    header = {
        "created_at": utcnow(),
        "request": {"show": show, "since": result.since, "originals": with_originals},
        "episodes": result.guids,
        "withdrawn": result.withdrawn,
    }
    manifest, signature = signed_manifest(station_key(home), station, header, contents.listing())
    write_bundle(out, manifest, signature, contents)
    exchange_sent.record_export(
        db,
        target=result.target,
        since=result.since,
        show=show,
        with_originals=with_originals,
        carried=carried,
        withdrawn=result.withdrawn,
        manifest_sha256=hashlib.sha256(manifest).hexdigest(),
    )
    result.path = out
    logger.info("exported %d episodes to %s", len(result.guids), out)


def _basis(station: str, fingerprint: str, with_originals: bool) -> str:
    """What every episode.json changes with at once (recorded with each mark): a renamed
    station, a new key, originals asked for or not, a new episode.json layout."""
    facts = json.dumps([DOCUMENT_VERSION, station, fingerprint, with_originals])
    return hashlib.sha256(facts.encode()).hexdigest()[:16]


def _add_episode(
    db: sqlite_utils.Database,
    home: str,
    station: str,
    episode: Episode,
    contents: Contents,
    with_originals: bool,
    unless: str | None = None,
) -> str:
    """Its episode.json and files into ``contents`` unless that episode.json's sha256 is
    ``unless`` (the target has it as it is); that sha256, which changes when anything that
    travels with the episode changes."""
    document, files = episode_document(db, home, station, episode, with_originals)
    data = document_bytes(document)
    sha256 = hashlib.sha256(data).hexdigest()
    if sha256 != unless:
        contents.documents[f"episodes/{episode.guid}/episode.json"] = data
        contents.files.update(files)
    return sha256


def episode_document(
    db: sqlite_utils.Database, home: str, station: str, episode: Episode, with_originals: bool
) -> tuple[dict[str, Any], dict[str, Path]]:
    """(episode.json's content, bundle name -> file on disk). Never the original's file
    name (it may name someone) nor anything listeners can't already read, but the consent
    summary's counts and the original's hash (which makes a second import a no-op)."""
    folder = f"episodes/{episode.guid}"
    content = _content(db, episode.id)
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
    extras, pictures = episode_extras(db, home, episode)
    files.update(pictures)
    document = {
        "guid": episode.guid,
        "title": episode.title,
        "description": episode.description,
        **extras,
        "recorded_at": episode.recorded_at,
        "published_at": episode.published_at,
        "language": episode.language,
        "transcript_language": episode.transcript_language,
        "duration": episode.duration,
        "licence": episode.licence,
        "source": _source(came_from, station, home),
        "exported_by": station,
        "source_sha256": episode.source_sha256,
        "original": original,
        "loudness_after": episode.loudness_after,
        "true_peak_after": episode.true_peak_after,
        "peaks": peaks,
        **content,
    }
    return document, files


def _content(db: sqlite_utils.Database, episode_id: int) -> dict[str, Any]:
    """What travels with an episode besides its files: transcript, chapters, topics, the
    renditions' facts and a consent summary without anyone's name."""
    listed = consent.participants(db, episode_id)
    return {
        "segments": [
            {
                "start": s.start,
                "end": s.end,
                "text": s.text,
                "speaker": s.speaker,
                "words": [[w.start, w.end, w.word, w.probability] for w in s.words],
            }
            for s in transcripts.load_segments(db, episode_id)
        ],
        "chapters": [
            {"start": c.start, "end": c.end, "title": c.title}
            for c in tags.chapters(db, episode_id)
        ],
        "topics": [
            {"slug": t.slug, "label": t.label, "kind": t.kind, "source": t.source, "score": t.score}
            for t in tags.episode_tags(db, episode_id)
        ],
        "renditions": renditions.renditions(db, episode_id),
        "consent": {
            "state": "given" if listed else "not tracked",
            "participants": len(listed),
            "held": len(consent.holds(listed)),
        },
    }


def _source(came_from: exchange.Origin | None, station: str, home: str) -> dict[str, Any]:
    """The station that made it and its key's fingerprint: a relay keeps the origin's."""
    if came_from is None:
        return {"station": station, "fingerprint": station_key(home).fingerprint}
    return {
        "station": came_from.station,
        "fingerprint": came_from.origin_fingerprint or came_from.fingerprint,
    }


def _rendition_path(db: sqlite_utils.Database, episode_id: int, kind: str) -> str:
    found = renditions.rendition_file(db, episode_id, kind)
    if found is None:  # listed a moment ago: only a concurrent re-render can get here
        raise BundleError(_("A listening file of episode {id} went missing.").format(id=episode_id))
    return found[0]


def catalogue(
    db: sqlite_utils.Database, config: dict[str, Any], show: str | None = None
) -> tuple[bytes, str]:
    """What the HTTP exchange offers: the signed manifest of every episode that may leave
    (renditions only: originals are not for listeners), as ``radio export`` would write it.
    Each episode's part is kept in the database while its change mark stays: a request,
    in this process or after a restart, builds again only the episode.json of what changed
    since the last one."""
    home, station = config["HOME"], config["STATION_NAME"]
    key = station_key(home)
    marks = exchange_sent.marks(db)  # before the episodes are read
    chosen = exchange.select_exportable(db, show=show)
    basis = _basis(station, key.fingerprint, False)
    kept, built = exchange_sent.listed(db), {}
    listing: dict[str, Any] = {}
    for episode in chosen.episodes:
        mark = exchange_sent.mark(marks.get(episode.id), basis)
        if mark is not None and kept.get(episode.id, ("", ""))[0] == mark:
            listing.update(json.loads(kept[episode.id][1]))
            continue
        part = _listing(db, home, station, episode)
        listing.update(part)
        if mark is not None:  # the newest mark may stay through a write: never kept
            built[episode.id] = (mark, part)
    exchange_sent.keep_listed(db, built)
    header = {
        "created_at": None,  # the same archive gives the same bytes: resumable downloads
        "request": {"show": show, "since": None, "originals": False},
        "episodes": [e.guid for e in chosen.episodes],
    }
    return signed_manifest(key, station, header, listing)


def _listing(
    db: sqlite_utils.Database, home: str, station: str, episode: Episode
) -> dict[str, Any]:
    """An episode's files in the catalogue, with their sha256 and size."""
    contents = Contents({}, {})
    _add_episode(db, home, station, episode, contents, with_originals=False)
    return contents.listing()


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


WITHDRAWALS = "radio-archive-withdrawals"  # never a bundle's manifest: it can't be imported
MAX_ASKED = 200


def withdrawals(
    db: sqlite_utils.Database, config: dict[str, Any], guids: list[str], nonce: str
) -> tuple[bytes, str]:
    """The signed answer to another archive's ``radio sync --show``: which of ``guids`` (what
    it got from this station) may not be passed on any more. A whole-catalogue sync learns
    it from what the catalogue leaves out; one show's catalogue can't tell a withdrawn
    episode from one of another show. ``nonce`` (the asker's) travels inside what is signed:
    an old answer can't be played back once an episode is offered again."""
    asked = [str(g) for g in guids[:MAX_ASKED]]
    key = station_key(config["HOME"])
    answer = {
        "kind": WITHDRAWALS,
        "station": {"name": config["STATION_NAME"], "fingerprint": key.fingerprint},
        "request": {"guids": asked, "nonce": nonce},
        "withdrawn": exchange.no_longer_exportable(db, asked),
    }
    data = document_bytes(answer)
    return data, key.sign(data)
