"""The drop folder: recordings copied into a folder become episodes once they are complete.

``radio watch DIR``, or ``watch_dir`` in config.toml for ``radio serve``::

    DIR/
      .radio.toml        defaults for the files here: show, language, licence, visibility,
                         description, participants (["Amina=yes", "anonymous=pending"])
      water.mp3          -> DIR/done/water.mp3 once it is an episode, with
                            DIR/done/water.mp3.receipt.txt: its receipt link (#16)
      notes.txt          -> DIR/failed/notes.txt, and DIR/failed/notes.txt.error.txt saying
                            why and what to do
      Morning Talk/      a show's folder: its files become episodes of "Morning Talk"; its
        .radio.toml      own settings override DIR's; it has its own done/ and failed/
        call.wav

A file is taken only once it has stopped changing (the same size and modification time
at two looks in a row) and decodes to its end, so a half-copied file is never taken in;
one that stays unchanged but still doesn't decode to its end is given ``settle_polls``
looks (a copy may stall) and then refused with the reason. Hidden files and the temporary
names copy tools use (``.part``, ``.crdownload``, ``.tmp``...) are left alone. Files are
taken in by ``radio.jobs.ingest.ingest_file`` (the same checks as every upload); the file
is moved only after its episode exists, so a crash in between takes it again as a
duplicate and moves it then. A full disk leaves files where they are until there is room.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask import Flask

from radio.data import consent, fields, receipts
from radio.data.errors import DataError
from radio.db import connect, database_path
from radio.jobs import tasks
from radio.jobs.errors import IngestError, JobError
from radio.jobs.ingest import IngestResult, Limits, Metadata, ingest_file
from radio.media import store
from radio.media.errors import MediaError, is_disk_full

logger = logging.getLogger(__name__)

SETTINGS = ".radio.toml"
DONE, FAILED = "done", "failed"
POLL_SECONDS = 5.0
SETTLE_POLLS = 12  # looks at an unchanged file that won't decode to its end, then refused
_COPYING = (".part", ".partial", ".crdownload", ".download", ".tmp", ".temp", "~")
_COPYING += (".error.txt", ".receipt.txt")  # the archive's own notes
_KEYS = ("show", "language", "licence", "visibility", "description", "participants")

Take = Callable[[Path, Metadata], IngestResult]


class DropFolderError(JobError):
    """The drop folder or its settings can't be used; the message says which file and why."""


@dataclass(frozen=True)
class Settings:
    """The defaults for the files of one folder."""

    show: str | None = None
    language: str | None = None
    licence: str | None = None
    visibility: str = "public"
    description: str = ""
    participants: tuple[consent.Participant, ...] = ()  # who is heard in each file here

    def metadata(self) -> Metadata:
        return Metadata(
            show=self.show,
            language=self.language,
            licence=self.licence,
            visibility=self.visibility,
            description=self.description,
            participants=self.participants,
        )


@dataclass(frozen=True)
class Outcome:
    """What became of one file: an episode (``episode_id``), or refused (``error``)."""

    source: Path
    moved_to: Path
    episode_id: int | None = None
    created: bool = False
    error: str | None = None


@dataclass
class _Seen:
    key: tuple[int, int]  # size, modification time (ns)
    unchanged: int = 0  # looks since it last changed
    decodes: bool | None = None  # for this key; None: not checked yet


def read_settings(folder: Path, inherited: Settings) -> Settings:
    """``inherited`` with what ``folder/.radio.toml`` says; DropFolderError if it can't be
    read or has a key the archive doesn't know (a misspelt ``visibility`` must not publish)."""
    path = folder / SETTINGS
    if not path.is_file():
        return inherited
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise DropFolderError(f"{path} can't be read ({e}). Fix it.") from None
    data = {key.lower(): value for key, value in data.items()}
    if "license" in data:
        data["licence"] = data.pop("license")
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise DropFolderError(
            f"{path} has settings the archive doesn't know: {', '.join(unknown)}. "
            f"It takes {', '.join(_KEYS)}."
        )
    if "participants" in data:
        data["participants"] = _participants(path, data["participants"])
    wrong = [
        key for key, value in data.items() if key != "participants" and not isinstance(value, str)
    ]
    if wrong:
        raise DropFolderError(f'{path}: write {", ".join(wrong)} as text in quotes, e.g. "en".')
    if data.get("licence"):
        try:
            data["licence"] = fields.licence(data["licence"])
        except fields.FieldError as e:
            raise DropFolderError(f"{path}: {e}") from None
    return dataclasses.replace(inherited, **data)


def _participants(path: Path, value: object) -> tuple[consent.Participant, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DropFolderError(
            f'{path}: write participants as a list of text, ["Amina=yes", "anonymous=pending"].'
        )
    try:
        return tuple(consent.parse_list(value))
    except consent.ConsentError as e:
        raise DropFolderError(f"{path}: {e}") from None


class DropFolder:
    """One drop folder; ``poll`` takes one look and deals with what is complete."""

    def __init__(
        self,
        root: Path,
        take: Take,
        *,
        settle_polls: int = SETTLE_POLLS,
        base_url: str | None = None,  # BASE_URL, for the receipt links written in done/
    ) -> None:
        self.root = Path(root)
        self.base_url = base_url
        self.take = take
        self.settle_polls = settle_polls
        self._seen: dict[Path, _Seen] = {}

    def poll(self) -> list[Outcome]:
        if not self.root.is_dir():  # a USB stick pulled out, a share gone
            raise DropFolderError(f"The drop folder {self.root} is gone; is its disk there?")
        outcomes: list[Outcome] = []
        looked: set[Path] = set()
        for folder, settings in self._folders():
            for path in _candidates(folder):
                looked.add(path)
                if self._complete(path):
                    outcome = self._take(path, settings)
                    if outcome is not None:
                        outcomes.append(outcome)
                    self._seen.pop(path, None)
        for gone in set(self._seen) - looked:
            del self._seen[gone]
        return outcomes

    def waiting(self) -> list[Path]:
        """Files seen but not taken yet (still changing, or not decoding to their end)."""
        return sorted(self._seen)

    def _folders(self) -> Iterator[tuple[Path, Settings | DropFolderError]]:
        try:
            top: Settings | DropFolderError = read_settings(self.root, Settings())
        except DropFolderError as e:
            top = e
        yield self.root, top
        for sub in sorted(p for p in self.root.iterdir() if p.is_dir()):
            if sub.name.startswith(".") or sub.name in (DONE, FAILED):
                continue
            if isinstance(top, DropFolderError):
                yield sub, top
                continue
            try:
                yield sub, read_settings(sub, dataclasses.replace(top, show=sub.name))
            except DropFolderError as e:
                yield sub, e

    def _complete(self, path: Path) -> bool:
        """Unchanged since the last look, and decoding to its end (or given up waiting)."""
        try:
            info = path.stat()
        except FileNotFoundError:
            return False
        key = (info.st_size, info.st_mtime_ns)
        seen = self._seen.get(path)
        if seen is None or seen.key != key:
            self._seen[path] = _Seen(key)
            return False
        seen.unchanged += 1
        if seen.decodes is None:
            seen.decodes = decodes_to_end(path)
        if not seen.decodes and seen.unchanged < self.settle_polls:
            logger.debug("%s doesn't decode to its end yet; waiting", path)
            return False
        return True

    def _take(self, path: Path, settings: Settings | DropFolderError) -> Outcome | None:
        if isinstance(settings, DropFolderError):
            return _refuse(path, str(settings), fix="fix the settings file")
        try:
            result = self.take(path, settings.metadata())
        except Exception as e:
            if is_disk_full(e):
                logger.warning("drop folder: %s waits for room on the disk: %s", path, e)
                return None
            return _refuse(path, _reason(e))
        moved = _move(path, path.parent / DONE)
        verb = "added" if result.created else "already in the archive"
        logger.info("drop folder: %s %s as episode %s", path, verb, result.episode_id)
        if result.receipt_token:
            _write_receipt(moved, receipts.receipt_url(self.base_url, result.receipt_token))
        return Outcome(path, moved, result.episode_id, result.created)


def _reason(error: Exception) -> str:
    if isinstance(error, IngestError):
        return error.reason
    if isinstance(error, JobError | MediaError | DataError):
        return str(error)
    logger.exception("drop folder: taking a file in failed")
    return "an unexpected error stopped it; the archive's log has the details."


def decodes_to_end(path: Path) -> bool:
    """True when ``path`` is audio that decodes at its start and at its end."""
    from radio.media import audio, integrity  # PyAV only once there is a file to look at

    try:
        integrity.check_decodes(path, audio.probe(path))
    except MediaError:
        return False
    return True


def _candidates(folder: Path) -> list[Path]:
    try:
        entries = list(folder.iterdir())
    except FileNotFoundError:
        return []
    return sorted(
        p
        for p in entries
        if not p.name.startswith(".") and not p.name.lower().endswith(_COPYING) and p.is_file()
    )


def _refuse(
    path: Path, reason: str, fix: str = "fix the file (or export or copy it again)"
) -> Outcome | None:
    if not path.exists():  # moved or deleted by someone meanwhile: nothing to do
        return None
    failed = path.parent / FAILED
    failed.mkdir(exist_ok=True)
    dest = _free_name(failed, path.name)
    _write_atomically(dest.with_name(dest.name + ".error.txt"), _explain(path, reason, fix))
    os.replace(path, dest)
    logger.warning("drop folder: refused %s: %s", path, reason)
    return Outcome(path, dest, error=reason)


def _explain(path: Path, reason: str, fix: str) -> str:
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    return (
        f'"{path.name}" was not added to the archive ({when}).\n\n'
        f"Why: {reason}\n\n"
        f"What to do: {fix}, then move it back into\n"
        f'"{path.parent}" and the archive will try again. A file that is not a\n'
        "recording can be deleted, with this note.\n"
    )


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    dest = _free_name(folder, path.name)
    try:
        os.replace(path, dest)
    except FileNotFoundError:  # someone moved it meanwhile; its episode exists all the same
        return path
    return dest


def _free_name(folder: Path, name: str) -> Path:
    """``folder/name``, or ``name (2).ext``... when that is taken."""
    dest = folder / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 2
    while dest.exists() or dest.with_name(dest.name + ".error.txt").exists():
        dest = folder / f"{stem} ({n}){suffix}"
        n += 1
    return dest


def _write_receipt(moved: Path, url: str) -> None:
    """``NAME.receipt.txt`` next to the file in done/: the link to give its contributor."""
    when = datetime.now().strftime("%Y-%m-%d %H:%M")
    _write_atomically(
        moved.with_name(moved.name + ".receipt.txt"),
        f'"{moved.name}" was added to the archive ({when}).\n\n'
        f"Receipt: {url}\n\n"
        "Give this link to whoever made the recording: it shows what happens to it\n"
        "(processing, publication, edits, who agreed to be heard). Anyone with the link\n"
        "can read it; the archive keeps only a fingerprint of it, so keep this file.\n",
    )


def _write_atomically(path: Path, text: str) -> None:
    part = path.with_name(f".{path.name}.{os.getpid()}.part")
    part.write_text(text, encoding="utf-8")
    os.replace(part, path)


def ingester(app: Flask) -> Take:
    """Take a file in as ``radio ingest`` does, queued for the worker, with a database
    connection of its own (the watcher runs in a thread of its own)."""
    home, limits = app.config["HOME"], Limits.from_config(app.config)

    def take(path: Path, meta: Metadata) -> IngestResult:
        db = connect(database_path(app))
        try:
            enqueue = lambda episode_id: tasks.enqueue(episode_id, app)  # noqa: E731
            return ingest_file(db, home, path, meta, limits, enqueue=enqueue)
        finally:
            db.conn.close()

    return take


def drop_folder(app: Flask, folder: str | Path) -> DropFolder:
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise DropFolderError(f"The drop folder {path} doesn't exist; create it or fix the path.")
    return DropFolder(path, ingester(app), base_url=app.config.get("BASE_URL"))


class Watching(threading.Thread):
    """A drop folder looked at every ``interval`` seconds until ``stop``."""

    def __init__(self, drop: DropFolder, interval: float) -> None:
        super().__init__(name="radio-watch", daemon=True)
        self.drop, self.interval = drop, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.drop.poll()
            except Exception:  # a folder gone for a moment (a USB stick): keep watching
                logger.exception("drop folder %s: a look failed", self.drop.root)
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()


def start_watching(app: Flask) -> threading.Thread | None:
    """Watch the ``WATCH_DIR`` of the config in a thread (``radio serve``); None if unset or
    unusable (the server runs on, and the log says why)."""
    folder = app.config.get("WATCH_DIR")
    if not folder:
        return None
    try:
        drop = drop_folder(app, folder)
    except DropFolderError as e:
        logger.error("%s", e)
        return None
    store.sweep_partials(app.config["HOME"])
    watching = Watching(drop, float(app.config.get("WATCH_POLL_SECONDS") or POLL_SECONDS))
    watching.start()
    logger.info("watching the drop folder %s", drop.root)
    return watching
