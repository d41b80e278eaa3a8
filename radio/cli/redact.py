"""``radio redact``: remove a passage from an episode for good (#16 item 4)."""

from __future__ import annotations

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data.episodes import get_episode
from radio.data.fields import chapter_start, clock_text
from radio.jobs import redact as redacting
from radio.jobs.redact_text import text_to_go


@click.command(cls=ArchiveCommand)
@click.argument("episode")
@click.option("--from", "start", required=True, help="Start of the passage, mm:ss or h:mm:ss.")
@click.option("--to", "end", required=True, help="End of the passage, mm:ss or h:mm:ss.")
@click.option("--reason", required=True, help="Why it is removed (kept in the audit history).")
@click.option("--silence", is_flag=True, help="Digital silence instead of the 1 kHz tone.")
@click.option("-y", "--yes", is_flag=True, help="Don't ask for confirmation.")
@pass_state
def redact(
    state: AppState, episode: str, start: str, end: str, reason: str, silence: bool, yes: bool
) -> None:
    """Remove a passage for good: a tone (or silence) in its place in every listening copy
    and in the original, its words out of the transcript, search, chapters, soundbites
    and edit history. The audit history keeps who, when, why and where; never the words.

    Example: radio redact 12 --from 1:05 --to 1:20 --reason "Caller named a neighbour"
    """
    db = state.db
    row = get_episode(db, episode)
    begin, finish = chapter_start(start), chapter_start(end)
    redacting.check(db, row, begin, finish, reason=reason, sound="silence" if silence else "tone")
    said = text_to_go(db, row.id, begin, finish)
    click.echo(
        f"Episode {row.id} ({row.title}), {clock_text(begin)} to {clock_text(finish)} "
        f"becomes {'silence' if silence else 'a tone'}. The transcript loses:"
    )
    click.echo("\n".join(f"  {line}" for line in said) or "  (no words)")
    if not yes:
        click.confirm("Remove it for good? This can't be undone", abort=True)
    done = redacting.redact(
        db,
        state.app.config,
        row.id,
        begin,
        finish,
        actor=actor(),
        reason=reason,
        sound="silence" if silence else "tone",
    )
    click.echo(
        f"Removed: {done.words_removed} word(s), {len(done.files)} file(s) written again "
        f"(redaction {done.id})."
    )


COMMANDS = [redact]
