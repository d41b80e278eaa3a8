"""Where an imported episode's files go (#17): renditions and peaks into its folder under
``media/episodes``, renamed into place whole, and its original, when the bundle has one,
stored by its sha256 as uploads are. ``placed`` lists what was made, so a failed import
removes it again."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import Any

from radio.jobs.exchange_bundle import Verified
from radio.media import store


def place_episode_files(
    home: str, bundle: Verified, document: dict[str, Any], placed: list[Path]
) -> tuple[list[dict[str, Any]], str | None]:
    """The renditions and peaks into media/episodes/<guid>/, written beside it and renamed
    into place whole."""
    final = store.episode_dir(home, document["guid"])
    if final.exists():  # the database doesn't know this GUID: left by a failed import
        shutil.rmtree(final)
    work = final.with_name(f".{final.name}.{uuid.uuid4().hex[:8]}.part")
    work.mkdir(parents=True)
    placed.append(work)
    made = []
    for r in document.get("renditions") or []:
        file_name = Path(r["file"]).name
        shutil.copyfile(bundle.path(r["file"]), work / file_name)
        rel = f"episodes/{final.name}/{file_name}"
        made.append({**r, "path": rel, "bytes": (work / file_name).stat().st_size})
    peaks = None
    if document.get("peaks"):
        shutil.copyfile(bundle.path(document["peaks"]), work / "peaks.json")
        peaks = f"episodes/{final.name}/peaks.json"
    os.replace(work, final)
    placed[-1] = final
    return made, peaks


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
