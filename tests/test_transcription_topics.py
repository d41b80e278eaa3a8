"""Keyphrases, taxonomy topics and chapters from real transcripts (transcription.topics).

The texts are the reference transcripts of the test clips in tests/data (manifest.tsv:
LJ Speech, Asterisk prompts, LibriVox), timed by the clips' real durations; the slow test
transcribes the joined audio itself with tiny.en.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import DATA
from transcription.chapters import split_chapters
from transcription.lexicon import lexicon
from transcription.taxonomy import load_default_taxonomy, parse_taxonomy
from transcription.topics import Keyphrase, extract_keyphrases, score_topics

# (subject, seconds, reference transcript)
CLIPS = [
    ("printing", 9.655, "Printing, in the only sense with which we are at present concerned, "
     "differs from most if not from all the arts and crafts represented in the Exhibition"),
    ("printing", 1.9, "in being comparatively modern."),
    ("printing", 9.667, "For although the Chinese took impressions from wood blocks engraved in "
     "relief for centuries before the woodcutters of the Netherlands, by a similar process"),
    ("printing", 5.139, "produced the block books, which were the immediate predecessors of the "
     "true printed book,"),
    ("printing", 8.111, "the invention of movable metal letters in the middle of the fifteenth "
     "century may justly be considered as the invention of the art of printing."),
    ("printing", 5.684, "And it is worth mention in passing that, as an example of fine "
     "typography,"),
    ("printing", 8.39, 'the earliest book printed with movable types, the Gutenberg, or '
     '"forty-two line Bible" of about fourteen fifty-five,'),
    ("printing", 1.783, "has never been surpassed."),
    ("phone", 25.392, "Thank you for calling Super Awesome Company, Waldo's premier provider of "
     "perfect products. If you know your party's extension, you may dial it at any time. To "
     "establish a sales partnership, press one. To speak with a customer advocate, press two. "
     "For accounting and other receivables, press three. For a company directory, press four. "
     "For an operator, press zero."),
    ("phone", 5.516, "That agent is already logged on.  Please enter your agent number "
     "followed by the pound key."),
    ("phone", 19.206, "Please press 1 to mute or unmute yourself, 2 to lock or unlock the "
     "conference, 3 to eject the last user, 4 or 6 to decrease or increase the conference "
     "volume, 7 or 9 to decrease or increase your volume, or 8 to exit."),
    ("phone", 2.642, "Your call cannot be completed as dialed."),
    ("phone", 2.217, "Please check the number and dial again."),
    ("phone", 3.506, "Please enter your phone number, starting with the area code."),
    ("phone", 3.259, "press 1 to record your temporary greeting"),
    ("phone", 2.257, "You are currently caller number"),
    ("phone", 4.938, "The number you have dialed is not in service. Please check the number "
     "and try again."),
    ("austen", 7.1, "and mister john dashwood had then leisure to consider how much there "
     "might be prudently in his power to do for them"),
    ("austen", 2.99, "he was not an ill disposed young man"),
    ("austen", 5.3, "unless to be rather cold hearted and rather selfish is to be ill disposed"),
    ("austen", 6.05, "had he married a more a amiable woman he might have been made still more "
     "respectable than he was"),
    ("austen", 3.29, "he might even have been made amiable himself"),
]  # fmt: skip

# Spontaneous speech with fillers (mfa-test-data/acoustic_corpus.wav, its reference).
ACOUSTIC_CORPUS = (
    "this is the acoustic corpus i'm talking pretty fast here there's nothing going else going "
    "on we're just yknow there's some speech errors but who cares um this is me talking really "
    "slow and slightly lower in intensity uh we're just saying some words and here's some more "
    "words words words words um and that should be all thanks"
)
SPANISH = (  # mfa-test-data/13697_11991_000000.opus (MLS), its reference
    "la sorpresa y el disgusto que produjo a wentworth la substitución de una cuñada por otra "
    "el gesto que se dibujó en su fisonomía el asombro que manifestó y las palabras a duras "
    "penas reprimidas que asomaron a sus labios mientras le hablaba carlos"
)

PHONE_TAXONOMY = parse_taxonomy(
    """
[topics.telephone-service]
label = "Telephone service"
[topics.telephone-service.keywords]
en = ["phone", "telephone", "call", "caller", "dial", "number", "extension", "operator",
      "voicemail", "area code", "press", "agent"]
es = ["teléfono", "llamada", "número"]

[topics.printing]
label = "Printing and books"
[topics.printing.keywords]
en = ["printing", "printed", "book", "typography", "movable type", "gutenberg", "engraved"]
"""
)


@dataclass(frozen=True)
class Seg:
    start: float
    end: float
    text: str


def joined(subjects: tuple[str, ...] = ("printing", "phone", "austen"), gap: float = 1.0):
    """Segments of the clips of some subjects, one after another with pauses, and where each
    subject starts."""
    segments, starts, at = [], {}, 0.0
    for subject in subjects:
        starts[subject] = at
        for clip_subject, seconds, text in CLIPS:
            if clip_subject == subject:
                segments.append(Seg(at, at + seconds, text))
                at += seconds + gap
    return segments, starts


def test_keyphrases_leave_out_fillers_and_merge_variants() -> None:
    phrases = extract_keyphrases([Seg(0, 27, ACOUSTIC_CORPUS)], "en", n=10)
    assert phrases and all(isinstance(p, Keyphrase) for p in phrases)
    lex = lexicon("en")
    for p in phrases:
        words = p.text.lower().split()
        assert not {"um", "uh", "yknow", "know", "cares"} & set(words), p
        assert not all(lex.is_stopword(w) for w in words), p
        assert 0 < p.score <= 1
    assert len({p.key for p in phrases}) == len(phrases)
    words = next(p for p in phrases if p.key == "word")
    # "some words", then "words words words words": a run of one word said again at once
    # counts once (#11), so "words" was said twice, and no phrase repeats a word.
    assert words.count == 2
    assert all(len(set(p.key.split())) == len(p.key.split()) for p in phrases)


def test_keyphrases_merge_case_and_plural_variants() -> None:
    segments, _ = joined(("printing",))
    phrases = extract_keyphrases(segments, "en", n=10)
    keys = [p.key for p in phrases]
    assert len(keys) == len(set(keys))
    # "Printing", "printing" and "printed" are one phrase; "book" and "books" another.
    assert "print" in keys
    printing = next(p for p in phrases if p.key == "print")
    assert printing.count == 4 and printing.text == printing.text.lower()
    # A stopword inside a phrase said once is no phrase ("disgusto que produjo").
    spanish = extract_keyphrases([Seg(0, 15, SPANISH)], "es", n=8)
    assert spanish and all(" que " not in p.text for p in spanish)


def test_keyphrases_use_the_transcript_language() -> None:
    phrases = extract_keyphrases([Seg(0, 15, SPANISH)], "es", n=8)
    lex = lexicon("es")
    assert phrases
    for p in phrases:
        words = p.text.split()
        assert not lex.is_stopword(words[0]) and not lex.is_stopword(words[-1]), p
    for language, word in [("en", "the"), ("fr", "les"), ("es", "que"), ("pt", "não"),
                           ("sw", "na"), ("sw", "kwa")]:  # fmt: skip
        assert lexicon(language).is_stopword(word), (language, word)
    assert extract_keyphrases([Seg(0, 2, "um uh you know")], "en") == []
    assert extract_keyphrases([], "en") == []


def test_a_topic_needs_more_than_one_passing_word() -> None:
    segments, starts = joined(("printing", "phone"))
    found = {t.slug: t for t in score_topics(segments, PHONE_TAXONOMY, "en")}
    assert set(found) == {"printing", "telephone-service"}
    phone = found["telephone-service"]
    assert phone.score > 0.05 and phone.hits >= 10
    assert {"press", "number", "dial"} <= set(phone.matched)
    assert phone.moments and all(m >= starts["phone"] for m in phone.moments)
    # The printing talk alone, with "phone" said once in passing: no telephone topic.
    printing, _ = joined(("printing",))
    printing.append(Seg(60.0, 64.0, "Later we take your questions on the phone."))
    assert [t.slug for t in score_topics(printing, PHONE_TAXONOMY, "en")] == ["printing"]
    scores = score_topics(printing, PHONE_TAXONOMY, "en", include_below=True)
    below = next(t for t in scores if t.slug == "telephone-service")
    assert below.hits == 1 and below.moments == (60.0,)


def test_the_threshold_is_configurable() -> None:
    segments, _ = joined(("printing",))
    (printing,) = score_topics(segments, PHONE_TAXONOMY, "en", threshold=0.05)
    assert score_topics(segments, PHONE_TAXONOMY, "en", threshold=printing.score + 0.01) == []


def test_stems_match_in_the_transcript_language_and_short_stems_do_not_overreach() -> None:
    taxonomy = load_default_taxonomy()
    # "ill disposed" is not "illness"; Austen is about no station topic.
    segments, _ = joined(("austen",))
    assert score_topics(segments, taxonomy, "en") == []
    # Plurals and accents: "clínicas", "vacunas" are "clínica", "vacuna".
    spanish = [
        Seg(0, 5, "Las clínicas del distrito ya tienen vacunas contra la malaria."),
        Seg(5, 9, "La enfermera dice que los niños con fiebre deben venir temprano."),
    ]
    (health,) = score_topics(spanish, taxonomy, "es")
    assert health.slug == "health"
    assert {"clinica", "vacuna", "malaria", "enfermera", "fiebre"} <= set(health.matched)
    # Swahili with English words in it (code-switching): exact matches count.
    swahili = [Seg(0, 6, "Wagonjwa wengi wa malaria wanakuja hospitali, na clinic ina dawa.")]
    (health,) = score_topics(swahili, taxonomy, "sw")
    assert {"wagonjwa", "malaria", "hospitali", "dawa"} <= set(health.matched)
    assert "clinic" in health.matched


def _subject_at(starts: dict[str, float], at: float) -> str:
    return max((s for s in starts.items() if s[1] <= at + 0.01), key=lambda s: s[1])[0]


def test_chapters_start_where_the_subject_changes_and_take_titles_from_their_part() -> None:
    segments, starts = joined()
    chapters = split_chapters(segments, min_seconds=20, language="en")
    assert [c.start for c in chapters] == [
        0.0,
        round(starts["phone"], 2),
        round(starts["austen"], 2),
    ]
    assert chapters[-1].end == round(segments[-1].end, 2)
    lex = lexicon("en")
    for chapter in chapters:
        subject = _subject_at(starts, chapter.start)
        said = " ".join(s.text for s in segments if _subject_at(starts, s.start) == subject)
        said_stems = {t.stem for t in lex.tokens(said)}
        assert chapter.title and {t.stem for t in lex.tokens(chapter.title)} <= said_stems, (
            chapter,
            subject,
        )
    assert all(b.start - a.start >= 20 for a, b in zip(chapters, chapters[1:], strict=False))


def test_no_chapter_under_the_minimum_and_short_recordings_are_one_chapter() -> None:
    segments, _ = joined()
    chapters = split_chapters(segments, min_seconds=60, language="en")
    edges = [c.start for c in chapters] + [segments[-1].end]
    assert all(b - a >= 60 for a, b in zip(edges, edges[1:], strict=False))
    short, _ = joined(("austen",))
    (only,) = split_chapters(short, min_seconds=60, language="en")
    assert only.start == 0.0 and only.end == round(short[-1].end, 2) and only.title
    assert split_chapters([], language="en") == []


@pytest.mark.slow
@pytest.mark.parametrize("model_name", ["tiny.en", "base"])
def test_chapters_of_real_transcribed_speech(tmp_path: Path, model_name: str) -> None:
    """With every shipped model, not only the one the chapter finder was first tuned on, and
    with the speakers found as the pipeline finds them (a subject here is also a voice)."""
    from tests.audiofiles import join_clips
    from tests.conftest import TINY_EN
    from transcription.diarize import assign_speakers, diarize
    from transcription.models import describe, find_models
    from transcription.transcribe import Transcriber

    if model_name == "tiny.en":
        model = describe(TINY_EN, "bundled", "tiny.en")
    else:
        model = next(m for m in find_models(None, tmp_path / "home") if m.multilingual)

    names = {
        "printing": [f"LJ001-000{i}.wav" for i in range(1, 9)],
        "phone": [
            f"{n}.wav"
            for n in (
                "basic-pbx-ivr-main",
                "agent-alreadyon",
                "conf-adminmenu",
                "cannot-complete-as-dialed",
                "check-number-dial-again",
                "privacy-prompt",
                "vm-tempgreeting",
                "queue-thereare",
                "ss-noservice",
            )
        ],  # fmt: skip
        "austen": [
            f"sense_and_sensibility_01_austen_64kb-0{n}.wav" for n in (870, 880, 890, 920, 930)
        ],
    }
    paths = [DATA / n for group in names.values() for n in group]
    starts = join_clips(paths, tmp_path / "show.wav", gap=1.0)
    changes = [starts[len(names["printing"])], starts[len(names["printing"]) + len(names["phone"])]]
    segments, _ = Transcriber(model).transcribe(tmp_path / "show.wav", language="en")
    found = diarize(tmp_path / "show.wav")
    labels = [f"Speaker {v.index + 1}" for v in found.voices]
    segments = assign_speakers(list(segments), found, labels)
    chapters = split_chapters(segments, min_seconds=20, language="en")
    found = [c.start for c in chapters[1:]]
    for change in changes:
        assert min(abs(f - change) for f in found) <= 5.0, (change, chapters)
    subjects = {"printing": 0.0, "phone": changes[0], "austen": changes[1]}
    lex = lexicon("en")
    for chapter in chapters:
        subject = _subject_at(subjects, chapter.start + 1.0)
        said = " ".join(s.text for s in segments if _subject_at(subjects, s.start + 1.0) == subject)
        assert {t.stem for t in lex.tokens(chapter.title)} <= {t.stem for t in lex.tokens(said)}, (
            chapter,
            subject,
        )


# -- tags only from what was said (#11) ----------------------------------------------------


def test_a_word_said_again_and_again_is_not_a_keyphrase():
    loop = [Seg(i * 3.0, i * 3.0 + 3, "Words words words words.") for i in range(6)]
    talk = [Seg(20.0 + i * 3, 23.0 + i * 3, text) for i, text in enumerate(MARKET_TALK)]
    phrases = [k.text for k in extract_keyphrases(loop + talk, "en", n=5)]
    assert not any("words" in p for p in phrases), phrases
    assert any("market" in p or "maize" in p for p in phrases), phrases


MARKET_TALK = [
    "The maize price at the market went up again this week.",
    "Farmers brought maize and beans to the market on Tuesday.",
    "Traders say the market price of beans will fall after the harvest.",
]


def test_one_keyword_said_many_times_does_not_make_a_topic():
    taxonomy = load_default_taxonomy()
    calm = [
        Seg(i * 6.0, i * 6.0 + 6, "We sat meditating in the water, breathing with the water.")
        for i in range(8)
    ]
    assert "water-and-sanitation" not in {t.slug for t in score_topics(calm, taxonomy, "en")}
    wash = [
        Seg(i * 6.0, i * 6.0 + 6, text)
        for i, text in enumerate(
            [
                "The borehole in the village gives clean water again.",
                "Every family should have a latrine and wash hands with soap.",
                "Handwashing after the latrine keeps the water safe.",
            ]
            * 3
        )
    ]
    assert "water-and-sanitation" in {t.slug for t in score_topics(wash, taxonomy, "en")}
