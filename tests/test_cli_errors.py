"""The ``radio`` command's edge: every command under it, errors as messages, one connection
per invocation closed at the end, no globals written, no audio code loaded to serve."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from feeds import FeedError
from radio.cli import AppState, main
from radio.cli.common import pass_state
from radio.cli.errors import ArchiveCommand, ArchiveGroup
from radio.config import ConfigError
from radio.data.episodes import EpisodeNotFound, Visibility
from radio.data.errors import Invalid
from radio.data.users import Role
from radio.jobs.errors import IngestError, StepError
from radio.media.errors import MediaError
from transcription.errors import TranscriptionError

ROOT = Path(__file__).parent.parent
CLI = ROOT / "radio" / "cli"


def walk(
    group: click.Group, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from walk(command, (*path, name))


ALL = list(walk(main))


@pytest.mark.parametrize(("path", "command"), ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_and_subcommand_has_help_with_an_example(runner, path, command):
    result = runner(*path, "--help")
    assert result.exit_code == 0, result.output
    example = next(line for line in result.output.splitlines() if "Example:" in line)
    assert "radio " in example and path[-1] in example, example


@pytest.mark.parametrize(("path", "command"), ALL, ids=[" ".join(p) for p, _ in ALL])
def test_every_command_goes_through_the_error_edge(path, command):
    expected = ArchiveGroup if isinstance(command, click.Group) else ArchiveCommand
    assert isinstance(command, expected), f"radio {' '.join(path)} is a {type(command)}"


def failing(error: Exception) -> click.Command:
    @click.command(cls=ArchiveCommand)
    def fail() -> None:
        """Raises an error. Example: radio fail"""
        raise error

    return fail


@pytest.mark.parametrize(
    "error",
    [
        EpisodeNotFound(42),
        Invalid("Use a date like 2026-11-02."),
        IngestError("readme.wav", "not a recording. Send an audio file."),
        StepError("The model folder is missing; reinstall it."),
        MediaError("The file is truncated; upload it again."),
        TranscriptionError("No Whisper model found; reinstall."),
        ConfigError("MAX_UPLOAD_MB must be a number, not 'lots'."),
        FeedError("A feed needs a title."),
    ],
    ids=lambda e: type(e).__name__,
)
def test_archive_errors_are_a_message_on_stderr_and_exit_1(error):
    result = CliRunner().invoke(failing(error), [])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {error}\n"
    assert result.stdout == ""
    assert type(error).__name__ not in result.output
    assert "Traceback" not in result.output


def test_a_bug_is_not_dressed_as_a_message():
    result = CliRunner().invoke(failing(KeyError("title")), [])
    assert isinstance(result.exception, KeyError)


def test_a_broken_config_file_is_a_message(runner, home):
    home.mkdir(parents=True)
    (home / "config.toml").write_text("max_upload_mb = = 3\n")
    result = runner("init")
    assert result.exit_code == 1
    assert "config.toml is not valid TOML" in result.stderr
    assert "ConfigError" not in result.output and "Traceback" not in result.output


def test_an_invocation_has_one_connection_closed_when_it_ends(home):
    seen = []

    @click.command(cls=ArchiveCommand)
    @pass_state
    def peek(state: AppState) -> None:
        """Example: radio peek"""
        seen.append(state.db)
        assert state.db is seen[0]
        seen[0].execute("select 1")

    result = CliRunner().invoke(peek, [], obj=AppState(str(home)))
    assert result.exit_code == 0, result.output
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        seen[0].execute("select 1")


def test_serve_writes_no_globals(runner, monkeypatch):
    import radio.cli.server as server

    ran = []

    class Server:
        def run(self) -> None:
            ran.append(True)

    monkeypatch.setattr(server, "make_server", lambda *args: Server())
    monkeypatch.delenv("TMPDIR", raising=False)
    tempdir, environ = tempfile.tempdir, dict(os.environ)
    result = runner("serve", "--no-worker", "--no-qr", "--host", "127.0.0.1")
    assert result.exit_code == 0, result.output
    assert ran and tempfile.tempdir == tempdir and dict(os.environ) == environ


def test_choices_are_the_archive_enums():
    def choices(command: click.Command, name: str) -> list[str]:
        param = next(p for p in command.params if p.name == name)
        return list(param.type.choices)

    user = main.commands["user"]
    assert choices(user.commands["add"], "role") == [r.value for r in Role]
    assert choices(user.commands["role"], "role") == [r.value for r in Role]
    assert choices(main.commands["ingest"], "visibility") == [v.value for v in Visibility]


def test_importing_the_command_loads_no_audio_or_speech_code():
    # `radio serve` is the web process: it starts through this package.
    heavy = ("av", "faster_whisper", "ctranslate2", "onnxruntime")
    code = f"import sys, radio.cli; print([m for m in {heavy!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    assert out.strip() == "[]"


def test_the_command_opens_the_database_only_through_app_state():
    # tests/test_architecture.py keeps sqlite3.connect in radio.db; here, within the command,
    # one connection per invocation means AppState (common.py) is the only caller of connect.
    for path in CLI.glob("*.py"):
        source = path.read_text()
        assert "sqlite3" not in source, path
        assert "connect(" not in source or path.name == "common.py", path


def test_python_dash_m_radio_runs_the_command():
    out = subprocess.run(
        [sys.executable, "-m", "radio", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    assert "Example: radio ingest" in out and "serve" in out
