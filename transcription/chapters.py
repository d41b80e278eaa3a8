"""Chapters where the subject changes, found by lexical cohesion over timed segments.

The method is Utiyama and Isahara's (2001) statistical segmentation, which finds topic
boundaries in short texts better than TextTiling: each chapter is scored by how well its own
word counts (content-word stems, Laplace-smoothed) predict its words, plus a cost of
``log(words)`` per chapter, and dynamic programming picks the cheapest split, with every
chapter at least ``min_seconds`` long. A subject change is where the vocabulary changes.

Boundaries fall between segments. When two places cost nearly the same (a short sentence
that belongs to neither side), one between sentences beats one inside a sentence, and then
the one after the longer pause wins: on the radio a change of subject comes between
sentences, usually with a breath, a jingle or a pause.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence

from transcription.lexicon import lexicon
from transcription.segments import Chapter, SegmentLike
from transcription.topics import extract_keyphrases

logger = logging.getLogger(__name__)

# Cost of a chapter, times log(words). Utiyama and Isahara used 1.0, which splits short
# transcribed talk too often (few words repeat); 2.5 is the middle of the range (2 to 3)
# that finds the subjects of bench/topics.py's recording and no more. CHAPTER_PENALTY in config.
CHAPTER_PENALTY = 2.5
MAX_UNITS = 600  # longer transcripts are grouped into this many runs of segments (speed)
PAUSE_BONUS = 0.25  # nats per second of pause before a boundary, up to MAX_PAUSE
MAX_PAUSE = 2.0
MID_SENTENCE_COST = 3.0  # nats: a chapter rarely starts in the middle of a sentence
# nats: between two near-equal places, the one where another voice takes over. A new
# subject on the radio often brings a new voice; one nat is far less than a chapter's
# cost (2.5 log(words)), so voices taking turns inside a subject don't make chapters.
# Chapters of tiny.en's transcript of tests' three-subject show needed it (base's didn't).
SPEAKER_BONUS = 1.0
SENTENCE_ENDS = (".", "?", "!", "…", "。", "؟")
TITLE_PHRASES = 2


def find_boundaries(
    segments: Sequence[SegmentLike],
    min_seconds: float,
    language: str | None,
    *,
    penalty: float = CHAPTER_PENALTY,
) -> list[int]:
    """Indexes of the segments that start a chapter; always begins with 0.

    ``penalty`` scales the cost of each extra chapter (higher: fewer chapters).
    """
    end = segments[-1].end
    if len(segments) < 2 or end < 2 * min_seconds:
        return [0]  # a short recording is one chapter, even under min_seconds
    lex = lexicon(language)
    step = math.ceil(len(segments) / MAX_UNITS)
    firsts = list(range(0, len(segments), step))  # segment index starting each unit
    words = [
        [t.stem for s in segments[i : i + step] for t in lex.tokens(s.text) if t.content]
        for i in firsts
    ]
    total = sum(len(w) for w in words)
    if total == 0:
        return [0]
    vocabulary = len({w for unit in words for w in unit})
    chapter_cost = penalty * math.log(total)
    times = [0.0 if i == 0 else segments[i].start for i in firsts] + [end]
    punctuated = any(s.text.rstrip().endswith(SENTENCE_ENDS) for s in segments)
    bonus = [0.0] + [
        PAUSE_BONUS * min(pause_before(segments, i), MAX_PAUSE)
        - (MID_SENTENCE_COST if punctuated and mid_sentence(segments, i) else 0.0)
        + (SPEAKER_BONUS if new_voice(segments, i) else 0.0)
        for i in firsts[1:]
    ]
    units = _cheapest_split(words, times, bonus, min_seconds, vocabulary, chapter_cost)
    if units is None:
        return [0]
    starts = sorted(firsts[u] for u in units)
    logger.debug("chapters start at %s", [round(segments[i].start, 1) for i in starts])
    return starts


def _cheapest_split(
    words: list[list[str]],
    times: list[float],
    bonus: list[float],
    min_seconds: float,
    vocabulary: int,
    chapter_cost: float,
) -> list[int] | None:
    """Dynamic programming over the units: the first unit of each chapter of the cheapest
    split whose chapters are all at least ``min_seconds`` long, or None if there is none."""
    n, end = len(words), times[-1]
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for a in range(n):
        if best[a] == math.inf:
            continue
        counts: Counter[str] = Counter()
        said = 0
        fit = 0.0  # sum over words of count * log(count + 1), kept up to date
        for b in range(a + 1, n + 1):
            for w in words[b - 1]:
                old = counts[w]
                counts[w] = old + 1
                fit += (old + 1) * math.log(old + 2) - old * math.log(old + 1)
            said += len(words[b - 1])
            if times[b] - times[a] < min_seconds:
                continue
            if b < n and end - times[b] < min_seconds:
                continue
            cost = said * math.log(said + vocabulary) - fit if said else 0.0
            value = best[a] + cost + chapter_cost - bonus[a]
            if value < best[b]:
                best[b], back[b] = value, a
    if best[n] == math.inf:
        return None
    units, b = [], n
    while b > 0:
        b = back[b]
        units.append(b)
    return units


def pause_before(segments: Sequence[SegmentLike], i: int) -> float:
    """Silence between segment ``i - 1`` and segment ``i``, from word timings when there are
    some (Whisper's segment times often run on through a pause)."""
    before, after = segments[i - 1], segments[i]
    before_words = getattr(before, "words", None)
    after_words = getattr(after, "words", None)
    end = before_words[-1].end if before_words else before.end
    start = after_words[0].start if after_words else after.start
    return max(start - end, 0.0)


def new_voice(segments: Sequence[SegmentLike], i: int) -> bool:
    """Whether segment ``i`` is said by someone else than segment ``i - 1`` (when known)."""
    before = getattr(segments[i - 1], "speaker", None)
    after = getattr(segments[i], "speaker", None)
    return before is not None and after is not None and before != after


def mid_sentence(segments: Sequence[SegmentLike], i: int) -> bool:
    """Whether segment ``i`` goes on with the sentence segment ``i - 1`` began."""
    before = segments[i - 1].text.rstrip()
    after = segments[i].text.lstrip()
    return bool(before) and not before.endswith(SENTENCE_ENDS) and after[:1].islower()


def title_chapters(
    segments: Sequence[SegmentLike], starts: list[int], language: str | None
) -> list[Chapter]:
    """Chapters from start indexes, each titled by the keyphrases most its own."""
    bounds = [*starts, len(segments)]
    parts = [segments[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    lex = lexicon(language)
    stem_counts = [
        Counter(t.stem for s in part for t in lex.tokens(s.text) if t.content) for part in parts
    ]
    chapters = []
    for k, part in enumerate(parts):
        others: Counter[str] = Counter()
        for j, counts in enumerate(stem_counts):
            if j != k:
                others.update(counts)
        title = _title(part, language, stem_counts[k], others, len(parts) - 1) or f"Part {k + 1}"
        start = 0.0 if k == 0 else part[0].start
        end = parts[k + 1][0].start if k + 1 < len(parts) else part[-1].end
        chapters.append(Chapter(start=round(start, 2), end=round(end, 2), title=title))
    return chapters


def _title(
    part: Sequence[SegmentLike],
    language: str | None,
    here: Counter[str],
    others: Counter[str],
    n_others: int,
) -> str:
    phrases = extract_keyphrases(part, language, n=8)
    if not phrases:
        return ""

    def own(phrase_key: str) -> float:
        # Share of this phrase's words said here rather than in an average other chapter.
        words = phrase_key.split()
        mine = sum(here[w] for w in words)
        elsewhere = sum(others[w] for w in words) / max(n_others, 1)
        return mine / (mine + elsewhere) if mine else 0.0

    ranked = sorted(phrases, key=lambda p: -(p.score * own(p.key)))
    picked: list[str] = []
    for p in ranked:
        if any(w in " ".join(picked).lower().split() for w in p.text.lower().split()):
            continue
        picked.append(p.text)
        if len(picked) == TITLE_PHRASES:
            break
    title = ", ".join(picked)
    return title[:1].upper() + title[1:]


def split_chapters(
    segments: Sequence[SegmentLike],
    min_seconds: float = 60.0,
    language: str | None = "en",
    *,
    penalty: float = CHAPTER_PENALTY,
) -> list[Chapter]:
    """Chapters where the subject changes, at segment boundaries, titled from keyphrases."""
    segments = [s for s in segments if s.text and s.text.strip()]
    if not segments:
        return []
    starts = find_boundaries(segments, min_seconds, language, penalty=penalty)
    return title_chapters(segments, starts, language)
