"""The search page over real transcripts: grouped hits, word-level links, filters, pages."""

from __future__ import annotations

import json
import re

import pytest
from lxml import html as lxml_html

from radio import create_app
from radio.db import connect, database_path
from tests.audiofiles import convert
from tests.conftest import clip, settings
from tests.webserver import add_episode, write_transcript


@pytest.fixture(scope="module")
def transcribed(tmp_path_factory):  # noqa: ANN201
    """Three real recordings, transcribed on the device (Whisper tiny.en)."""
    home = tmp_path_factory.mktemp("search") / "home"
    app = create_app(settings(home, TRANSCRIBE=True, SECRET_KEY="s"))
    eps = {
        "jfk": add_episode(
            app,
            clip("jfk.flac"),
            title="Inaugural address",
            show="Speeches",
            recorded_at="2026-01-10",
            language="en",
        ),
        "printing": add_episode(
            app,
            clip("LJ001-0001.wav"),
            title="On printing",
            show="Readings",
            recorded_at="2026-03-05",
        ),
        "wizard": add_episode(
            app,
            clip("61-70968-0000.flac"),
            title="The wizard",
            show="Readings",
            recorded_at="2026-04-20",
        ),
    }
    return app, eps


def get(app, url: str, status: int = 200):  # noqa: ANN001, ANN201
    response = app.test_client().get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    return lxml_html.fromstring(response.get_data(as_text=True))


def stored_word(app, episode_id: int, word: str) -> float:  # noqa: ANN001
    db = connect(database_path(app))
    try:
        for row in db.query(
            "select words from segments where episode_id = ? order by idx", [episode_id]
        ):
            for start, _end, text, _p in json.loads(row["words"]):
                if re.sub(r"\W", "", text).lower() == word:
                    return start
    finally:
        db.conn.close()
    raise AssertionError(f"{word} not in the transcript")


def test_hits_are_grouped_by_episode_and_link_to_the_word(transcribed):
    app, eps = transcribed
    doc = get(app, "/search?q=country")
    results = doc.xpath("//ol[@class='results']/li")
    assert len(results) == 1
    assert results[0].xpath("h2/a/text()") == ["Inaugural address"]
    hits = results[0].xpath(".//ul[@class='hits']/li/a")
    assert hits and hits[0].xpath("mark/text()")[0].lower() == "country"
    href = hits[0].get("href")
    word_at = stored_word(app, eps["jfk"]["id"], "country")
    t = float(re.search(r"\?t=([\d.]+)", href).group(1))
    assert t == pytest.approx(word_at, abs=0.01)
    assert href.startswith(f"/episodes/{eps['jfk']['guid']}?t=")
    # the fragment names the segment, so the page scrolls to it even without JavaScript
    fragment = href.split("#")[1]
    episode_page = get(app, href.split("#")[0])
    assert episode_page.xpath(f"//p[@id='{fragment}']")


def test_filters(transcribed):
    app, _ = transcribed
    titles = lambda doc: doc.xpath("//ol[@class='results']/li/h2/a/text()")  # noqa: E731
    both = sorted(titles(get(app, "/search?q=wizard OR printing")))
    assert both == ["On printing", "The wizard"]
    assert titles(get(app, "/search?q=wizard OR country&show=speeches")) == ["Inaugural address"]
    assert titles(get(app, "/search?q=wizard OR country&from=2026-04-01")) == ["The wizard"]
    assert titles(get(app, "/search?q=wizard OR country&to=2026-02-01")) == ["Inaugural address"]
    assert titles(get(app, "/search?q=country&language=en")) == ["Inaugural address"]
    assert titles(get(app, "/search?q=country&language=fr")) == []
    doc = get(app, "/search?q=country")
    assert doc.xpath("//select[@name='show']/option/@value") == ["", "readings", "speeches"]
    assert "en" in doc.xpath("//select[@name='language']/option/text()")


def test_a_title_match_without_a_spoken_hit(transcribed):
    app, _ = transcribed
    doc = get(app, "/search?q=inaugural")
    assert doc.xpath("//ol[@class='results']/li/h2/a/text()") == ["Inaugural address"]
    assert "title or description" in doc.xpath("string(//ol[@class='results'])")


def test_mistakes_are_explained(transcribed):
    app, _ = transcribed
    bad_date = get(app, "/search?q=country&from=last+week", status=400)
    assert "YYYY-MM-DD" in bad_date.xpath("string(//p[@role='alert'])")
    too_long = get(app, "/search?q=" + "word+" * 200, status=400)
    assert "too long" in too_long.xpath("string(//p[@role='alert'])")
    nothing = get(app, "/search?q=zebra")
    assert "Nothing matches" in nothing.xpath("string(//p[@class='count'])")
    empty = get(app, "/search")
    assert not empty.xpath("//ol[@class='results']") and empty.xpath("//input[@name='q']")


def test_pagination(app, db, tmp_path):
    for i in range(12):
        recording = convert(clip("LJ001-0002.wav"), tmp_path / f"take{i}.wav", gain_db=-i)
        ep = add_episode(app, recording, title=f"Take {i}")
        write_transcript(db, ep["id"], minutes=0.2, seed=i)
        db.execute(
            "update segments set text = text || ' harmonium' where episode_id = ?", [ep["id"]]
        )
    client = app.test_client()
    first = lxml_html.fromstring(client.get("/search?q=harmonium").get_data(as_text=True))
    assert len(first.xpath("//ol[@class='results']/li")) == 10
    assert "Page 1 of 2" in first.xpath("string(//nav[@class='pager'])")
    next_href = first.xpath("//nav[@class='pager']/a[@rel='next']/@href")[0]
    assert "q=harmonium" in next_href and "page=2" in next_href
    second = lxml_html.fromstring(client.get(next_href).get_data(as_text=True))
    assert len(second.xpath("//ol[@class='results']/li")) == 2
    assert second.xpath("//nav[@class='pager']/a[@rel='prev']")
