"""The interface's language per request (#15): Flask-Babel set up over ``radio/translations``,
the locale chosen for each request, and the switcher every page's footer links to.

The choice, first that applies: ``?lang=fr`` on any page (kept in the ``lang`` cookie, as the
switcher does), the ``lang`` cookie, the browser's ``Accept-Language`` (``pt-BR`` -> pt,
``sw-KE`` -> sw, ``fr-SN`` -> fr), then the station's ``LANGUAGE``. The same choice is given
to ``radio.i18n`` so messages from the data and job layers (``FieldError``...) speak it too.

Pages vary with ``Accept-Language`` and the cookie, and say so (``Vary``); feeds, media,
transcripts and other non-HTML answers are language-neutral and are left alone, so a shared
cache never hands one listener another's language.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from babel import Locale
from babel import dates as babel_dates
from flask import (
    Blueprint,
    Flask,
    Response,
    current_app,
    g,
    redirect,
    request,
)
from flask_babel import Babel, format_date, format_datetime, get_locale

from radio import i18n

bp = Blueprint("i18n", __name__)

COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def init_app(app: Flask) -> None:
    """Flask-Babel over the archive's catalogs, the station default, the per-request choice."""
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(i18n.CATALOGS))
    app.config["BABEL_DEFAULT_LOCALE"] = app.config.get("LANGUAGE") or i18n.DEFAULT_LOCALE
    # Dates shown on pages are the station's (config TIMEZONE), as the schedule is.
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config.get("TIMEZONE") or "UTC"
    Babel(app, locale_selector=selected_locale)
    # {% trans %} blocks are trimmed (babel.cfg extracts them the same way), so a sentence
    # wrapped over two lines is one message.
    app.jinja_env.policies["ext.i18n.trimmed"] = True
    app.before_request(_choose)
    app.after_request(_remember_and_vary)
    app.teardown_request(_forget)
    app.register_blueprint(bp)
    app.add_template_filter(date_text, "date")
    app.add_template_filter(datetime_text, "datetime")
    app.add_template_filter(duration_text, "duration")
    app.context_processor(_template_values)


def choose_locale() -> str:
    """This request's locale, one of ``LOCALES``."""
    asked = request.args.get(COOKIE, "").strip().lower()
    if asked in i18n.LOCALES:
        return asked
    kept = request.cookies.get(COOKIE, "").strip().lower()
    if kept in i18n.LOCALES:
        return kept
    # Werkzeug falls back on the primary subtag both ways: pt-BR finds pt, sw finds sw.
    best = request.accept_languages.best_match(list(i18n.LOCALES))
    if best:
        return best.split("-")[0].lower()
    return station_default()


def station_default() -> str:
    return current_app.config.get("LANGUAGE") or i18n.DEFAULT_LOCALE


def selected_locale() -> str:
    """Flask-Babel's locale selector: the choice made in ``_choose`` (or made now, for an
    answer given before it ran)."""
    if "locale" not in g:
        g.locale = choose_locale()
    return g.locale


def _choose() -> None:
    g.locale = choose_locale()
    i18n.set_locale(g.locale)


def _forget(_exc: BaseException | None = None) -> None:
    # The thread serves the next request, or a worker: it starts English again.
    i18n.set_locale(i18n.DEFAULT_LOCALE)


def _remember_and_vary(response: Response) -> Response:
    asked = request.args.get(COOKIE, "").strip().lower()
    if asked in i18n.LOCALES and request.cookies.get(COOKIE) != asked:
        _set_cookie(response, asked)
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response


def _set_cookie(response: Response, locale: str) -> None:
    response.set_cookie(
        COOKIE, locale, max_age=COOKIE_MAX_AGE, samesite="Lax", httponly=True, path="/"
    )


@bp.get("/language/<code>")
def switch(code: str) -> Response:
    """The footer's switcher (a plain link, no JavaScript): keep the choice, go back."""
    back = safe_next(request.args.get("next"))
    response = redirect(back, code=303)
    if code in i18n.LOCALES:
        _set_cookie(response, code)
    return response


def safe_next(target: str | None) -> str:
    """A path on this archive to go back to; anything else (another site) goes home."""
    from flask import url_for

    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return url_for("archive.index")


def _template_values() -> dict[str, Any]:
    return {
        "lang": str(get_locale() or i18n.DEFAULT_LOCALE).split("_")[0],
        "locales": i18n.LOCALES,
        "language_back": request.full_path.rstrip("?") if request else "/",
    }


def _as_date(value: str | date | None) -> date | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def date_text(value: str | date | None, form: str = "medium") -> str:
    """``2026-11-02`` as the reader's language writes it (2 nov. 2026, 2 Nov 2026)."""
    day = _as_date(value)
    if day is None:
        return str(value or "")
    return format_date(day, format=form)


def datetime_text(value: str | datetime | None, form: str = "medium") -> str:
    """A stored UTC time (ISO text) in the station's zone, written the reader's way."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:  # stored times are UTC
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment, format=form)


def duration_text(seconds: float | timedelta | None, form: str = "short") -> str:
    """A length in words of the reader's language (``45 sec``, ``3 min``, ``12 days``)."""
    delta = seconds if isinstance(seconds, timedelta) else timedelta(seconds=float(seconds or 0))
    # Flask-Babel's format_timedelta takes no ``format``; Babel's own does
    return babel_dates.format_timedelta(delta, format=form, threshold=1.5, locale=get_locale())


def language_label(code: str, fallback: str) -> str:
    """A language's name in the interface's language, where Babel knows it (``sw`` reads
    ``Kiswahili`` on a Swahili page, ``suaíli`` on a Portuguese one)."""
    try:
        names = Locale.parse(str(get_locale() or i18n.DEFAULT_LOCALE)).languages
    except (ValueError, TypeError):
        return fallback
    name = names.get(code)
    return name[:1].upper() + name[1:] if name else fallback
