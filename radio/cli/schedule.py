"""``radio schedule``: publish an episode at a date and time in the station's zone (#15)."""

from __future__ import annotations

import click

from radio.cli.audit import actor
from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import audit
from radio.data import schedule as plans
from radio.data.episodes import Episode, get_episode
from radio.db import utcnow


def moment_to_come(state: AppState, text: str) -> str:
    """A time typed in the station's zone as stored UTC, refused when it has passed."""
    zone = state.app.config["TIMEZONE"]
    try:
        when = plans.parse_local(text, zone)
    except plans.ScheduleError as e:
        raise click.BadParameter(str(e)) from e
    if when <= utcnow():
        raise click.BadParameter(
            f"{text} ({zone}) has passed; give a time still to come, or leave it out to "
            "publish once processed."
        )
    return when


@click.command(cls=ArchiveCommand)
@click.argument("episode", required=False)
@click.argument("when", required=False)
@click.option("--now", "publish_now", is_flag=True, help="Drop the schedule: public now.")
@click.option("--cancel", is_flag=True, help="Drop the schedule and keep it a draft.")
@pass_state
def schedule(
    state: AppState, episode: str | None, when: str | None, publish_now: bool, cancel: bool
) -> None:
    """Publish an episode at a date and time (the station's TIMEZONE), or list what waits.

    Until then listeners don't see it anywhere: pages, search, feeds, downloads. With no
    argument, lists the scheduled episodes.

    Example: radio schedule 12 2026-12-24T08:00
    """
    zone = state.app.config["TIMEZONE"]
    if episode is None:
        waiting = plans.scheduled(state.db)
        if not waiting:
            click.echo("Nothing is scheduled.")
        for item in waiting:
            click.echo(f"{plans.show_local(item.publish_at, zone)}  {item.guid}  {item.title}")
        return
    row = get_episode(state.db, episode)
    if publish_now or cancel:
        done = (plans.publish_now if publish_now else plans.unschedule)(state.db, row.id)
        _record(state, row, done)
        click.echo(f"Episode {row.id}: {'public now' if done.is_public else done.visibility}.")
        return
    if not when:
        raise click.UsageError("Give the date and time, e.g. radio schedule 12 2026-12-24T08:00")
    saved = plans.schedule(state.db, row.id, moment_to_come(state, when))
    _record(state, row, saved)
    click.echo(
        f"Episode {row.id} goes public at {plans.show_local(saved.publish_at, zone)} "
        f"({saved.publish_at} UTC)."
    )


def _record(state: AppState, before: Episode, after: Episode) -> None:
    audit.record(
        state.db,
        actor(),
        "episode.schedule",
        audit.subject("episode", before.id),
        before={"publish_at": before.publish_at, "visibility": before.visibility},
        after={"publish_at": after.publish_at, "visibility": after.visibility},
    )


COMMANDS = [schedule]
