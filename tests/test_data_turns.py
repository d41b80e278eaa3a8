"""Who spoke (``radio.data.turns``): an episode's speakers, the archive's, and search by
speaker in both of search's ways of ranking."""

from __future__ import annotations

import pytest

from radio.data import facets, search, turns


@pytest.fixture
def call(seed):  # noqa: ANN201
    return seed.episode(
        "Water committee",
        [
            (0.0, 2.0, "Welcome, the committee meets about water.", "Amina"),
            (2.0, 4.0, "Is the water safe?", "Speaker 2"),
            (4.0, 6.0, "Music.", None),
            (6.0, 8.0, "The water is tested.", "Amina"),
            (8.0, 9.0, "And the goats?", "Joseph  \n"),
        ],
    )


def test_an_episodes_speakers_in_the_order_they_first_speak(db, seed, call):
    plain = seed.episode("Plain", [(0.0, 1.0, "Water.")])
    hidden = seed.episode("Hidden", [(0.0, 1.0, "Water.", "Zawadi")], visibility="draft")
    found = turns.episode_speakers(db, [call, plain, hidden])
    assert found == {call: ("Amina", "Speaker 2", "Joseph"), hidden: ("Zawadi",)}
    assert turns.episode_speakers(db, []) == {}


def test_the_archives_speakers_are_those_of_the_episodes_one_may_see(db, seed, call):
    seed.episode("Hidden", [(0.0, 1.0, "Water.", "Zawadi")], visibility="private")
    seed.episode("Accents", [(0.0, 1.0, "Water.", "Ágata")])
    assert facets.archive_speakers(db) == ["Ágata", "Amina", "Joseph", "Speaker 2"]
    assert "Zawadi" in facets.archive_speakers(db, include_hidden=True)


@pytest.mark.parametrize(
    "name, placeholder",
    [
        ("Speaker 2", True),
        ("speaker 12", True),
        ("SPEAKER_02", True),
        ("Speaker", False),
        ("Amina", False),
        ("Speaker 2 (Amina)", False),
    ],
)
def test_a_label_is_not_a_person(name, placeholder):
    assert turns.is_placeholder(name) is placeholder


def test_search_by_speaker_in_both_ways_of_ranking(db, call, monkeypatch):
    for common in (False, True):  # the ranked path, then the one for words said everywhere
        if common:
            monkeypatch.setattr(search, "BM25_MAX_MATCHES", 0)
        amina = search.search(db, "water", speaker="AMINA")
        assert amina.total == 1, common
        assert [(h.speaker, h.start) for h in amina.episodes[0].hits] == [
            ("Amina", 0.0),
            ("Amina", 6.0),
        ]
        assert search.search(db, "water", speaker="Joseph").total == 0, common
        assert search.search(db, "goats", speaker="joseph").total == 1, common
        # the title says "committee", but only Amina said it
        assert search.search(db, "committee", speaker="Speaker 2").total == 0, common
        assert search.search(db, "committee").total == 1, common


def test_a_bad_speaker_says_what_to_type(db, call):
    with pytest.raises(search.BadQuery, match="like Amina or Speaker 2"):
        search.search(db, "water", speaker="x" * 101)
    with pytest.raises(search.BadQuery, match="like Amina or Speaker 2"):
        search.search(db, "water", speaker="Ami\x00na")
    assert search.search(db, "water", speaker="   ").total == 1  # no speaker: everyone
