"""The station taxonomy file: the shipped default, and clear errors for a broken one."""

from __future__ import annotations

from pathlib import Path

import pytest

from transcription.taxonomy import (
    TaxonomyError,
    load_default_taxonomy,
    load_taxonomy,
    parse_taxonomy,
)

STATION_LANGUAGES = {"en", "fr", "es", "pt", "sw"}

GOOD = """\
[topics.water]
label = "Water"
[topics.water.keywords]
en = ["water", "borehole"]
sw = ["maji"]
"""


def test_default_taxonomy_has_the_station_topics_in_five_languages() -> None:
    taxonomy = load_default_taxonomy()
    assert [t.slug for t in taxonomy.topics] == [
        "health",
        "water-and-sanitation",
        "farming-and-food",
        "education",
        "elections-and-governance",
        "women-and-youth",
        "environment-and-climate",
        "livelihoods-and-markets",
        "culture-and-music",
        "technology",
    ]
    for topic in taxonomy.topics:
        assert set(topic.keywords) == STATION_LANGUAGES, topic.slug
        assert all(len(words) >= 15 for words in topic.keywords.values()), topic.slug
    health = taxonomy.get("health")
    assert {"clinic", "malaria"} <= set(health.keywords["en"])
    assert "salud" in health.keywords["es"] and "santé" in health.keywords["fr"]
    assert "afya" in health.keywords["sw"] and "saúde" in health.keywords["pt"]


def test_a_good_file_loads(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text(GOOD, encoding="utf-8")
    taxonomy = load_taxonomy(path)
    assert taxonomy.source == str(path)
    (water,) = taxonomy.topics
    assert water.label == "Water"
    assert water.keywords == {"en": ("water", "borehole"), "sw": ("maji",)}
    assert water.keywords_for("sw-TZ") == ("maji",)
    assert taxonomy.find("WATER") is water


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "taxonomy.toml"
    path.write_text(GOOD + '\n[topics.health]\nlabel = "Health\n', encoding="utf-8")
    with pytest.raises(TaxonomyError) as err:
        load_taxonomy(path)
    assert err.value.line == 8
    assert f"{path}, line 8" in str(err.value)
    assert "not valid TOML" in str(err.value)
    assert "radio topics --check" in str(err.value)


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # a topic without a label: the line of its table
        ('[topics.health]\n[topics.health.keywords]\nen = ["clinic"]\n', 1, "needs a label"),
        # without keywords
        ('\n[topics.health]\nlabel = "Health"\n', 2, "needs keywords per language"),
        # keywords that are not a list of words
        (
            '[topics.health]\nlabel = "Health"\n[topics.health.keywords]\nen = "clinic"\n',
            4,
            "must be a list of words",
        ),
        (
            '[topics.health]\nlabel = "Health"\n[topics.health.keywords]\nen = []\n',
            4,
            "must be a list of words",
        ),
        # a language that is not a code
        (
            '[topics.health]\nlabel = "Health"\n[topics.health.keywords]\nenglish = ["x"]\n',
            4,
            "not a language code",
        ),
        # a typo in a key
        (
            '[topics.health]\nlabel = "Health"\nkeywrods = 1\n'
            '[topics.health.keywords]\nen = ["clinic"]\n',
            3,
            "unknown key 'keywrods'",
        ),
        # a slug with capitals or spaces
        ('[topics.Health]\nlabel = "Health"\n', 1, "lower case letters"),
        # a threshold out of range
        (
            '[topics.health]\nlabel = "Health"\nthreshold = 2\n'
            '[topics.health.keywords]\nen = ["clinic"]\n',
            3,
            "threshold",
        ),
        # something other than topics at the top
        ('title = "x"\n' + GOOD, 1, "unknown top-level key"),
    ],
)
def test_a_wrong_structure_names_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(TaxonomyError) as err:
        parse_taxonomy(text, "taxonomy.toml")
    assert err.value.line == line, str(err.value)
    assert words in str(err.value)
    assert str(err.value).startswith(f"taxonomy.toml, line {line}: ")


def test_no_topics_and_no_file_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match=r"no topics: add \[topics.SLUG\]"):
        parse_taxonomy("# nothing yet\n")
    with pytest.raises(TaxonomyError, match="can't read the file"):
        load_taxonomy(tmp_path / "missing.toml")
