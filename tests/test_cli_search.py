"""``radio models``: the Whisper models on disk in the order they are chosen, and --bench,
which times each on real speech on this machine."""

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
