"""The station's topic taxonomy: a TOML file of topics, each with keywords in several languages.

The file (``taxonomy.toml`` in the data folder, or the shipped ``default_taxonomy.toml``)::

    [topics.health]
    label = "Health"
    threshold = 0.05            # optional: this topic's own threshold
    [topics.health.keywords]
    en = ["health", "clinic", "malaria"]
    sw = ["afya", "zahanati", "malaria"]

Errors name the file and the line so a station volunteer can fix them in a text editor.
"""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from transcription.errors import TranscriptionError

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).with_name("default_taxonomy.toml")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
TOPIC_KEYS = {"label", "keywords", "threshold", "description"}


class TaxonomyError(TranscriptionError, ValueError):
    """The taxonomy file can't be used; the message names the file, the line and the fix."""

    def __init__(self, source: str, line: int | None, problem: str) -> None:
        self.source, self.line, self.problem = source, line, problem
        where = f"{source}, line {line}" if line else source
        super().__init__(
            f"{where}: {problem}. Fix the taxonomy file, then run `radio topics --check`."
        )


@dataclass(frozen=True)
class Topic:
    slug: str
    label: str
    keywords: dict[str, tuple[str, ...]]  # language code -> keywords and phrases
    threshold: float | None = None  # None: the station-wide threshold
    description: str = ""

    def keywords_for(self, language: str | None) -> tuple[str, ...]:
        return self.keywords.get((language or "")[:2].lower(), ())


@dataclass(frozen=True)
class Taxonomy:
    topics: tuple[Topic, ...]
    source: str = "<string>"

    def get(self, slug: str) -> Topic | None:
        return next((t for t in self.topics if t.slug == slug), None)

    def find(self, text: str) -> Topic | None:
        """A topic by slug or by label, as an editor would type it ("water", "Health")."""
        wanted = text.strip().lower()
        return next(
            (t for t in self.topics if wanted in (t.slug, t.label.lower())),
            None,
        )

    @property
    def languages(self) -> set[str]:
        return {lang for t in self.topics for lang in t.keywords}


def load_taxonomy(path: str | Path) -> Taxonomy:
    """Read and check a taxonomy file; raise TaxonomyError (with a line number) if it's wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise TaxonomyError(str(path), None, f"can't read the file ({e.strerror})") from e
    except UnicodeDecodeError as e:
        raise TaxonomyError(str(path), None, "is not UTF-8 text; save it as UTF-8") from e
    return parse_taxonomy(text, str(path))


def load_default_taxonomy() -> Taxonomy:
    return load_taxonomy(DEFAULT_PATH)


def parse_taxonomy(text: str, source: str = "<string>") -> Taxonomy:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line = _toml_error_line(str(e))
        problem = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(e))
        raise TaxonomyError(source, line, f"not valid TOML: {problem}") from e
    topics_table = data.get("topics")
    if not isinstance(topics_table, dict) or not topics_table:
        raise TaxonomyError(
            source, None, "no topics: add [topics.SLUG] tables, each with a label and keywords"
        )
    unknown = sorted(set(data) - {"topics"})
    if unknown:
        raise TaxonomyError(
            source,
            _line_of(text, unknown[0]),
            f"unknown top-level key {unknown[0]!r}; topics go under [topics.SLUG]",
        )
    topics = tuple(_check_topic(text, source, slug, body) for slug, body in topics_table.items())
    logger.debug("taxonomy %s: %d topics", source, len(topics))
    return Taxonomy(topics=topics, source=source)


def _check_topic(text: str, source: str, slug: str, body: object) -> Topic:
    line = _line_of(text, f"topics.{slug}") or _line_of(text, slug)
    if not SLUG.match(slug):
        raise TaxonomyError(
            source, line, f"topic name {slug!r} must be lower case letters, digits and hyphens"
        )
    if not isinstance(body, dict):
        raise TaxonomyError(source, line, f"topic {slug!r} must be a table: label and keywords")
    extra = sorted(set(body) - TOPIC_KEYS)
    if extra:
        raise TaxonomyError(
            source,
            _line_of(text, extra[0], after=line) or line,
            f"topic {slug!r} has an unknown key {extra[0]!r}; use {', '.join(sorted(TOPIC_KEYS))}",
        )
    label = body.get("label")
    if not isinstance(label, str) or not label.strip():
        raise TaxonomyError(source, line, f'topic {slug!r} needs a label, e.g. label = "Health"')
    keywords = body.get("keywords")
    kw_line = _line_of(text, f"topics.{slug}.keywords") or _line_of(text, "keywords", after=line)
    if not isinstance(keywords, dict) or not keywords:
        raise TaxonomyError(
            source,
            kw_line or line,
            f"topic {slug!r} needs keywords per language, e.g. "
            f'[topics.{slug}.keywords] then en = ["word", "another phrase"]',
        )
    checked = _check_keywords(text, source, slug, keywords, after=kw_line or line, line=line)
    threshold = body.get("threshold")
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 < threshold <= 1
    ):
        raise TaxonomyError(
            source,
            _line_of(text, "threshold", after=line) or line,
            f"threshold of topic {slug!r} must be a number above 0 and at most 1",
        )
    return Topic(
        slug=slug,
        label=label.strip(),
        keywords=checked,
        threshold=float(threshold) if threshold is not None else None,
        description=str(body.get("description") or ""),
    )


def _check_keywords(
    text: str, source: str, slug: str, keywords: dict, *, after: int | None, line: int | None
) -> dict[str, tuple[str, ...]]:
    """A topic's keywords per language, each list checked and without repeats."""
    checked: dict[str, tuple[str, ...]] = {}
    for lang, words in keywords.items():
        lang_line = _line_of(text, lang, after=after) or line
        if not LANGUAGE.match(lang):
            raise TaxonomyError(
                source, lang_line, f"{lang!r} in topic {slug!r} is not a language code (en, sw)"
            )
        if (
            not isinstance(words, list)
            or not words
            or not all(isinstance(w, str) and w.strip() for w in words)
        ):
            raise TaxonomyError(
                source,
                lang_line,
                f"keywords {lang} of topic {slug!r} must be a list of words, e.g. "
                f'{lang} = ["word", "another phrase"]',
            )
        checked[lang] = tuple(dict.fromkeys(w.strip() for w in words))
    return checked


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"at line (\d+)", message)
    return int(match.group(1)) if match else None


def _line_of(text: str, key: str, after: int | None = None) -> int | None:
    """The first line (after line ``after``) that defines ``key`` as a table or a key."""
    escaped = re.escape(key)
    pattern = re.compile(
        rf'^\s*(\[\s*{escaped}\s*\]|"?{escaped}"?\s*=|\[\s*[\w.-]*\.{escaped}\s*\])'
    )
    for number, line in enumerate(text.splitlines(), start=1):
        if after and number <= after:
            continue
        if pattern.match(line):
            return number
    return None
