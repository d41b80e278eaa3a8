"""``radio policy``: show, replace or reset the station's policy page (#16)."""

from __future__ import annotations

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.data import audit
from radio.data import policy as policies
from radio.i18n import LOCALES
from radio.upkeep.trash import trash_days


@click.command(cls=ArchiveCommand)
@click.option(
    "--edit",
    "source",
    type=click.File("r", encoding="utf-8"),
    metavar="FILE",
    help="Replace the policy with this Markdown file ('-': standard input).",
)
@click.option("--show", is_flag=True, help="Print the policy as readers see it (the default).")
@click.option("--reset", is_flag=True, help="Forget the station's text: the default shows again.")
@click.option(
    "--lang",
    "locale",
    type=click.Choice(list(LOCALES)),
    help="Which language's policy (default: the station's LANGUAGE).",
)
@pass_state
def policy(
    state: AppState,
    source: click.utils.LazyFile | None,
    show: bool,
    reset: bool,
    locale: str | None,
) -> None:
    """Show the station's policy (how recordings are used, kept and removed, and how to
    ask), replace it with a Markdown file, or reset it to the default that ships. Each
    language has its own; $station, $trash_days and $contact are filled in from config.
    Admins can also edit it at /admin/policy.

    Example: radio policy --edit policy.md --lang fr
    """
    if sum((source is not None, show, reset)) > 1:
        raise click.UsageError("Choose one of --edit, --show and --reset.")
    config = state.app.config
    locale = locale or config.get("LANGUAGE") or "en"
    locale = locale if locale in LOCALES else "en"
    if source is not None:
        saved = policies.save(state.db, locale, source.read(), None, audit.command_line())
        click.echo(f"Saved the {LOCALES[locale]} policy ({len(saved.markdown)} characters).")
        return
    if reset:
        if policies.reset(state.db, locale, audit.command_line()):
            click.echo(f"The {LOCALES[locale]} policy is the default again.")
        else:
            click.echo(f"The {LOCALES[locale]} policy was already the default.")
        return
    facts = policies.Facts(config["STATION_NAME"], trash_days(config), config.get("CONTACT"))
    text = policies.current(state.db, locale, facts, preferred=config.get("LANGUAGE") or "en")
    click.echo(text.markdown)
    if not text.custom:
        origin = "the default that ships"
    else:
        origin = f"written by {text.updated_by or 'the command line'} at {text.updated_at}"
    if text.locale != locale:
        origin += f", in {LOCALES[text.locale]} (none written in {LOCALES[locale]} yet)"
    click.echo(f"\n({origin}; `radio policy --edit FILE` replaces it)", err=True)


COMMANDS = [policy]
