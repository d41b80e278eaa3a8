"""Episodes held for an editor's review (#11): the hold, its note, and its end."""

from __future__ import annotations

from radio.data.edits import update_details
from radio.data.episodes import Visibility, get_episode, hold_for_review


def test_an_editor_who_publishes_ends_the_hold(db, seed, runner) -> None:
    episode_id = seed.episode("Unsure", [(0.0, 2.0, "words")])
    hold_for_review(db, episode_id, "The language sounded like la (22% sure).")
    held = get_episode(db, episode_id)
    assert held.visibility == Visibility.DRAFT and held.under_review
    shown = runner("status", str(episode_id))
    assert "review:   The language sounded like la (22% sure)." in shown.output
    update_details(db, episode_id, title="Unsure", description="", visibility="public")
    published = get_episode(db, episode_id)
    assert published.visibility == Visibility.PUBLIC and published.review_note is None
    assert "review:" not in runner("status", str(episode_id)).output
