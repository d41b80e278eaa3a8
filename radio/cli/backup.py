"""``radio backup``, ``radio restore`` and ``radio verify``: copies that can be trusted, and
checks that say what is wrong; and the report of ``radio status --health`` (``radio.upkeep``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.config import defaults, resolve_home
from radio.db import DatabaseError


@click.command(cls=ArchiveCommand)
@click.argument("dest", required=False, type=click.Path(file_okay=False))
@click.option("--keep", type=click.IntRange(min=1), help="Then keep only the newest N backups.")
@pass_state
def backup(state: AppState, dest: str | None, keep: int | None) -> None:
    """Back up the archive into DEST (a USB disk, another machine's share) while it runs.

    Databases through SQLite's online backup, every original, rendition and setting, and a
    manifest with the sha256 of each file. Incremental: files already in DEST are not
    copied again. Each backup is a snapshot folder in DEST/snapshots; DEST/latest names the
    newest; --keep N removes older ones (and the files only they held). Without DEST: the
    backup_dir setting.

    Example: radio backup /media/usb/radio-backup
    """
    from radio.upkeep.backup import run_backup
    from radio.upkeep.schedule import schedule_settings

    app = state.app
    if dest is None:
        settings = schedule_settings(app.config)
        if settings is None:
            raise click.UsageError("Say where to back up to (DEST), or set backup_dir.")
        dest = str(settings[0])
    done = run_backup(state.data_folder, dest, keep)
    click.echo(
        f"Backup {done.snapshot} in {done.path}: {done.files} files, {done.copied_files} new "
        f"({done.copied_bytes / 1e6:.1f} MB copied)."
    )
    for rel in done.missing:
        click.secho(
            f"Not in the backup: {rel} (the database refers to it, but it was gone)",
            fg="yellow",
            err=True,
        )


@click.command(cls=ArchiveCommand)
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--snapshot", help="Which snapshot (a folder name in SRC/snapshots); default: latest."
)
@pass_state
def restore(state: AppState, src: str, snapshot: str | None) -> None:
    """Restore a backup into an empty data folder (--home), checking every file's hash.

    Example: radio --home /srv/radio-new restore /media/usb/radio-backup
    """
    from radio.upkeep.restore import restore as restore_snapshot

    home = resolve_home(state.home)  # not state.app: that would make a new, empty archive
    done = restore_snapshot(src, home, snapshot)
    click.echo(
        f"Restored snapshot {done.snapshot} into {home}: {done.files} files, "
        f"{done.bytes / 1e6:.1f} MB, every hash checked."
    )


@click.command(cls=ArchiveCommand)
@click.option(
    "--backup",
    "dest",
    type=click.Path(exists=True, file_okay=False),
    help="Check this backup folder instead of the data folder.",
)
@click.option("--snapshot", help="With --backup: only this snapshot (default: all).")
@pass_state
def verify(state: AppState, dest: str | None, snapshot: str | None) -> None:
    """Check every file against its recorded sha256 and every database's integrity.

    The data folder: every file the database refers to exists, originals match their
    names, other files match the last backup's manifest. A backup folder: every snapshot,
    its databases and every stored file. Exit status 1 with each problem on its own line.

    Example: radio verify --backup /media/usb/radio-backup
    """
    from radio.upkeep.verify import verify_backup, verify_home

    if dest:
        report, what = verify_backup(dest, snapshot), Path(dest)
    else:
        home = resolve_home(state.home)
        report, what = verify_home(home), home
    for note in report.notes:
        click.echo(f"note: {note}")
    for problem in report.problems:
        click.secho(str(problem), fg="red", err=True)
    if not report.ok:
        click.secho(f"{len(report.problems)} problems in {what}.", fg="red", err=True)
        raise SystemExit(1)
    click.echo(f"{what}: {report.checked} files checked, all databases intact; all is well.")


def print_health(state: AppState, as_json: bool) -> None:
    """``radio status --health``: what /health says, and the backup's details; exit 1 when
    unhealthy."""
    from radio.upkeep import health

    try:
        config: Any = state.app.config
    except (OSError, DatabaseError):  # a data folder that can't be written: report, not crash
        config = {**defaults(), "HOME": str(resolve_home(state.home))}
    report = health.check(config)
    data = report.full()
    if as_json:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    else:
        database = "writable" if report.database_problem is None else report.database_problem
        backup = data["last_backup"]
        lines = [
            ("status", click.style(data["status"], fg="green" if report.ok else "red")),
            ("database", database),
            ("disk free", f"{data['disk_free_mb']} MB (at least {data['disk_min_free_mb']} MB)"),
            ("queue", str(data["queue_depth"] if data["queue_depth"] is not None else "unknown")),
            ("worker", "running" if data["worker_alive"] else "not running"),
            ("backup", _backup_line(backup) if backup else "none yet"),
        ]
        for label, value in lines:
            click.echo(f"  {label + ':':<10} {value}")
        for line in [*data["problems"], *data["warnings"]]:
            click.echo(f"  ! {line}")
    if not report.ok:
        raise SystemExit(1)


def _backup_line(backup: dict[str, Any]) -> str:
    if backup["result"] != "ok":
        return f"{backup['at']} failed, into {backup['dest']}: {backup['error']}"
    return f"{backup['at']} ok, snapshot {backup['snapshot']} in {backup['dest']}"


COMMANDS = [backup, restore, verify]
