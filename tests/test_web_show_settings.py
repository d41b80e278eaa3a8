"""A show's settings page: description, hosts, language, default licence, artwork and its
feed's Apple category; and podcast:locked only with an owner's address."""

from __future__ import annotations

from lxml import etree

from radio.data.shows import get_show
from tests.conftest import clip
from tests.webserver import csrf_token

NS = {
    "itunes": "http://www.itunes.com/dtds/podcast-1.0.dtd",
    "podcast": "https://podcastindex.org/namespace/1.0",
}
RECORDING = "cannot-complete-as-dialed.wav"


def save(client, slug: str, **form):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(f"/shows/{slug}/settings").get_data(as_text=True))
    return client.post(f"/shows/{slug}/settings", data={"csrf_token": token, **form})


def test_editors_change_a_shows_settings_and_its_feed_follows(app, client, auth, seed, db):
    seed.recording(clip(RECORDING), title="Harvest", show="Farm hour")
    auth.login("amina", "editor")
    page = client.get("/shows/farm-hour").get_data(as_text=True)
    assert "/shows/farm-hour/settings" in page
    settings = client.get("/shows/farm-hour/settings").get_data(as_text=True)
    assert "Society &amp; Culture &gt; Documentary" in settings  # Apple's list, with subs
    done = save(
        client,
        "farm-hour",
        description="Farmers talk about the season.",
        hosts="Amina, Joseph",
        language="sw",
        licence="cc-by-4.0",
        itunes_category="Science > Nature",
    )
    assert done.status_code == 303
    show = get_show(db, "farm-hour")
    assert show.description == "Farmers talk about the season."
    assert show.language == "sw" and show.licence == "cc-by"
    assert show.itunes_category == "Science > Nature"
    listener = app.test_client()
    assert "Farmers talk about the season." in listener.get("/shows/farm-hour").get_data(
        as_text=True
    )
    channel = etree.fromstring(listener.get("/feeds/shows/farm-hour.xml").data)
    [category] = channel.xpath("/rss/channel/itunes:category", namespaces=NS)
    assert category.get("text") == "Science"
    assert category.xpath("itunes:category/@text", namespaces=NS) == ["Nature"]
    hosts = channel.xpath("/rss/channel/podcast:person[@role='host']/text()", namespaces=NS)
    assert hosts == ["Amina", "Joseph"]
    assert channel.xpath("/rss/channel/language/text()") == ["sw"]
    # the whole archive's feed keeps the station's category
    whole = etree.fromstring(listener.get("/feeds/all.xml").data)
    assert whole.xpath("/rss/channel/itunes:category/@text", namespaces=NS) == ["Society & Culture"]


def test_bad_values_are_refused_and_nothing_is_saved(app, client, auth, seed, db):
    seed.recording(clip(RECORDING), title="Harvest", show="Farm hour")
    auth.login("amina", "editor")
    refused = save(client, "farm-hour", description="New", itunes_category="Cooking > Cakes")
    assert refused.status_code == 400
    assert "not one of Apple" in refused.get_data(as_text=True)
    refused = save(client, "farm-hour", description="New", language="klingon")
    assert refused.status_code == 400 and "not a language" in refused.get_data(as_text=True)
    assert get_show(db, "farm-hour").description == ""


def test_only_editors_reach_settings(app, client, auth, seed):
    seed.recording(clip(RECORDING), title="Harvest", show="Farm hour")
    assert client.get("/shows/farm-hour/settings").status_code == 302  # to the login
    auth.login("joseph", "uploader")
    assert client.get("/shows/farm-hour/settings").status_code == 403
    assert client.get("/shows/nothing/settings").status_code == 403


def test_locked_only_with_an_owner_email(app, seed):
    seed.recording(clip(RECORDING), title="Harvest")
    listener = app.test_client()
    channel = etree.fromstring(listener.get("/feeds/all.xml").data)
    assert channel.xpath("//podcast:locked", namespaces=NS) == []
    assert channel.xpath("//itunes:owner", namespaces=NS) == []
    app.config["FEED_OWNER_EMAIL"] = "studio@radio.example"
    app.extensions.pop("radio.feeds", None)  # the built feed is kept per database change
    channel = etree.fromstring(listener.get("/feeds/all.xml").data)
    [locked] = channel.xpath("//podcast:locked", namespaces=NS)
    assert locked.text == "yes" and locked.get("owner") == "studio@radio.example"
    assert channel.xpath("//itunes:owner/itunes:email/text()", namespaces=NS) == [
        "studio@radio.example"
    ]
