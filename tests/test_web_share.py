"""Share a moment on the web (#14): voice notes made on demand, cached and rate-limited, and
editors' soundbites in the feeds, read back by real podcast clients.

The episode is a real recording (25 s of an answering-machine menu) taken in and rendered by
the real pipeline; voice notes are real PyAV encodes, decoded again with PyAV.
"""

from __future__ import annotations

import io
import re
from html import unescape

import av
import feedparser
import podcastparser
import pytest
from lxml import etree

from radio.data.episodes import Episode
from tests.conftest import clip
from tests.test_feeds_clients import partytime
from tests.webserver import add_account, csrf_token

NS = {"podcast": "https://podcastindex.org/namespace/1.0"}


@pytest.fixture
def episode(seed) -> Episode:  # noqa: ANN001
    return seed.recording(clip("basic-pbx-ivr-main.wav"), title="Water committée")


def clip_url(guid: str, start: str, end: str) -> str:
    return f"/episodes/{guid}/clip.opus?from={start}&to={end}"


def clips_of(home, guid: str) -> list:  # noqa: ANN001
    return sorted((home / "media" / "episodes" / guid / "clips").glob("*.opus"))


def test_a_voice_note_is_made_once_then_served_from_its_cache(client, episode, home):
    first = client.get(clip_url(episode.guid, "2", "12.5"))
    assert first.status_code == 200
    assert first.mimetype == "audio/ogg"
    assert first.headers["Content-Disposition"].startswith(
        'attachment; filename="water-committee-0m02s-0m12s.opus"'
    )
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    (cached,) = clips_of(home, episode.guid)  # under the episode's own media folder
    assert cached.read_bytes() == first.data
    made_at = cached.stat().st_mtime_ns
    with av.open(io.BytesIO(first.data)) as f:
        codec = f.streams.audio[0].codec_context
        assert (codec.name, codec.channels, codec.sample_rate) == ("opus", 1, 48_000)
        assert abs(f.duration / 1e6 - 10.5) < 0.05
    # the same moment again (as 0:02 to 0:12.5): the same file, not made again
    again = client.get(clip_url(episode.guid, "0:02", "0:12.5"))
    assert again.status_code == 200 and again.data == first.data
    assert clips_of(home, episode.guid) == [cached] and cached.stat().st_mtime_ns == made_at
    assert again.headers["ETag"] == first.headers["ETag"]
    unchanged = client.get(
        clip_url(episode.guid, "2", "12.5"), headers={"If-None-Match": first.headers["ETag"]}
    )
    assert unchanged.status_code == 304
    part = client.get(clip_url(episode.guid, "2", "12.5"), headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.data == first.data[:100]


def test_a_private_episode_has_no_voice_notes_for_listeners(client, seed, auth, home):
    private = seed.recording(clip("LJ001-0001.wav"), title="Board meeting", visibility="private")
    url = clip_url(private.guid, "1", "4")
    refused = client.get(url)
    assert refused.status_code == 404
    assert f"Episode {private.guid} doesn't exist" in unescape(refused.get_data(as_text=True))
    assert clips_of(home, private.guid) == []  # nothing was made for a listener
    auth.login("amina", "editor")
    allowed = client.get(url)
    assert allowed.status_code == 200 and allowed.mimetype == "audio/ogg"
    assert allowed.headers["Cache-Control"] == "private, max-age=0"


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("", "10", "Say where the moment starts"),
        ("2", "", "Say where the moment ends"),
        ("soon", "10", "is not a time; give seconds (75.5) or minutes and seconds"),
        ("-1", "10", "is not a time"),
        ("nan", "10", "is not a time"),
        ("inf", "10", "is not a time"),
        ("1:2:3:4", "10", "is not a time"),
        ("10", "4", "The end (0:04) must come after the start (0:10)"),
        ("0", "2:10", "A voice note is at most 2 minutes; 0:00 to 2:10 is 2.2 minutes"),
        ("30", "40", "The episode lasts 0:25.4, so nothing starts at 0:30"),
    ],
)
def test_a_bad_range_is_a_400_that_says_what_to_do(client, episode, home, start, end, message):
    answer = client.get(clip_url(episode.guid, start, end))
    assert answer.status_code == 400
    assert message in unescape(answer.get_data(as_text=True))
    assert clips_of(home, episode.guid) == []
    as_json = client.get(clip_url(episode.guid, start, end), headers={"Accept": "application/json"})
    assert as_json.status_code == 400 and message in as_json.json["error"]["detail"]


def test_a_span_past_the_end_stops_at_the_end(client, episode):
    answer = client.get(clip_url(episode.guid, "20", "40"))
    assert answer.status_code == 200
    with av.open(io.BytesIO(answer.data)) as f:
        assert abs(f.duration / 1e6 - (episode.duration - 20)) < 0.1


def test_new_voice_notes_are_rate_limited_per_device_but_made_ones_are_not(client, episode):
    for second in range(5):  # five new moments of one episode in 15 minutes...
        assert client.get(clip_url(episode.guid, second, second + 1.5)).status_code == 200
    refused = client.get(clip_url(episode.guid, "10", "12"))  # ...and a sixth is one too many
    assert refused.status_code == 429
    text = unescape(refused.get_data(as_text=True))
    assert "This device has made 5 voice notes of this episode" in text
    assert "try again in 15 minutes" in text and "Links to a moment have no limit" in text
    assert 0 < int(refused.headers["Retry-After"]) <= 900
    assert client.get(clip_url(episode.guid, "0", "1.5")).status_code == 200  # made already
    other = client.get(
        clip_url(episode.guid, "10", "12"), environ_base={"REMOTE_ADDR": "192.168.1.40"}
    )
    assert other.status_code == 200  # another phone on the Wi-Fi has its own allowance


def test_the_episode_page_offers_the_plain_form_and_the_dialog(client, episode):
    page = unescape(client.get(f"/episodes/{episode.guid}").get_data(as_text=True))
    assert re.search(r'<script src="/static/share\.js\?v=\d+" defer>', page)
    form = re.search(r'<form method="get" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert form and form.group(1) == f"/episodes/{episode.guid}/clip.opus"
    assert 'name="from"' in form.group(2) and 'name="to"' in form.group(2)
    assert '<dialog id="share-dialog"' in page and 'aria-labelledby="share-title"' in page
    assert "Mark as soundbite" not in page  # editors only
    assert "csrf_token" not in page  # a listener's page sets no session for this


# --- soundbites ------------------------------------------------------------------------------


def mark(client, guid: str, start: str, end: str, title: str = "", back: str = ""):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(f"/episodes/{guid}/edit").get_data(as_text=True))
    data = {"csrf_token": token, "from": start, "to": end, "title": title, "back": back}
    return client.post(f"/episodes/{guid}/soundbites", data=data)


def feed_items(client) -> list:  # noqa: ANN001
    root = etree.fromstring(client.get("/feeds/all.xml").data)
    return root.findall("channel/item")


def test_an_editor_marks_a_soundbite_and_podcast_clients_read_it(client, auth, episode, tmp_path):
    auth.login("amina", "editor")
    done = mark(client, episode.guid, "2", "0:20.5", "The menu, from the top")
    assert done.status_code == 303 and done.headers["Location"].endswith("/edit#soundbites")
    edit = unescape(client.get(f"/episodes/{episode.guid}/edit").get_data(as_text=True))
    assert "Marked 0:02 to 0:20.5 as a soundbite" in edit
    assert "The menu, from the top" in edit and "amina" in edit
    # the episode page shows it as a highlight, and an editor's dialog can mark more
    page = unescape(client.get(f"/episodes/{episode.guid}").get_data(as_text=True))
    assert 'id="highlights"' in page and "The menu, from the top" in page
    assert "Mark as soundbite" in page

    (item,) = feed_items(client)
    (bite,) = item.findall("podcast:soundbite", NS)
    assert bite.attrib == {"startTime": "2.0", "duration": "18.5"}
    assert bite.text == "The menu, from the top"

    body = client.get("/feeds/all.xml").data
    parsed = feedparser.parse(body)
    assert parsed.entries[0].podcast_soundbite == {"starttime": "2.0", "duration": "18.5"}
    assert podcastparser.parse("http://x/feeds/all.xml", io.BytesIO(body))["episodes"]
    (got,) = partytime(body, tmp_path)["items"][0]["podcastSoundbites"]
    assert got == {"startTime": 2.0, "duration": 18.5, "title": "The menu, from the top"}

    soundbite_id = re.search(r"/soundbites/(\d+)/delete", edit).group(1)
    token = csrf_token(edit)
    removed = client.post(
        f"/episodes/{episode.guid}/soundbites/{soundbite_id}/delete", data={"csrf_token": token}
    )
    assert removed.status_code == 303
    (item,) = feed_items(client)
    assert item.findall("podcast:soundbite", NS) == []


def test_a_soundbite_follows_the_namespace(client, auth, episode):
    auth.login("amina", "editor")
    for start, end, message in [
        ("2", "10", "A soundbite lasts 15 seconds to 2 minutes"),
        ("0", "2:30", "A soundbite is at most 2 minutes; 0:00 to 2:30 is 2.5 minutes"),
        ("2", "20", "A soundbite's title holds at most 128 characters"),
    ]:
        title = "x" * 129 if "128" in message else ""
        done = mark(client, episode.guid, start, end, title, back="episode")
        assert done.status_code == 303 and done.headers["Location"].endswith(episode.guid)
        page = unescape(client.get(f"/episodes/{episode.guid}").get_data(as_text=True))
        assert "No soundbite marked: " + message in page, message
    (item,) = feed_items(client)
    assert item.findall("podcast:soundbite", NS) == []


def test_listeners_and_uploaders_cannot_mark_soundbites(client, app, auth, episode):
    token = csrf_token(client.get("/login").get_data(as_text=True))
    data = {"csrf_token": token, "from": "2", "to": "20"}
    anonymous = client.post(f"/episodes/{episode.guid}/soundbites", data=data)
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    add_account(app, "joseph", "uploader")
    auth.login("joseph", "uploader")
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    refused = client.post(
        f"/episodes/{episode.guid}/soundbites", data={**data, "csrf_token": token}
    )
    assert refused.status_code == 403
    assert "This needs the editor role" in unescape(refused.get_data(as_text=True))
    (item,) = feed_items(client)
    assert item.findall("podcast:soundbite", NS) == []
