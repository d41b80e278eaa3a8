"""Debian's Chromium through Playwright, for the browser tests: one way to launch it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "browser"
# Switches for a quiet headless run (no first-run screens, no network of its own), and a
# phone's window.
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def launched_browser(args: Iterable[str]) -> Iterator[Any]:
    """A headless Chromium with these command-line switches, closed when the test module
    is done (module fixtures ``yield from`` it); screenshots go to ``SHOTS``."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=list(args))
        yield browser
        browser.close()
