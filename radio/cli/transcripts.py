"""``radio retranscribe``: transcribe episodes again, with another model or language."""

from __future__ import annotations

import sys
import threading

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data.episodes import get_episode
from radio.data.errors import NotFound
from radio.data.transcripts import get_retranscription
from radio.jobs import retranscribe as again
from radio.jobs import tasks


@click.command(cls=ArchiveCommand)
@click.argument("episodes", nargs=-1, required=True)
@click.option(
    "--model",
    help="Whisper model by name, e.g. tiny.en or base (`radio models` lists them). "
    "Default: the archive's choice, as for new recordings.",
)
@click.option("--language", help="Language code hint, e.g. en, es, sw. Default: the episode's.")
@click.option("--wait", is_flag=True, help="Transcribe now and return when done (exit 1 if not).")
@pass_state
def retranscribe(
    state: AppState, episodes: tuple[str, ...], model: str | None, language: str | None, wait: bool
) -> None:
    """Transcribe episodes again. Listeners keep the old transcript until the new one is
    complete; editors' corrections stay where the new segments say the same thing at the
    same time; topics and chapters are then found again.

    Example: radio retranscribe 12 14 --model base --language es --wait
    """
    config = state.app.config
    # A wrong model or language is wrong for every episode: say so once, before any is asked.
    language = again.check_language(language)
    if model:
        found = again.resolve_model(config, model, language)
        again.check_model(found, language)
        model = found.name
    failures = 0
    for ref in episodes:
        try:
            asked = again.request(state.db, config, ref, model=model, language=language)
        except (again.RetranscribeError, NotFound) as e:
            # One episode that can't be done doesn't stop the others; the exit status says so.
            click.secho(str(e), fg="red", err=True)
            failures += 1
            continue
        if wait:
            failures += not _run_with_bar(state, asked.episode_id)
        else:
            tasks.enqueue_retranscription(asked.episode_id, state.app)
            click.echo(
                f"Episode {asked.episode_id} queued to be transcribed again; a worker "
                "(`radio worker` or `radio serve`) does it, and its edit page shows how far."
            )
    if failures:
        raise SystemExit(1)


def _run_with_bar(state: AppState, episode_id: int) -> bool:
    """Run it in a thread, showing progress polled from the database; report the outcome."""
    app = state.app
    outcome: dict[str, again.Result] = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault("result", tasks.run_retranscription(app, episode_id)),
        daemon=True,
    )
    worker.start()
    with click.progressbar(
        length=1000, label=f"Transcribing episode {episode_id} again", file=sys.stderr
    ) as bar:
        shown = 0
        while worker.is_alive():
            worker.join(0.5)
            asked = get_retranscription(state.db, episode_id)
            target = int((asked.progress if asked else 1.0) * 1000)
            if target > shown:
                bar.update(target - shown)
                shown = target
    result = outcome.get("result") or again.Result(again.Outcome.FAILED, error="it stopped")
    return _report(state, episode_id, result)


def _report(state: AppState, episode_id: int, result: again.Result) -> bool:
    if result.outcome == again.Outcome.BUSY:
        click.secho(
            f"Episode {episode_id} is held by a worker right now (processing it or "
            "transcribing it again); run this again once that is done.",
            fg="yellow",
            err=True,
        )
        return False
    if result.outcome != again.Outcome.DONE:
        click.secho(f"Episode {episode_id}: {result.error}", fg="red", err=True)
        return False
    row = get_episode(state.db, episode_id)
    click.echo(
        f"Episode {episode_id}: new transcript by {row.transcript_model} "
        f"({row.transcript_language}); topics and chapters found again."
    )
    swapped = result.swapped
    if swapped is not None and (swapped.kept or swapped.dropped):
        click.echo(
            f"  kept {len(swapped.kept)} of {len(swapped.kept) + len(swapped.dropped)} "
            "editors' corrections; the others no longer match the new segments and stay in "
            "the edit page's history."
        )
    return True


COMMANDS = [retranscribe]
