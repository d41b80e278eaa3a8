from pathlib import Path

import pytest

from radio import create_app
from radio.config import ConfigError


def test_defaults_then_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "station"
    home.mkdir()
    (home / "config.toml").write_text('station_name = "Radio Maendeleo"\nmax_duration_hours = 3\n')
    monkeypatch.setenv("RADIO_HOME", str(home))
    monkeypatch.setenv("RADIO_MAX_DURATION_HOURS", "2")
    app = create_app()
    assert app.config["HOME"] == str(home.resolve())
    assert app.config["STATION_NAME"] == "Radio Maendeleo"  # from the file
    assert app.config["MAX_DURATION_HOURS"] == 2.0  # the environment wins over the file
    assert app.config["TARGET_LUFS"] == -16.0  # default
    for sub in ("media/originals", "media/episodes", "media/incoming", "models"):
        assert (home / sub).is_dir()
    assert (home / "archive.db").exists()


def test_secret_key_is_made_once_and_kept(tmp_path: Path):
    first = create_app({"HOME": str(tmp_path)}).config["SECRET_KEY"]
    second = create_app({"HOME": str(tmp_path)}).config["SECRET_KEY"]
    assert first == second and len(first) == 64


def test_bad_toml_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "config.toml").write_text("max_duration_hours = \n")
    monkeypatch.setenv("RADIO_HOME", str(tmp_path))
    with pytest.raises(ConfigError, match="config.toml is not valid TOML"):
        create_app()


def test_bad_number_is_refused(tmp_path: Path):
    with pytest.raises(ConfigError, match="MAX_DURATION_HOURS must be a number"):
        create_app({"HOME": str(tmp_path), "MAX_DURATION_HOURS": "six"})


def test_home_given_by_the_command_wins_over_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("RADIO_HOME", str(tmp_path / "from-environment"))
    app = create_app(home=str(tmp_path / "from-command"))
    assert app.config["HOME"] == str((tmp_path / "from-command").resolve())
    assert not (tmp_path / "from-environment").exists()


def test_a_test_config_reads_no_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("RADIO_WHISPER_MODEL", "/somewhere/else")
    monkeypatch.setenv("RADIO_STATION_NAME", "Not this one")
    config = create_app({"HOME": str(tmp_path)}).config
    assert config["WHISPER_MODEL"] is None
    assert config["STATION_NAME"] == "Community Radio Archive"


def test_the_chinese_script_is_checked(tmp_path: Path):
    assert create_app({"HOME": str(tmp_path)}).config["CHINESE_SCRIPT"] == "simplified"
    app = create_app({"HOME": str(tmp_path), "CHINESE_SCRIPT": " Traditional "})
    assert app.config["CHINESE_SCRIPT"] == "traditional"
    assert (
        create_app({"HOME": str(tmp_path), "CHINESE_SCRIPT": ""}).config["CHINESE_SCRIPT"] is None
    )
    with pytest.raises(ConfigError, match="CHINESE_SCRIPT must be simplified or traditional"):
        create_app({"HOME": str(tmp_path), "CHINESE_SCRIPT": "pinyin"})


def test_the_station_licence_is_checked_and_kept_as_its_code(tmp_path: Path):
    assert create_app({"HOME": str(tmp_path)}).config["LICENCE"] is None  # none stated
    assert create_app({"HOME": str(tmp_path), "LICENCE": "CC BY-SA"}).config["LICENCE"] == (
        "cc-by-sa"
    )
    assert create_app({"HOME": str(tmp_path), "LICENCE": " "}).config["LICENCE"] is None
    with pytest.raises(ConfigError, match=r"LICENCE must be one of cc-by \(CC BY 4.0\)"):
        create_app({"HOME": str(tmp_path), "LICENCE": "GPL"})
