"""The episode on every log line of its processing, and a rotating log file that several
processes share (``radio.upkeep.logs``)."""

from __future__ import annotations

import logging
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from radio import create_app
from radio.db import connect, database_path
from radio.jobs import tasks
from radio.upkeep.logs import (
    LOG_FILE,
    SharedRotatingFileHandler,
    configure_logging,
    episode_context,
)
from tests.archive import Seeder
from tests.conftest import clip, settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def logged(home: Path) -> Iterator[Path]:
    """configure_logging on this test's data folder, undone afterwards."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    before = {h: (h.level, list(h.filters)) for h in handlers}
    handler = configure_logging(home, logging.DEBUG)
    yield home / LOG_FILE
    root.removeHandler(handler)
    handler.close()
    root.setLevel(level)
    for h, (handler_level, filters) in before.items():
        h.setLevel(handler_level)
        h.filters[:] = filters


def test_every_line_of_an_episodes_processing_carries_its_id(logged: Path, home: Path):
    app = create_app(settings(home, TRANSCRIBE=True))  # tiny.en on a 2 s clip
    db = connect(database_path(app))
    try:
        episode = Seeder(app, db).recording(clip("LJ001-0008.wav"), process=False)
        before = logged.stat().st_size
        tasks.run_episode(app, episode.id)
    finally:
        db.conn.close()
    with logged.open(encoding="utf-8") as f:
        f.seek(before)
        lines = [line for line in f.read().splitlines() if line.strip()]
    loggers = {re.search(r" \d+ (\S+) \[episode", line).group(1) for line in lines}
    assert all(f"[episode {episode.id}]:" in line for line in lines), lines
    # the media code, the transcriber and faster-whisper itself, not only the pipeline
    assert {"radio.media.renditions", "transcription.transcribe", "faster_whisper"} <= loggers
    logging.getLogger("radio.test").warning("after the episode")
    assert logged.read_text().splitlines()[-1].endswith("radio.test: after the episode")


def test_the_episode_is_a_field_of_each_record_and_nests(logged: Path):
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    from radio.upkeep.logs import add_episode_filter

    add_episode_filter(handler)
    try:
        log = logging.getLogger("radio.test")
        with episode_context(7):
            log.info("outer")
            with episode_context(8):
                log.info("inner")
            log.info("outer again")
        log.info("none")
    finally:
        logging.getLogger().removeHandler(handler)
    assert [(r.getMessage(), r.episode_id) for r in records] == [
        ("outer", 7),
        ("inner", 8),
        ("outer again", 7),
        ("none", None),
    ]


WRITER = """
import logging, os, sys, time
from radio.upkeep.logs import SharedRotatingFileHandler
handler = SharedRotatingFileHandler(sys.argv[1], max_bytes=20_000, backup_count=10)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("w")
log.addHandler(handler)
log.setLevel(logging.INFO)
open(sys.argv[3] + "." + sys.argv[2], "w").close()  # ready
while not os.path.exists(sys.argv[3]):  # both start writing together
    time.sleep(0.001)
for i in range(3000):
    log.info("%s line %05d %s", sys.argv[2], i, "x" * 40)
"""


def test_two_processes_share_one_rotating_file_keeping_the_newest_lines(tmp_path: Path):
    path, go = tmp_path / "logs" / "radio.log", tmp_path / "go"
    path.parent.mkdir()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(go)], cwd=ROOT)
        for name in ("serve", "worker")
    ]
    while not all((tmp_path / f"go.{name}").exists() for name in ("serve", "worker")):
        assert all(w.poll() is None for w in writers)
        time.sleep(0.01)
    go.touch()
    assert [w.wait(60) for w in writers] == [0, 0]
    files = [f for f in path.parent.glob("radio.log*") if not f.name.endswith(".lock")]
    files.sort(key=lambda f: -int(f.suffix[1:]) if f.suffix[1:].isdigit() else 0)  # oldest first
    assert [f.name for f in files] == [f"radio.log.{n}" for n in range(10, 0, -1)] + ["radio.log"]
    lines = [line for f in files for line in f.read_text().splitlines()]
    # ten files hold more than one writer wrote: each one's newest lines are all there, in
    # order, down to its last (none went into a file the other had rotated away)
    for name in ("serve", "worker"):
        kept = [int(line.split()[2]) for line in lines if line.startswith(name)]
        assert kept == list(range(3000 - len(kept), 3000)) and len(kept) > 100
    assert all(f.stat().st_size <= 20_000 for f in files)


def test_a_process_writes_on_into_the_file_another_has_rotated_to(tmp_path: Path):
    """Two handlers on one file, as in two processes: after one rotates, the other's next
    line goes to the new radio.log, not into the renamed (or deleted) old one."""
    path = tmp_path / "radio.log"
    first, second = (SharedRotatingFileHandler(path, 1000, 2) for _ in range(2))
    try:
        record = logging.LogRecord("radio", logging.INFO, __file__, 1, "%s", None, None)
        second.emit(_with(record, "second, before"))
        for i in range(60):  # about 3 KB: the first handler rotates, and old files go
            first.emit(_with(record, f"first {i:02d} " + "x" * 40))
        second.emit(_with(record, "second, after"))
    finally:
        first.close()
        second.close()
    assert path.read_text().splitlines()[-1] == "second, after"
    assert all(f.stat().st_size <= 1000 for f in tmp_path.glob("radio.log*"))


def _with(record: logging.LogRecord, message: str) -> logging.LogRecord:
    return logging.makeLogRecord({**record.__dict__, "args": (message,)})


def test_configuring_twice_adds_no_second_file_handler(logged: Path, home: Path):
    again = configure_logging(home)
    files = [h for h in logging.getLogger().handlers if getattr(h, "baseFilename", None)]
    assert [h.baseFilename for h in files].count(str(logged.resolve())) == 1
    assert again in files
