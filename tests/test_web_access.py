"""No leaks (#13): what a visitor may not see answers exactly as if it did not exist.

One of each kind of hidden thing is made here: a draft, a private episode, a private show
(only private episodes), a topic only hidden episodes carry, an episode not processed yet.
Every public URL family is asked for each of them, by a listener and by an uploader who
didn't upload them: the same status and the same body as for a key that doesn't exist
(404 where a page would be), and no title, show name, topic label, chapter or transcript
words in any body. An editor gets them all (so the URLs are right). Uploading the bytes of
a private episode again tells another uploader nothing but that it is already here.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass

import pytest

from radio.data import tags, transcripts
from radio.data.episodes import Episode
from tests.archive import as_segment
from tests.conftest import clip
from tests.webserver import csrf_token, log_in
from transcription.segments import Chapter

# Words that exist only in hidden things: none may reach a visitor who can't see them.
SECRETS = ("Quokka", "Walrus", "Narwhal", "Zebra crossing", "Yak chapter", "kettle", "budget")

EPISODE_URLS = (
    "/episodes/{guid}",
    "/episodes/{guid}?t=1",
    "/episodes/{guid}/progress",
    "/api/episodes/{guid}/progress",
    "/episodes/{guid}/transcript.vtt",
    "/episodes/{guid}/transcript.srt",
    "/episodes/{guid}/transcript.json",
    "/episodes/{guid}/transcript.txt",
    "/media/{guid}/audio.mp3",
    "/media/{guid}/audio.opus",
    "/media/{guid}/peaks.json",
    "/media/{guid}/original",
    "/feeds/chapters/{guid}.json",
)
SHOW_URLS = ("/shows/{slug}", "/shows/{slug}?page=2", "/feeds/shows/{slug}.xml")
TOPIC_URLS = ("/topics/{slug}", "/feeds/topics/{slug}.xml", "/feeds/topics/{slug}.xml?page=2")
# Listings and searches: these answer 200; the hidden things must not be in them.
LISTINGS = (
    "/",
    "/?page=2",
    "/topics",
    "/search?q=xylophone",
    "/search?q=xylophone&show=walrus-hour",
    "/search?q=xylophone&topic=zebra-crossing",
    "/search?q=Quokka",
    "/search?q=Walrus",
    "/search?q=meeting&speaker=Quokka",
    "/feeds/all.xml",
    "/feeds/search.xml?q=xylophone",
    "/feeds/search.xml?q=Walrus",
    "/feeds/shows/morning-talk.xml",
    "/shows/morning-talk",
)


@dataclass
class Hidden:
    draft: Episode
    private: Episode
    unfinished: Episode
    public: Episode


@pytest.fixture
def hidden(seed, db) -> Hidden:
    public = seed.recording(clip("LJ001-0008.wav"), title="Open morning news", show="Morning Talk")
    draft = seed.recording(
        clip("LJ001-0002.wav"), title="Quokka draft kettle", show="Morning Talk", visibility="draft"
    )
    private = seed.recording(
        clip("check-number-dial-again.wav"),
        title="Walrus private meeting",
        show="Walrus Hour",
        visibility="private",
        description="The Walrus budget, in private.",
    )
    unfinished = seed.recording(clip("queue-thereare.wav"), title="Narwhal pending", process=False)
    for episode, words in ((draft, "xylophone kettle talk"), (private, "xylophone budget talk")):
        transcripts.add_segments(db, episode.id, [as_segment((0.0, 1.5, words, "Quokka"))], 0)
        tags.tag_episode(db, episode.id, ["Zebra crossing"])
        tags.replace_computed(
            db,
            episode.id,
            topics=[],
            keyphrases=[],
            chapters=[Chapter(0.0, 1.0, "Yak chapter")],
            taxonomy_slugs=set(),
        )
    tags.tag_episode(db, public.id, ["Market day"])
    assert (draft.status, private.status, public.status) == ("ready", "ready", "ready")
    return Hidden(draft, private, unfinished, public)


def as_visitor(client, url: str) -> tuple[int, str]:  # noqa: ANN001
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def assert_no_secrets(body: str, url: str, keys: tuple[str, ...] = ()) -> None:
    said = url.casefold()
    for secret in SECRETS:
        if secret.casefold() not in said:  # a search echoes its own words
            assert secret not in body, f"{url} shows {secret!r}"
    for key in keys:  # the guids of hidden episodes, where the URL doesn't name them
        if key not in url:
            assert key not in body, f"{url} names {key}"


def assert_as_if_missing(client, template: str, key: str, made_up: str) -> None:  # noqa: ANN001
    url = template.format(guid=key, slug=key)
    status, body = as_visitor(client, url)
    missing_status, missing_body = as_visitor(client, template.format(guid=made_up, slug=made_up))
    assert status == missing_status == 404, (url, status)
    assert body.replace(key, "KEY") == missing_body.replace(made_up, "KEY"), url
    assert_no_secrets(body, url)
    head = client.head(url)
    assert head.status_code == 404 and not head.get_data(), url


def check_visitor(client, hidden: Hidden) -> None:  # noqa: ANN001
    keys = tuple(e.guid for e in (hidden.draft, hidden.private, hidden.unfinished))
    for episode in (hidden.draft, hidden.private, hidden.unfinished):
        for template in EPISODE_URLS:
            assert_as_if_missing(client, template, episode.guid, str(uuid.uuid4()))
    for template in SHOW_URLS:
        assert_as_if_missing(client, template, "walrus-hour", "no-such-show")
    for template in TOPIC_URLS:
        assert_as_if_missing(client, template, "zebra-crossing", "no-such-topic")
    for url in LISTINGS:
        status, body = as_visitor(client, url)
        assert status == 200, (url, status)
        assert_no_secrets(body, url, keys)
    # the public episode, asked the same ways, is there: the checks above can see a page
    assert client.get(f"/episodes/{hidden.public.guid}").status_code == 200
    assert client.get(f"/media/{hidden.public.guid}/audio.mp3").status_code == 200
    assert "Open morning news" in client.get("/feeds/all.xml").get_data(as_text=True)


def test_a_listener_finds_nothing_hidden(client, hidden):
    check_visitor(client, hidden)


def test_an_uploader_finds_nothing_they_did_not_upload(auth, client, hidden):
    auth.login("joseph", "uploader")
    assert client.get("/upload").status_code == 200  # logged in, as an uploader
    check_visitor(client, hidden)


def test_editors_see_every_hidden_thing(auth, client, hidden):
    auth.login("amina", "editor")
    for episode in (hidden.draft, hidden.private):
        for template in EPISODE_URLS:
            if "chapters" in template:  # feeds are for listeners: public episodes only
                continue
            url = template.format(guid=episode.guid)
            assert client.get(url).status_code in (200, 206), url
    assert "Walrus Hour" in client.get("/shows/walrus-hour").get_data(as_text=True)
    assert "Zebra crossing" in client.get("/topics/zebra-crossing").get_data(as_text=True)
    assert "Quokka" in client.get("/search?q=xylophone").get_data(as_text=True)


def upload(client, data: bytes, name: str, json: bool = False):  # noqa: ANN001, ANN201
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    form = {"csrf_token": token, "files": [(io.BytesIO(data), name)]}
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/upload", data=form, content_type="multipart/form-data", headers=headers)


def test_the_bytes_of_a_private_episode_reveal_nothing(app, client, hidden, db):
    from tests.webserver import add_account

    add_account(app, "joseph", "uploader")
    log_in(client, "joseph")
    data = clip("check-number-dial-again.wav").read_bytes()
    response = upload(client, data, "my-copy.wav")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "already in the archive, and an editor has been told" in html
    assert hidden.private.guid not in html
    assert_no_secrets(html, "/upload")
    as_json = upload(client, data, "again.wav", json=True).get_json()
    (result,) = as_json["files"]
    assert result["outcome"] == "duplicate" and result["guid"] is None
    assert "progress_url" not in result and "Walrus" not in str(as_json)
    # and it opened nothing: the episode still answers as if it did not exist
    assert client.get(f"/episodes/{hidden.private.guid}").status_code == 404
    assert client.get(f"/media/{hidden.private.guid}/original").status_code == 404
    assert db["episodes"].count == 4  # nothing new was made


def test_an_uploader_still_follows_their_own_upload(auth, client, db):
    auth.login("joseph", "uploader")
    data = clip("LJ001-0002.wav").read_bytes()
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    form = {"csrf_token": token, "visibility": "private", "title": "Mine"}
    form["files"] = [(io.BytesIO(data), "mine.wav")]
    client.post("/upload", data=form, content_type="multipart/form-data")
    guid = db.execute("select guid from episodes").fetchone()[0]
    assert client.get(f"/episodes/{guid}/progress").status_code == 200
    # a new login (another browser) still may: the episode records who uploaded it
    auth.logout()
    auth.login("joseph", "uploader")
    assert client.get(f"/episodes/{guid}/progress").status_code == 200
    again = upload(client, data, "mine-again.wav").get_data(as_text=True)
    assert "These exact bytes are already in the archive" in again and guid in again
