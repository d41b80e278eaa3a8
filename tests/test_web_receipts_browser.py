"""A contribution's receipt in a real browser (Debian's Chromium through Playwright) on a
360 px phone (#16): an uploader sends a recording in which Joseph's consent is pending, is
shown the receipt link, and the link opens with no login in a fresh browser, saying it was
received and is not published because Joseph's consent is pending. Screenshots go to
test-output/browser/receipt-*.png."""

from __future__ import annotations

import re

import pytest

from radio import create_app
from radio.jobs import tasks
from tests.browser import ARGS, CHROMIUM, PHONE, SHOTS, launched_browser
from tests.conftest import clip, require, settings
from tests.webserver import add_account, live_server

PROCESSING_TIMEOUT_S = 180

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path):  # noqa: ANN001, ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    app = create_app(settings(tmp_path / "home", SECRET_KEY="receipt"))
    add_account(app, "joseph", "uploader")
    with live_server(app) as live:
        tasks.start_in_process(app)
        yield live


@pytest.fixture
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


def test_an_uploader_gets_a_receipt_that_opens_without_a_login(server, browser):
    uploader = browser.new_context(**PHONE)
    page = uploader.new_page()
    page.goto(f"{server.url}/login")
    page.fill("input[name=name]", "joseph")
    page.fill("input[name=password]", "correct horse")
    page.locator("form button").last.click()
    page.goto(f"{server.url}/upload")
    page.set_input_files("input[name=files]", str(clip("jfk.flac")))
    page.fill("input[name=title]", "Borehole meeting")
    heard = page.locator("#who-is-heard")
    heard.locator("input[name=participant_name]").nth(0).fill("Joseph")
    heard.locator("select[name=participant_consent]").nth(0).select_option("pending")
    page.screenshot(path=str(SHOTS / "receipt-upload-form.png"), full_page=True)
    page.get_by_role("button", name="Upload", exact=True).click()

    link = page.locator(".receipt-link a")
    link.wait_for(timeout=60_000)
    url = link.get_attribute("href")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/receipts/[A-Za-z0-9_-]{32}", url), url
    assert page.locator(".receipt-link svg.qr").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    page.screenshot(path=str(SHOTS / "receipt-upload-answer.png"), full_page=True)
    uploader.close()

    stranger = browser.new_context(**PHONE)  # no cookie, no login
    receipt = stranger.new_page()
    response = receipt.goto(url)
    assert response.status == 200
    assert response.headers["cache-control"] == "private, no-store"
    for _look in range(PROCESSING_TIMEOUT_S):  # the worker processes it meanwhile
        if receipt.locator(".receipt-processed").count():
            break
        receipt.wait_for_timeout(1000)
        receipt.reload()
    assert "Listening copy MP3" in receipt.locator(".receipt-processed").inner_text()
    text = receipt.locator("main").inner_text()
    assert "The archive received jfk.flac" in text
    assert "Not published." in text
    assert "Joseph's consent is pending: when Joseph agrees, mark it yes on the edit page." in (
        text.replace("\u2019", "'")
    )
    assert "Log out" not in text and "Borehole meeting" in text
    assert receipt.evaluate("document.documentElement.scrollWidth") <= 360
    receipt.screenshot(path=str(SHOTS / "receipt-page.png"), full_page=True)
    stranger.close()
