"""``radio export``, ``radio import`` and ``radio sync``: programmes between stations (#17),
as signed bundles on a USB stick or over HTTP between two archives (``radio.jobs.exchange``)."""

from __future__ import annotations

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.jobs.exchange_import import ImportResult


@click.command("export", cls=ArchiveCommand)
@click.option(
    "-o", "--output", "out", required=True, type=click.Path(), help="The bundle to write."
)
@click.option("--show", help="Only this show (its slug, as in /shows/SLUG).")
@click.option("--since", help="Published on or after this date (2026-11-02), or 'last'.")
@click.option("--all", "everything", is_flag=True, help="Everything, whatever went before.")
@click.option("--target", help="Name the receiving station (default: the bundle's file name).")
@click.option(
    "--renditions-only",
    "originals",
    flag_value=False,
    default=False,
    help="Only the listening copies (the default).",
)
@click.option("--with-originals", "originals", flag_value=True, help="Add the originals too.")
@pass_state
def export(
    state: AppState,
    out: str,
    show: str | None,
    since: str | None,
    everything: bool,
    target: str | None,
    originals: bool,
) -> None:
    """Write a signed bundle of programmes another station may take in.

    Only episodes listeners may already have whose licence lets them travel (CC BY,
    BY-SA, BY-NC - between non-commercial community stations - and CC0); never all rights
    reserved, no licence, pending or refused consent, drafts, deleted or taken down. A name
    ending in .radio or .tar makes one tar file; any other name, a folder. By default only
    the listening copies travel (--renditions-only); --with-originals adds the originals.
    A second export to the same target carries only what the first did not, or what
    changed since (an edit, a correction, a redaction), and tells it which episodes it had
    may not be passed on any more (--all: everything again).

    Example: radio export --show morning-talk -o /media/usb/radio-maendeleo.radio
    """
    from radio.jobs.exchange import export_bundle

    done = export_bundle(
        state.db,
        state.app.config,
        out,
        show=show,
        since=since,
        with_originals=originals is True,
        target=target,
        everything=everything,
    )
    if done.path is None:
        click.echo(f"Nothing new or changed to export for {done.target}; no bundle written.")
    else:
        changed = f" ({len(done.updated)} changed since sent)" if done.updated else ""
        count = len(done.guids)
        what = f"{count} episode" if count == 1 else f"{count} episodes"
        click.echo(f"Exported {what}{changed} to {done.path} (for {done.target}).")
    if done.withdrawn:
        click.echo(
            f"Withdrawn: {len(done.withdrawn)} sent before that may not be passed on any more "
            "(taken down, consent withdrawn, private or relicensed); the bundle tells "
            f"{done.target} to take them down."
        )
    if done.no_licence or done.reserved:
        click.echo(
            f"Kept home: {done.no_licence} without a licence, {done.reserved} all rights "
            "reserved (set a licence on the edit page to share them)."
        )


@click.command("import", cls=ArchiveCommand)
@click.argument("bundle", type=click.Path(exists=True))
@click.option("--trust", metavar="FINGERPRINT", help="Refuse the bundle unless this key signed it.")
@click.option("--draft", is_flag=True, help="Add the episodes as drafts, for an editor to publish.")
@pass_state
def import_(state: AppState, bundle: str, trust: str | None, draft: bool) -> None:
    """Take in another station's bundle: its signature and every file are checked first.

    Adds the episodes this archive lacks (by GUID and by the original's content hash),
    ready and public (--draft: drafts), with their licence and the source station's name.
    Episodes it brought before and changed since are updated (its station's version wins,
    unless redacted or taken down here); those it withdrew are taken down.

    Example: radio import /media/usb/radio-maendeleo.radio --trust "1a2b 3c4d ..."
    """
    from radio.jobs.exchange_import import import_bundle

    _report(import_bundle(state.db, state.app.config, bundle, trust=trust, draft=draft))


@click.command("sync", cls=ArchiveCommand)
@click.option("--from", "source", required=True, help="The other archive, http://HOST:5000.")
@click.option("--show", help="Only this show (its slug on the other archive).")
@click.option("--trust", metavar="FINGERPRINT", help="Refuse it unless this key signed it.")
@click.option("--draft", is_flag=True, help="Add the episodes as drafts, for an editor to publish.")
@pass_state
def sync(state: AppState, source: str, show: str | None, trust: str | None, draft: bool) -> None:
    """Take in what another archive on the network shares, as `radio import` does.

    Downloads are resumable: run the same command again after a broken link and it
    continues where it stopped. What came from that archive (any show) and may not be
    passed on any more (taken down, consent withdrawn, relicensed) is taken down here.

    Example: radio sync --from http://192.168.1.20:5000 --show morning-talk
    """
    from radio.jobs.exchange_sync import sync_from

    done = sync_from(state.db, state.app.config, source, show=show, trust=trust, draft=draft)
    moved = done.transfer
    resumed = f", {len(moved.resumed)} continued" if moved.resumed else ""
    click.echo(f"Downloaded {moved.downloaded_bytes / 1e6:.1f} MB{resumed}.")
    _report(done.imported)


def _report(done: ImportResult) -> None:
    click.echo(f"Bundle from {done.station}, signed by the key {done.fingerprint}.")
    if not done.key_known:
        click.secho(
            "This key is new here: compare its fingerprint with the one on that station's "
            "About page (/about) before trusting it; --trust FINGERPRINT requires it next time.",
            fg="yellow",
        )
    click.echo(
        f"Imported {len(done.added)}, already here {len(done.skipped)}, "
        f"refused {len(done.refused)}."
    )
    if done.updated or done.withdrawn:
        click.echo(
            f"Updated {len(done.updated)} changed by their station since; "
            f"took down {len(done.withdrawn)} their station withdrew."
        )
    for guid, why in done.refused.items():
        click.echo(f"  refused {guid}: {why}")
    for guid, why in done.skipped.items():
        if why not in ("guid", "content"):  # changed there, but kept as it is here
            click.echo(f"  not updated {guid}: {why}")


COMMANDS = (export, import_, sync)
