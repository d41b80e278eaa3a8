"""Messages below the web layer (#15): marked with ``radio.i18n._``, read in the locale of
the moment they are made or shown, and English wherever no locale was chosen (the CLI)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo

from radio import i18n
from radio.data import fields, licences
from radio.data.errors import Invalid
from radio.media import formats

FRENCH = {
    "The title can't be empty.": "Le titre ne peut pas être vide.",
    "The title is too long ({length:,} characters); use at most {limit:,}.": (
        "Le titre est trop long ({length:,} caractères) ; {limit:,} au plus."
    ),
    "{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-02.": (
        "{value!r} n'est pas une date : écrivez AAAA-MM-JJ, p. ex. 2026-11-02."
    ),
    "a ZIP archive": "une archive ZIP",
    "All rights reserved": "Tous droits réservés",
    "{count} chapters; an episode can have at most {limit}.": (
        "{count} chapitres ; un épisode en a au plus {limit}."
    ),
}


@pytest.fixture
def french(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A small French catalog, compiled as pybabel compiles radio/translations."""
    catalog = Catalog(locale="fr", domain=i18n.DOMAIN)
    for english, french in FRENCH.items():
        catalog.add(english, french)
    folder = tmp_path / "fr" / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / f"{i18n.DOMAIN}.mo").open("wb") as out:
        write_mo(out, catalog)
    monkeypatch.setattr(i18n, "CATALOGS", tmp_path)
    i18n.translations.cache_clear()
    yield
    i18n.translations.cache_clear()


def refusal(check) -> str:
    with pytest.raises(fields.FieldError) as caught:
        check()
    return str(caught.value)


def test_messages_stay_english_without_a_locale(french: None) -> None:
    # The radio command never chooses a locale: the same error reads as written.
    assert i18n.current_locale() == "en"
    assert refusal(lambda: fields.title("", required=True)) == "The title can't be empty."
    assert refusal(lambda: fields.title("t" * 201)) == (
        "The title is too long (201 characters); use at most 200."
    )
    assert str(i18n._("All rights reserved")) == "All rights reserved"


def test_a_data_layer_error_reads_in_french_with_its_values(french: None) -> None:
    with i18n.use_locale("fr"):
        assert refusal(lambda: fields.title("", required=True)) == (
            "Le titre ne peut pas être vide."
        )
        # Placeholders survive translation, with their formatting ({length:,}, {value!r}).
        assert refusal(lambda: fields.title("t" * 2001)) == (
            "Le titre est trop long (2,001 caractères) ; 200 au plus."
        )
        assert refusal(lambda: fields.edited_recorded_at("02/11", None, today=_today())) == (
            "'02/11' n'est pas une date : écrivez AAAA-MM-JJ, p. ex. 2026-11-02."
        )
        many = [(float(n), f"c{n}") for n in range(101)]
        assert refusal(lambda: fields.chapter_list(many, None)) == (
            "101 chapitres ; un épisode en a au plus 100."
        )
    # Made in French, the message stays French; a new one is English again.
    assert refusal(lambda: fields.title("", required=True)) == "The title can't be empty."


def test_a_message_without_a_translation_stays_english_in_french(french: None) -> None:
    with i18n.use_locale("fr"):
        message = refusal(lambda: fields.chapter_title(""))
    assert message == "Every chapter needs a title; remove the chapter instead."


def test_refusals_and_labels_are_plain_strings_in_the_locale(french: None, tmp_path: Path) -> None:
    zipped = tmp_path / "upload.mp3"
    zipped.write_bytes(b"PK\x03\x04" + bytes(40))
    reserved = licences.find("all-rights-reserved")
    assert reserved is not None
    with i18n.use_locale("fr"):
        what = formats.sniff(zipped)
        shown = reserved.shown
        with pytest.raises(Invalid) as caught:
            fields.title("", required=True)
    assert (what, shown) == ("une archive ZIP", "Tous droits réservés")
    assert type(what) is str and type(shown) is str
    assert reserved.label == "All rights reserved"  # files and JSON keep the English label
    # An error raised in a request can cross to a worker (Huey pickles it): its message is
    # a str, not a lazy proxy holding a closure.
    error = caught.value
    assert all(type(arg) is str for arg in error.args)
    assert str(pickle.loads(pickle.dumps(error))) == "Le titre ne peut pas être vide."


def _today():
    from datetime import date

    return date(2026, 11, 2)
