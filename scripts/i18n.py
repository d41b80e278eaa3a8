"""The interface's catalogs (#15): extract, update, compile.

    python scripts/i18n.py            # all three steps

1. ``pybabel extract`` of radio/ (Python and templates, babel.cfg) into
   ``radio/translations/messages.pot``; the keywords cover flask_babel's ``gettext``,
   ``lazy_gettext``, ``ngettext`` and radio.i18n's ``_`` and ``ngettext``.
2. ``pybabel update`` (or ``init``, the first time) of each locale's ``messages.po``: new
   messages arrive with an empty translation, changed ones are marked fuzzy.
3. ``pybabel compile`` of each ``.po`` into the ``.mo`` the archive reads (fuzzy entries
   are left out of it, so a draft needing review shows English, never a wrong text).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from radio.i18n import CATALOGS, DOMAIN, LOCALES  # noqa: E402

POT = CATALOGS / f"{DOMAIN}.pot"
KEYWORDS = ["_", "gettext", "lazy_gettext", "ngettext:1,2", "lazy_ngettext:1,2", "gettext_now"]


def pybabel(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", *args], check=True, cwd=ROOT)


def extract() -> None:
    CATALOGS.mkdir(exist_ok=True)
    keywords = [arg for k in KEYWORDS for arg in ("-k", k)]
    pybabel(
        "extract", "-F", "babel.cfg", "--no-location", "--sort-by-file",
        "--project", "radio-archive", *keywords, "-o", str(POT), ".",
    )  # fmt: skip


def update() -> None:
    for locale in LOCALES:
        po = CATALOGS / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
        if po.exists():
            pybabel("update", "-i", str(POT), "-d", str(CATALOGS), "-l", locale, "--no-wrap")
        else:
            pybabel("init", "-i", str(POT), "-d", str(CATALOGS), "-l", locale, "--no-wrap")


def compile_all() -> None:
    pybabel("compile", "-d", str(CATALOGS), "--statistics")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args()
    extract()
    update()
    compile_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
