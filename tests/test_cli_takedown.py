"""``radio takedown``: take an episode down (asked to confirm unless --yes), destroy it,
undo a kept one; the reason is required and kept in the audit history and its history."""

from __future__ import annotations

from radio.data import audit
from radio.data.episodes import get_episode
from radio.media.store import episode_dir, media_root
from tests.conftest import clip

RECORDING = "cannot-complete-as-dialed.wav"  # 2.6 s, licence in tests/data/manifest.tsv
WHY = "Withdrawn by the speaker"


def test_take_down_undo_and_destroy(app, seed, db, runner):
    ep = seed.recording(clip(RECORDING), title="Water committee")
    home = app.config["HOME"]
    no_reason = runner("takedown", str(ep.id), "--yes")
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output

    declined = runner("takedown", str(ep.id), "--reason", WHY, input="n\n")
    assert declined.exit_code == 1 and "Aborted" in declined.output
    assert get_episode(db, ep.id).taken_down_at is None

    done = runner("takedown", ep.guid[:8], "--reason", WHY, input="y\n")
    assert done.exit_code == 0, done.output
    assert "Take down episode" in done.output and "Taken down: episode" in done.output
    assert "--undo" in done.output  # kept: it says how to bring it back
    assert not get_episode(db, ep.id).is_public
    again = runner("takedown", str(ep.id), "--reason", WHY, "--yes")
    assert again.exit_code == 1 and "already taken down" in again.output

    history = runner("history", str(ep.id))
    assert history.exit_code == 0, history.output
    assert "Taken down." in history.output and WHY in history.output

    undone = runner("takedown", str(ep.id), "--undo", "--yes")
    assert undone.exit_code == 0, undone.output
    assert get_episode(db, ep.id).is_public
    assert [e.action for e in audit.entries(db, action="episode")][:2] == [
        "episode.takedown_undo",
        "episode.takedown",
    ]
    assert all(e.actor.startswith("cli:") for e in audit.entries(db, action="episode"))

    destroyed = runner("takedown", str(ep.id), "--reason", WHY, "--destroy", "--yes")
    assert destroyed.exit_code == 0, destroyed.output
    assert "Destroyed its files" in destroyed.output
    assert not episode_dir(home, ep.guid).exists()
    assert not (media_root(home) / ep.source_path).exists()
    final = runner("takedown", str(ep.id), "--undo", "--yes")
    assert final.exit_code == 1 and "can't come back" in final.output


def test_unknown_episode_and_undo_of_a_live_one(seed, db, runner):
    episode_id = seed.episode("Market day", [(0.0, 2.0, "maize prices")])
    missing = runner("takedown", "999", "--reason", WHY, "--yes")
    assert missing.exit_code == 1 and "doesn't exist" in missing.output
    live = runner("takedown", str(episode_id), "--undo", "--yes")
    assert live.exit_code == 1 and "isn't taken down" in live.output
