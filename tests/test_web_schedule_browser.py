"""Publishing on schedule in a real browser (Debian's Chromium through Playwright), at phone
and desktop widths: an editor schedules an episode on its edit page; a listener doesn't see
it; once the archive's clock passes the moment, the listener does. Screenshots go to
test-output/browser/."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from radio import create_app
from radio.db import set_clock
from tests.browser import launched_browser
from tests.conftest import clip, require, settings
from tests.test_web_browser import ARGS, CHROMIUM, SHOTS, VIEWPORTS
from tests.webserver import add_account, add_episode, live_server

pytestmark = pytest.mark.slow

START = datetime(2026, 12, 24, 4, 0, tzinfo=UTC)  # 07:00 in Nairobi


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock():  # noqa: ANN201
    c = Clock()
    set_clock(c)
    yield c
    set_clock(None)


@pytest.fixture
def server(tmp_path, clock):  # noqa: ANN001, ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    app = create_app(settings(tmp_path / "home", TIMEZONE="Africa/Nairobi", SECRET_KEY="s"))
    add_account(app, "amina", "editor")
    with live_server(app) as live:
        live.app = app
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


@pytest.mark.parametrize("width", ["phone", "desktop"])
def test_an_editor_schedules_and_listeners_see_it_from_that_moment(server, browser, clock, width):
    title = f"Christmas message ({width})"
    episode = add_episode(server.app, clip("jfk.flac"), title=title)
    guid = episode["guid"]

    editor = browser.new_context(**VIEWPORTS[width])
    page = editor.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=name]", "amina")
    page.fill("input[name=password]", "correct horse")
    page.locator("form button").last.click()
    page.goto(f"{server.url}/episodes/{guid}/edit#schedule")
    form = page.locator("#schedule")
    form.get_by_label("Date and time (Africa/Nairobi)").fill("2026-12-24T08:00")
    form.get_by_role("button", name="Schedule").click()
    page.wait_for_url("**/edit#schedule")
    note = page.locator(".scheduled-note")
    assert "2026-12-24 08:00 EAT" in note.inner_text()
    page.locator("#schedule").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"schedule-edit-{width}.png"))
    page.goto(f"{server.url}/admin/scheduled")
    assert title in page.locator("main, body").first.inner_text()
    page.screenshot(path=str(SHOTS / f"scheduled-list-{width}.png"), full_page=True)

    listener = browser.new_context(**VIEWPORTS[width])
    look = listener.new_page()
    assert look.goto(f"{server.url}/episodes/{guid}").status == 404
    look.goto(f"{server.url}/")
    assert title not in look.content()
    look.screenshot(path=str(SHOTS / f"schedule-listener-before-{width}.png"))

    clock.now = START + timedelta(hours=1)  # 08:00 in Nairobi: its moment
    look.goto(f"{server.url}/")
    assert title in look.content()
    assert look.goto(f"{server.url}/episodes/{guid}").status == 200
    assert look.locator("h1").first.inner_text() == title
    feed = look.request.get(f"{server.url}/feeds/all.xml").text()
    assert title in feed
    look.screenshot(path=str(SHOTS / f"schedule-listener-after-{width}.png"))
    page.goto(f"{server.url}/admin/scheduled")
    assert title not in page.content()  # gone out: nothing waits any more
    editor.close()
    listener.close()
