"""The interface in the station's languages (#15 item 5): which locale a request gets, the
switcher, <html lang>, Vary, a data-layer message in the request's language, and the
catalogs (complete and compiled)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from radio import create_app, i18n
from radio.config import ConfigError
from tests.conftest import settings

TRANSLATED = ("fr", "es", "pt", "sw")


def html_lang(response) -> str:  # noqa: ANN001
    match = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert match, "every page says its language"
    return match.group(1)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-SN,fr;q=0.9,en;q=0.5", "fr"),
        ("sw", "sw"),
        ("sw-KE", "sw"),
        ("pt-BR,pt;q=0.8", "pt"),
        ("es-BO", "es"),
        ("de-DE,de;q=0.9", "en"),  # none of ours: the station's default
    ],
)
def test_accept_language_picks_the_locale(client, header: str, expected: str) -> None:  # noqa: ANN001
    response = client.get("/", headers={"Accept-Language": header})
    assert response.status_code == 200
    assert html_lang(response) == expected


def test_station_default_when_the_browser_asks_for_none_of_ours(home: Path) -> None:
    app = create_app(settings(home, LANGUAGE="sw"))
    client = app.test_client()
    assert html_lang(client.get("/", headers={"Accept-Language": "de"})) == "sw"
    assert html_lang(client.get("/")) == "sw"  # no header at all
    assert html_lang(client.get("/", headers={"Accept-Language": "fr"})) == "fr"


def test_a_language_the_interface_lacks_is_refused_at_start(home: Path) -> None:
    with pytest.raises(ConfigError, match="LANGUAGE must be one of"):
        create_app(settings(home, LANGUAGE="de"))


def test_the_switcher_wins_over_the_browser(client) -> None:  # noqa: ANN001
    page = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    # every page's footer lists the languages by their own names, as plain links
    for code, name in i18n.LOCALES.items():
        assert f'lang="{code}"' in page and name in page
    response = client.get("/language/sw?next=/topics")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/topics")
    assert "lang=sw" in response.headers["Set-Cookie"]
    assert html_lang(client.get("/", headers={"Accept-Language": "fr"})) == "sw"


def test_the_switcher_never_sends_anyone_off_site(client) -> None:  # noqa: ANN001
    response = client.get("/language/fr?next=//evil.example/")
    assert response.headers["Location"] in ("/", "http://localhost/")


def test_query_parameter_sets_the_cookie(client) -> None:  # noqa: ANN001
    response = client.get("/?lang=pt", headers={"Accept-Language": "fr"})
    assert html_lang(response) == "pt"
    assert "lang=pt" in response.headers["Set-Cookie"]
    assert html_lang(client.get("/")) == "pt"


def test_pages_vary_with_language_but_feeds_do_not(client) -> None:  # noqa: ANN001
    page = client.get("/", headers={"Accept-Language": "fr"})
    assert {"Accept-Language", "Cookie"} <= set(page.vary)
    feed = client.get("/feeds/all.xml", headers={"Accept-Language": "fr"})
    assert feed.status_code == 200
    assert "Accept-Language" not in feed.vary
    assert "<html" not in feed.get_data(as_text=True)


def test_dates_are_written_the_readers_way(app) -> None:  # noqa: ANN001
    from radio.web.i18n import date_text

    with app.test_request_context("/", headers={"Accept-Language": "fr"}):
        app.preprocess_request()
        assert date_text("2026-11-02") == "2 nov. 2026"
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        app.preprocess_request()
        assert date_text("2026-11-02") == "Nov 2, 2026"


def _tiny_catalog(folder: Path, locale: str, messages: dict[str, str]) -> None:
    catalog = Catalog(locale=locale, domain=i18n.DOMAIN)
    for source, text in messages.items():
        catalog.add(source, text)
    target = folder / locale / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / f"{i18n.DOMAIN}.mo").open("wb") as f:
        write_mo(f, catalog)


def test_a_data_layer_error_speaks_the_requests_language(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mechanism, with a tiny catalog of two messages (the real French one is filled in by
    the translators): a FieldError raised by radio/data during a French request comes out in
    French, the same error in an English request in English."""
    folder = tmp_path / "catalogs"
    _tiny_catalog(
        folder,
        "fr",
        {
            "page must be a whole number from 1, not {value!r}: ?page=2": (
                "page doit être un nombre entier à partir de 1, pas {value!r} : ?page=2"
            ),
            "Latest recordings": "Derniers enregistrements",
        },
    )
    monkeypatch.setattr(i18n, "CATALOGS", folder)
    i18n.translations.cache_clear()
    try:
        app = create_app(settings(home, BABEL_TRANSLATION_DIRECTORIES=str(folder)))
        client = app.test_client()
        french = client.get("/?page=abc", headers={"Accept-Language": "fr"})
        assert french.status_code == 400
        text = french.get_data(as_text=True)
        assert "page doit être un nombre entier" in text
        assert html_lang(french) == "fr"
        english = client.get("/?page=abc", headers={"Accept-Language": "en"})
        assert "page must be a whole number" in english.get_data(as_text=True)
        home_fr = client.get("/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
        assert "Derniers enregistrements" in home_fr  # templates read the same catalogs
        # outside a request (the CLI) the same message stays English
        from radio.data.fields import page

        with pytest.raises(Exception, match="page must be a whole number"):
            page("abc")
    finally:
        i18n.translations.cache_clear()


def _messages(path: Path) -> dict[str, object]:
    with path.open("rb") as f:
        catalog = read_po(f)
    return {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}


def test_every_catalog_has_every_message_of_the_template() -> None:
    """Each .po holds every msgid of messages.pot (scripts/i18n.py was run after marking)."""
    template = _messages(i18n.CATALOGS / "messages.pot")
    assert len(template) > 300
    for locale in i18n.LOCALES:
        catalog = _messages(i18n.CATALOGS / locale / "LC_MESSAGES" / "messages.po")
        missing = set(template) - set(catalog)
        assert not missing, f"{locale} lacks {sorted(missing)[:5]}: run scripts/i18n.py"


@pytest.mark.parametrize("locale", TRANSLATED)
def test_catalogs_are_complete(locale: str) -> None:
    catalog = _messages(i18n.CATALOGS / locale / "LC_MESSAGES" / "messages.po")
    untranslated = [
        key
        for key, m in catalog.items()
        if m.fuzzy or not (m.string if isinstance(m.string, str) else all(m.string))
    ]
    assert not untranslated, f"{len(untranslated)} untranslated in {locale}: {untranslated[:3]}"


def _key(value: str | list[str] | tuple[str, ...]) -> str | tuple[str, ...]:
    return value if isinstance(value, str) else tuple(value)


@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_compiled_catalogs_match_the_sources(locale: str) -> None:
    """The .mo the archive reads says what the .po says (scripts/i18n.py compiles)."""
    folder = i18n.CATALOGS / locale / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as f:
        source = read_po(f)
    with (folder / "messages.mo").open("rb") as f:
        compiled = read_mo(f)
    expected = {
        _key(m.id): _key(m.string)
        for m in source
        if m.id and not m.fuzzy and (m.string if isinstance(m.string, str) else all(m.string))
    }
    # pybabel writes an untranslated plural as its source forms: that is no translation
    got = {
        _key(m.id): _key(m.string)
        for m in compiled
        if m.id and (isinstance(m.string, str) or not set(m.string) <= set(m.id))
    }
    assert got == expected
