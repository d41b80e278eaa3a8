"""The station's policy page (#16): how recordings are used, kept and removed, and how to ask.

- ``/policy``: the policy, public, in the reader's language (``radio.data.policy.current``);
  every page's footer, the upload form and the receipt page link it.
- ``/admin/policy``: admins write it in Markdown, one text per language, with a preview
  (a button: the page works without JavaScript), or reset a language to the default.

The Markdown is an admin's, but it is shown to everyone: it is rendered by markdown-it-py
with HTML input off (a ``<script>`` comes out as text), no images (nothing may load from
outside the archive) and links only to http(s), mailto or the archive's own pages.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext
from markdown_it import MarkdownIt
from markupsafe import Markup
from werkzeug import Response

from radio import i18n
from radio.data import audit, policy
from radio.data.errors import Invalid
from radio.data.users import Role
from radio.db import get_db
from radio.upkeep.trash import trash_days
from radio.web.auth import login_required

bp = Blueprint("policy", __name__)

SAFE_SCHEMES = ("http", "https", "mailto")
# Anything before the first "/", "?" or "#" that ends in ":" is a scheme, whatever
# characters it holds ("java%09script:" too): only the safe ones pass.
_SCHEME = re.compile(r"^([^/?#]*?):")


def safe_link(url: str) -> bool:
    """http(s), mailto, or a link within the archive (relative, or ``#fragment``)."""
    found = _SCHEME.match(url.strip())
    return found is None or found.group(1).lower() in SAFE_SCHEMES


def _markdown() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False}).disable("image")
    md.validateLink = safe_link  # a refused link is shown as its text, with no href
    return md


_MD = _markdown()


def render(markdown: str) -> Markup:
    """The Markdown as HTML that can carry no script."""
    return Markup(_MD.render(markdown))


def facts() -> policy.Facts:
    config = current_app.config
    return policy.Facts(
        station=config["STATION_NAME"], trash_days=trash_days(config), contact=config.get("CONTACT")
    )


@bp.get("/policy")
def show() -> str:
    text = policy.current(
        get_db(), i18n.current_locale(), facts(), preferred=current_app.config.get("LANGUAGE")
    )
    return render_template(
        "policy.html",
        policy=text,
        html=render(text.markdown),
        other_language=i18n.LOCALES.get(text.locale)
        if text.locale != i18n.current_locale()
        else None,
    )


def _chosen_locale() -> str:
    asked = request.values.get("locale") or i18n.current_locale()
    return asked if asked in i18n.LOCALES else i18n.DEFAULT_LOCALE


@bp.get("/admin/policy")
@login_required(Role.ADMIN)
def edit() -> str:
    locale = _chosen_locale()
    own = policy.stored(get_db(), locale)
    markdown = own.markdown if own else policy.default_text(locale)
    return _edit_page(locale, markdown, own)


@bp.post("/admin/policy")
@login_required(Role.ADMIN)
def save() -> Response | tuple[str, int] | str:
    locale, db = _chosen_locale(), get_db()
    markdown = request.form.get("markdown", "")
    action = request.form.get("action", "save")
    if action == "reset":
        if policy.reset(db, locale, audit.account(db, g.user.id)):
            flash(
                gettext(
                    "The policy in %(language)s is the default again.",
                    language=i18n.LOCALES[locale],
                )
            )
        return redirect(url_for("policy.edit", locale=locale), 303)
    if action == "preview":
        return _edit_page(locale, markdown, policy.stored(db, locale), preview=True)
    try:
        policy.save(db, locale, markdown, g.user.id)
    except Invalid as e:
        return _edit_page(locale, markdown, policy.stored(db, locale), error=str(e)), 422
    flash(gettext("Saved the policy in %(language)s.", language=i18n.LOCALES[locale]))
    return redirect(url_for("policy.edit", locale=locale), 303)


def _edit_page(
    locale: str,
    markdown: str,
    own: policy.Stored | None,
    preview: bool = False,
    error: str | None = None,
) -> str:
    return render_template(
        "policy_edit.html",
        locale=locale,
        markdown=markdown,
        own=own,
        written=policy.written_locales(get_db()),
        preview=render(policy.fill(markdown, facts(), locale)) if preview else None,
        error=error,
        max_chars=policy.MAX_CHARS,
    )
