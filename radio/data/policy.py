"""The station's policy (#16): how recordings are used, kept and removed, and how to ask.

Admins write it in Markdown, one text per interface language, kept in ``station_texts``
(key ``policy``); this module owns that table. Until they do, the default that ships in
``radio/policy/<locale>.md`` is shown. A language with no text of its own shows the text
the station wrote in another language (its own words beat a default that may contradict
them), preferring the station's LANGUAGE, then English; the page says so.

Texts may say ``$station``, ``$trash_days`` and ``$contact``: they are filled in when
shown, from config, so a change of TRASH_DAYS or CONTACT never leaves the page out of date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from string import Template

import sqlite_utils

from radio.data import audit
from radio.data.errors import Invalid
from radio.db import transaction, utcnow
from radio.i18n import DEFAULT_LOCALE, LOCALES, _

KEY = "policy"
MAX_CHARS = 50_000  # about 20 printed pages: room for any policy, not for a dump
_LEADING_COMMENT = re.compile(r"\A\s*<!--.*?-->\s*", re.S)
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")

# Said where the text names whom to ask, when config has no CONTACT.
NO_CONTACT = {
    "en": "the station's volunteers: ask anyone at the station",
    "fr": "les bénévoles de la station : demandez à n'importe qui à la station",
    "es": "el equipo voluntario de la emisora: pregunte a cualquier persona de la emisora",
    "pt": "os voluntários da rádio: pergunte a qualquer pessoa da rádio",
    "sw": "wanaojitolea wa kituo: uliza mtu yeyote kituoni",
}


@dataclass(frozen=True)
class Facts:
    """What the texts' placeholders are filled with (from config, at the edge)."""

    station: str
    trash_days: float
    contact: str | None = None


@dataclass(frozen=True)
class Policy:
    """The text to show: Markdown with its placeholders filled in.

    ``locale`` is the language it is written in (may differ from the one asked for);
    ``custom`` says whether the station wrote it (else it is the shipped default)."""

    markdown: str
    locale: str
    custom: bool
    updated_at: str | None = None
    updated_by: str | None = None  # the account's name; None: command line or default


@dataclass(frozen=True)
class Stored:
    locale: str
    markdown: str
    updated_at: str
    updated_by: str | None


def default_text(locale: str) -> str:
    """The policy that ships for ``locale`` (English if there is none), placeholders as is."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    text = resources.files("radio").joinpath("policy", f"{locale}.md").read_text("utf-8")
    # The files open with a note for translators; HTML is shown as text, so it goes here.
    return _LEADING_COMMENT.sub("", text, count=1)


def stored(db: sqlite_utils.Database, locale: str) -> Stored | None:
    row = db.execute(
        "select t.locale, t.markdown, t.updated_at, u.name from station_texts t "
        "left join users u on u.id = t.updated_by where t.key = ? and t.locale = ?",
        [KEY, locale],
    ).fetchone()
    return Stored(*row) if row else None


def written_locales(db: sqlite_utils.Database) -> list[str]:
    """The languages the station has written its own policy in."""
    rows = db.execute(
        "select locale from station_texts where key = ? order by locale", [KEY]
    ).fetchall()
    return [locale for (locale,) in rows]


def save(
    db: sqlite_utils.Database,
    locale: str,
    markdown: str,
    user_id: int | None,
    actor: audit.Actor | None = None,
) -> Stored:
    """Store the station's policy for ``locale``, replacing the one before; the audit
    history says who (``actor``, else the account ``user_id``) and what it said before."""
    locale = check_locale(locale)
    markdown = markdown.replace("\r\n", "\n").strip()
    if not markdown:
        raise Invalid(_("The policy can't be empty; reset it to go back to the default."))
    if len(markdown) > MAX_CHARS:
        raise Invalid(
            _("The policy can be at most {limit} characters; this one has {count}.").format(
                limit=MAX_CHARS, count=len(markdown)
            )
        )
    before = stored(db, locale)
    with transaction(db) as conn:
        audit.record(
            conn,
            actor or audit.account(conn, user_id),
            "setting.policy",
            audit.subject("policy", locale),
            before={"markdown": before.markdown} if before else None,
            after={"markdown": markdown},
        )
        conn.execute(
            "insert into station_texts (key, locale, markdown, updated_at, updated_by) "
            "values (?, ?, ?, ?, ?) on conflict (key, locale) do update set "
            "markdown = excluded.markdown, updated_at = excluded.updated_at, "
            "updated_by = excluded.updated_by",
            [KEY, locale, markdown, utcnow(), user_id],
        )
    result = stored(db, locale)
    assert result is not None
    return result


def reset(db: sqlite_utils.Database, locale: str, actor: audit.Actor = audit.SYSTEM) -> bool:
    """Forget the station's text for ``locale`` (the default shows again); False if none."""
    locale = check_locale(locale)
    with transaction(db) as conn:
        cursor = conn.execute(
            "delete from station_texts where key = ? and locale = ?", [KEY, locale]
        )
        if cursor.rowcount:
            audit.record(conn, actor, "setting.policy.reset", audit.subject("policy", locale))
    return cursor.rowcount > 0


def current(
    db: sqlite_utils.Database, locale: str, facts: Facts, preferred: str = DEFAULT_LOCALE
) -> Policy:
    """The policy a reader of ``locale`` sees: the station's text in that language, else
    the station's text in another (``preferred``, English, then any), else the default."""
    locale = locale if locale in LOCALES else DEFAULT_LOCALE
    text = stored(db, locale)
    if text is None:
        written = written_locales(db)
        for other in (preferred, DEFAULT_LOCALE, *written):
            if other in written:
                text = stored(db, other)
                break
    if text is None:
        return Policy(fill(default_text(locale), facts, locale), locale, custom=False)
    return Policy(
        fill(text.markdown, facts, text.locale),
        text.locale,
        custom=True,
        updated_at=text.updated_at,
        updated_by=text.updated_by,
    )


def fill(markdown: str, facts: Facts, locale: str) -> str:
    """Put the station's name, TRASH_DAYS and CONTACT where the text names them."""
    contact = (facts.contact or "").strip()
    if _EMAIL.match(contact):
        contact = f"<mailto:{contact}>"  # a Markdown autolink
    return Template(markdown).safe_substitute(
        station=facts.station,
        trash_days=f"{facts.trash_days:g}",
        contact=contact or NO_CONTACT.get(locale, NO_CONTACT[DEFAULT_LOCALE]),
    )


def check_locale(locale: str) -> str:
    if locale not in LOCALES:
        raise Invalid(
            _("{locale} isn't one of the interface's languages ({known}).").format(
                locale=locale, known=", ".join(LOCALES)
            )
        )
    return locale
