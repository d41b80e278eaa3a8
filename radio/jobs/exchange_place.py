"""Where an imported episode's files go (#17): renditions and peaks into its folder under
``media/episodes``, renamed into place whole, and its original, when the bundle has one,
stored by its sha256 as uploads are. ``placed`` lists what was made, so a failed import
removes it again."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from radio.jobs.exchange_bundle import Verified
from radio.media import store


@dataclass
class StagedFiles:
    """An episode's renditions and peaks written beside its folder, to be renamed into place
    whole (``swap_in``), the folder they replace kept aside until ``finish``."""

    work: Path
    final: Path
    made: list[dict[str, Any]]
    peaks: str | None
    old: Path | None = None

    def swap_in(self) -> None:
        if self.final.exists():
            self.old = self.final.with_name(f".{self.final.name}.{uuid.uuid4().hex[:8]}.old")
            os.replace(self.final, self.old)
        os.replace(self.work, self.final)

    def undo(self) -> None:
        """What ``swap_in`` did, undone (the database kept the old rows)."""
        if not self.work.exists() and self.final.exists():
            shutil.rmtree(self.final)
            if self.old is not None:
                os.replace(self.old, self.final)
        shutil.rmtree(self.work, ignore_errors=True)

    def finish(self) -> None:
        if self.old is not None:
            shutil.rmtree(self.old, ignore_errors=True)


def stage_episode_files(home: str, bundle: Verified, document: dict[str, Any]) -> StagedFiles:
    """The renditions and peaks, copied beside media/episodes/<guid>/."""
    final = store.episode_dir(home, document["guid"])
    work = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.part")
    work.mkdir(parents=True)
    staged = StagedFiles(work, final, [], None)
    try:
        for r in document.get("renditions") or []:
            file_name = Path(r["file"]).name
            shutil.copyfile(bundle.path(r["file"]), work / file_name)
            rel = f"episodes/{final.name}/{file_name}"
            staged.made.append({**r, "path": rel, "bytes": (work / file_name).stat().st_size})
        if document.get("peaks"):
            shutil.copyfile(bundle.path(document["peaks"]), work / "peaks.json")
            staged.peaks = f"episodes/{final.name}/peaks.json"
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return staged


def place_episode_files(
    home: str, bundle: Verified, document: dict[str, Any], placed: list[Path]
) -> tuple[list[dict[str, Any]], str | None]:
    """A new episode's renditions and peaks into media/episodes/<guid>/, renamed into place
    whole."""
    final = store.episode_dir(home, document["guid"])
    if final.exists():  # the database doesn't know this GUID: left by a failed import
        shutil.rmtree(final)
    staged = stage_episode_files(home, bundle, document)
    placed.append(staged.work)
    staged.swap_in()
    placed[-1] = final
    return staged.made, staged.peaks


def place_original(
    home: str, bundle: Verified, document: dict[str, Any], placed: list[Path]
) -> dict[str, Any]:
    """The original, when the bundle has it, stored by its sha256 as uploads are."""
    original = document.get("original")
    if not original:
        return {}
    source = bundle.path(original["file"])
    sha256 = str(document["source_sha256"])
    suffix = store.safe_suffix(source.name)
    rel = store.original_relpath(sha256, suffix)
    dest = store.media_root(home) / rel
    if not dest.exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        shutil.copyfile(source, tmp)
        tmp.chmod(0o444)
        os.replace(tmp, dest)
        placed.append(dest)
    return {
        "source_path": rel,
        "source_bytes": dest.stat().st_size,
        "source_format": original.get("format"),
    }
