"""``radio policy``: show the policy, replace it from a file, reset it to the default."""

from __future__ import annotations

from pathlib import Path

from radio.data import audit, policy


def test_show_edit_and_reset(app, db, runner, tmp_path: Path):
    shown = runner("policy")
    assert shown.exit_code == 0, shown.output
    assert "# How Community Radio Archive uses your recordings" in shown.output
    assert "30 days in the trash" in shown.output  # TRASH_DAYS filled in
    french = runner("policy", "--show", "--lang", "fr")
    assert "# Ce que Community Radio Archive fait de vos enregistrements" in french.output

    text = tmp_path / "policy.md"
    text.write_text("# Notre politique\n\nÉcrivez à $contact.\n", encoding="utf-8")
    saved = runner("policy", "--edit", str(text), "--lang", "fr")
    assert saved.exit_code == 0, saved.output
    assert "Saved the Français policy" in saved.output
    stored = policy.stored(db, "fr")
    assert stored is not None and stored.markdown.startswith("# Notre politique")
    assert stored.updated_by is None  # from the command line
    assert "# Notre politique" in runner("policy", "--lang", "fr").output
    # an English reader gets the station's own words rather than a default that may
    # contradict them, and is told which language they are in
    english = runner("policy", "--lang", "en").output
    assert "# Notre politique" in english and "none written in English yet" in english

    assert "default again" in runner("policy", "--reset", "--lang", "fr").output
    assert policy.stored(db, "fr") is None
    assert "already the default" in runner("policy", "--reset", "--lang", "fr").output
    # both changes are in the audit history, with who made them
    done = audit.entries(db, subject="policy:fr")
    assert [e.action for e in done] == ["setting.policy.reset", "setting.policy"]
    assert all(e.actor.startswith("cli:") for e in done)


def test_edit_from_standard_input_and_refusals(db, runner):
    piped = runner("policy", "--edit", "-", input="# Station rules\n")
    assert piped.exit_code == 0, piped.output
    assert policy.stored(db, "en").markdown == "# Station rules"

    empty = runner("policy", "--edit", "-", input="\n  \n")
    assert empty.exit_code != 0 and "can't be empty" in empty.output
    assert policy.stored(db, "en").markdown == "# Station rules"  # unchanged

    both = runner("policy", "--show", "--reset")
    assert both.exit_code == 2 and "Choose one of" in both.output
