"""``/admin/exchange`` in a real browser (Debian's Chromium through Playwright, #17): an
admin chooses a bundle that ``radio export`` made on another archive in this run, sends it,
reads what was added, and the imported episode's page answers; a bundle with one byte
changed is refused with a message that says so and adds nothing. At a phone's width the
page never scrolls sideways, with the result and the list of imports on it. Screenshots go
to test-output/browser/exchange-*.png."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from radio import create_app
from tests.browser import ARGS, CHROMIUM, PHONE, SHOTS, launched_browser
from tests.conftest import Runner, require, settings
from tests.exchange_archives import RECEIVER, SOURCE, build_source, copy_home, make_home
from tests.test_jobs_exchange import shared_guids
from tests.webserver import add_account, live_server

pytestmark = pytest.mark.slow

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
REFUSED = "is not the file the manifest signed"


@pytest.fixture(scope="module")
def bundles(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(alpha's data folder, its bundle of two shareable episodes, the same with one byte of
    audio changed)."""
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    folder = tmp_path_factory.mktemp("alpha")
    alpha = Runner(copy_home(build_source(folder / "built"), folder / "home"))
    made = folder / "radio-alpha.radio"
    done = alpha("export", "-o", str(made))
    assert done.exit_code == 0, done.output
    tampered = folder / "radio-alpha-changed.radio"
    tampered.write_bytes(made.read_bytes())
    with tarfile.open(made) as tar:
        audio = next(m for m in tar.getmembers() if m.name.endswith(".mp3"))
    data = bytearray(tampered.read_bytes())
    data[audio.offset_data + audio.size // 2] ^= 0x01  # inside the audio: the tar still reads
    tampered.write_bytes(bytes(data))
    return alpha.home, made, tampered


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """Radio Beta, empty, with an admin, served on 127.0.0.1."""
    monkeypatch.setenv("RADIO_TRANSCRIBE", "false")
    home = make_home(tmp_path / "beta", RECEIVER)
    app = create_app(settings(home, STATION_NAME=RECEIVER, SECRET_KEY="exchange"))
    add_account(app, "root", "admin", "correct horse")
    with live_server(app) as live:
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


def logged_in_page(browser, base: str, device: dict, errors: list[str]):  # noqa: ANN001, ANN201
    page = browser.new_context(**device).new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login")
    page.fill("input[name=name]", "root")
    page.fill("input[name=password]", "correct horse")
    page.click("form.stack button")
    page.goto(f"{base}/admin/exchange")
    assert page.locator("h1").inner_text() == "Programmes from other stations"
    return page


def send(page, bundle: Path) -> None:  # noqa: ANN001
    page.set_input_files("input[type=file][name=bundle]", str(bundle))
    with page.expect_navigation():
        page.get_by_role("button", name="Check and take in").click()


def no_sideways_scroll(page, width: int) -> None:  # noqa: ANN001
    assert page.evaluate("document.scrollingElement.scrollWidth") <= width


def test_an_admin_takes_in_a_bundle_from_the_browser(server, browser, bundles):
    alpha_home, made, _ = bundles
    errors: list[str] = []
    page = logged_in_page(browser, server.url, DESKTOP, errors)
    assert "No programme from another station yet." in page.content()

    send(page, made)
    result = page.get_by_role("status")
    assert f"Bundle from {SOURCE}" in result.inner_text()
    assert "Added 2, updated 0, already here 0, refused 0" in result.inner_text()
    rows = page.locator("table.exchange-imports tbody tr")
    assert rows.count() == 2 and SOURCE in rows.first.inner_text()
    page.screenshot(path=str(SHOTS / "exchange-desktop-imported.png"), full_page=True)

    title = rows.first.locator("a").inner_text()
    with page.expect_navigation():
        rows.first.locator("a").click()
    assert page.locator("h1").inner_text() == title
    listener = browser.new_context(**DESKTOP).new_page()
    for guid in shared_guids(alpha_home):
        answer = listener.goto(f"{server.url}/episodes/{guid}")
        assert answer.status == 200 and SOURCE in listener.content()  # "From Radio Alpha"

    page.goto(f"{server.url}/admin/exchange")
    send(page, made)
    assert "Added 0, updated 0, already here 2" in page.get_by_role("status").inner_text()
    assert errors == []
    page.context.close()
    listener.context.close()


def test_a_changed_bundle_is_refused_and_the_page_fits_a_phone(server, browser, bundles):
    _, made, tampered = bundles
    errors: list[str] = []
    page = logged_in_page(browser, server.url, PHONE, errors)
    width = PHONE["viewport"]["width"]
    no_sideways_scroll(page, width)

    send(page, tampered)
    alert = page.get_by_role("alert")
    assert REFUSED in alert.inner_text() and "nothing was imported" in alert.inner_text()
    assert page.get_by_role("status").count() == 0
    assert "No programme from another station yet." in page.content()
    no_sideways_scroll(page, width)
    page.screenshot(path=str(SHOTS / "exchange-phone-refused.png"), full_page=True)

    send(page, made)  # the list of imports, with its keys' fingerprints, still fits
    assert "Added 2" in page.get_by_role("status").inner_text()
    assert page.locator("table.exchange-imports tbody tr").count() == 2
    no_sideways_scroll(page, width)
    page.screenshot(path=str(SHOTS / "exchange-phone-imported.png"), full_page=True)
    assert errors == []
    page.context.close()
