"""Old backups out of a backup folder (``radio.upkeep.prune``): the newest kept, and the
stored files only the removed ones needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from radio.upkeep.backup import run_backup
from radio.upkeep.errors import UpkeepError
from radio.upkeep.folder import MANIFEST, Manifest
from radio.upkeep.layout import find_snapshot, object_path, snapshots
from radio.upkeep.prune import prune
from radio.upkeep.restore import restore
from radio.upkeep.verify import verify_backup, verify_home
from tests.conftest import clip


def test_keeping_the_newest_removes_what_only_older_backups_held(seed, home, tmp_path):
    dest = tmp_path / "backup"
    seed.recording(clip("LJ001-0002.wav"))
    (home / "config.toml").write_text('station_name = "Radio One"\n')
    first = run_backup(home, dest)
    old_config = Manifest.read(find_snapshot(dest) / MANIFEST).files["config.toml"]
    (home / "config.toml").write_text('station_name = "Radio Two"\n')
    run_backup(home, dest)
    seed.recording(clip("LJ001-0008.wav"))
    last = run_backup(home, dest, keep=2)
    assert first.snapshot not in snapshots(dest) and len(snapshots(dest)) == 2
    assert not object_path(dest, old_config.sha256).exists()  # only the first one had it
    pruned = prune(dest, keep=1)
    assert len(pruned.snapshots) == 1 and snapshots(dest) == [last.snapshot]
    assert pruned.objects == 0  # the newest holds every file the other one did
    assert verify_backup(dest).ok
    restore(dest, tmp_path / "restored")
    assert verify_home(tmp_path / "restored").ok
    assert "Radio Two" in (tmp_path / "restored" / "config.toml").read_text()


def test_at_least_one_backup_is_kept(seed, home: Path, tmp_path: Path):
    run_backup(home, tmp_path / "backup")
    with pytest.raises(UpkeepError, match="Keep at least one"):
        prune(tmp_path / "backup", keep=0)
    assert len(snapshots(tmp_path / "backup")) == 1
