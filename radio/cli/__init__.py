"""The ``radio`` command: thin over ingest, pipeline and tasks (house style)."""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

import click
from flask import Flask

from radio.cli.common import clock, lookup
from radio.config import ConfigError
from radio.data.episodes import Episode, get_episode, list_episodes
from radio.data.renditions import renditions
from radio.data.transcripts import segment_count
from radio.db import connect, database_path, home_of
from radio.jobs import pipeline, tasks
from radio.jobs.ingest import IngestError, Limits, Metadata, ingest_file
from radio.media import audio, clips, store

logger = logging.getLogger(__name__)


class AppState:
    """Builds the app once per command, after --home is known."""

    def __init__(self, home: str | None) -> None:
        self.home = home
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            from radio import create_app

            try:
                self._app = create_app(home=self.home)
            except ConfigError as e:
                raise click.ClickException(str(e)) from e
        return self._app

    def db(self):  # noqa: ANN201 - sqlite_utils.Database
        return connect(database_path(self.app))


pass_state = click.make_pass_decorator(AppState)


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="RADIO_HOME",
    help="Data folder (database, media, queue). Default: ~/.local/share/radio-archive.",
)
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="radio-archive")
@click.pass_context
def main(ctx: click.Context, home: str | None, verbose: int) -> None:
    """The community radio archive: ingest, transcribe, search and publish recordings.

    Example: radio ingest show.mp3 --show "Morning Talk" --wait
    """
    level = logging.WARNING - 10 * verbose
    logging.basicConfig(
        level=max(level, logging.DEBUG), format="%(levelname)s %(name)s: %(message)s"
    )
    ctx.obj = AppState(home)


@main.command()
@pass_state
def init(state: AppState) -> None:
    """Create the data folder and database (commands also do this on first use).

    Example: radio --home /srv/radio init
    """
    app = state.app
    click.echo(f"Archive ready in {app.config['HOME']}")


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--show", help='Show the recording belongs to, e.g. "Morning Talk".')
@click.option("--title", help="Episode title (default: from the file name).")
@click.option("--description", default="", help="Episode description.")
@click.option("--recorded-at", help="Recording date, YYYY-MM-DD or YYYY-MM-DDTHH:MM.")
@click.option("--language", help="Language code hint for transcription, e.g. en, es, sw.")
@click.option("--speakers", help='Names for a two-party call, left channel first: "Amina,Joseph".')
@click.option("--visibility", type=click.Choice(["public", "draft", "private"]), default="public")
@click.option("--wait", is_flag=True, help="Process now and return when ready (exit 1 if failed).")
@pass_state
def ingest(state: AppState, files: tuple[str, ...], wait: bool, **options: Any) -> None:
    """Take recordings into the archive.

    Example: radio ingest show.mp3 --show "Morning Talk" --title "Water committee"
    --recorded-at 2026-11-02 --wait
    """
    app = state.app
    speakers = tuple(s.strip() for s in (options.pop("speakers") or "").split(",") if s.strip())
    meta = Metadata(speakers=speakers, **options)
    db = state.db()
    failures = 0
    for name in files:
        try:
            result = _ingest_one(app, db, Path(name), meta, queue=not wait)
        except IngestError as e:
            click.secho(f"Refused {e}", fg="red", err=True)
            failures += 1
            continue
        verb = "Added" if result.created else "Already in the archive:"
        click.echo(f"{verb} {name} as episode {result.episode_id} ({result.guid})")
        if wait:
            status = _process_with_bar(app, db, result.episode_id)
            _print_episode(db, get_episode(db, result.episode_id))
            failures += status != "ready"
    if failures:
        raise SystemExit(1)


def _ingest_one(app: Flask, db, path: Path, meta: Metadata, queue: bool):  # noqa: ANN001, ANN202
    size = path.stat().st_size if path.is_file() else 0
    with click.progressbar(length=size, label=f"Storing {path.name}", file=sys.stderr) as bar:
        return ingest_file(
            db,
            app.config["HOME"],
            path,
            meta,
            Limits.from_config(app.config),
            enqueue=(lambda eid: tasks.enqueue(eid, app)) if queue else None,
            progress=bar.update,
        )


def _process_with_bar(app: Flask, db, episode_id: int) -> str:  # noqa: ANN001
    """Run the pipeline in a thread and show its progress, polled from the database."""
    outcome: dict[str, str] = {}
    worker = threading.Thread(
        target=lambda: outcome.setdefault("status", tasks.run_episode(app, episode_id)),
        daemon=True,
    )
    worker.start()
    with click.progressbar(length=1000, label="Processing", file=sys.stderr) as bar:
        shown = 0
        while worker.is_alive():
            worker.join(0.5)
            row = get_episode(db, episode_id)
            target = int((row.progress or 0) * 1000)
            if target > shown:
                bar.update(target - shown)
                shown = target
        bar.update(1000 - shown)
    return outcome.get("status", "failed")


def _episode_summary(db, row: Episode) -> dict[str, Any]:  # noqa: ANN001
    keys = (
        "id",
        "guid",
        "title",
        "status",
        "step",
        "progress",
        "error",
        "duration",
        "recorded_at",
        "published_at",
        "language",
        "visibility",
        "loudness_before",
        "true_peak_before",
        "loudness_after",
        "true_peak_after",
        "source_path",
    )
    summary = {key: getattr(row, key) for key in keys}
    summary["renditions"] = renditions(db, row.id)
    summary["segments"] = segment_count(db, row.id)
    return summary


def _print_episode(db, row: Episode) -> None:  # noqa: ANN001
    s = _episode_summary(db, row)
    color = {"ready": "green", "failed": "red"}.get(s["status"], "yellow")
    click.echo(f"Episode {s['id']}  {s['title']}")
    click.echo("  status:   " + click.style(s["status"], fg=color) + _progress_text(s))
    if s["error"]:
        click.echo(f"  error:    {s['error']}")
    if s["duration"]:
        click.echo(f"  duration: {clock(s['duration'])}")
    if s["loudness_before"] is not None and s["loudness_after"] is not None:
        click.echo(
            f"  loudness: {s['loudness_before']:.1f} LUFS -> {s['loudness_after']:.1f} LUFS, "
            f"true peak {s['true_peak_after']:.1f} dBTP"
        )
    for r in s["renditions"]:
        click.echo(
            f"  {r['kind']:<5} {r['bitrate'] // 1000} kbps  {r['bytes'] / 1e6:.2f} MB  "
            f"{store.media_root(home_of(db)) / r['path']}"
        )


def _progress_text(s: dict[str, Any]) -> str:
    if s["status"] != "processing":
        return ""
    return f" ({s['step']}, {100 * (s['progress'] or 0):.0f}%)"


@main.command()
@click.argument("episode", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=50, show_default=True, help="How many episodes to list.")
@pass_state
def status(state: AppState, episode: str | None, as_json: bool, limit: int) -> None:
    """Show one episode's processing state, or list the latest episodes.

    Example: radio status 12 --json
    """
    db = state.db()
    rows = [lookup(db, episode)] if episode else list_episodes(db, limit=limit)
    if as_json:
        data = [_episode_summary(db, row) for row in rows]
        click.echo(json.dumps(data[0] if episode else data, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No episodes yet. Add one with: radio ingest FILE")
    for row in rows:
        _print_episode(db, row)


@main.command()
@click.argument("episode")
@click.option("--wait", is_flag=True, help="Process now instead of queueing.")
@pass_state
def retry(state: AppState, episode: str, wait: bool) -> None:
    """Run a failed episode's unfinished steps again.

    Example: radio retry 12 --wait
    """
    app = state.app
    db = state.db()
    row = lookup(db, episode)
    pipeline.retry(db, row.id)
    if wait:
        outcome = _process_with_bar(app, db, row.id)
        _print_episode(db, get_episode(db, row.id))
        if outcome != "ready":
            raise SystemExit(1)
    else:
        tasks.enqueue(row.id, app)
        click.echo(f"Episode {row.id} queued again.")


def parse_clock(value: str) -> float:
    """'12:30', '1:02:03', '75' or '75.5' -> seconds."""
    try:
        parts = [float(p) for p in value.split(":")]
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time; use mm:ss or hh:mm:ss.") from None
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


@main.command()
@click.argument("episode")
@click.option("--from", "start", required=True, help="Start, mm:ss or hh:mm:ss.")
@click.option("--to", "end", required=True, help="End, mm:ss or hh:mm:ss.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="File to write (.mp3, .opus, .m4a, .wav).",
)
@pass_state
def clip(state: AppState, episode: str, start: str, end: str, output: str) -> None:
    """Cut a short clip with a fade in and out, to share on a messaging app.

    Example: radio clip 12 --from 12:30 --to 13:45 -o clip.mp3
    """
    db = state.db()
    row = lookup(db, episode)
    home = home_of(db)
    mp3 = [r for r in renditions(db, row.id) if r["kind"] == "mp3"]
    # The normalised rendition sounds like the feed; the original serves before it exists.
    source = store.resolve(home, mp3[0]["path"] if mp3 else row.source_path)
    try:
        path = clips.make_clip(source, Path(output), parse_clock(start), parse_clock(end))
    except audio.AudioError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Wrote {path} ({path.stat().st_size / 1024:.0f} KB)")


@main.command()
@click.option("--workers", default=1, show_default=True, help="Episodes processed at once.")
@pass_state
def worker(state: AppState, workers: int) -> None:
    """Process queued episodes until stopped (Ctrl-C); run several to scale out.

    Example: radio worker --workers 2
    """
    app = state.app
    click.echo(f"Worker for {app.config['HOME']} started; Ctrl-C stops it.")
    tasks.run_worker(app, workers)


@main.command()
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, help="Port to listen on.")
@click.option("--no-worker", is_flag=True, help="Don't process episodes in this process.")
@click.option("--threads", default=8, show_default=True, help="Web server threads.")
@click.option("--no-qr", is_flag=True, help="Don't print the QR code.")
@pass_state
def serve(
    state: AppState, host: str, port: int, no_worker: bool, threads: int, no_qr: bool
) -> None:
    """Serve the archive on the local network, with a worker in the same process.

    Prints the addresses phones on the same Wi-Fi can open, and a QR code for the first.

    Example: radio serve --port 8080
    """
    import tempfile

    from radio.web import lan as net

    app = state.app
    if not os.environ.get("TMPDIR"):
        # Uploads are spooled to disk while they arrive; keep them on the archive's disk,
        # not in a /tmp that may live in memory.
        tempfile.tempdir = str(store.media_root(app.config["HOME"]) / "incoming")
    if not no_worker:
        tasks.start_in_process(app, int(app.config.get("WORKERS") or 1))
    urls = net.urls(host, port)
    click.echo(f"Archive data: {app.config['HOME']}")
    click.echo("Open the archive on this network at:")
    for url in urls:
        click.echo(f"  {url}")
    if urls and not no_qr:
        click.echo(f"Scan with a phone to open {urls[0]}")
        click.echo(net.qr_text(urls[0]), nl=False)
    click.echo("Ctrl-C stops the archive.")
    make_server(app, host, port, threads).run()


SEND_BUFFER = 1024 * 1024


def server_options(app: Flask, host: str, port: int, threads: int) -> dict[str, Any]:
    """waitress settings: uploads up to the archive's limit (plus form overhead), and large
    socket writes so media goes out in few system calls."""
    return {
        "host": host,
        "port": port,
        "threads": threads,
        "ident": "radio",
        "max_request_body_size": int(app.config["MAX_CONTENT_LENGTH"]) + 16 * 1024 * 1024,
        "outbuf_overflow": 16 * 1024 * 1024,
        "outbuf_high_watermark": 64 * 1024 * 1024,
        "channel_timeout": 300,
    }


def make_server(app: Flask, host: str, port: int, threads: int) -> Any:
    """The waitress server ``radio serve`` runs (tests and the web bench run the same)."""
    from waitress.server import create_server

    server = create_server(app, **server_options(app, host, port, threads))
    # waitress reads a file in pieces the size of the socket's send buffer: a large buffer
    # sends media in a few big writes instead of many 16 KB ones.
    server.adj.socket_options = [
        *server.adj.socket_options,
        (socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER),
    ]
    return server


def _register_commands() -> None:
    """Commands kept in modules of their own, so this one stays readable."""
    from radio.cli import search as cli_search
    from radio.cli import topics as cli_topics
    from radio.cli import users as cli_users

    for module in (cli_search, cli_topics, cli_users):
        for command in module.COMMANDS:
            main.add_command(command)


_register_commands()
