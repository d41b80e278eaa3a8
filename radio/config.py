"""Configuration defaults, the data folder and the config file."""

from __future__ import annotations

import os
import secrets
import tomllib
from pathlib import Path
from typing import Any

from transcription.scripts import CHINESE_SCRIPTS
from transcription.taxonomy import Taxonomy, load_default_taxonomy, load_taxonomy

TAXONOMY_FILE = "taxonomy.toml"


class ConfigError(Exception):
    """The configuration cannot be used; the message says which setting and why."""


def default_home() -> Path:
    """Where the archive keeps its data when neither RADIO_HOME nor --home says."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "radio-archive"


def defaults() -> dict[str, Any]:
    return {
        "HOME": None,  # the data folder; see resolve_home
        "SECRET_KEY": None,  # generated once into the data folder, see prepare_home
        "STATION_NAME": "Community Radio Archive",
        "BASE_URL": None,
        "MAX_DURATION_HOURS": 6.0,
        "MIN_DURATION_SECONDS": 1.0,
        "MAX_UPLOAD_MB": 2048,
        "TARGET_LUFS": -16.0,
        "MAX_TRUE_PEAK_DBTP": -1.0,
        "MP3_BITRATE": 48_000,
        "OPUS_BITRATE": 24_000,
        # AAC in M4A, the data saver iPhones play (#14). FFmpeg's encoder runs about 8% over
        # what it is asked, M4A's index adds 3%: 22 kbps lands near 10.7 MB an hour of speech,
        # under the 11 MB goal (bench/renditions.py)
        "AAC_BITRATE": 22_000,
        "WHISPER_MODEL": None,  # a CTranslate2 Whisper folder; None: the best one installed
        "WHISPER_THREADS": 0,  # 0: let CTranslate2 use every core
        "TRANSCRIBE": True,
        "QUEUE_URL": None,  # redis://host:6379/0 to share one queue between machines
        "WORKERS": 1,
        "LEASE_SECONDS": 120,
        "FEED_LIMIT": 300,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "TOPIC_THRESHOLD": 0.05,  # share of a 90 s window's words about a topic to tag it
        "KEYPHRASE_TAGS": 5,
        "CHAPTER_MIN_SECONDS": 60,
        "CHAPTER_PENALTY": 2.5,
        "FEED_OWNER_EMAIL": None,  # podcast:locked needs an owner for apps to honour it
        "FEED_LOCKED": True,
        "FEED_IMAGE_URL": None,
        "FEED_CATEGORY": "Society & Culture",
        "CHINESE_SCRIPT": "simplified",  # or traditional; empty: as the model writes it
        "BACKUP_DIR": None,  # where `radio serve` keeps scheduled backups; None: no schedule
        "BACKUP_EVERY_HOURS": 24.0,
        "BACKUP_KEEP": None,  # scheduled backups kept (the newest); None: all
        "WATCH_DIR": None,  # a drop folder `radio serve` ingests from; None: none
        "WATCH_POLL_SECONDS": 5.0,
        "CHANNEL_TIMEOUT": 30,  # seconds a quiet connection may hold a slot of the server
        "MIN_FREE_MB": 200,  # room kept free on the data folder's disk beyond a new file
        "LICENCE": None,  # for recordings taken in without one (after their show's); None: none
        "COVER_IMAGE": None,  # a JPEG or PNG put into every listening file; relative to HOME
        "TRASH_DAYS": 30,  # deleted episodes kept in the trash this long; 0: removed at once
        "LOGO": None,  # a PNG, JPEG or SVG shown on every page; relative to HOME (web/station.py)
        "ACCENT_COLOUR": None,  # a CSS colour (#b3261e); darkened to AA contrast if needed
        "TIMEZONE": "UTC",  # the station's IANA zone (Africa/Nairobi): scheduled publishing
        "LANGUAGE": "en",  # the interface's language when the browser asks for none we have
        "CONTACT": None,  # whom to ask, named by the policy page: text or an email address
    }


def resolve_home(value: str | os.PathLike[str] | None) -> Path:
    return Path(value).expanduser().resolve() if value else default_home()


def load_file(path: Path) -> dict[str, Any]:
    """Read config.toml; keys are case-insensitive (``max_duration_hours``)."""
    if not path.exists():
        return {}
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}. Fix that line and start again.") from e
    return {key.upper(): value for key, value in data.items()}


def prepare_home(home: Path) -> None:
    """Create the data folder layout; nothing here ever deletes."""
    for sub in ("media/originals", "media/episodes", "media/incoming", "models", "logs"):
        (home / sub).mkdir(parents=True, exist_ok=True)


def secret_key(home: Path) -> str:
    """The session key, made once and kept in the data folder so logins survive restarts."""
    path = home / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_text(secrets.token_hex(32))
        tmp.chmod(0o600)
        os.replace(tmp, path)
    return path.read_text().strip()


def check(config: dict[str, Any]) -> None:
    """Refuse settings that would break the archive later, with the fix in the message."""
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = secret_key(Path(config["HOME"]))
    for key in ("MAX_DURATION_HOURS", "MIN_DURATION_SECONDS", "MAX_UPLOAD_MB"):
        try:
            config[key] = float(config[key])
        except (TypeError, ValueError) as e:
            raise ConfigError(f"{key} must be a number, not {config[key]!r}.") from e
        if config[key] <= 0:
            raise ConfigError(f"{key} must be above zero, not {config[key]!r}.")
    config["MAX_CONTENT_LENGTH"] = int(config["MAX_UPLOAD_MB"] * 1024 * 1024)
    script = (config.get("CHINESE_SCRIPT") or "").strip().lower()
    if script not in ("", *CHINESE_SCRIPTS):
        raise ConfigError(
            f"CHINESE_SCRIPT must be simplified or traditional (or empty), not {script!r}."
        )
    config["CHINESE_SCRIPT"] = script or None
    check_timezone(config)
    check_language(config)
    # LICENCE is checked in create_app by radio.data.licences (data imports config, not back).
    check_cover_image(config)


def check_timezone(config: dict[str, Any]) -> None:
    """TIMEZONE must name a zone the system knows: schedules are read and shown in it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(config.get("TIMEZONE") or "UTC").strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as e:
        raise ConfigError(
            f"TIMEZONE must be an IANA time zone such as Africa/Nairobi or America/La_Paz, "
            f"not {name!r}."
        ) from e
    config["TIMEZONE"] = name


def check_language(config: dict[str, Any]) -> None:
    """LANGUAGE must be one of the interface's languages (radio.i18n.LOCALES)."""
    from radio.i18n import LOCALES

    code = str(config.get("LANGUAGE") or "en").strip().lower().replace("_", "-")
    if code not in LOCALES:
        raise ConfigError(
            f"LANGUAGE must be one of the interface's languages ({', '.join(LOCALES)}), "
            f"not {config.get('LANGUAGE')!r}."
        )
    config["LANGUAGE"] = code


MAX_COVER_BYTES = 512 * 1024  # it goes into every file: a big one would weigh on data savers


def check_cover_image(config: dict[str, Any]) -> None:
    """COVER_IMAGE, when set, must be a JPEG or PNG of at most MAX_COVER_BYTES."""
    name = config.get("COVER_IMAGE")
    if not name:
        return
    path = Path(config["HOME"]) / Path(str(name)).expanduser()
    try:
        with path.open("rb") as f:
            head, size = f.read(8), os.fstat(f.fileno()).st_size
    except OSError as e:
        raise ConfigError(f"COVER_IMAGE {path} can't be read ({e.strerror}).") from e
    if not (head.startswith(b"\xff\xd8\xff") or head == b"\x89PNG\r\n\x1a\n"):
        raise ConfigError(f"COVER_IMAGE {path} must be a JPEG or PNG file.")
    if size > MAX_COVER_BYTES:
        raise ConfigError(
            f"COVER_IMAGE {path} is {size // 1024} KB; it goes into every listening file, so "
            f"keep it under {MAX_COVER_BYTES // 1024} KB (a 600x600 JPEG is about 60 KB)."
        )


_taxonomies: dict[tuple[str, bytes] | None, Taxonomy] = {}


def load_station_taxonomy(home: str | Path) -> Taxonomy:
    """The data folder's ``taxonomy.toml`` if there is one, else the shipped default:
    parsed once for each content of the file (every topic page shows it; reading a few
    kilobytes takes microseconds, parsing them milliseconds), so an edit is seen at once."""
    path = Path(home) / TAXONOMY_FILE
    try:
        key: tuple[str, bytes] | None = (str(path), path.read_bytes())
    except FileNotFoundError:
        key = None
    found = _taxonomies.get(key)
    if found is None:
        found = load_taxonomy(path) if key is not None else load_default_taxonomy()
        if len(_taxonomies) > 16:  # one data folder per process, but tests make many
            _taxonomies.clear()
        _taxonomies[key] = found
    return found
