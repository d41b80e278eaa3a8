"""``radio models``: the Whisper models on disk in the order they are chosen, and --bench,
which times each on real speech on this machine; ``radio search --speaker`` and hits that
name who spoke; ``radio transcript`` naming the speakers in every format."""

from __future__ import annotations

import json

from tests.conftest import TINY_EN, clip


def test_models_lists_the_configured_one_first(runner) -> None:  # noqa: ANN001
    result = runner("models")  # conftest sets RADIO_WHISPER_MODEL to tiny.en's folder
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("* tiny.en ") and "English only" in first and str(TINY_EN) in first
    listed = json.loads(runner("models", "--json").output)
    assert listed[0]["chosen"] and listed[0]["path"] == str(TINY_EN)
    assert [m["name"] for m in listed[1:]] in ([], ["base"])  # base, when installed


def test_an_unknown_model_name_is_a_clear_error(runner, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("RADIO_WHISPER_MODEL", "large-v9")
    result = runner("models")
    assert result.exit_code != 0
    assert "No Whisper model is called 'large-v9'. Installed:" in result.output


def test_bench_times_every_model_on_real_speech(runner) -> None:  # noqa: ANN001
    clips = [clip("cannot-complete-as-dialed.wav"), clip("jfk.flac")]  # 0.5 s apart: 14.2 s
    result = runner("models", "--bench", "--json", *(f"--clip={c}" for c in clips))
    assert result.exit_code == 0, result.output
    bench = json.loads(result.output)
    assert abs(bench["audio_seconds"] - 14.2) < 0.1 and bench["cores"] >= 1
    for model in bench["models"]:
        assert model["compute_seconds"] > 0 and model["words"] >= 20, model
        assert model["seconds_per_minute"] == round(
            model["compute_seconds"] / model["audio_seconds"] * 60, 2
        )
        assert model["language"] == "en"
    table = runner("models", "--bench", f"--clip={clips[0]}")
    assert table.exit_code == 0, table.output
    assert "per minute of audio" in table.output and "an hour of audio:" in table.output


# --- radio search --speaker, and who said what in radio transcript ----------------------------

CALL = [
    (0.0, 2.0, "Welcome, the committee meets about water.", "Amina"),
    (2.0, 4.0, "Is the water safe to drink?", "Speaker 2"),
    (12.5, 15.0, "The water is tested every week.", "Amina"),
]


def test_search_hits_say_who_spoke_and_filter_by_speaker(seed, runner) -> None:  # noqa: ANN001
    call = seed.episode("Water committee", CALL, show="Morning Talk")
    seed.episode("Market day", [(0.0, 3.0, "Water prices went up.", "Joseph")], show="Market")
    everyone = runner("search", "water")
    assert everyone.exit_code == 0, everyone.output
    assert f"{call}  Amina at 0:12  The water is tested every week." in everyone.output
    assert f"{call}  Speaker 2 at 0:02  Is the water safe to drink?" in everyone.output
    amina = runner("search", "water", "--speaker", "amina")
    assert amina.exit_code == 0, amina.output
    assert amina.output.splitlines() == [
        f"{call}  Amina at 0:00  Welcome, the committee meets about water.",
        f"{call}  Amina at 0:12  The water is tested every week.",
    ]
    assert runner("search", "water", "--speaker", "Joseph", "--show", "morning-talk").output == (
        "No results.\n"
    )
    found = json.loads(runner("search", "water", "--speaker", "Joseph", "--json").output)
    assert [e["title"] for e in found["episodes"]] == ["Market day"]
    assert [h["speaker"] for h in found["episodes"][0]["hits"]] == ["Joseph"]


def test_a_bad_speaker_is_a_clear_error(seed, runner) -> None:  # noqa: ANN001
    seed.episode("Water committee", CALL)
    bad = runner("search", "water", "--speaker", "x" * 200)
    assert bad.exit_code == 1
    assert "The speaker must be a name as the transcript shows it" in bad.output
    assert "Traceback" not in bad.output and "BadQuery" not in bad.output


def test_transcript_names_the_speakers_in_every_format(seed, runner) -> None:  # noqa: ANN001
    call = str(seed.episode("Water committee", CALL))
    vtt = runner("transcript", call, "--format", "vtt").output
    assert "<v Amina>Welcome, the committee meets about water." in vtt
    assert "<v Speaker 2>Is the water safe to drink?" in vtt
    srt = runner("transcript", call, "--format", "srt").output
    assert "Speaker 2: Is the water safe to drink?" in srt
    segments = json.loads(runner("transcript", call, "--format", "json").output)["segments"]
    assert [s["speaker"] for s in segments] == ["Amina", "Speaker 2", "Amina"]
    text = runner("transcript", call, "--format", "txt").output
    assert text.split("\n\n")[1] == "Speaker 2: Is the water safe to drink?"
