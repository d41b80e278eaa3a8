"""Two archives for the exchange tests (#17): a source station's archive with real processed
recordings, built once per test module and copied for each test, and empty receivers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlite_utils

from radio import create_app
from radio.data.consent import Consent, Participant
from radio.db import connect
from tests.conftest import Runner, clip, settings
from tests.webserver import add_episode

SOURCE = "Radio Alpha"
RECEIVER = "Radio Beta"
SHARED = ("LJ001-0001.wav", "LJ001-0002.wav")  # CC BY, everyone agreed: they travel


def make_home(home: Path, station: str) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'station_name = "{station}"\ntranscribe = false\n')
    return home


def build_source(home: Path) -> Path:
    """Two shareable episodes (transcribed by tiny.en), one whose participant hasn't said yes
    and one all rights reserved: those two must never leave."""
    make_home(home, SOURCE)
    app = create_app(settings(home, STATION_NAME=SOURCE, TRANSCRIBE=True))
    for name in SHARED:
        add_episode(app, clip(name), show="Morning Talk", licence="cc-by", title=name[:-4])
    add_episode(
        app,
        clip("LJ001-0003.wav"),
        show="Morning Talk",
        licence="cc-by",
        title="Waiting for consent",
        participants=[Participant("Joseph", Consent.PENDING)],
    )
    add_episode(app, clip("LJ001-0004.wav"), licence="all-rights-reserved", title="Reserved")
    return home


def copy_home(built: Path, dest: Path) -> Path:
    shutil.copytree(built, dest, ignore=shutil.ignore_patterns("logs"))
    return dest


def database(home: Path) -> sqlite_utils.Database:
    return connect(home / "archive.db")


def episodes_by_guid(home: Path) -> dict[str, dict]:
    db = database(home)
    try:
        return {row["guid"]: row for row in db.query("select * from episodes")}
    finally:
        db.conn.close()


# The fixtures each exchange test module imports: the source built once per module, a copy
# of it and an empty receiver for each test.


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_source(tmp_path_factory.mktemp("alpha") / "home")


@pytest.fixture
def alpha(built: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Runner:
    monkeypatch.delenv("RADIO_HOME", raising=False)
    monkeypatch.setenv("RADIO_TRANSCRIBE", "false")
    return Runner(copy_home(built, tmp_path / "alpha"))


@pytest.fixture
def beta(tmp_path: Path) -> Runner:
    return Runner(make_home(tmp_path / "beta", RECEIVER))
