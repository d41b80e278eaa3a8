"""Scripts written without spaces, and Chinese in the station's script (#11)."""

from __future__ import annotations

from transcription.scripts import (
    SEPARATOR,
    has_unsegmented,
    index_text,
    script_variants,
    to_chinese_script,
    tokens,
)
from transcription.segments import Segment, Word


def test_each_character_of_these_scripts_becomes_a_token_and_other_words_stay_whole():
    assert index_text("说中文 water") == SEPARATOR.join("说中文") + " water"
    assert index_text("저는 한국어를") == "저" + SEPARATOR + "는 " + SEPARATOR.join("한국어를")
    assert index_text("plain words") == "plain words"
    assert tokens("日本語") == ["日", "本", "語"] and tokens("radio") == ["radio"]
    assert has_unsegmented("今日は") and not has_unsegmented("café crème")


def test_a_query_word_is_searched_in_both_chinese_scripts():
    assert set(script_variants("国家")) == {"国家", "國家"}
    assert set(script_variants("國家")) == {"国家", "國家"}
    assert script_variants("water") == ["water"]


def test_a_transcript_is_stored_in_the_script_the_station_reads():
    said = Segment(
        0.0, 2.0, "我們的國家", (Word(0.0, 1.0, "我們的", 0.9), Word(1.0, 2.0, "國家", 0.8))
    )
    simplified = to_chinese_script(said, "simplified")
    assert simplified.text == "我们的国家"
    assert [w.word for w in simplified.words] == ["我们的", "国家"]
    assert simplified.words[1].probability == 0.8 and simplified.start == 0.0
    assert to_chinese_script(simplified, "traditional").text == "我們的國家"
