"""Delete and trash in a real browser (Debian's Chromium through Playwright), on a phone
and a desktop: an admin deletes from the edit page through the confirm step, the trash lists
the episode, listeners get a 404, and Restore brings it back. Screenshots go to
test-output/browser/."""

from __future__ import annotations

import pytest

from radio import create_app
from radio.db import connect, database_path
from tests.archive import Seeder
from tests.browser import launched_browser
from tests.conftest import require, settings
from tests.test_web_browser import ARGS, CHROMIUM, VIEWPORTS, shot
from tests.webserver import add_account, live_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):  # noqa: ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    home = tmp_path_factory.mktemp("trash-browser") / "home"
    app = create_app(settings(home, SECRET_KEY="t"))
    add_account(app, "root", "admin", "correct horse")
    with live_server(app) as live:
        live.app = app
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


def seed_episode(app, title: str) -> str:  # noqa: ANN001
    db = connect(database_path(app))
    try:
        seeder = Seeder(app, db)
        episode_id = seeder.episode(
            title, [(0.0, 4.0, "The committee met about the water point.")], show="Morning talk"
        )
        return db["episodes"].get(episode_id)["guid"]
    finally:
        db.conn.close()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_admin_deletes_through_the_confirm_step_and_restores(server, browser, device):
    base = server.url
    title = f"Water committee ({device})"
    guid = seed_episode(server.app, title)
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "root")
    page.fill("input[name=password]", "correct horse")
    page.click("form.stack button")
    page.goto(f"{base}/episodes/{guid}/edit")
    page.click("text=Delete this episode…")
    page.wait_for_url(f"{base}/episodes/{guid}/delete")
    assert page.locator("h1").inner_text() == f"Delete “{title}”?"
    shot(page, f"{device}-delete-confirm")
    page.click("button:has-text('Move to the trash')")
    page.wait_for_url(f"{base}/admin/trash")
    row = page.locator("table.trash tr", has_text=title)
    assert row.count() == 1
    assert "root" in row.inner_text()
    assert "Moved “" in page.locator(".flash").inner_text()
    width = VIEWPORTS[device]["viewport"]["width"]
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width
    shot(page, f"{device}-trash")

    listener = browser.new_context(**VIEWPORTS[device]).new_page()
    assert listener.goto(f"{base}/episodes/{guid}").status == 404
    assert title not in listener.goto(f"{base}/").text()

    row.get_by_role("button", name=f"Restore {title}").click()
    page.wait_for_url(f"{base}/admin/trash")
    assert page.locator("table.trash tr", has_text=title).count() == 0
    assert listener.goto(f"{base}/episodes/{guid}").status == 200
    listener.context.close()
    assert errors == []
    context.close()
