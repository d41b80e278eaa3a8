"""``radio sync --from http://OTHER:5000``: the bundle exchange over HTTP, resumable (#17).

The other archive serves its signed catalogue and each file under ``/exchange/``
(``radio.web.exchange``). The signature is checked before any file is fetched; then each
episode's ``episode.json``, and the files of those this archive lacks, are downloaded into
``media/incoming/exchange/sync-<host>/`` (a file being fetched is ``NAME.<sha256>.part``,
continued with a Range request next time, so a broken link costs only what was not yet
received), every file checked against the signed sha256, and the whole imported through
the same code as ``radio import``. The folder is removed once the import is done.

What came from the other archive and may not be passed on any more is taken down here: a
whole-catalogue sync knows it by what the catalogue leaves out; ``--show`` asks the other
archive about every episode it got from that key (``/exchange/withdrawn.json``, signed).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import re
import secrets
import shutil
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from radio.data import audit, exchange, station_key
from radio.data.station_key import fingerprint
from radio.i18n import _
from radio.jobs import exchange_update
from radio.jobs.errors import JobError
from radio.jobs.exchange import WITHDRAWALS
from radio.jobs.exchange_artwork import picture_files
from radio.jobs.exchange_bundle import (
    BundleError,
    Verified,
    check_file,
    check_manifest,
    file_sha256,
)
from radio.jobs.exchange_import import ImportResult, import_verified
from radio.media import store

logger = logging.getLogger(__name__)

CHUNK = 256 * 1024
ASK_AT_ONCE = 100  # GUIDs per question about withdrawals: a URL stays under 5 kB
_NOT_SLUG = re.compile(r"[^A-Za-z0-9.-]+")


class SyncError(JobError):
    """The other archive could not be reached, or the transfer broke off."""


@dataclass
class Transfer:
    downloaded_bytes: int = 0
    resumed: list[str] = field(default_factory=list)  # files continued from a partial copy


@dataclass
class SyncResult:
    imported: ImportResult
    transfer: Transfer


def sync_from(
    db: sqlite_utils.Database,
    config: dict[str, Any],
    base_url: str,
    *,
    show: str | None = None,
    trust: str | None = None,
    draft: bool = False,
    actor: audit.Actor | None = None,
    timeout: float = 30.0,
) -> SyncResult:
    base = _base(base_url)
    folder = store.incoming_dir(config["HOME"]) / "exchange" / f"sync-{_slug(base)}"
    folder.mkdir(parents=True, exist_ok=True)
    query = "?" + urllib.parse.urlencode({"show": show}) if show else ""
    catalogue = _get_json(f"{base}/exchange/catalogue.json{query}", timeout) or {}
    data = str(catalogue.get("manifest") or "").encode()
    manifest = check_manifest(
        data or None, str(catalogue.get("signature") or "").encode() or None, trust
    )
    transfer = Transfer()
    signer = fingerprint(manifest["station"]["key"])
    documents = []
    for guid in manifest.get("episodes") or []:
        name = f"episodes/{guid}/episode.json"
        if name not in manifest["files"]:
            raise BundleError(
                _("The catalogue lists {guid} without its episode.json.").format(guid=guid)
            )
        _fetch(base, folder, name, manifest["files"][name], transfer, timeout)
        documents.append(name)
        for needed in _files_needed(db, folder / name, signer, manifest["files"][name]):
            _fetch(base, folder, needed, manifest["files"].get(needed), transfer, timeout)
    verified = Verified(
        root=folder,
        manifest=manifest,
        manifest_sha256=hashlib.sha256(data).hexdigest(),
        station=str(manifest["station"].get("name") or "?"),
        public_key=manifest["station"]["key"],
        fingerprint=signer,
        only=frozenset(documents),
    )
    imported = import_verified(db, config, verified, draft=draft, actor=actor)
    if show is None:  # the whole catalogue: what came from it before and isn't in it is gone
        listed = set(manifest.get("episodes") or [])
        gone = [g for g in exchange.imported_from(db, signer) if g not in listed]
    else:  # one show's can't tell withdrawn from another show's: the other archive is asked
        gone = _withdrawn_there(db, base, verified, timeout)
    imported.withdrawn += exchange_update.withdraw(
        db, config, verified, gone, actor or audit.command_line()
    )
    shutil.rmtree(folder, ignore_errors=True)
    return SyncResult(imported, transfer)


def _withdrawn_there(
    db: sqlite_utils.Database, base: str, verified: Verified, timeout: float
) -> list[str]:
    """Those of the episodes here that came signed by the other archive's key (of any show:
    a withdrawal is never held back) that it says, signed, may not be passed on any more."""
    have = exchange.imported_from(db, verified.fingerprint)
    told: list[str] = []
    for start in range(0, len(have), ASK_AT_ONCE):
        asked, nonce = have[start : start + ASK_AT_ONCE], secrets.token_hex(16)
        query = urllib.parse.urlencode([("nonce", nonce)] + [("guid", g) for g in asked])
        answer = _get_json(f"{base}/exchange/withdrawn.json?{query}", timeout, missing_ok=True)
        if answer is None:  # an archive from before it could tell: only a full sync can
            logger.warning("%s can't tell withdrawn episodes; sync without --show", base)
            return []
        told += _checked_answer(answer, verified.public_key, asked, nonce)
    return told


def _checked_answer(answer: Any, key: str, asked: list[str], nonce: str) -> list[str]:
    answer = answer if isinstance(answer, dict) else {}
    data = str(answer.get("manifest") or "").encode()
    if not station_key.verify(key, data, str(answer.get("signature") or "")):
        raise BundleError(
            _(
                "The other archive's list of withdrawn episodes is not signed by the key its "
                "catalogue was: refused."
            )
        )
    told = json.loads(data)
    request = told.get("request") or {}
    if told.get("kind") != WITHDRAWALS or request != {"guids": asked, "nonce": nonce}:
        raise BundleError(
            _("The other archive's list of withdrawn episodes answers another question: refused.")
        )
    return [str(g) for g in told.get("withdrawn") or [] if g in asked]


def _base(url: str) -> str:
    parsed = urllib.parse.urlsplit(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SyncError(
            _("{url} is not an archive's address; give one like http://192.168.1.20:5000.").format(
                url=url
            )
        )
    return f"{parsed.scheme}://{parsed.netloc}{parsed.path.rstrip('/')}"


def _slug(base: str) -> str:
    return _NOT_SLUG.sub("-", urllib.parse.urlsplit(base).netloc).strip("-")[:80] or "other"


def _files_needed(
    db: sqlite_utils.Database, document_path: Path, signer: str, listed: dict[str, Any]
) -> list[str]:
    """An episode's files, unless this archive already has the episode as it is now, or
    won't take this version of it (then none)."""
    document = json.loads(document_path.read_bytes())
    guid = str(document.get("guid"))
    before = exchange.previous(db, guid)
    if before is not None:
        decision = exchange_update.changed_here(db, before, signer, str(listed.get("sha256")))
        if decision != (None, None):
            return []
    elif exchange.already_here(db, guid, str(document.get("source_sha256"))):
        return []
    names = [r["file"] for r in document.get("renditions") or []] + picture_files(document)
    return names + ([document["peaks"]] if document.get("peaks") else [])


def _get_json(url: str, timeout: float, missing_ok: bool = False) -> dict[str, Any] | None:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - http(s) only
            return json.loads(response.read())
    except urllib.error.HTTPError as e:
        if missing_ok and e.code == 404:
            return None
        raise SyncError(
            _("{url} answered {status}: is it a radio archive with the exchange?").format(
                url=url, status=e.code
            )
        ) from e
    except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
        raise SyncError(_("Could not reach {url}: {problem}.").format(url=url, problem=e)) from e
    except ValueError as e:
        raise SyncError(_("{url} did not answer with a catalogue.").format(url=url)) from e


def _fetch(
    base: str,
    folder: Path,
    name: str,
    expected: dict[str, Any] | None,
    transfer: Transfer,
    timeout: float,
) -> None:
    """One file into ``folder/name``, continuing a partial copy; checked against the
    manifest's sha256 and size."""
    if expected is None:
        raise BundleError(_("The catalogue does not list {name}.").format(name=name))
    target = folder / name
    if target.is_file() and file_sha256(target) == (expected["sha256"], expected["size"]):
        return
    target.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(f"{target.name}.{expected['sha256'][:16]}.part")
    for stale in target.parent.glob(f"{target.name}.*.part"):
        if stale != part:
            stale.unlink()
    have = part.stat().st_size if part.exists() else 0
    if have >= expected["size"]:
        part.unlink()
        have = 0
    url = f"{base}/exchange/files/{urllib.parse.quote(name)}"
    _download(url, part, have, transfer, timeout)
    if part.stat().st_size < expected["size"]:  # the link dropped and the body came short
        raise SyncError(_broke_off(url, f"{part.stat().st_size} of {expected['size']} bytes"))
    part.rename(target)
    try:
        check_file(name, target, expected)
    except BundleError:
        target.unlink(missing_ok=True)
        raise


def _download(url: str, part: Path, have: int, transfer: Transfer, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    received = 0
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            resumed = response.status == 206 and _range_start(response) == have
            if have and resumed:
                transfer.resumed.append(part.name)
            with part.open("ab" if resumed else "wb") as out:
                while block := response.read(CHUNK):
                    out.write(block)
                    received += len(block)
    except urllib.error.HTTPError as e:
        raise SyncError(_("{url} answered {status}.").format(url=url, status=e.code)) from e
    except (OSError, http.client.HTTPException) as e:
        raise SyncError(_broke_off(url, str(e) or type(e).__name__)) from e
    finally:
        transfer.downloaded_bytes += received


def _broke_off(url: str, problem: str) -> str:
    return _(
        "The download of {url} broke off ({problem}); what arrived is kept: run the same "
        "command again to continue where it stopped."
    ).format(url=url, problem=problem)


def _range_start(response: Any) -> int | None:
    found = re.match(r"bytes (\d+)-", response.headers.get("Content-Range") or "")
    return int(found.group(1)) if found else None
