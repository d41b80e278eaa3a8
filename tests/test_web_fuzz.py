"""Property-based fuzzing (#13) of everything a visitor can type, against the real app
through the test client: search queries (FTS5 syntax included) with every filter, page
numbers, feed parameters, upload fields, login redirects, URL parts. Never a 500; a bad value
is a 400 or a 404 that says what to fix.

The archive has a few episodes with transcripts, shows, topics and speakers, so queries
reach the real search code. Each property runs a bounded number of examples.
"""

from __future__ import annotations

import io
import struct
from urllib.parse import quote, urlencode, urlsplit

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from radio.data import tags
from tests.webserver import csrf_token

EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FTS_TOKENS = [
    "water", "committee", "mai", "Amina", '"', '"water committee"', "*", "wat*", "^", "^water",
    "AND", "OR", "NOT", "NEAR", "NEAR(water committee, 3)", "(", ")", ":", "title:", "text:",
    "-", "+", "{", "}", "[", "]", "'", "\\", "\x00", "%", "_", "水", "委员会", "مياه", "💧",
    "\u202e", "\t", "\n", "''", '""', "NEAR/2", "column:", "rowid", "1=1;--", "/*", "@", "..",
]  # fmt: skip
fts_queries = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(FTS_TOKENS), max_size=12).map(" ".join),
    st.lists(st.sampled_from(FTS_TOKENS), max_size=12).map("".join),
)
values = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", "morning-talk", "en", "water", "Amina", "2026-11-02", "2026-02-30"]),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
pages = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=12),
    st.sampled_from(["²", "١", "1e3", "0x10", " 2", "2 ", "+2", "1.0", "", "½", "Ⅻ"]),
)


@pytest.fixture
def archive(seed, db):  # noqa: ANN001, ANN201
    said = [
        (0.0, 4.0, "The water committee met on Tuesday at the market.", "Amina"),
        (4.0, 8.0, "Mai said the borehole needs a new pump, 水 委员会.", "Mai"),
    ]
    ids = [
        seed.episode("Water committee", said, show="Morning Talk", recorded_at="2026-11-02"),
        seed.episode("Market day", said[:1], show="Evening News", language="sw"),
        seed.episode("Hidden draft", said, visibility="draft"),
    ]
    for episode_id in ids:
        tags.tag_episode(db, episode_id, ["Water", "market day"])
    return ids


def not_a_500(client, url: str, **kwargs) -> int:  # noqa: ANN001
    response = client.get(url, **kwargs)
    assert response.status_code < 500, (url, response.get_data(as_text=True)[:500])
    return response.status_code


@EXAMPLES
@given(
    q=fts_queries,
    show=values,
    language=values,
    topic=values,
    speaker=values,
    date_from=values,
    date_to=values,
    page=pages,
)
def test_search_never_fails(client, archive, q, show, language, topic, speaker, date_from,
                            date_to, page):  # fmt: skip
    params = {"q": q, "show": show, "language": language, "topic": topic, "speaker": speaker}
    params |= {"from": date_from, "to": date_to, "page": page}
    status = not_a_500(client, "/search?" + urlencode(params))
    assert status in (200, 400, 404)


@EXAMPLES
@given(q=fts_queries, page=pages)
def test_a_saved_search_feed_never_fails(client, archive, q, page):
    status = not_a_500(client, "/feeds/search.xml?" + urlencode({"q": q, "page": page}))
    assert status in (200, 304, 400, 404)


@EXAMPLES
@given(page=pages, where=st.sampled_from(["/", "/shows/morning-talk", "/topics/water",
                                          "/feeds/all.xml", "/feeds/shows/morning-talk.xml",
                                          "/feeds/topics/water.xml"]))  # fmt: skip
def test_page_numbers_are_a_page_a_400_or_a_404(client, archive, page, where):
    status = not_a_500(client, f"{where}?{urlencode({'page': page})}")
    assert status in (200, 400, 404)
    if status == 200 and page.strip() not in ("", "1"):
        assert page.strip().isascii() and page.strip().isdigit()


@EXAMPLES
@given(
    kind=st.sampled_from(["/shows/{}", "/topics/{}", "/feeds/shows/{}.xml", "/feeds/topics/{}.xml",
                          "/feeds/chapters/{}.json", "/episodes/{}", "/episodes/{}/progress",
                          "/episodes/{}/transcript.vtt", "/media/{}/audio.mp3", "/static/{}",
                          "/api/episodes/{}/progress", "/episodes/{}/transcript.{}"]),
    key=st.text(min_size=1, max_size=60),
)  # fmt: skip
def test_any_key_in_a_url_never_fails(client, archive, kind, key):
    url = kind.format(quote(key, safe=""), quote(key, safe=""))
    status = not_a_500(client, url)
    assert status in (200, 301, 302, 308, 400, 404)


@EXAMPLES
@given(
    target=st.one_of(
        st.text(max_size=40),
        st.sampled_from(
            ["//evil.example", "/\t/evil.example", "/\\evil", "https://evil.example", "/ok?x=1"]
        ),
    )
)
def test_a_login_redirect_never_leaves_the_site(client, auth, target):  # fmt: skip
    if not getattr(client, "_logged_in", False):
        auth.login("amina", "uploader")
        client._logged_in = True
    response = client.get("/login?" + urlencode({"next": target}))
    assert response.status_code == 302
    location = response.headers["Location"]
    cleaned = location.strip("".join(map(chr, range(0x21)))).replace("\\", "/")
    cleaned = cleaned.replace("\t", "").replace("\n", "").replace("\r", "")
    assert cleaned.startswith("/") and not cleaned.startswith("//"), location
    assert not urlsplit(cleaned).netloc


def tiny_wav(seed: int) -> bytes:
    """1.2 s of 8 kHz noise, different bytes for each seed (so each is a new recording)."""
    pcm = (np.random.default_rng(seed).standard_normal(9600) * 3000).astype("<i2").tobytes()
    fmt = struct.pack("<IHHIIHH", 16, 1, 1, 8000, 16000, 2, 16)
    return b"RIFF" + struct.pack("<I", 36 + len(pcm)) + b"WAVEfmt " + fmt + b"data" + \
        struct.pack("<I", len(pcm)) + pcm  # fmt: skip


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    title=values,
    show=values,
    description=st.text(max_size=200),
    language=values,
    recorded_at=values,
    visibility=st.one_of(st.sampled_from(["public", "draft", "private"]), values),
    filename=st.text(max_size=80),
    seed=st.integers(min_value=0, max_value=3),
)
def test_upload_fields_never_fail(client, auth, db, title, show, description, language,
                                  recorded_at, visibility, filename, seed):  # fmt: skip
    if not getattr(client, "_logged_in", False):
        auth.login("joseph", "uploader")
        client._logged_in = True
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    fields = {"title": title, "show": show, "description": description, "language": language}
    fields |= {"recorded_at": recorded_at, "visibility": visibility, "csrf_token": token}
    fields["files"] = [(io.BytesIO(tiny_wav(seed)), filename or "x.wav")]
    response = client.post("/upload", data=fields, content_type="multipart/form-data")
    assert response.status_code in (200, 400, 422), response.get_data(as_text=True)[:500]
    for row in db.query("select title, source_name, show_id from episodes"):
        assert "\x00" not in row["title"] + row["source_name"]
        assert "/" not in row["source_name"] and len(row["title"]) <= 200
