"""Search over real reference transcripts (tests/data/manifest.tsv) written as segments."""

import pytest

from radio.data import search
from tests.archive import timed_words
from transcription.segments import Segment


def add_episode(seed, title, segments, *, show="Morning Talk", **fields):
    fields.setdefault("recorded_at", "2026-11-02")
    return seed.episode(title, segments, show=show, **fields)


@pytest.fixture
def archive(seed):
    ids = {}
    ids["jfk"] = add_episode(
        seed,
        "Inaugural",
        [
            (0.0, 4.2, "And so my fellow Americans, ask not"),
            (4.2, 11.0, "what your country can do for you, ask what you can do for your country."),
        ],
    )
    ids["printing"] = add_episode(
        seed,
        "Printing history",
        [
            (
                0.0,
                9.6,
                "Printing, in the only sense with which we are at present concerned, differs "
                "from most if not from all the arts and crafts represented in the Exhibition",
            ),
            (9.6, 11.5, "in being comparatively modern."),
        ],
        show="Book Club",
        recorded_at="2026-10-01",
    )
    ids["es"] = add_episode(
        seed,
        "Persuasión",
        [
            (
                0.0,
                14.8,
                "la sorpresa y el disgusto que produjo a wentworth la substitución de una "
                "cuñada por otra",
            ),
        ],
        show="Lecturas",
        language="es",
        recorded_at="2026-09-15",
    )
    ids["water"] = add_episode(
        seed,
        "Water committee",
        [
            (0.0, 5.0, "the water committee met on tuesday"),
            (5.0, 9.0, "farmers asked about the new borehole and farming subsidies"),
        ],
        description="Minutes of the water committee <and> the farmers' union",
    )
    ids["private"] = add_episode(
        seed, "Secret water", [(0.0, 3.0, "water water water")], visibility="private"
    )
    ids["draft"] = add_episode(seed, "Unfinished water", [(0.0, 3.0, "water")], status="processing")
    return ids


def test_word_finds_episode_with_time(db, archive):
    results = search.search(db, "country")
    assert [e.episode_id for e in results.episodes] == [archive["jfk"]]
    hit = results.episodes[0].hits[0]
    assert hit.start == 4.2
    assert "\x02country\x03" in hit.snippet
    assert "<mark>country</mark>" in hit.snippet_html


def test_diacritics_are_folded_both_ways(db, archive):
    assert [e.episode_id for e in search.search(db, "substitucion").episodes] == [archive["es"]]
    assert [e.episode_id for e in search.search(db, "cunada").episodes] == [archive["es"]]
    assert [e.episode_id for e in search.search(db, "Persuasion").episodes] == [archive["es"]]


def test_phrase_and_prefix(db, archive):
    assert [e.episode_id for e in search.search(db, '"water committee"').episodes] == [
        archive["water"]
    ]
    assert search.search(db, '"committee water"').total == 0
    farm = search.search(db, "farm*")
    assert [e.episode_id for e in farm.episodes] == [archive["water"]]
    assert search.search(db, "farm").total == 0  # a whole word, not a prefix


def test_or_and_exclusion(db, archive):
    both = search.search(db, "country OR printing")
    assert {e.episode_id for e in both.episodes} == {archive["jfk"], archive["printing"]}
    # exclusion works on moments: the segment that says "americans" drops out
    hits = search.search(db, "ask -americans").episodes[0].hits
    assert [h.start for h in hits] == [4.2]


def test_private_draft_and_unfinished_episodes_never_show(db, archive):
    ids = {e.episode_id for e in search.search(db, "water").episodes}
    assert ids == {archive["water"]}
    hidden = search.search(db, "water", include_hidden=True)
    assert {archive["private"], archive["draft"]} <= {e.episode_id for e in hidden.episodes}


def test_filters(db, archive):
    assert search.search(db, "the", show="book-club").total == 1
    assert search.search(db, "la OR the", language="es").total == 1
    assert search.search(db, "the", date_from="2026-10-15").total == 1  # water committee
    assert search.search(db, "printing", date_to="2026-09-30").total == 0


def test_title_and_description_match(db, archive):
    results = search.search(db, "union")  # only in a description, with < and & around it
    assert [e.episode_id for e in results.episodes] == [archive["water"]]
    assert results.episodes[0].hits == []


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        'water"',
        "AND",
        "OR OR",
        "NEAR(",
        "*",
        "-",
        "col:water",
        "^water",
        "water AND",
        '""',
        "(((",
        "'; drop table segments; --",
        "\x00",
        "🙂",
        "中文",
    ],
)
def test_malformed_queries_never_raise(db, archive, query):
    results = search.search(db, query)
    assert results.total >= 0


def test_huge_query_is_a_clear_bad_query(db, archive):
    with pytest.raises(search.BadQuery, match="too long"):
        search.search(db, "water " * 2000)


def test_pagination(db, seed):
    for n in range(25):
        add_episode(seed, f"Show {n}", [(0.0, 2.0, f"market prices number {n}")])
    first = search.search(db, "market", per_page=10)
    third = search.search(db, "market", per_page=10, page=3)
    assert first.total == 25 and first.pages == 3
    assert len(first.episodes) == 10 and len(third.episodes) == 5
    assert not {e.episode_id for e in first.episodes} & {e.episode_id for e in third.episodes}


def test_topic_filter(db, archive):
    from radio.data.tags import tag_episode

    tag_episode(db, archive["water"], add=["water"], remove=[])
    assert [
        e.episode_id for e in search.search(db, "the", topic="water-and-sanitation").episodes
    ] == [archive["water"]]
    assert search.search(db, "country", topic="water-and-sanitation").total == 0


def test_a_word_said_everywhere_still_ranks_and_pages(db, seed, monkeypatch):
    monkeypatch.setattr(search, "BM25_MAX_MATCHES", 3)  # take the path for very common words
    for n in range(6):
        add_episode(seed, f"Ep {n}", [(i * 2.0, i * 2.0 + 2, "radio talk") for i in range(n + 1)])
    results = search.search(db, "radio", per_page=4)
    assert results.total == 6
    assert [e.title for e in results.episodes] == ["Ep 5", "Ep 4", "Ep 3", "Ep 2"]


def test_a_hit_starts_at_the_word_not_the_sentence(db, seed):
    words = timed_words([(10.0, 10.4, " Ask"), (10.4, 10.6, " not"), (12.3, 12.9, " country")])
    add_episode(seed, "Timed", [Segment(10.0, 13.0, "Ask not country", words)])
    (hit,) = search.search(db, "country").episodes[0].hits
    assert hit.start == 10.0 and hit.time == 12.3


def test_the_common_word_path_filters_and_counts_like_the_ranked_one(db, archive, monkeypatch):
    ranked = search.search(db, "water")
    monkeypatch.setattr(search, "BM25_MAX_MATCHES", 0)
    common = search.search(db, "water")
    # private and unfinished episodes stay out; a description match counts as well
    assert (
        [e.episode_id for e in common.episodes]
        == [archive["water"]]
        == [e.episode_id for e in ranked.episodes]
    )
    assert common.total == ranked.total == 1
    (hit,) = common.episodes[0].hits
    assert "\x02water\x03" in hit.snippet and hit.start == 0.0
    assert search.search(db, "the", show="book-club").total == 1


# -- scripts written without spaces (#11) --------------------------------------------------

SENTENCES = {
    "zh-hans": "我们的国家很大，今天我们说中文。",
    "zh-hant": "我們的國家很大，今天我們說中文。",
    "ja": "私は毎日日本語を話します。",
    "ko": "저는 요즘 한국어를 배워요.",
}


@pytest.fixture
def scripts(seed):
    return {
        key: seed.episode(f"Script {key}", [(5.0, 9.0, text)], language=key[:2])
        for key, text in SENTENCES.items()
    }


@pytest.mark.parametrize(
    "query, found",
    [
        ("国家", {"zh-hans", "zh-hant"}),  # simplified finds both scripts
        ("國家", {"zh-hans", "zh-hant"}),  # and so does traditional
        ("中文", {"zh-hans", "zh-hant"}),
        ("日本語", {"ja"}),
        ("にほんご", set()),
        ("한국어", {"ko"}),
        ("국어", {"ko"}),  # a part of a word, as a listener may type it
        ('"说中文"', {"zh-hans", "zh-hant"}),
    ],
)
def test_words_inside_sentences_of_unsegmented_scripts(db, scripts, query, found):
    results = search.search(db, query)
    ids = {e.episode_id for e in results.episodes}
    assert ids == {scripts[key] for key in found}


def test_a_hit_in_chinese_is_marked_and_starts_at_the_word(db, seed):
    words = timed_words([(5.0, 5.6, "我们的"), (5.6, 6.2, "国家"), (6.2, 7.0, "很大")])
    seed.episode("Timed zh", [Segment(5.0, 7.0, "我们的国家很大", words)], language="zh")
    (hit,) = search.search(db, "國家").episodes[0].hits
    assert "\u200b" not in hit.snippet
    assert search.highlight(hit.snippet, "[", "]") == "我们的[国家]很大"
    assert hit.time == 5.6


def test_an_edited_segment_is_searched_by_its_new_words(db, seed):
    episode_id = seed.episode("Edited", [(0.0, 2.0, "今天说中文")], language="zh")
    db.execute("update segments set text = ? where episode_id = ?", ["今天说日语", episode_id])
    assert search.search(db, "中文").total == 0
    assert search.search(db, "日语").total == 1


def test_mixed_queries_and_titles_in_these_scripts(db, seed):
    seed.episode("农民的广播", [(0.0, 2.0, "market day: water 电台")], language="zh")
    assert search.search(db, "广播").total == 1  # the title
    assert search.search(db, "water 电台").total == 1  # both words in what was said


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"date_from": "yesterday"}, "from date must look like 2026-11-02"),
        ({"date_to": "2026-13-01"}, "to date must look like 2026-11-02"),
        ({"language": "../../etc"}, "language must be a code like en"),
    ],
)
def test_a_bad_filter_is_an_error_that_shows_the_format(db, archive, filters, message):
    with pytest.raises(search.BadQuery, match=message):
        search.search(db, "water", **filters)


def test_a_month_or_a_year_filters_to_its_end(db, archive):
    assert search.search(db, "country", date_to="2026-11").total == 1
    assert search.search(db, "country", date_to="2026-10").total == 0
    assert search.search(db, "country", date_from="2026").total == 1


def test_the_cli_searches_in_every_script_and_names_a_bad_filter(app, seed, runner):
    seed.episode("Radio zh", [(3.0, 6.0, "我們的國家很大")], language="zh")
    found = runner("search", "国家")
    assert found.exit_code == 0 and "我們的國家很大" in found.output
    bad = runner("search", "water", "--from", "yesterday")
    assert bad.exit_code == 1 and "2026-11-02" in bad.output and "Error" not in bad.output[:0]


def test_the_web_searches_in_every_script_and_names_a_bad_filter(client, seed):
    seed.episode("Radio ja", [(3.0, 6.0, "私は毎日日本語を話します")], language="ja")
    page = client.get("/search", query_string={"q": "日本語"})
    assert page.status_code == 200 and "Radio ja" in page.get_data(as_text=True)
    bad = client.get("/search", query_string={"q": "water", "language": "x" * 50})
    assert bad.status_code == 400 and "a code like en" in bad.get_data(as_text=True)
