"""The station policy page (#16): the default in the reader's language, linked from every
page and the upload form; admins rewrite it (preview, save, reset); an admin's Markdown
can never carry script."""

from __future__ import annotations

import re

from lxml import html as lxml_html

from radio.data import policy
from tests.webserver import csrf_token


def page(client, path: str = "/policy", language: str | None = None):  # noqa: ANN001, ANN201
    headers = {"Accept-Language": language} if language else {}
    return client.get(path, headers=headers)


def policy_article(response) -> lxml_html.HtmlElement:  # noqa: ANN001
    assert response.status_code == 200
    tree = lxml_html.fromstring(response.get_data(as_text=True))
    (article,) = tree.xpath("//article[contains(@class, 'policy')]")
    return article


def post_policy(client, locale: str, markdown: str, action: str = "save"):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(f"/admin/policy?locale={locale}").get_data(as_text=True))
    return client.post(
        "/admin/policy",
        data={"csrf_token": token, "locale": locale, "markdown": markdown, "action": action},
    )


def test_the_default_policy_is_shown_in_the_readers_language(app, client):
    app.config.update(TRASH_DAYS=14, CONTACT="archive@radio.example", STATION_NAME="Radio Maji")
    english = policy_article(page(client, language="en"))
    assert english.get("lang") == "en"
    assert english.xpath("string(h1)") == "How Radio Maji uses your recordings"
    text = english.text_content()
    assert "14 days in the trash" in text and "$" not in text
    assert english.xpath(".//a[@href='mailto:archive@radio.example']")
    assert "Machine-drafted" not in text  # the translators' note stays in the file

    french = policy_article(page(client, language="fr-FR,fr;q=0.9"))
    assert french.get("lang") == "fr"
    assert french.xpath("string(h1)") == "Ce que Radio Maji fait de vos enregistrements"
    assert "14 jours dans la corbeille" in french.text_content()
    for language, word in (("es", "papelera"), ("pt", "lixeira"), ("sw", "kapu la taka")):
        assert word in policy_article(page(client, language=language)).text_content()


def test_without_contact_it_says_whom_to_ask_in_words(client):
    text = policy_article(page(client, language="en")).text_content()
    assert "Contact: the station's volunteers: ask anyone at the station." in text


def test_every_page_and_the_upload_form_link_the_policy(client, auth):
    for path in ("/", "/search", "/topics", "/subscribe"):
        body = client.get(path).get_data(as_text=True)
        assert re.search(r'<footer class="site">.*href="/policy"', body, re.S), path
    auth.login("amina", "uploader")
    form = lxml_html.fromstring(client.get("/upload").get_data(as_text=True))
    assert form.xpath("//form[@id='upload']//a[@href='/policy']")


def test_an_admin_rewrites_the_policy_and_readers_see_it(app, client, auth, db):
    auth.login("root", "admin")
    editor = client.get("/admin/policy?locale=en")
    assert editor.status_code == 200
    textarea = lxml_html.fromstring(editor.get_data(as_text=True)).xpath("//textarea")[0]
    assert textarea.text.startswith("# How $station uses your recordings")  # the default

    markdown = "# Our promise\n\nWe keep recordings **$trash_days days** after deletion."
    preview = post_policy(client, "en", markdown, action="preview")
    assert preview.status_code == 200
    (shown,) = lxml_html.fromstring(preview.get_data(as_text=True)).xpath(
        "//section[contains(@class, 'policy-preview')]//strong"
    )
    assert shown.text == "30 days"
    assert policy.stored(db, "en") is None  # a preview saves nothing

    saved = post_policy(client, "en", markdown)
    assert saved.status_code == 303
    listener = app.test_client()
    article = policy_article(page(listener, language="en"))
    assert article.xpath("string(h1)") == "Our promise"
    assert policy.stored(db, "en").updated_by == "root"
    # French readers get the station's own words (with a note), not a default that may
    # contradict them
    french = page(listener, language="fr")
    assert policy_article(french).xpath("string(h1)") == "Our promise"
    (note,) = lxml_html.fromstring(french.get_data(as_text=True)).xpath("//p[@class='flash']")
    assert "English" in note.text_content()  # says which language it is in

    assert post_policy(client, "en", markdown, action="reset").status_code == 303
    assert policy_article(page(listener, language="en")).xpath("string(h1)").startswith("How ")


def test_an_empty_policy_is_refused(client, auth, db):
    auth.login("root", "admin")
    refused = post_policy(client, "en", "   ")
    assert refused.status_code == 422
    alert = lxml_html.fromstring(refused.get_data(as_text=True)).xpath("//*[@role='alert']")
    assert "can't be empty" in alert[0].text_content()
    assert policy.stored(db, "en") is None


def test_only_admins_edit_the_policy(app, client, auth):
    assert client.get("/admin/policy").status_code == 302  # to the login page
    auth.login("amina", "editor")
    assert client.get("/admin/policy").status_code == 403
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    refused = client.post(
        "/admin/policy", data={"csrf_token": token, "locale": "en", "markdown": "# Mine"}
    )
    assert refused.status_code == 403
    assert "Mine" not in app.test_client().get("/policy").get_data(as_text=True)


def test_script_and_javascript_links_in_the_markdown_come_out_inert(app, client, auth):
    auth.login("root", "admin")
    markdown = (
        "# Policy\n\n<script>alert('x')</script>\n\n"
        "[click](javascript:alert(1)) [tab](java%09script:alert(1)) "
        "[entity](javascript&#58;alert(1)) <img src=x onerror=alert(1)> "
        "![pic](http://example.com/tracker.png) [ok](https://example.org) [here](/search)"
    )
    assert post_policy(client, "en", markdown).status_code == 303
    article = policy_article(page(app.test_client(), language="en"))
    assert not article.xpath(".//script | .//img | .//*[@onerror]")
    hrefs = article.xpath(".//a/@href")
    assert hrefs == ["http://example.com/tracker.png", "https://example.org", "/search"]
    assert "<script>alert('x')</script>" in article.text_content()  # shown as text


def test_links_are_limited_to_the_web_mail_and_the_archive():
    from radio.web.policy import safe_link

    for good in ("https://a.org", "http://a.org", "mailto:a@b.org", "/search", "#x", "page"):
        assert safe_link(good), good
    for bad in ("javascript:alert(1)", "JAVASCRIPT:x", "java%09script:x", "data:text/html,x"):
        assert not safe_link(bad), bad
