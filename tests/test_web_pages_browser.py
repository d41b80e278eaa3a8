"""The pages people see, in a real browser (Debian's Chromium through Playwright), at a
phone's 360 px and a desktop's 1280 px (#15): the compact player (waveform from the peaks
file, chapter marks, ±15 s, speed, keys) staying in view after a search hit's jump into a
long transcript; the lists with artwork, dates, durations and descriptions; the station's
logo and accent colour. Screenshots go to test-output/browser/pages-*.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from radio import create_app
from radio.db import connect, database_path, utcnow
from radio.web.templating import clock
from tests.archive import Seeder
from tests.audiofiles import join_clips
from tests.browser import launched_browser
from tests.conftest import clip, require, settings
from tests.webserver import add_account, live_server, write_transcript
from transcription.segments import Chapter

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parent.parent / "test-output" / "browser"
STATIC = Path(__file__).resolve().parent.parent / "static"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]
VIEWPORTS = {
    "phone": {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
ACCENT = "#0b6e4f"
RARE_WORD = "Kisumu"  # said once, near the end of a long transcript

pytestmark = pytest.mark.slow


def build_station(home: Path) -> tuple[object, dict]:
    """An archive with the station's logo and accent, a show of three episodes (one a real
    recording of about six minutes, with peaks, chapters and a transcript of a line every
    five seconds, the rare word near its end) and an editor's account."""
    home.mkdir(parents=True)
    shutil.copy(STATIC / "icon-192.png", home / "logo.png")
    app = create_app(settings(home, LOGO="logo.png", ACCENT_COLOUR=ACCENT, SECRET_KEY="pages"))
    add_account(app, "amina", "editor")
    recording = home.parent / "morning.wav"
    join_clips([clip(f"LJ001-000{i}.wav") for i in range(1, 9)], recording, gap=35.0)
    db = connect(database_path(app))
    try:
        seed = Seeder(app, db)
        for n, title in enumerate(("Market prices", "Football results"), start=1):
            seed.episode(
                title,
                [(0.0, 4.0, "Good morning.")],
                show="Morning Talk",
                recorded_at=f"2026-10-{n:02d}",
                duration=900.0 + n * 60,
                description=f"{title} from the county.\nSecond line, not in lists.",
            )
        episode = seed.recording(
            recording,
            title="Water committee",
            show="Morning Talk",
            recorded_at="2026-11-02",
            description="The committee on the new borehole.\nWith the chair and two farmers.",
            language="en",
        )
        minutes = episode.duration / 60
        count = write_transcript(db, episode.id, minutes)
        late = count - 6
        with db.conn:
            db.execute(
                "update segments set text = ? where episode_id = ? and idx = ?",
                [f"The borehole committee met at {RARE_WORD} on Tuesday.", episode.id, late],
            )
        said_at = db.execute(
            "select start from segments where episode_id = ? and idx = ?", [episode.id, late]
        ).fetchone()[0]
        third = episode.duration / 3
        chapters = [
            Chapter(0.0, 60.0, "Opening"),
            Chapter(60.0, third * 2, "The borehole"),
            Chapter(third * 2, episode.duration, "Questions from farmers"),
        ]
        from radio.data.tags import set_chapters_by_hand

        with db.conn:
            set_chapters_by_hand(db.conn, episode.id, chapters, utcnow())
    finally:
        db.conn.close()
    facts = {
        "guid": episode.guid,
        "duration": episode.duration,
        "said_at": said_at,
        "chapters": chapters,
        "segments": count,
    }
    return app, facts


@pytest.fixture(scope="module")
def station(tmp_path_factory):  # noqa: ANN201
    require(CHROMIUM.exists(), "Debian's chromium (apt-get install chromium)")
    app, facts = build_station(tmp_path_factory.mktemp("pages") / "home")
    with live_server(app) as live:
        live.facts = facts
        yield live


@pytest.fixture(scope="module")
def browser():  # noqa: ANN201
    yield from launched_browser(ARGS)


def shot(page, name: str, *, full_page: bool = True) -> None:  # noqa: ANN001
    page.screenshot(path=str(SHOTS / f"pages-{name}.png"), full_page=full_page)


def log_in(page, base: str, name: str = "amina") -> None:  # noqa: ANN001
    page.goto(f"{base}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", "correct horse")
    page.click("form.stack button")
    page.wait_for_load_state()


def box(page, selector: str) -> dict:  # noqa: ANN001
    found = page.locator(selector).first.bounding_box()
    assert found is not None, f"{selector} isn't shown"
    return found


def overlap(a: dict, b: dict) -> bool:
    return not (
        a["x"] + a["width"] <= b["x"]
        or b["x"] + b["width"] <= a["x"]
        or a["y"] + a["height"] <= b["y"]
        or b["y"] + b["height"] <= a["y"]
    )


def within(inner: dict, viewport: dict) -> bool:
    return (
        inner["x"] >= 0
        and inner["y"] >= 0
        and inner["x"] + inner["width"] <= viewport["width"] + 0.5
        and inner["y"] + inner["height"] <= viewport["height"] + 0.5
    )


def current_time(page) -> float:  # noqa: ANN001
    return page.eval_on_selector("#player", "p => p.currentTime")


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_lists_show_artwork_date_duration_and_the_description(station, browser, device):
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(station.url + "/")
    item = page.locator("ul.episodes li", has_text="Water committee")
    assert item.locator("img.art").count() == 1
    assert item.locator("img.art").evaluate("i => i.complete && i.naturalWidth") > 0
    assert item.locator("time").get_attribute("datetime").startswith("2026-11-02")
    assert item.locator("time").inner_text() == "Nov 2, 2026"  # written the reader's way
    assert item.locator(".dur").inner_text() == clock(station.facts["duration"])
    assert item.locator(".gist").inner_text() == "The committee on the new borehole."
    # the station's look: its logo in the header, its accent on the buttons
    assert page.locator(".brand img").evaluate("i => i.naturalWidth") > 0
    accent = page.eval_on_selector(
        "form[role=search] button", "b => getComputedStyle(b).backgroundColor"
    )
    assert accent == "rgb(11, 110, 79)", accent
    shot(page, f"{device}-home")
    page.click("ul.episodes li >> text=Morning Talk")
    page.wait_for_url(re.compile(r"/shows/morning-talk"))
    assert page.locator("ul.episodes li").count() == 3
    assert page.locator("ul.episodes li .gist").all_inner_texts() == [
        "The committee on the new borehole.",
        "Football results from the county.",
        "Market prices from the county.",
    ]
    shot(page, f"{device}-show")
    assert (
        page.evaluate("document.scrollingElement.scrollWidth")
        <= VIEWPORTS[device]["viewport"]["width"]
    )
    assert errors == []
    context.close()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_player_stays_in_view_after_a_search_hit_jump(station, browser, device):
    facts, viewport = station.facts, VIEWPORTS[device]["viewport"]
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{station.url}/search?q={RARE_WORD}")
    result = page.locator("ol.results > li", has_text="Water committee")
    assert result.locator(".gist").count() == 0  # found in what was said: the moment instead
    assert result.locator("time").get_attribute("datetime").startswith("2026-11-02")
    shot(page, f"{device}-search")
    result.locator(".hits a").first.click()
    page.wait_for_url(re.compile(rf"/episodes/{facts['guid']}\?t="))
    page.wait_for_function(
        "t => { const p = document.getElementById('player');"
        " return p.readyState >= 1 && Math.abs(p.currentTime - t) < 1; }",
        arg=facts["said_at"],
    )
    page.wait_for_timeout(300)  # the scroll to the moment settles
    now = box(page, "#transcript p.now")
    bar, follow = box(page, "#player-bar"), box(page, "#player-bar .follow")
    scrolled = page.evaluate("window.scrollY")
    assert scrolled > 2000, scrolled  # a long way down the transcript
    assert within(bar, viewport), (bar, viewport)  # the player is in view
    assert within(now, viewport), now  # and so is the moment,
    assert not overlap(now, bar) and not overlap(now, follow), (now, bar, follow)  # uncovered
    assert RARE_WORD in page.inner_text("#transcript p.now")
    # the bar says where it is, before anything plays
    expected = f"{clock(facts['said_at'])} / {clock(facts['duration'])}"
    assert page.inner_text("#player-bar .time") == expected
    slider = page.locator("#player-bar [role=slider]")
    assert slider.get_attribute("aria-valuenow") == str(round(facts["said_at"]))
    shot(page, f"{device}-episode-search-jump", full_page=False)

    # nothing the bar hides: the end of the page scrolls clear of it
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    footer = box(page, "footer.site")
    assert footer["y"] + footer["height"] <= box(page, "#player-bar")["y"] + 1
    assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
    assert errors == []
    context.close()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_player_draws_the_waveform_and_its_buttons_and_keys_work(station, browser, device):
    facts = station.facts
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{station.url}/episodes/{facts['guid']}")
    # without JavaScript's help the browser would say 0:00 / 0:00 here
    assert page.inner_text("#player-bar .time") == f"0:00 / {clock(facts['duration'])}"
    assert page.eval_on_selector("#player", "p => p.controls") is False
    # the waveform: every peak of the peaks file drawn, bars of more than one height
    page.wait_for_function("() => +document.querySelector('.wave canvas').dataset.drawn > 0")
    drawn = page.evaluate(
        """() => { const c = document.querySelector('.wave canvas'), g = c.getContext('2d');
        const d = g.getImageData(0, 0, c.width, c.height).data, heights = new Set();
        for (let x = 0; x < c.width; x += 3) { let h = 0;
          for (let y = 0; y < c.height; y++) if (d[(y * c.width + x) * 4 + 3] > 0) h++;
          heights.add(h); }
        return {peaks: +c.dataset.drawn, heights: heights.size}; }"""
    )
    peaks = page.evaluate(f"fetch('/media/{facts['guid']}/peaks.json').then(r => r.json())")
    assert drawn["peaks"] == len(peaks["peaks"]) > 100, drawn
    assert drawn["heights"] > 5, drawn  # speech and silence, not a flat line
    # the chapter marks sit at their start's share of the waveform's width
    marks = page.evaluate(
        """() => { const w = document.querySelector('.wave').getBoundingClientRect();
        return [...document.querySelectorAll('.wave .mark')].map(m => {
          const r = m.getBoundingClientRect();
          return {start: +m.dataset.start, title: m.title,
                  at: (r.left + r.width / 2 - w.left) / w.width}; }); }"""
    )
    assert [m["title"] for m in marks] == [c.title for c in facts["chapters"]]
    for mark in marks:
        assert abs(mark["at"] - mark["start"] / facts["duration"]) < 0.005, mark

    # play, then ±15 s and the speeds
    page.click("#player-bar button.play")
    page.wait_for_function("() => document.getElementById('player').currentTime > 1")
    assert page.get_attribute("#player-bar button.play", "aria-label") == "Pause"
    page.click("#player-bar button[aria-label='Forward 15 seconds']")
    page.wait_for_function("() => document.getElementById('player').currentTime > 15.5")
    before = current_time(page)
    page.click("#player-bar button[aria-label='Back 15 seconds']")
    after = current_time(page)
    assert -16 < after - before < -13.5, (before, after)
    speeds = []
    for _ in range(5):
        page.click("#player-bar button.speed")
        speeds.append(page.eval_on_selector("#player", "p => p.playbackRate"))
    assert speeds == [1.25, 1.5, 2, 0.75, 1]
    assert page.inner_text("#player-bar button.speed") == "1×"
    page.click("#player-bar button.speed")  # 1.25×, kept after a seek reloads nothing
    # jump into the second chapter by clicking the waveform at its mark
    second = facts["chapters"][1].start + 20
    wave = box(page, ".wave")
    page.mouse.click(wave["x"] + wave["width"] * second / facts["duration"], wave["y"] + 5)
    page.wait_for_function(
        "t => Math.abs(document.getElementById('player').currentTime - t) < 3", arg=second
    )
    assert page.inner_text("#player-bar .bar-chapter") == "The borehole"
    assert page.locator(".chapters li.now").inner_text().endswith("The borehole")
    assert page.eval_on_selector("#player", "p => p.playbackRate") == 1.25
    page.wait_for_timeout(800)  # the played part of the waveform grows
    shot(page, f"{device}-episode-playing", full_page=False)
    shot(page, f"{device}-episode")

    # keys: the slider's arrows and Home, k to pause, l forward
    slider = page.locator(".wave[role=slider]")
    slider.focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.getElementById('player').currentTime < 3")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => document.getElementById('player').currentTime >= 4.5")
    assert int(slider.get_attribute("aria-valuenow")) >= 5
    assert slider.get_attribute("aria-valuetext").endswith(f"of {clock(facts['duration'])}")
    page.keyboard.press("k")
    page.wait_for_function("() => document.getElementById('player').paused")
    held = current_time(page)
    page.keyboard.press("l")
    assert abs(current_time(page) - (held + 15)) < 0.5
    page.keyboard.press("j")
    assert abs(current_time(page) - held) < 0.5
    assert errors == []
    context.close()


@pytest.mark.parametrize("device", ["phone", "desktop"])
def test_the_edit_page_for_the_screenshots(station, browser, device):
    context = browser.new_context(**VIEWPORTS[device])
    page = context.new_page()
    log_in(page, station.url)
    page.goto(f"{station.url}/episodes/{station.facts['guid']}/edit")
    assert page.locator("input[name=title]").first.input_value() == "Water committee"
    shot(page, f"{device}-edit")
    context.close()


def test_without_javascript_the_browser_player_stays(station, browser):
    context = browser.new_context(java_script_enabled=False, **VIEWPORTS["phone"])
    page = context.new_page()
    page.goto(f"{station.url}/episodes/{station.facts['guid']}")
    assert page.eval_on_selector("#player", "p => p.controls") is True
    assert page.locator("#player-bar").count() == 0
    assert page.locator("#player").is_visible()
    context.close()


@pytest.mark.parametrize("device", ["phone", "desktop"])
@pytest.mark.parametrize(
    ("browser_language", "lang", "search", "topics"),
    [("fr-SN", "fr", "Rechercher", "Thèmes"), ("sw-KE", "sw", "Tafuta", "Mada")],
)
def test_the_interface_speaks_the_browsers_language(
    station, browser, device, browser_language, lang, search, topics
):
    """A phone set to French (Senegal) or Swahili (Kenya) gets the interface in its language
    from Accept-Language alone, dates written its way; the footer switches back (#15)."""
    context = browser.new_context(locale=browser_language, **VIEWPORTS[device])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{station.url}/")
    assert page.evaluate("document.documentElement.lang") == lang
    nav = page.locator("header nav").inner_text()
    assert search in nav and topics in nav
    day = page.locator("main time").first
    assert day.get_attribute("datetime").startswith("2026-11-02")
    assert day.inner_text() != "Nov 2, 2026" and "2026" in day.inner_text()
    shot(page, f"{device}-home-{lang}")
    page.goto(f"{station.url}/episodes/{station.facts['guid']}")
    assert page.evaluate("document.documentElement.lang") == lang
    play = page.locator(".bar-controls button").nth(1)  # −15, play, +15, speed
    assert play.get_attribute("aria-label") not in (None, "Play")  # the player speaks it too
    assert play.get_attribute("aria-keyshortcuts") == "k Space"  # key names stay key names
    shot(page, f"{device}-episode-{lang}")
    page.locator("footer a", has_text="English").click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.lang") == "en"
    assert "Search" in page.locator("header nav").inner_text()
    assert not errors
    context.close()
