"""``radio init``, ``radio serve`` and ``radio worker``: the archive's long-running processes,
and the waitress server ``serve`` runs (tests and the web bench run the same one)."""

from __future__ import annotations

import gc
import socket
from typing import Any

import click
from flask import Flask

from radio.cli.common import AppState, pass_state
from radio.cli.errors import ArchiveCommand
from radio.db import database_path
from radio.jobs import tasks, watch
from radio.media import store
from radio.upkeep.logs import configure_logging
from radio.upkeep.schedule import start_scheduled_backups
from radio.upkeep.trash import start_trash_schedule
from radio.web import lan

# waitress reads a file in pieces the size of the socket's send buffer: a large buffer
# sends media in a few big writes instead of many 16 KB ones.
SEND_BUFFER = 1024 * 1024


@click.command(cls=ArchiveCommand)
@pass_state
def init(state: AppState) -> None:
    """Create the data folder and database (commands also do this on first use).

    Example: radio --home /srv/radio init
    """
    click.echo(f"Archive ready in {state.data_folder}")


@click.command(cls=ArchiveCommand)
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
    app = state.app
    configure_logging(app.config["HOME"])
    store.sweep_partials(app.config["HOME"])  # what an upload cut by a crash left
    if not no_worker:
        tasks.start_in_process(app, int(app.config.get("WORKERS") or 1))
    start_scheduled_backups(app)
    start_trash_schedule(app.config, database_path(app))  # empties old trash daily
    watch.start_watching(app)
    urls = lan.urls(host, port)
    click.echo(f"Archive data: {state.data_folder}")
    click.echo("Open the archive on this network at:")
    for url in urls:
        click.echo(f"  {url}")
    if urls and not no_qr:
        click.echo(f"Scan with a phone to open {urls[0]}")
        click.echo(lan.qr_text(urls[0]), nl=False)
    click.echo("Ctrl-C stops the archive.")
    make_server(app, host, port, threads).run()


@click.command(cls=ArchiveCommand)
@click.option("--workers", default=1, show_default=True, help="Episodes processed at once.")
@click.option(
    "--archive",
    metavar="URL",
    help="Work for the archive at URL, over HTTP, "
    "with no shared folder (--home is then this worker's own scratch folder).",
)
@click.option("--token", envvar="RADIO_WORKER_TOKEN", help="The token from "
              "`radio worker-token add` on the archive (with --archive).")  # fmt: skip
@pass_state
def worker(state: AppState, workers: int, archive: str | None, token: str | None) -> None:
    """Process queued episodes until stopped (Ctrl-C); run several to scale out.

    With --archive, work for an archive on another machine over HTTP, with no shared
    folder: RADIO_QUEUE_URL names the archive's Redis queue, --home this worker's own
    scratch folder.

    Example: radio worker --workers 2
    """
    configure_logging(state.app.config["HOME"])
    if archive:
        if not token:
            raise click.UsageError("--archive needs --token (from `radio worker-token add`).")
        from radio.jobs import remote  # the HTTP client and its loop, only for this mode

        click.echo(f"Worker for {archive} (scratch folder {state.data_folder}); Ctrl-C stops it.")
        remote.run(state.app, archive, token, workers)
        return
    click.echo(f"Worker for {state.data_folder} started; Ctrl-C stops it.")
    tasks.run_worker(state.app, workers)


def server_options(app: Flask, host: str, port: int, threads: int) -> dict[str, Any]:
    """waitress settings: uploads up to the archive's limit (plus form overhead), large
    socket writes so media goes out in few system calls, and connection slots that idle or
    slow clients can't hold for long: a connection quiet for ``CHANNEL_TIMEOUT`` seconds (30;
    a keep-alive socket with no request, or a request whose promised body stopped coming)
    is closed, checked every few seconds, and the server takes as many connections as this
    process may open files for, up to 1,000 (``radio.web.http.slots`` closes idle and slow
    ones first when it fills up, and caps what one address may hold)."""
    import resource

    timeout = int(app.config.get("CHANNEL_TIMEOUT") or 30)
    # half of the files this process may open (the rest: databases, open media, logs)
    files, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    slots = 1000 if files == resource.RLIM_INFINITY else max(100, min(1000, files // 2))
    return {
        "host": host,
        "port": port,
        "threads": threads,
        "ident": "radio",
        "max_request_body_size": int(app.config["MAX_CONTENT_LENGTH"]) + 16 * 1024 * 1024,
        "outbuf_overflow": 16 * 1024 * 1024,
        "outbuf_high_watermark": 64 * 1024 * 1024,
        "channel_timeout": timeout,
        "cleanup_interval": max(1, min(5, timeout // 2)),
        "connection_limit": slots,
    }


def make_server(app: Flask, host: str, port: int, threads: int) -> Any:
    """The waitress server ``radio serve`` runs (tests and the web bench run the same)."""
    from radio.web.http.slots import create_server  # waitress's, with a guard on slots

    server = create_server(app, **server_options(app, host, port, threads))
    server.adj.socket_options = [
        *server.adj.socket_options,
        (socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER),
    ]
    # Everything made while starting (modules, routes, templates: ~85,000 objects) is never
    # garbage; frozen, a full collection no longer walks it: 2-3 ms instead of 20-30 ms,
    # which landed on whichever request allocated the object that triggered it.
    gc.collect()
    gc.freeze()
    return server


COMMANDS = [init, serve, worker]
