"""The request flows of #16 in a real browser (Debian's Chromium through Playwright, a 360 px
phone) against a real served archive with its worker:

1. an editor uploads a real clip in which Amina agreed to be heard, publicly; once it is
   processed its item is in the feed; the receipt shown after the upload opens with no
   login, consent is withdrawn there, and the item is gone from /feeds/all.xml and the
   episode page is a 404 for a listener;
2. a listener suggests a correction from an episode page, an editor accepts it in the
   queue, search finds the corrected words and the receipt shows the change and the
   accepted suggestion;
3. words selected in the transcript of a real recording: the share dialog offers
   "Suggest a correction" at that moment (static/share.js), which opens on that segment.

Screenshots go to test-output/browser/requests-*.png."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from radio import create_app
from radio.data import consent, receipts
from radio.db import connect, database_path, transaction, utcnow
from radio.jobs import tasks
from tests.archive import Seeder
from tests.browser import ARGS, CHROMIUM, PHONE, SHOTS, launched_browser
from tests.conftest import clip, require, settings
from tests.webserver import add_account, live_server

PROCESSING_TIMEOUT_S = 180

pytestmark = pytest.mark.slow


@pytest.fixture
def app(tmp_path):  # noqa: ANN001, ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    made = create_app(settings(tmp_path / "home", SECRET_KEY="requests"))
    add_account(made, "amina", "editor")
    return made


@pytest.fixture
def server(app):  # noqa: ANN001, ANN201
    with live_server(app) as live:
        tasks.start_in_process(app)
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


def log_in(page, url: str) -> None:  # noqa: ANN001
    page.goto(f"{url}/login")
    page.fill("input[name=name]", "amina")
    page.fill("input[name=password]", "correct horse")
    page.locator("form button").last.click()
    page.wait_for_url(re.compile(r".*/$"))


def feed(server) -> str:  # noqa: ANN001
    status, _headers, body = server.request("GET", "/feeds/all.xml")
    assert status == 200
    return body.decode()


def test_withdrawing_consent_on_the_receipt_takes_the_item_out_of_the_feed(server, browser):
    editor = browser.new_context(**PHONE)
    page = editor.new_page()
    log_in(page, server.url)
    page.goto(f"{server.url}/upload")
    page.set_input_files("input[name=files]", str(clip("jfk.flac")))
    page.fill("input[name=title]", "Moon speech")
    heard = page.locator("#who-is-heard")
    heard.locator("input[name=participant_name]").nth(0).fill("Amina")
    heard.locator("select[name=participant_consent]").nth(0).select_option("yes")
    page.select_option("select[name=visibility]", "public")
    page.get_by_role("button", name="Upload", exact=True).click()
    link = page.locator(".receipt-link a")
    link.wait_for(timeout=60_000)
    url = link.get_attribute("href")
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/receipts/[A-Za-z0-9_-]{32}", url), url
    editor.close()

    contributor = browser.new_context(**PHONE)  # the receipt needs no login
    receipt = contributor.new_page()
    receipt.goto(url)
    for _look in range(PROCESSING_TIMEOUT_S):  # the worker processes it meanwhile
        if receipt.locator(".receipt-published").count():
            break
        receipt.wait_for_timeout(1000)
        receipt.reload()
    episode_link = receipt.locator(".receipt-published + ul a").first.get_attribute("href")
    guid = episode_link.rsplit("/", 1)[-1]
    assert f"/episodes/{guid}" in feed(server)  # published: in the feed

    receipt.locator("#withdraw summary").click()
    receipt.select_option("#withdraw-who", "")  # everyone heard
    receipt.fill("#withdraw-message", "Amina changed her mind.")
    receipt.screenshot(path=str(SHOTS / "requests-withdraw-form.png"), full_page=True)
    receipt.get_by_role("button", name="Withdraw consent now").click()
    receipt.wait_for_url(re.compile(r".*#requests$"))
    text = receipt.locator("main").inner_text()
    assert "Consent withdrawn: listeners can no longer hear this recording." in text
    assert "Consent withdrawn for everyone heard, through the receipt" in text
    assert "Not published." in text and "Amina refused" in text
    assert receipt.evaluate("document.documentElement.scrollWidth") <= 360
    receipt.screenshot(path=str(SHOTS / "requests-withdrawn.png"), full_page=True)
    contributor.close()

    assert f"/episodes/{guid}" not in feed(server)  # gone from the very next feed
    listener = browser.new_context(**PHONE)
    response = listener.new_page().goto(f"{server.url}/episodes/{guid}")
    assert response.status == 404
    listener.close()


def published_with_receipt(app) -> tuple[str, str]:  # noqa: ANN001
    """A public, transcribed episode in which Joseph agreed, and its receipt's token."""
    db = connect(database_path(app))
    try:
        episode_id = Seeder(app, db).episode(
            "Borehole meeting",
            [
                (0.0, 4.0, "the borehole by the school is dry"),
                (4.0, 8.0, "we need a new pump before the rains"),
                (8.0, 12.0, "thank you all for coming"),
            ],
            duration=12.0,
        )
        consent.set_participants(db, episode_id, [consent.Participant("Joseph", "yes")], None)
        token = receipts.new_token()
        with transaction(db) as conn:
            receipts.add_receipt(conn, episode_id, token, utcnow())
        return db["episodes"].get(episode_id)["guid"], token
    finally:
        db.conn.close()


def test_a_listeners_correction_accepted_by_an_editor_is_found_and_on_the_receipt(
    app, server, browser
):
    guid, token = published_with_receipt(app)
    listener = browser.new_context(**PHONE)
    page = listener.new_page()
    page.goto(f"{server.url}/episodes/{quote(guid)}")
    page.get_by_role("link", name="Suggest a correction").click()
    page.get_by_role("link", name="0:04").click()  # the neighbour that is wrong
    assert page.locator("#correct-text").input_value() == "we need a new pump before the rains"
    page.fill("#correct-text", "we need a new hand pump before the rains")
    page.fill("#correct-note", "I was at the meeting.")
    page.screenshot(path=str(SHOTS / "requests-correct.png"), full_page=True)
    page.get_by_role("button", name="Send the correction").click()
    assert "Thank you: an editor will look at your correction." in page.locator("main").inner_text()
    listener.close()

    editor = browser.new_context(**PHONE)
    queue = editor.new_page()
    log_in(queue, server.url)
    queue.goto(f"{server.url}/admin/requests")
    item = queue.locator("article.request.open").first
    assert item.locator("ins").inner_text() == "hand"
    assert "I was at the meeting." in item.inner_text()
    item.locator("textarea[name=answer]").first.fill("Thank you for listening closely.")
    queue.screenshot(path=str(SHOTS / "requests-queue.png"), full_page=True)
    item.get_by_role("button", name="Accept").click()
    assert "Accepted request" in queue.locator("main").inner_text()
    assert queue.evaluate("document.documentElement.scrollWidth") <= 360
    editor.close()

    stranger = browser.new_context(**PHONE)
    found = stranger.new_page()
    found.goto(f"{server.url}/search?q=%22hand+pump%22")
    results = found.locator("ol.results").inner_text()
    assert "Borehole meeting" in results and "hand pump" in results
    found.goto(f"{server.url}/receipts/{token}")
    text = found.locator("main").inner_text()
    assert "Corrected the transcript." in text
    assert "we need a new hand pump before the rains" in text
    assert "A listener suggested a correction of the transcript at 0:04." in text
    assert (
        "Accepted: the suggested correction at 0:04 was made. "
        "Answer: Thank you for listening closely."
    ) in text
    found.screenshot(path=str(SHOTS / "requests-receipt.png"), full_page=True)
    stranger.close()


def test_the_share_dialog_offers_a_correction_at_the_selected_moment(app, server, browser):
    from radio.data import transcripts
    from tests.archive import as_segment
    from tests.test_web_share_browser import word_at

    db = connect(database_path(app))
    try:
        episode = Seeder(app, db).recording(clip("jfk.flac"), title="Moon speech")
        said = [(0.0, 4.0, "And so my fellow Americans,"), (4.0, 8.0, "ask not what your country")]
        transcripts.add_segments(db, episode.id, [as_segment(s) for s in said], 0)
    finally:
        db.conn.close()
    listener = browser.new_context(**PHONE)
    page = listener.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{server.url}/episodes/{episode.guid}")
    page.wait_for_selector("#share-bar:not([hidden])")
    x, y = word_at(page, 1, "country")
    page.mouse.dblclick(x, y)
    page.click("#share-selection")
    page.locator("#share-dialog").wait_for(state="visible")
    fix = page.locator("#share-dialog .share-suggest a")
    assert fix.inner_text() == "Suggest a correction"
    assert fix.get_attribute("href") == f"/episodes/{episode.guid}/correct?t=4"
    fix.click()
    assert page.locator("#correct-text").input_value() == "ask not what your country"
    assert errors == []
    listener.close()
