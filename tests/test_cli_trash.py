"""``radio trash``: list, restore and empty (all, or what is older than N days)."""

from __future__ import annotations

from radio.data import trash
from radio.media.store import episode_dir, media_root
from tests.conftest import clip

RECORDING = "cannot-complete-as-dialed.wav"


def test_list_restore_and_empty(app, seed, db, runner):
    kept = seed.recording(clip(RECORDING), title="Water committee")
    gone = seed.recording(clip("queue-thereare.wav"), title="Market prices")
    assert "The trash is empty." in runner("trash").output
    trash.move_to_trash(db, kept.id, None)
    trash.move_to_trash(db, gone.id, None)
    listed = runner("trash")
    assert listed.exit_code == 0, listed.output
    assert "Water committee" in listed.output and "Market prices" in listed.output
    assert "KB" in listed.output or "MB" in listed.output  # its size on disk

    restored = runner("trash", "--restore", str(kept.id))
    assert restored.exit_code == 0, restored.output
    assert "Restored episode" in restored.output
    again = runner("trash", "--restore", str(kept.id))
    assert again.exit_code == 1 and "isn't in the trash" in again.output

    # nothing was deleted 5 days ago yet: --older-than-days 5 keeps it
    young = runner("trash", "--empty", "--older-than-days", "5")
    assert "Removed 0 episode(s)" in young.output
    assert episode_dir(app.config["HOME"], gone.guid).is_dir()
    emptied = runner("trash", "--empty")
    assert emptied.exit_code == 0, emptied.output
    assert "Removed 1 episode(s)" in emptied.output
    assert not episode_dir(app.config["HOME"], gone.guid).exists()
    assert not (media_root(app.config["HOME"]) / gone.source_path).exists()
    assert (media_root(app.config["HOME"]) / kept.source_path).is_file()
    assert db.execute("select id from episodes").fetchall() == [(kept.id,)]


def test_older_than_days_empties_only_old_deletions(app, seed, db, runner):
    old = seed.episode("Old news")
    new = seed.episode("Fresh news")
    trash.move_to_trash(db, old, None)
    trash.move_to_trash(db, new, None)
    db.execute("update episodes set deleted_at = '2020-01-01T00:00:00Z' where id = ?", [old])
    done = runner("trash", "--empty", "--older-than-days", "30")
    assert "Removed 1 episode(s)" in done.output
    left = [t.title for t in trash.trashed(db)]
    assert left == ["Fresh news"]


def test_usage_errors(runner):
    assert runner("trash", "--older-than-days", "3").exit_code == 2
    assert runner("trash", "--empty", "--restore", "1").exit_code == 2
    missing = runner("trash", "--restore", "99")
    assert missing.exit_code == 1 and "isn't in the trash" in missing.output
