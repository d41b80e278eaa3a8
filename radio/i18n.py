"""The interface's languages (#15): which there are, which one this request speaks, and
messages that are translated when they are shown, not when they are made.

The web layer chooses a locale per request (``use_locale``); Flask-Babel translates the
templates with the same catalogs (``radio/translations``). Code below the web layer (data,
jobs, media) marks the messages a person may read with ``_``: a lazy string, so a
``FieldError`` raised while a French page is being answered reads in French, and the same
error in the ``radio`` command (which never chooses a locale) stays English.

    raise FieldError(_("The title can't be empty."))
    raise FieldError(_("{field} can be at most {limit} characters.").format(...))

``.format`` on a lazy string translates and formats at that moment (so at raise time, in the
request's locale); the placeholders stay named so that translators can move them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

from babel.support import LazyProxy, NullTranslations, Translations

DEFAULT_LOCALE = "en"
# English first: the source language. Names in their own language, for the switcher.
LOCALES = {
    "en": "English",
    "fr": "Français",
    "es": "Español",
    "pt": "Português",
    "sw": "Kiswahili",
}
CATALOGS = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("radio_locale", default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _current.get()


@contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Speak ``locale`` (one of ``LOCALES``, else English) until the block ends."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)


def set_locale(locale: str | None) -> str:
    """Speak ``locale`` from now on in this context (a request's, set by the web layer)."""
    chosen = locale if locale in LOCALES else DEFAULT_LOCALE
    _current.set(chosen)
    return chosen


@cache
def translations(locale: str) -> NullTranslations:
    """The compiled catalog of ``locale`` (English: none, the source text is shown)."""
    if locale == DEFAULT_LOCALE:
        return NullTranslations()
    return Translations.load(str(CATALOGS), [locale], DOMAIN)


def gettext_now(message: str, **values: Any) -> str:
    """``message`` in the current locale, formatted with ``values`` if any."""
    text = translations(current_locale()).ugettext(message)
    return text.format(**values) if values else text


def _(message: str) -> LazyProxy:
    """A message translated each time it is shown, in the locale of that moment."""
    return LazyProxy(lambda: translations(current_locale()).ugettext(message), enable_cache=False)


def ngettext(singular: str, plural: str, n: int) -> LazyProxy:
    return LazyProxy(
        lambda: translations(current_locale()).ungettext(singular, plural, n), enable_cache=False
    )
