"""Topics in the database: the pipeline step, editors' tags, retag, queries and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
import sqlite_utils
from click.testing import CliRunner
from flask import Flask

from radio.cli import AppState
from radio.cli.topics import COMMANDS, chapters, retag_command, tag, topics
from radio.config import load_station_taxonomy
from radio.data.episodes import get_episode
from radio.data.tags import (
    TagError,
    TopicNotFound,
    episode_tags,
    episodes_for_topic,
    get_topic,
    list_topics,
    tag_episode,
    topic_filter_sql,
)
from radio.data.tags import chapters as stored_chapters
from radio.jobs.context import Context, StepError
from radio.jobs.topics import moments_for_topic, retag, topics_step
from tests.archive import Seeder
from tests.test_transcription_topics import joined
from transcription.segments import Segment, Word

STATION_TAXONOMY = """\
[topics.printing]
label = "Printing and books"
[topics.printing.keywords]
en = ["printing", "printed", "book", "typography", "movable type", "gutenberg"]

[topics.telephone-service]
label = "Telephone service"
[topics.telephone-service.keywords]
en = ["phone", "call", "dial", "number", "extension", "operator", "press", "agent"]
"""


def add_episode(seed: Seeder, subjects: tuple[str, ...] = ("printing", "phone", "austen")) -> int:
    """A ready, public episode whose transcript is the test clips' reference transcripts."""
    segments, _ = joined(subjects)
    return seed.episode(
        " and ".join(subjects),
        segments,
        transcript_language="en",
        duration=segments[-1].end,
    )


def run_step(app: Flask, db: sqlite_utils.Database, episode_id: int) -> None:
    config = {**app.config, "CHAPTER_MIN_SECONDS": 20}
    topics_step(Context(db, config, get_episode(db, episode_id), lambda _f: None))


def tags_of(db: sqlite_utils.Database, episode_id: int) -> dict[str, tuple]:
    return {
        r.slug: (r.source, r.removed) for r in episode_tags(db, episode_id, include_removed=True)
    }


def invoke(home: Path, command: click.Command, *args: str):  # noqa: ANN201
    """Run one of this module's commands as `radio --home HOME ...` would."""
    return CliRunner().invoke(command, list(args), obj=AppState(str(home)))


@pytest.fixture
def station(app: Flask, home: Path) -> Path:
    (home / "taxonomy.toml").write_text(STATION_TAXONOMY, encoding="utf-8")
    return home


def test_the_step_stores_topics_keyphrases_and_chapters(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    episode_id = add_episode(seed)
    run_step(app, db, episode_id)
    rows = episode_tags(db, episode_id)
    by_slug = {r.slug: r for r in rows}
    assert by_slug["printing"].source == "taxonomy"
    assert by_slug["telephone-service"].source == "taxonomy"
    assert by_slug["printing"].label == "Printing and books"
    keyphrases = [r for r in rows if r.source == "keyphrase"]
    assert 1 <= len(keyphrases) <= 5
    assert all(0 < r.score <= 1 for r in rows)
    stored = stored_chapters(db, episode_id)
    assert [round(c.start) for c in stored] == [0, 58, 136]
    assert all(c.title for c in stored)
    # Running again replaces, never adds.
    before = (list(db["episode_tags"].rows), list(db["chapters"].rows))
    run_step(app, db, episode_id)
    after = (list(db["episode_tags"].rows), list(db["chapters"].rows))
    assert [(r["tag_id"], r["source"], r["score"]) for r in before[0]] == [
        (r["tag_id"], r["source"], r["score"]) for r in after[0]
    ]
    assert [(r["idx"], r["start"], r["title"]) for r in before[1]] == [
        (r["idx"], r["start"], r["title"]) for r in after[1]
    ]


def test_manual_decisions_survive_retag(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    episode_id = add_episode(seed)
    run_step(app, db, episode_id)
    taxonomy = load_station_taxonomy(station)
    tag_episode(db, episode_id, add=["market day"], remove=["telephone service"], taxonomy=taxonomy)
    assert tags_of(db, episode_id)["market-day"] == ("manual", 0)
    assert tags_of(db, episode_id)["telephone-service"] == ("manual", 1)
    retag(db, {**app.config, "CHAPTER_MIN_SECONDS": 20}, [episode_id])
    tags = tags_of(db, episode_id)
    assert tags["market-day"] == ("manual", 0)
    assert tags["telephone-service"] == ("manual", 1)  # still removed
    assert tags["printing"] == ("taxonomy", 0)
    shown = {r.slug for r in episode_tags(db, episode_id)}
    assert "telephone-service" not in shown and {"market-day", "printing"} <= shown
    # An editor can take a removal back.
    tag_episode(db, episode_id, add=["telephone-service"], taxonomy=taxonomy)
    assert tags_of(db, episode_id)["telephone-service"] == ("manual", 0)


def test_editors_names_resolve_to_taxonomy_topics(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, home: Path
) -> None:
    episode_id = add_episode(seed, ("austen",))
    rows = tag_episode(db, episode_id, add=["water", "Health"], remove=["culture"])
    tags = {r.slug: (r.kind, r.removed) for r in rows}
    assert tags == {
        "water-and-sanitation": ("taxonomy", 0),
        "health": ("taxonomy", 0),
        "culture-and-music": ("taxonomy", 1),
    }
    with pytest.raises(TagError, match="no tag 'nonsense' to remove"):
        tag_episode(db, episode_id, remove=["nonsense"])
    with pytest.raises(TagError, match="both added and removed"):
        tag_episode(db, episode_id, add=["x"], remove=["x"])
    with pytest.raises(TagError, match="not a tag name"):
        tag_episode(db, episode_id, add=["+++"])


def test_queries_for_topic_pages_search_and_feeds(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    both = add_episode(seed)
    printing_only = add_episode(seed, ("printing",))
    hidden = add_episode(seed, ("phone",))
    db["episodes"].update(hidden, {"visibility": "private"})
    for episode_id in (both, printing_only, hidden):
        run_step(app, db, episode_id)
    assert {e.id for e in episodes_for_topic(db, "telephone-service")} == {both}
    assert {e.id for e in episodes_for_topic(db, "telephone-service", public_only=False)} == {
        both,
        hidden,
    }
    assert {e.id for e in episodes_for_topic(db, "printing")} == {both, printing_only}
    counts = {r.slug: r.episodes for r in list_topics(db)}
    assert counts["printing"] == 2 and counts["telephone-service"] == 1
    assert list_topics(db)[0].kind == "taxonomy"
    ids = [
        r[0]
        for r in db.execute(
            f"select e.id from episodes e where {topic_filter_sql('e')} order by e.id",
            ["printing"],
        ).fetchall()
    ]
    assert ids == [both, printing_only]
    moments = moments_for_topic(db, "telephone-service", load_station_taxonomy(station))
    assert moments and all(m.episode_id == both for m in moments)
    assert all(58 <= m.start < 136 for m in moments) and moments[0].text
    # A free tag's moments are where its words are said.
    tag_episode(db, both, add=["movable types"])
    (moment,) = moments_for_topic(db, "movable-types", load_station_taxonomy(station))
    assert moment.start < 58 and "movable" in moment.text
    with pytest.raises(TopicNotFound, match="radio topics"):
        get_topic(db, "nope")


def test_a_broken_station_taxonomy_fails_the_step_with_its_line(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, home: Path
) -> None:
    (home / "taxonomy.toml").write_text('[topics.health]\nlabel = "Health\n', encoding="utf-8")
    episode_id = add_episode(seed, ("austen",))
    with pytest.raises(StepError, match=r"taxonomy.toml, line 2: not valid TOML"):
        run_step(app, db, episode_id)


def test_bad_settings_say_which_to_fix(seed: Seeder, app: Flask, db: sqlite_utils.Database) -> None:
    episode_id = add_episode(seed, ("austen",))
    for key, value in [("TOPIC_THRESHOLD", "lots"), ("TOPIC_THRESHOLD", 2), ("CHAPTER_PENALTY", 0)]:
        config = {**app.config, key: value}
        with pytest.raises(StepError, match="TOPIC_THRESHOLD|chapter settings"):
            topics_step(Context(db, config, get_episode(db, episode_id), lambda _f: None))


def test_cli_tag_retag_topics_and_chapters(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, runner, home: Path
) -> None:
    episode_id = str(add_episode(seed))
    result = invoke(home, retag_command, "--all")
    assert result.exit_code == 0, result.output
    assert "Retagged 1 episode(s)" in result.output
    result = invoke(home, tag, episode_id, "+water", "-culture-and-music", "+market day")
    assert result.exit_code == 0, result.output
    assert "water-and-sanitation" in result.output and "removed by an editor" in result.output
    result = invoke(home, retag_command, "--all")
    assert result.exit_code == 0, result.output
    tags = tags_of(db, int(episode_id))
    assert tags["water-and-sanitation"] == ("manual", 0)
    assert tags["culture-and-music"] == ("manual", 1)
    assert tags["market-day"] == ("manual", 0)
    result = invoke(home, topics)
    assert result.exit_code == 0 and "water-and-sanitation" in result.output
    assert "culture-and-music" not in result.output
    result = invoke(home, chapters, episode_id, "--json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["version"] == "1.2.0" and doc["chapters"][0]["startTime"] == 0
    assert invoke(home, retag_command).exit_code == 2  # neither episodes nor --all
    result = invoke(home, tag, "999", "+water")
    assert result.exit_code == 1 and "Episode 999 doesn't exist" in result.output


def test_cli_topics_check_reports_a_broken_file(runner, home: Path) -> None:
    result = invoke(home, topics, "--check")
    assert result.exit_code == 0, result.output
    assert "default_taxonomy.toml: 10 topics, OK" in result.output
    (home / "taxonomy.toml").write_text('[topics.water]\nlabel = "Water"\n', encoding="utf-8")
    result = invoke(home, topics, "--check")
    assert result.exit_code == 1
    assert "line 1: topic 'water' needs keywords per language" in result.output


def test_every_topic_command_has_help_with_an_example() -> None:
    for command in COMMANDS:
        assert command.help and "Example: radio " in command.help, command.name
        assert CliRunner().invoke(command, ["--help"]).exit_code == 0


def test_removing_a_keyphrase_tag_removes_that_tag_not_a_similar_topic(app, db, home):
    from radio.data.tags import episode_tags, tag_episode
    from radio.jobs.ingest import Limits, Metadata, ingest_file
    from tests.conftest import clip

    episode_id = ingest_file(db, home, clip("jfk.flac"), Metadata(), Limits()).episode_id
    tag_id = db["tags"].insert({"slug": "water", "label": "water", "kind": "keyphrase"}).last_pk
    db["episode_tags"].insert(
        {"episode_id": episode_id, "tag_id": tag_id, "source": "keyphrase", "score": 0.5}
    )
    tag_episode(db, episode_id, add=["water and sanitation"], remove=[])
    tag_episode(db, episode_id, add=[], remove=["water"])
    kept = {t.slug: t.removed for t in episode_tags(db, episode_id, include_removed=True)}
    assert kept == {"water": 1, "water-and-sanitation": 0}


def test_words_heard_without_confidence_never_become_tags(
    seed: Seeder, app: Flask, db: sqlite_utils.Database, station: Path
) -> None:
    """A stretch the model was unsure of (a hallucinated "thanks for watching", music
    taken for words) gives no topic and no keyphrase; the same words heard clearly do."""
    segments, _ = joined(("printing",))

    def heard(probability: float) -> list[Segment]:
        return [
            Segment(
                s.start,
                s.end,
                s.text,
                tuple(Word(s.start, s.end, w, probability) for w in s.text.split()),
            )
            for s in segments
        ]

    unsure = seed.episode("Unsure", heard(0.3), transcript_language="en")
    sure = seed.episode("Sure", heard(0.9), transcript_language="en")
    run_step(app, db, unsure)
    run_step(app, db, sure)
    assert tags_of(db, unsure) == {}
    assert "printing" in tags_of(db, sure)
