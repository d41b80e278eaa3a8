"""The bundle a station hands another (#17): its layout, writing it, and checking it whole
before anything of it touches an archive.

A bundle is a folder, or the same folder as an uncompressed tar when its name ends in
``.radio`` or ``.tar`` (audio doesn't compress; one file is easier on a USB stick)::

    manifest.json                 every other file with its sha256 and size, the station's
                                  name and public key, what was asked for
    manifest.sig                  Ed25519 signature (base64) over manifest.json's exact bytes
    episodes/<guid>/episode.json  metadata, licence, consent summary, transcript, chapters,
                                  topics, and which files are its renditions, peaks, original
    episodes/<guid>/audio.mp3 ... the renditions and peaks.json as the source serves them
    originals/<sha256><ext>       the originals, with --with-originals

In a tar, the manifest and signature come first, so a reader checks the signature before
it reads a byte of audio. The HTTP exchange (``radio sync``) serves the same names.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radio.data import station_key
from radio.i18n import _
from radio.jobs.errors import JobError
from radio.media import store

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = 1
KIND = "radio-archive-bundle"
TAR_SUFFIXES = (".radio", ".tar")
CHUNK = 1024 * 1024
_SAFE_NAME = re.compile(r"^(?:[A-Za-z0-9_][A-Za-z0-9._-]*/)*[A-Za-z0-9_][A-Za-z0-9._-]*$")


class BundleError(JobError):
    """A bundle that can't be trusted or read; nothing of it was imported."""


def is_tar(path: str | Path) -> bool:
    return Path(path).suffix.lower() in TAR_SUFFIXES


def safe_name(name: str) -> bool:
    """A relative name of plain parts ("episodes/<guid>/audio.mp3"): never "..", never "/x"."""
    return bool(_SAFE_NAME.match(name)) and ".." not in name.split("/")


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        while block := f.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


_KNOWN: dict[tuple[str, int, int], str] = {}  # (path, size, mtime_ns) -> sha256


def known_sha256(path: Path) -> tuple[str, int]:
    """``file_sha256``, remembered while the file's size and time stay the same: the HTTP
    catalogue lists every rendition at each request, and they seldom change."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    if key not in _KNOWN:
        if len(_KNOWN) > 100_000:
            _KNOWN.clear()
        _KNOWN[key] = file_sha256(path)[0]
    return _KNOWN[key], st.st_size


def document_bytes(document: dict[str, Any]) -> bytes:
    """JSON as every bundle writes it: the same data gives the same bytes (and hash)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True, indent=1).encode()


@dataclass
class Contents:
    """What a bundle will hold: small documents made in memory and files on disk."""

    documents: dict[str, bytes]
    files: dict[str, Path]

    def listing(self) -> dict[str, dict[str, Any]]:
        listed = {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in self.documents.items()
        }
        for name, path in self.files.items():
            sha256, size = known_sha256(path)
            listed[name] = {"sha256": sha256, "size": size}
        return dict(sorted(listed.items()))


def signed_manifest(
    key: station_key.StationKey, station: str, header: dict[str, Any], listing: dict[str, Any]
) -> tuple[bytes, str]:
    """(manifest bytes, signature): the station's name and key travel inside what is signed."""
    manifest = {
        "format": FORMAT,
        "kind": KIND,
        "station": {"name": station, "key": key.public_text, "fingerprint": key.fingerprint},
        **header,
        "files": listing,
    }
    data = document_bytes(manifest)
    return data, key.sign(data)


def write_bundle(out: Path, manifest: bytes, signature: str, contents: Contents) -> None:
    """Write the bundle under a temporary name and rename it into place: a bundle that
    exists is whole."""
    part = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.part")
    try:
        if is_tar(out):
            _write_tar(part, manifest, signature, contents)
        else:
            _write_folder(part, manifest, signature, contents)
        if out.exists() and out.is_dir() and not is_tar(out):
            shutil.rmtree(out)
        os.replace(part, out)
    except BaseException:
        if part.is_dir():
            shutil.rmtree(part, ignore_errors=True)
        else:
            part.unlink(missing_ok=True)
        raise


def _write_tar(part: Path, manifest: bytes, signature: str, contents: Contents) -> None:
    with tarfile.open(part, "w", format=tarfile.PAX_FORMAT) as tar:
        first = {MANIFEST: manifest, SIGNATURE: signature.encode(), **contents.documents}
        for name, data in first.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
        for name, path in contents.files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = path.stat().st_size, 0o644
            with path.open("rb") as f:
                tar.addfile(info, f)
    with part.open("rb+") as f:
        os.fsync(f.fileno())


def _write_folder(part: Path, manifest: bytes, signature: str, contents: Contents) -> None:
    part.mkdir(parents=True)
    docs = {MANIFEST: manifest, SIGNATURE: signature.encode(), **contents.documents}
    for name, data in docs.items():
        target = part / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    for name, path in contents.files.items():
        target = part / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


# --- reading: the signature, then every file, before anything is imported ----------------


@dataclass(frozen=True)
class Verified:
    """A bundle whose signature and every file were checked; its files lie under ``root``."""

    root: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    station: str
    public_key: str
    fingerprint: str
    only: frozenset[str] | None = None  # the HTTP exchange: the episodes it fetched

    @property
    def episode_documents(self) -> list[str]:
        listed = self.manifest["files"] if self.only is None else self.only
        return sorted(n for n in listed if n.endswith("/episode.json"))

    def path(self, name: str) -> Path:
        if name not in self.manifest["files"]:
            raise BundleError(
                _("The bundle's manifest does not list {name}; nothing was imported.").format(
                    name=name
                )
            )
        return self.root / name


def check_manifest(data: bytes | None, signature: bytes | None, trust: str | None) -> dict:
    """The manifest, if it is whole and signed by the key it names (and by ``trust``'s key
    when given); BundleError names the problem."""
    if data is None:
        raise BundleError(_("This is not a bundle: it has no manifest.json."))
    if signature is None:
        raise BundleError(
            _("The bundle is not signed (no manifest.sig): refused, nothing was imported.")
        )
    try:
        manifest = json.loads(data)
        key = manifest["station"]["key"]
        files = manifest["files"]
    except (ValueError, KeyError, TypeError) as e:
        raise BundleError(_("The bundle's manifest.json is damaged: refused.")) from e
    if manifest.get("kind") != KIND or not isinstance(files, dict):
        raise BundleError(_("manifest.json is not a radio archive bundle's manifest."))
    if not station_key.verify(key, data, signature.decode(errors="replace")):
        raise BundleError(
            _(
                "The bundle's signature does not match its manifest: it was changed after it "
                "was signed, or signed with another key. Refused; nothing was imported."
            )
        )
    if trust and not station_key.same_fingerprint(trust, key):
        raise BundleError(
            _("The bundle was signed by the key {found}, not by {trusted}: refused.").format(
                found=station_key.fingerprint(key), trusted=trust
            )
        )
    bad = [name for name in files if not safe_name(name) or name in (MANIFEST, SIGNATURE)]
    if bad:
        raise BundleError(
            _("The manifest names a file outside the bundle ({name}): refused.").format(name=bad[0])
        )
    return manifest


def check_file(name: str, path: Path, expected: dict[str, Any]) -> None:
    if not path.is_file():
        raise BundleError(
            _("{name} is missing from the bundle: refused, nothing was imported.").format(name=name)
        )
    sha256, size = file_sha256(path)
    if sha256 != expected.get("sha256") or size != expected.get("size"):
        raise BundleError(
            _(
                "{name} is not the file the manifest signed (its sha256 differs): the bundle "
                "was damaged or changed. Refused; nothing was imported."
            ).format(name=name)
        )


@contextmanager
def open_bundle(path: str | Path, home: str | Path, trust: str | None = None) -> Iterator[Verified]:
    """A verified bundle (a folder, or a tar unpacked into the data folder's incoming area
    and removed afterwards); BundleError before anything is imported otherwise."""
    path = Path(path)
    if not path.exists():
        raise BundleError(_("{path} does not exist.").format(path=path))
    if path.is_dir():
        yield _verify_folder(path, trust)
        return
    work = store.incoming_dir(home) / "exchange" / f"import-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    work.mkdir(parents=True)
    try:
        yield _unpack_tar(path, work, trust, home)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _verify_folder(root: Path, trust: str | None) -> Verified:
    data = _read(root / MANIFEST)
    manifest = check_manifest(data, _read(root / SIGNATURE), trust)
    listed = manifest["files"]
    for name, expected in listed.items():
        check_file(name, root / name, expected)
    for extra in root.rglob("*"):
        name = extra.relative_to(root).as_posix()
        if extra.is_file() and name not in listed and name not in (MANIFEST, SIGNATURE):
            raise BundleError(
                _("{name} is in the bundle but not in its signed manifest: refused.").format(
                    name=name
                )
            )
    return _verified(root, manifest, data)


def _verified(root: Path, manifest: dict[str, Any], data: bytes | None) -> Verified:
    key = manifest["station"]["key"]
    return Verified(
        root=root,
        manifest=manifest,
        manifest_sha256=hashlib.sha256(data or b"").hexdigest(),
        station=str(manifest["station"].get("name") or "?"),
        public_key=key,
        fingerprint=station_key.fingerprint(key),
    )


def _unpack_tar(path: Path, work: Path, trust: str | None, home: str | Path) -> Verified:
    try:
        with tarfile.open(path, "r:") as tar:
            members = {m.name: m for m in tar.getmembers()}
            data, sig = (_member_bytes(tar, members.get(n)) for n in (MANIFEST, SIGNATURE))
            manifest = check_manifest(data, sig, trust)
            # unpacked here, then copied into place: room for it twice, before a byte is written
            store.ensure_free(
                home, 2 * sum(int(f.get("size") or 0) for f in manifest["files"].values())
            )
            for name, member in members.items():
                if name in (MANIFEST, SIGNATURE):
                    continue
                if name not in manifest["files"] or not member.isfile():
                    raise BundleError(
                        _(
                            "{name} is in the bundle but not in its signed manifest: refused."
                        ).format(name=name)
                    )
                _extract(tar, member, work / name)
    except tarfile.TarError as e:
        raise BundleError(
            _("{path} is not a readable bundle ({problem}).").format(path=path, problem=e)
        ) from e
    for name, expected in manifest["files"].items():
        check_file(name, work / name, expected)
    return _verified(work, manifest, data)


def _member_bytes(tar: tarfile.TarFile, member: tarfile.TarInfo | None) -> bytes | None:
    if member is None or not member.isfile() or member.size > 64 * 1024 * 1024:
        return None
    found = tar.extractfile(member)
    return found.read() if found else None


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    """Only regular files, only to the names the manifest allowed (checked safe)."""
    source = tar.extractfile(member)
    if source is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as out:
        shutil.copyfileobj(source, out, CHUNK)
