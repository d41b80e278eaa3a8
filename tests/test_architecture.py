"""The house rules (issue #10), so that a change that breaks them fails here, not in review.

- The import contracts in ``pyproject.toml`` ([tool.importlinter]): radio by layer (cli and
  web over jobs, jobs over data and media), transcription and feeds never importing the
  archive or Flask, no import cycles.
- The web process never loads model or audio code: importing the app, building it and
  serving pages leaves faster-whisper, CTranslate2 and PyAV unloaded.
- One way into SQLite, and small modules and functions.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import TINY_EN

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("radio", "transcription", "feeds")
HEAVY = ("faster_whisper", "ctranslate2", "av")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
SCHEMA_FILES = (
    Path("radio/db.py"),
    *sorted(p.relative_to(ROOT) for p in (ROOT / "radio" / "migrations").glob("*.py")),
)


def source_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def test_import_contracts_hold() -> None:
    # In a process of its own: import-linter sets up logging as a command does, which
    # would silence the loggers of the tests that run after it.
    done = subprocess.run(
        [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--no-logo"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


WEB_PROCESS = """
import json, sys
from radio import create_app
app = create_app(json.loads(sys.argv[1]))
client = app.test_client()
statuses = [client.get(path).status_code for path in
            ("/", "/search?q=water", "/topics", "/feeds/all.xml", "/login", "/upload")]
loaded = [m for m in sys.argv[2:] if m in sys.modules]
print(json.dumps({"loaded": loaded, "statuses": statuses}))
"""


def test_the_web_process_loads_no_model_or_audio_code(tmp_path: Path) -> None:
    config = {"HOME": str(tmp_path / "home"), "SECRET_KEY": "t", "WHISPER_MODEL": str(TINY_EN)}
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIO_")}
    done = subprocess.run(
        [sys.executable, "-c", WEB_PROCESS, json.dumps(config), *HEAVY],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["loaded"] == [], f"the web process imported {found['loaded']}"
    assert found["statuses"][:5] == [200, 200, 200, 200, 200]
    assert found["statuses"][5] in (302, 401)  # upload asks a listener to log in


def test_only_radio_db_connects_to_sqlite() -> None:
    offenders = []
    for path in source_files():
        if path == ROOT / "radio" / "db.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr == "connect"
                and isinstance(node.value, ast.Name)
                and node.value.id == "sqlite3"
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == [], "open databases through radio.db.connect"


SQL = re.compile(
    r"\bselect\b.*\bfrom\b|\binsert\s+(or\s+\w+\s+)?into\b|\bupdate\s+\w+\s+set\b|"
    r"\bdelete\s+from\b|\bpragma\b",
    re.IGNORECASE | re.DOTALL,
)


def test_every_sql_statement_lives_in_the_data_layer() -> None:
    """One way into each table: its data/ module (and the schema in radio/migrations/)."""
    offenders = []
    for path in source_files():
        relative = path.relative_to(ROOT)
        if relative.parts[:2] == ("radio", "data") or relative in SCHEMA_FILES:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and SQL.search(node.value) and not _is_docstring_like(node.value):
                offenders.append(f"{relative}:{node.lineno}")
    assert offenders == [], "move these statements into the table's radio/data module"


def _is_docstring_like(text: str) -> bool:
    """Prose that happens to say "select ... from" (a docstring, a message) is not SQL."""
    return text.rstrip().endswith((".", ":", ")")) and "?" not in text


def test_modules_and_functions_stay_small() -> None:
    too_long = []
    for path in source_files():
        text = path.read_text(encoding="utf-8")
        name = str(path.relative_to(ROOT))
        if text.count("\n") > MAX_MODULE_LINES:
            too_long.append(f"{name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                span = node.end_lineno - node.lineno + 1
                if span > MAX_FUNCTION_LINES:
                    too_long.append(f"{name}:{node.lineno} {node.name}() {span} lines")
    assert too_long == [], "split these (house style: modules < 400, functions < 60 lines)"


def test_every_package_is_in_the_wheel() -> None:
    """pyproject.toml lists the packages by name: a new one left out works in the editable
    install the tests use and breaks `pip install .` (radio.upkeep once did)."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(
        tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(init.parent.relative_to(root).parts)
        for top in ("radio", "transcription", "feeds")
        for init in (root / top).rglob("__init__.py")
    }
    assert found - listed == set()
