"""radio.data.fields: the one set of checks for what people type (#13)."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from radio.data import fields, licences
from radio.data.errors import NotFound

FORBIDDEN = set("\x00\x07\x1b\x7f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufffe")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.booleans())
def test_cleaned_text_keeps_nothing_dangerous_and_is_stable(text, multiline):
    cleaned = fields.clean_text(text, multiline=multiline)
    assert not set(cleaned) & FORBIDDEN
    assert all(unicodedata.category(c) != "Cc" or c in "\n\t" for c in cleaned)
    if not multiline:
        assert "\n" not in cleaned and "\t" not in cleaned
    assert fields.clean_text(cleaned, multiline=multiline) == cleaned


def test_text_keeps_what_people_write():
    assert fields.title("  Radio\u202e Maendeleo\x00 ") == "Radio Maendeleo"
    assert fields.title("مياه\u200f للجميع") == "مياه\u200f للجميع"  # RLM is punctuation here
    assert fields.title("👩🏽‍🌾 Farming") == "👩🏽‍🌾 Farming"  # the joiner in an emoji stays
    assert fields.description("one\r\ntwo\x1b\n\n\tthree  ") == "one\ntwo\n\n\tthree"


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: fields.title("t" * 201), "title is too long (201 characters); use at most 200"),
        (lambda: fields.title("", required=True), "can't be empty"),
        (lambda: fields.description("d" * 20_001), "at most 20,000"),
        (lambda: fields.show("s" * 121), "show name is too long"),
        (lambda: fields.names([f"n{i}" for i in range(21)]), "at most 20"),
        (lambda: fields.language("/etc/passwd"), "not a language"),
        (lambda: fields.language("sw", allowed=("en",)), "not a language"),
        (lambda: fields.recorded_at("2026-02-30"), "is not a date"),
        (lambda: fields.recorded_at("1850-01-01"), "year from 1900"),
        (lambda: fields.page("²"), "whole number"),
        (lambda: fields.page("0"), "whole number"),
    ],
)
def test_out_of_bounds_is_refused_with_the_field_named(call, reason):
    with pytest.raises(fields.FieldError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        call()


def test_values_that_pass():
    assert fields.language("pt-BR") == "pt" and fields.language("") is None
    assert fields.recorded_at("2026-11-02T18:30:00+03:00") == "2026-11-02T15:30"
    assert fields.page(None) == 1 and fields.page("12") == 12
    assert fields.names([" Amina ", "Amina", "", "Mai"]) == ("Amina", "Mai")
    with pytest.raises(NotFound):
        fields.page(str(2**63))


def test_file_names_are_names_not_paths():
    assert fields.filename("../../etc/passwd") == "passwd"
    assert fields.filename("C:\\Users\\a\\call.wav") == "call.wav"
    assert fields.filename("..") == "upload" and fields.filename(None) == "upload"
    long = fields.filename("x" * 300 + ".flac")
    assert len(long) == fields.MAX_FILENAME_CHARS and long.endswith("….flac")
    assert fields.made_up_title("word " * 100).endswith("…")
    assert len(fields.made_up_title("word " * 100)) <= fields.MAX_TITLE_CHARS


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("cc-by", "cc-by"),
        ("CC BY", "cc-by"),  # a code as people write it
        ("CC BY 4.0", "cc-by"),  # the label
        ("cc-by-sa-4.0", "cc-by-sa"),  # the SPDX identifier podcast:license carries
        (" cc by-nc ", "cc-by-nc"),
        ("CC0", "cc0"),
        ("All Rights Reserved", "all-rights-reserved"),
        ("all_rights_reserved", "all-rights-reserved"),
        ("", None),
        (None, None),
    ],
)
def test_a_licence_is_taken_by_code_or_label_in_any_case(typed, code):
    assert fields.licence(typed) == code


@pytest.mark.parametrize("typed", ["GPL", "cc-by-nd", "CC BY 3.0", "x" * 500, "cc\u202eby"])
def test_any_other_licence_is_refused_naming_the_choices(typed):
    with pytest.raises(fields.FieldError) as info:
        fields.licence(typed)
    message = str(info.value)
    assert "is not a licence the archive knows" in message
    for choice in ("cc-by (CC BY 4.0)", "cc-by-sa", "cc-by-nc", "cc0", "all-rights-reserved"):
        assert choice in message
    assert len(message) < 400  # a 500-character value is not echoed back whole


def test_every_licence_has_a_label_an_identifier_and_a_url_where_there_is_one():
    assert licences.CODES == ("cc-by", "cc-by-sa", "cc-by-nc", "cc0", "all-rights-reserved")
    by_code = {licence.code: licence for licence in licences.LICENCES}
    assert by_code["cc-by"].url == "https://creativecommons.org/licenses/by/4.0/"
    assert by_code["cc-by-sa"].url == "https://creativecommons.org/licenses/by-sa/4.0/"
    assert by_code["cc-by-nc"].url == "https://creativecommons.org/licenses/by-nc/4.0/"
    assert by_code["cc0"].url == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert by_code["all-rights-reserved"].url is None  # no public licence, no legal text
    assert by_code["cc-by"].summary() == {
        "identifier": "cc-by-4.0",
        "name": "CC BY 4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    assert "url" not in by_code["all-rights-reserved"].summary()
