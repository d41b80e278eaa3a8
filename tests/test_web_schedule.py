"""Publishing on schedule (#15): hidden from listeners everywhere before its moment, public
from it on, in the feeds without a restart (the clock moves, the database doesn't), listed
for editors in the station's time zone; `radio schedule` and `radio ingest --publish-at`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from lxml import etree

from radio import create_app
from radio.data import schedule
from radio.data.episodes import get_episode
from radio.db import set_clock
from tests.conftest import clip, settings
from tests.webserver import add_account, csrf_token, live_server, log_in

START = datetime(2026, 12, 24, 4, 0, tzinfo=UTC)  # 07:00 in Nairobi
MOMENT = "2026-12-24T05:00:00Z"  # 08:00 in Nairobi


class Clock:
    """The archive's clock, moved by the test (radio.db.set_clock)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def move_to(self, now: datetime) -> None:
        self.now = now


@pytest.fixture
def clock():  # noqa: ANN201
    c = Clock(START)
    set_clock(c)
    yield c
    set_clock(None)


@pytest.fixture
def app(home):  # noqa: ANN001, ANN201
    return create_app(settings(home, TIMEZONE="Africa/Nairobi"))


@pytest.fixture
def waiting(app, db, seed, clock):  # noqa: ANN001, ANN201
    """A real, processed recording scheduled for 08:00 Nairobi time."""
    episode = seed.recording(clip("jfk.flac"), title="Christmas message", show="Morning Talk")
    schedule.schedule(db, episode.id, MOMENT)
    return get_episode(db, episode.id)


def feed_titles(body: bytes) -> list[str]:
    return etree.fromstring(body).xpath("//item/title/text()")


def show_feed_titles(client) -> list[str]:  # noqa: ANN001
    """A show's feed with no public episode is a 404, not an empty feed."""
    response = client.get("/feeds/shows/morning-talk.xml")
    return feed_titles(response.data) if response.status_code == 200 else []


def listener_sees(client, episode) -> dict[str, object]:  # noqa: ANN001
    return {
        "page": client.get(f"/episodes/{episode.guid}").status_code,
        "media": client.get(f"/media/{episode.guid}/audio.mp3").status_code,
        "peaks": client.get(f"/media/{episode.guid}/peaks.json").status_code,
        "feed": "Christmas message" in feed_titles(client.get("/feeds/all.xml").data),
        "show feed": "Christmas message" in show_feed_titles(client),
        "home": "Christmas message" in client.get("/").get_data(as_text=True),
        "search": "Christmas message" in client.get("/search?q=Christmas").get_data(as_text=True),
        "show page": "Christmas message"
        in client.get("/shows/morning-talk").get_data(as_text=True),
    }


HIDDEN = {
    "page": 404,
    "media": 404,
    "peaks": 404,
    "feed": False,
    "show feed": False,
    "home": False,
    "search": False,
    "show page": False,
}
SHOWN = {k: (200 if type(v) is int else True) for k, v in HIDDEN.items()}


def test_hidden_before_its_moment_and_public_from_it_without_a_write(
    app, client, waiting, clock, db
):
    assert waiting.status == "ready" and waiting.visibility == "public"
    assert listener_sees(client, waiting) == HIDDEN
    clock.move_to(START + timedelta(minutes=59, seconds=59))
    assert listener_sees(client, waiting) == HIDDEN  # a second early: still hidden
    versions = db.execute("pragma data_version").fetchone()[0]
    clock.move_to(START + timedelta(hours=1))

    assert listener_sees(client, waiting) == SHOWN  # the feed cache noticed the moment
    assert db.execute("pragma data_version").fetchone()[0] == versions  # nothing written
    item = etree.fromstring(client.get("/feeds/all.xml").data).xpath("//item")[0]
    assert item.findtext("pubDate") == "Thu, 24 Dec 2026 05:00:00 +0000"  # its moment


def test_the_live_server_caches_notice_the_moment(app, waiting, clock):
    """Through waitress, the WSGI media layer and the feed cache, as podcast apps reach it."""
    with live_server(app) as live:
        for path in ("/feeds/all.xml", f"/media/{waiting.guid}/audio.mp3"):
            live.request("GET", path)  # warm both caches while it is hidden
        status, _, body = live.request("GET", "/feeds/all.xml")
        assert status == 200 and "Christmas message" not in feed_titles(body)
        assert live.request("GET", f"/media/{waiting.guid}/audio.mp3")[0] == 404
        clock.move_to(START + timedelta(hours=2))
        status, _, body = live.request("GET", "/feeds/all.xml")
        assert "Christmas message" in feed_titles(body)
        assert live.request("GET", f"/media/{waiting.guid}/audio.mp3")[0] == 200
        assert live.request("GET", f"/episodes/{waiting.guid}")[0] == 200


def test_editors_see_it_listed_in_the_station_time(app, client, waiting):
    add_account(app, "amina", "editor")
    assert client.get("/admin/scheduled").status_code == 302  # listeners: log in first
    log_in(client, "amina")
    page = client.get("/admin/scheduled").get_data(as_text=True)
    assert "Christmas message" in page and "2026-12-24 08:00 EAT" in page
    assert "Africa/Nairobi" in page
    assert client.get(f"/episodes/{waiting.guid}").status_code == 200  # editors see it
    edit = client.get(f"/episodes/{waiting.guid}/edit").get_data(as_text=True)
    assert 'value="2026-12-24T08:00"' in edit and "2026-12-24 08:00 EAT" in edit


def test_an_editor_schedules_from_the_edit_page(app, client, seed, clock, db):
    episode = seed.recording(clip("jfk.flac"), title="New year")
    assert get_episode(db, episode.id).is_public
    add_account(app, "amina", "editor")
    add_account(app, "joseph", "uploader")
    log_in(client, "joseph")
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    form = {"publish_at": "2027-01-01T00:00", "csrf_token": token}
    assert client.post(f"/episodes/{episode.guid}/schedule", data=form).status_code == 403
    client = app.test_client()  # an editor, in another browser
    log_in(client, "amina")
    url = f"/episodes/{episode.guid}/edit"
    token = csrf_token(client.get(url).get_data(as_text=True))
    no_token = client.post(f"/episodes/{episode.guid}/schedule", data={"publish_at": "x"})
    assert no_token.status_code == 400
    form = {"publish_at": "2027-01-01T00:00", "action": "schedule", "csrf_token": token}
    done = client.post(f"/episodes/{episode.guid}/schedule", data=form, follow_redirects=True)
    assert "listeners see it from 2027-01-01 00:00 EAT" in done.get_data(as_text=True)
    assert get_episode(db, episode.id).publish_at == "2026-12-31T21:00:00Z"
    assert not get_episode(db, episode.id).is_public
    # A moment already gone is refused, with the way to publish now.
    form["publish_at"] = "2026-12-24T06:00"  # 03:00 UTC: an hour before the clock
    gone = client.post(f"/episodes/{episode.guid}/schedule", data=form, follow_redirects=True)
    assert "That moment has passed" in gone.get_data(as_text=True)
    now = {"action": "now", "csrf_token": token}
    client.post(f"/episodes/{episode.guid}/schedule", data=now)
    assert get_episode(db, episode.id).is_public


@pytest.mark.parametrize(
    ("typed", "zone", "stored"),
    [
        ("2026-12-24T08:00", "Africa/Nairobi", "2026-12-24T05:00:00Z"),
        ("2026-12-24 08:00", "America/La_Paz", "2026-12-24T12:00:00Z"),
        ("2026-07-01T08:00", "Europe/Paris", "2026-07-01T06:00:00Z"),  # summer time
        ("2026-12-01T08:00", "Europe/Paris", "2026-12-01T07:00:00Z"),
        ("2026-03-29T02:30", "Europe/Paris", "2026-03-29T01:30:00Z"),  # skipped: 03:30 CEST
        ("2026-10-25T02:30", "Europe/Paris", "2026-10-25T00:30:00Z"),  # twice: the first
        ("2026-12-24T08:00+01:00", "Africa/Nairobi", "2026-12-24T07:00:00Z"),
        ("2026-12-24T08:00Z", "Africa/Nairobi", "2026-12-24T08:00:00Z"),
    ],
)
def test_times_are_read_in_the_station_zone(typed, zone, stored):
    assert schedule.parse_local(typed, zone) == stored


def test_a_bad_time_or_zone_is_refused_with_the_fix(home):
    with pytest.raises(schedule.ScheduleError, match="2026-12-24T08:00"):
        schedule.parse_local("Christmas morning", "UTC")
    from radio.config import ConfigError

    with pytest.raises(ConfigError, match="IANA"):
        create_app(settings(home, TIMEZONE="Mars/Olympus"))


def test_radio_schedule_and_ingest_publish_at(app, db, runner, clock, home):
    (home / "config.toml").write_text('TIMEZONE = "America/La_Paz"\n')
    out = runner("ingest", str(clip("jfk.flac")), "--title", "Fiesta", "--publish-at",
                 "2026-12-25T10:00", "--wait")  # fmt: skip
    assert out.exit_code == 0, out.output
    row = db.execute("select id, publish_at, published_at, status from episodes").fetchone()
    assert row[1:] == ("2026-12-25T14:00:00Z", "2026-12-25T14:00:00Z", "ready")
    assert not get_episode(db, row[0]).is_public
    listed = runner("schedule")
    assert "2026-12-25 10:00 -04  " in listed.output and "Fiesta" in listed.output
    out = runner("schedule", str(row[0]), "2026-12-24T20:00")
    assert out.exit_code == 0, out.output
    assert "2026-12-24 20:00 -04" in out.output
    assert get_episode(db, row[0]).publish_at == "2026-12-25T00:00:00Z"
    past = runner("schedule", str(row[0]), "2026-12-23T20:00")
    assert past.exit_code != 0 and "has passed" in past.output
    assert runner("schedule", str(row[0]), "--now").exit_code == 0
    assert get_episode(db, row[0]).is_public
    assert "Nothing is scheduled" in runner("schedule").output
