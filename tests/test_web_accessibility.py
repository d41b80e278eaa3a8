"""axe-core (npm, tests/js) in Chromium: no serious or critical WCAG 2.1 A/AA violation on
the home, episode, search, upload and edit pages, at 360 px and 1280 px (#15).

axe.min.js is injected into each page from tests/js/node_modules (the page's
Content-Security-Policy allows only the archive's own scripts, so Playwright adds it with
CSP bypassed for the test's context). The archive is the one the pages' browser tests
build: the station's logo and accent, a real recording with peaks and chapters.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import require
from tests.test_web_pages_browser import (
    CHROMIUM,
    RARE_WORD,
    VIEWPORTS,
    browser,  # noqa: F401 - a fixture
    log_in,
    station,  # noqa: F401 - a fixture
)

AXE = Path(__file__).resolve().parent / "js" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}

pytestmark = pytest.mark.slow


def pages(facts: dict) -> dict[str, tuple[str, bool]]:
    """Name -> (path, needs a login)."""
    guid = facts["guid"]
    return {
        "home": ("/", False),
        "episode": (f"/episodes/{guid}?t={facts['said_at']}", False),
        "search": (f"/search?q={RARE_WORD}", False),
        "upload": ("/upload", True),
        "edit": (f"/episodes/{guid}/edit", True),
    }


def axe_violations(page) -> list[dict]:  # noqa: ANN001
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document,"
        " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        WCAG_AA,
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:5],
            "summary": v["nodes"][0].get("failureSummary", "") if v["nodes"] else "",
        }
        for v in result["violations"]
    ]


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_no_serious_or_critical_violations(station, browser, device):  # noqa: F811
    require(AXE.exists(), "axe-core (cd tests/js && npm ci)")
    context = browser.new_context(bypass_csp=True, **VIEWPORTS[device])
    page = context.new_page()
    found: dict[str, list[dict]] = {}
    logged_in = False
    for name, (path, login) in pages(station.facts).items():
        if login and not logged_in:
            log_in(page, station.url)
            logged_in = True
        page.goto(station.url + path)
        page.wait_for_load_state("networkidle")
        blocking = [v for v in axe_violations(page) if v["impact"] in BLOCKING]
        if blocking:
            found[name] = blocking
    assert found == {}, json.dumps(found, indent=1)
    context.close()


def test_axe_finds_what_it_should(station, browser):  # noqa: F811
    """The check itself works: a button with no name and grey on grey are found."""
    require(AXE.exists(), "axe-core (cd tests/js && npm ci)")
    context = browser.new_context(bypass_csp=True, **VIEWPORTS["desktop"])
    page = context.new_page()
    page.goto(station.url + "/")
    page.evaluate(
        """() => { const b = document.createElement('button'); document.body.appendChild(b);
        const p = document.createElement('p'); p.textContent = 'Faint';
        p.style.color = '#bbb'; p.style.background = '#fff'; document.body.appendChild(p); }"""
    )
    ids = {v["id"] for v in axe_violations(page)}
    assert {"button-name", "color-contrast"} <= ids, ids
    assert CHROMIUM.exists()
    context.close()
