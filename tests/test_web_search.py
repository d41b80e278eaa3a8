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


# --- search by speaker ---------------------------------------------------------------------


@pytest.fixture
def call(seed):  # noqa: ANN201
    """A group call and a market show with named speakers, and a hidden episode."""
    return {
        "call": seed.episode(
            "Water committee",
            [
                (0.0, 2.0, "Welcome, the committee meets about water.", "Amina"),
                (2.0, 4.0, "Is the water safe to drink?", "Speaker 2"),
                (12.5, 15.0, "The water is tested every week.", "Amina"),
            ],
            show="Morning Talk",
            recorded_at="2026-11-02",
        ),
        "market": seed.episode(
            "Market day",
            [(0.0, 3.0, "Water prices went up again.", "Joseph")],
            show="Market",
            recorded_at="2026-10-01",
            language="sw",
        ),
        "accents": seed.episode("Ágata's show", [(0.0, 2.0, "Water for the goats.", "ÁGATA")]),
        "hidden": seed.episode(
            "Closed meeting", [(0.0, 2.0, "Water secrets.", "Zawadi")], visibility="private"
        ),
    }


def moments(doc) -> dict[str, list[str]]:  # noqa: ANN001
    """Each result's hits as the page says them: "Amina at 0:12"."""
    return {
        li.xpath("string(h2/a)"): [
            " ".join(s.text_content().split())
            for s in li.xpath(".//ul[@class='hits']//span[@class='ts']")
        ]
        for li in doc.xpath("//ol[@class='results']/li")
    }


def test_hits_say_who_spoke(client, call):
    found = moments(lxml_html.fromstring(client.get("/search?q=water").get_data(as_text=True)))
    assert found["Water committee"] == ["Amina at 0:00", "Speaker 2 at 0:02", "Amina at 0:12"]
    assert found["Market day"] == ["Joseph at 0:00"]
    assert "Closed meeting" not in found


def test_the_speaker_filter_finds_what_one_person_said(client, call):
    def titles_and_moments(url: str) -> dict[str, list[str]]:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        return moments(lxml_html.fromstring(response.get_data(as_text=True)))

    amina = {"Water committee": ["Amina at 0:00", "Amina at 0:12"]}
    assert titles_and_moments("/search?q=water&speaker=Amina") == amina
    assert titles_and_moments("/search?q=water&speaker=%20aMINA%20") == amina  # any case
    assert titles_and_moments("/search?q=water&speaker=%C3%A1gata") == {  # ágata
        "Ágata's show": ["ÁGATA at 0:00"]
    }
    # with the other filters
    assert titles_and_moments("/search?q=water&speaker=amina&show=market") == {}
    assert titles_and_moments("/search?q=water&speaker=joseph&language=sw") == {
        "Market day": ["Joseph at 0:00"]
    }
    assert titles_and_moments("/search?q=water&speaker=amina&from=2026-11-01") == amina
    assert titles_and_moments("/search?q=water&speaker=amina&to=2026-10-31") == {}
    # a title is not something a speaker said; without the filter it is found
    assert titles_and_moments("/search?q=committee&speaker=Joseph") == {}
    assert titles_and_moments("/search?q=market&speaker=Joseph") == {}
    assert "Market day" in titles_and_moments("/search?q=market")
    # what a hidden episode's speaker said stays hidden
    assert titles_and_moments("/search?q=water&speaker=Zawadi") == {}


def test_the_speaker_filter_offers_the_people_heard_in_public_episodes(client, call):
    doc = lxml_html.fromstring(client.get("/search?q=water&speaker=amina").get_data(as_text=True))
    options = doc.xpath("//select[@name='speaker']/option")
    # named people only: "Speaker 2" is a different voice in each recording; Zawadi is hidden
    assert [o.text for o in options] == ["Anyone", "ÁGATA", "Amina", "Joseph"]
    assert doc.xpath("//select[@name='speaker']/option[@selected]/text()") == ["Amina"]
    assert doc.xpath("//details[@class='filters']/@open")
    label = lxml_html.fromstring(
        client.get("/search?q=water&speaker=Speaker+2").get_data(as_text=True)
    )
    assert label.xpath("//select[@name='speaker']/option[@selected]/text()") == ["Speaker 2"]
    assert moments(label) == {"Water committee": ["Speaker 2 at 0:02"]}
    nobody = lxml_html.fromstring(
        client.get("/search?q=water&speaker=Nobody").get_data(as_text=True)
    )
    assert "Nothing said by Nobody matches" in nobody.xpath("string(//p[@class='count'])")


def test_a_bad_speaker_is_explained(client, call):
    response = client.get("/search", query_string={"q": "water", "speaker": "x" * 200})
    assert response.status_code == 400
    alert = lxml_html.fromstring(response.get_data(as_text=True)).xpath(
        "string(//p[@role='alert'])"
    )
    assert "The speaker must be a name as the transcript shows it" in alert


def test_without_speakers_there_is_no_speaker_filter(client, seed):
    seed.episode("Plain", [(0.0, 2.0, "Water everywhere.")])
    doc = lxml_html.fromstring(client.get("/search?q=water").get_data(as_text=True))
    assert not doc.xpath("//select[@name='speaker']")
    assert moments(doc) == {"Plain": ["0:00"]}
