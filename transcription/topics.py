"""What a recording is about: keyphrases, station taxonomy topics and chapters.

Pure: takes segments (anything with ``start``, ``end`` and ``text``, such as
``transcription.segments.Segment``), a language code and a ``Taxonomy``; returns dataclasses.

- Keyphrases: YAKE candidates in the transcript's language (its stopwords plus spoken fillers),
  then variants that share their stems ("Water pumps", "water pump") merged and re-ranked by
  how often the merged phrase is said: YAKE counts each surface form apart.
- Topics: keyword hits per stretch of speech (a sliding window of ``window_seconds``). A topic
  needs ``min_hits`` hits in one window (never one passing word) and a hit density, hits per
  content word, of at least its threshold there.
- Chapters: lexical cohesion (Utiyama and Isahara's statistical segmentation, which does
  better than TextTiling on short stretches of speech), at segment boundaries, no chapter
  under ``min_seconds``, each titled by the keyphrases most its own. See
  ``transcription.chapters``.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from transcription.lexicon import Lexicon, Token, fold, lexicon
from transcription.segments import SegmentLike
from transcription.taxonomy import Taxonomy

DEFAULT_THRESHOLD = 0.05
MIN_HITS = 2
MIN_KEYWORDS = 2  # different keywords of a topic in one window of speech
WINDOW_SECONDS = 90.0
MIN_WINDOW_WORDS = 20  # short clips: two hits in three words is not 67 % of a subject
CROSS_LANGUAGE_MIN_CHARS = 5  # shorter keywords of other languages are too often false friends


@dataclass(frozen=True)
class Keyphrase:
    text: str
    score: float  # relevance in (0, 1], higher is better
    key: str = ""  # stems, space-separated: the same for case and plural variants
    count: int = 1  # times said (all variants)


@dataclass(frozen=True)
class TopicScore:
    slug: str
    label: str
    score: float  # best hit density over a window of speech, 0..1
    matched: tuple[str, ...]  # keywords heard, most frequent first
    moments: tuple[float, ...]  # where each stretch about the topic starts (s)
    hits: int = 0
    coverage: float = 0.0  # share of the recording's time in windows about the topic


# -- keyphrases ---------------------------------------------------------------------------


def extract_keyphrases(
    segments: Iterable[SegmentLike], language: str | None, n: int = 10
) -> list[Keyphrase]:
    """The ``n`` phrases that best say what the speech is about, best first."""
    texts = [s.text for s in segments if s.text and s.text.strip()]
    if not texts or n <= 0:
        return []
    lex = lexicon(language)
    text = collapse_repeats(lex.strip_fillers(" ".join(t.strip() for t in texts)))
    tokens = lex.tokens(text)
    if not any(t.content for t in tokens):
        return []
    candidates = _yake_candidates(text, lex, top=max(4 * n, 20))
    return _merge_variants(candidates, tokens, lex)[:n]


_REPEAT = re.compile(r"\b(\w+(?:\s+\w+){0,2}?)(?:[\s,.;:!?]+\1\b)+", re.IGNORECASE)


def collapse_repeats(text: str) -> str:
    """One of each run of the same words said again at once ("words words words", "thank
    you, thank you"): a stutter or a model's loop, which would otherwise look like what
    the speech is about."""
    return _REPEAT.sub(r"\1", text)


def _yake_candidates(text: str, lex: Lexicon, top: int) -> list[tuple[str, float]]:
    import yake

    extractor = yake.KeywordExtractor(
        lan=lex.language,
        n=3,
        top=top,
        dedup_lim=0.9,
        stopwords=set(lex.stopwords),
        # No position feature: a broadcast's first sentence is a greeting, not a headline.
        features=["wfreq", "wrel", "tf", "wcase", "wspread"],
    )
    return [(str(phrase), float(score)) for phrase, score in extractor.extract_keywords(text)]


def _merge_variants(
    candidates: list[tuple[str, float]], tokens: list[Token], lex: Lexicon
) -> list[Keyphrase]:
    groups: dict[tuple[str, ...], list[tuple[str, float]]] = defaultdict(list)
    for phrase, score in candidates:
        words = lex.tokens(phrase)
        if not words or not any(w.content for w in words):
            continue  # stopwords or fillers only
        if not words[0].content or not words[-1].content:
            continue
        if len(words) == 1 and len(words[0].text) < 3:
            continue
        groups[tuple(w.stem for w in words)].append((phrase, score))
    stems = [t.stem for t in tokens]
    merged = []
    for key, variants in groups.items():
        count = max(1, _count(stems, key))
        if count < 2 and not all(w.content for w in lex.tokens(variants[0][0])):
            continue  # "disgusto que produjo": a stopword inside is a phrase only if repeated
        best = min(score for _, score in variants)
        # YAKE scores (lower is better) split a word's weight between its forms; a phrase
        # said often across the whole speech deserves what its forms earned together.
        ranked = best / (1.0 + math.log(count))
        merged.append(
            Keyphrase(
                text=_display(variants, tokens, key),
                score=round(1.0 / (1.0 + 10.0 * ranked), 4),
                key=" ".join(key),
                count=count,
            )
        )
    merged.sort(key=lambda k: (-k.score, k.text))
    return _drop_contained(merged)


def _count(stems: list[str], key: tuple[str, ...]) -> int:
    n = len(key)
    return sum(1 for i in range(len(stems) - n + 1) if tuple(stems[i : i + n]) == key)


def _display(variants: list[tuple[str, float]], tokens: list[Token], key: tuple[str, ...]) -> str:
    """The form people said most, lower case unless it is always capitalised (a name)."""
    n = len(key)
    said: Counter[str] = Counter()
    for i in range(len(tokens) - n + 1):
        if tuple(t.stem for t in tokens[i : i + n]) == key:
            said[" ".join(t.text for t in tokens[i : i + n])] += 1
    if not said:
        return variants[0][0].lower()
    lowered: Counter[str] = Counter()
    for form, count in said.items():
        lowered[form.lower()] += count
    form = min(lowered, key=lambda f: (-lowered[f], len(f), f))
    forms = [o for o in said if o.lower() == form]
    if all(w[:1].isupper() for o in forms for w in o.split()):
        return max(forms, key=lambda o: said[o])  # a name: "John Dashwood", "Gutenberg"
    return form


def _drop_contained(phrases: list[Keyphrase]) -> list[Keyphrase]:
    """Drop a phrase when half its words are in a better-ranked one ("Super Awesome",
    "calling super" after "Super Awesome Company"), keeping the list short and varied."""
    kept: list[Keyphrase] = []
    for p in phrases:
        words = p.key.split()
        if any(sum(w in k.key.split() for w in words) * 2 >= len(words) for k in kept):
            continue
        kept.append(p)
    return kept


# -- taxonomy topics -----------------------------------------------------------------------


def score_topics(
    segments: Sequence[SegmentLike],
    taxonomy: Taxonomy,
    language: str | None,
    threshold: float = DEFAULT_THRESHOLD,
    *,
    min_hits: int = MIN_HITS,
    window_seconds: float = WINDOW_SECONDS,
    include_below: bool = False,
) -> list[TopicScore]:
    """Taxonomy topics the speech is about, best first.

    With ``include_below`` every topic with at least one hit is returned (for showing where a
    manually added topic is mentioned), qualifying or not.
    """
    segments = [s for s in segments if s.text is not None]
    if not segments:
        return []
    lex = lexicon(language)
    seg_tokens = [lex.tokens(s.text) for s in segments]
    content = [sum(t.content for t in tokens) for tokens in seg_tokens]
    hits = find_keyword_hits(seg_tokens, taxonomy, lex)
    duration = max(s.end for s in segments) - min(s.start for s in segments)
    windows = _windows(segments, window_seconds)
    results = []
    for topic in taxonomy.topics:
        topic_hits = hits.get(topic.slug, [])
        if not topic_hits:
            continue
        per_segment = Counter(seg for seg, _ in topic_hits)
        best, qualifying = _dense_windows(
            topic_hits, windows, content, min_hits, topic.threshold or threshold
        )
        if not qualifying and not include_below:
            continue
        if not qualifying:
            best = max(per_segment[i] / max(content[i], MIN_WINDOW_WORDS) for i in per_segment)
        spans = _merge_spans(qualifying or [(i, i) for i in sorted(per_segment)])
        moments = tuple(
            round(segments[min(i for i in per_segment if a <= i <= b)].start, 2)
            for a, b in spans
            if any(a <= i <= b for i in per_segment)
        )
        covered = sum(segments[b].end - segments[a].start for a, b in spans) if qualifying else 0
        matched = Counter(keyword for _, keyword in topic_hits)
        results.append(
            TopicScore(
                slug=topic.slug,
                label=topic.label,
                score=round(min(best, 1.0), 4),
                matched=tuple(k for k, _ in matched.most_common()),
                moments=moments,
                hits=len(topic_hits),
                coverage=round(min(covered / duration, 1.0), 4) if duration > 0 else 0.0,
            )
        )
    results.sort(key=lambda r: (-r.score, r.slug))
    return results


def _dense_windows(
    topic_hits: list[tuple[int, str]],
    windows: list[tuple[int, int]],
    content: list[int],
    min_hits: int,
    limit: float,
) -> tuple[float, list[tuple[int, int]]]:
    """The best hit density over the windows, and the windows that qualify: dense enough,
    and with at least ``MIN_KEYWORDS`` different keywords of the topic, because one word
    said again and again has one sense only by chance ("meditating in the water" is not
    about water and sanitation; "water", "well" and "latrine" together are)."""
    per_segment = Counter(seg for seg, _ in topic_hits)
    said: dict[int, set[str]] = defaultdict(set)
    for seg, keyword in topic_hits:
        said[seg].add(keyword)
    best, qualifying = 0.0, []
    for first, last in windows:
        n_hits = sum(per_segment[i] for i in range(first, last + 1))
        density = n_hits / max(sum(content[first : last + 1]), MIN_WINDOW_WORDS)
        if n_hits >= min_hits:
            best = max(best, density)
            keywords = set().union(*(said.get(i, set()) for i in range(first, last + 1)))
            if density >= limit and len(keywords) >= MIN_KEYWORDS:
                qualifying.append((first, last))
    return best, qualifying


def find_keyword_hits(
    seg_tokens: list[list[Token]], taxonomy: Taxonomy, lex: Lexicon
) -> dict[str, list[tuple[int, str]]]:
    """Topic slug -> (segment index, keyword) for each keyword heard.

    Keywords in the transcript's language match by stem; other languages' keywords (people
    switch languages mid-sentence) match as exact words, and only the longer ones.
    """
    patterns: dict[str, list[tuple[tuple[str, ...], bool, str, str]]] = defaultdict(list)
    for topic in taxonomy.topics:
        for lang, words in topic.keywords.items():
            for keyword in words:
                for key, by_stem in _keyword_keys(keyword, lang == lex.language, lex):
                    patterns[key[0]].append((key, by_stem, topic.slug, keyword))
    flat = [(i, t) for i, tokens in enumerate(seg_tokens) for t in tokens]
    stems = [t.stem for _, t in flat]
    lowers = [t.lower for _, t in flat]
    hits: dict[str, list[tuple[int, str]]] = defaultdict(list)
    busy_until: dict[str, int] = defaultdict(int)
    for pos, (seg, token) in enumerate(flat):
        options = patterns.get(token.stem, [])
        if token.lower != token.stem:
            options = options + patterns.get(token.lower, [])
        seen_here: set[str] = set()
        for key, own, slug, keyword in sorted(options, key=lambda p: -len(p[0])):  # longest
            if slug in seen_here or busy_until[slug] > pos:
                continue
            stream = stems if own else lowers
            if tuple(stream[pos : pos + len(key)]) == key:
                hits[slug].append((seg, fold(keyword)))
                busy_until[slug] = pos + len(key)
                seen_here.add(slug)
    return hits


def _keyword_keys(keyword: str, own: bool, lex: Lexicon) -> list[tuple[tuple[str, ...], bool]]:
    """How a keyword is looked for: (token sequence, True to compare stems or False for words).

    A stem of under four letters ("illness" -> "ill") would find other words ("ill-disposed"),
    so such keywords are looked for as the word and its plural instead.
    """
    tokens = lex.tokens(keyword)
    if not tokens:
        return []
    words = tuple(t.lower for t in tokens)
    if not own:
        if len("".join(words)) < CROSS_LANGUAGE_MIN_CHARS or (
            len(words) == 1 and lex.is_stopword(words[0])
        ):
            return []
        return [(words, False)]
    if all(len(t.stem) >= 4 or t.stem == t.lower for t in tokens):
        return [(tuple(t.stem for t in tokens), True)]
    plurals = [(*words[:-1], words[-1] + end) for end in ("s", "es")]
    return [(words, False), *((p, False) for p in plurals)]


def phrase_moments(
    segments: Sequence[SegmentLike], phrase: str, language: str | None, gap: float = 60.0
) -> list[float]:
    """Where a phrase (or its variants) is said, mentions closer than ``gap`` s as one."""
    lex = lexicon(language)
    key = lex.phrase_key(phrase)
    times: list[float] = []
    for segment in segments if key else ():
        stems = [t.stem for t in lex.tokens(segment.text)]
        if _count(stems, key) and (not times or segment.start - times[-1] >= gap):
            times.append(round(segment.start, 2))
    return times


def _windows(segments: Sequence[SegmentLike], seconds: float) -> list[tuple[int, int]]:
    """(first, last) segment indexes of each window starting at a segment."""
    out, last = [], 0
    for first, seg in enumerate(segments):
        last = max(last, first)
        while last + 1 < len(segments) and segments[last + 1].start < seg.start + seconds:
            last += 1
        out.append((first, last))
    return out


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged
