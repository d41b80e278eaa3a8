"""Requests on the web (#16), through the test client: from a receipt (withdraw consent,
a passage, a takedown), a listener's correction from the episode page (throttled), the
editors' queue (accept, refuse with a reason, who may), and the receipt telling each
outcome, never another contribution's."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from radio.data import audit, consent, history, receipts, requests
from radio.db import transaction, utcnow
from tests.webserver import csrf_token

LINES = [
    (0.0, 4.0, "the borehole by the school is dry"),
    (4.0, 8.0, "we need a new pump before the rains"),
    (8.0, 12.0, "thank you all for coming"),
]


def with_receipt(db, episode_id: int) -> str:  # noqa: ANN001
    token = receipts.new_token()
    with transaction(db) as conn:
        receipts.add_receipt(conn, episode_id, token, utcnow())
    return token


@pytest.fixture
def episode(seed, db) -> tuple[int, str, str]:  # noqa: ANN001
    """A public, transcribed episode in which Amina and Joseph agreed, with its receipt."""
    episode_id = seed.episode("Borehole meeting", LINES, duration=12.0)
    heard = [consent.Participant("Amina", "yes"), consent.Participant("Joseph", "yes")]
    consent.set_participants(db, episode_id, heard, None)
    guid = db["episodes"].get(episode_id)["guid"]
    return episode_id, guid, with_receipt(db, episode_id)


def post_form(client, page: str, action: str, **data: str):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(page).get_data(as_text=True))
    return client.post(action, data={"csrf_token": token, **data})


def text_of(response) -> str:  # noqa: ANN001
    return re.sub(r"\s+", " ", response.get_data(as_text=True)).replace("&#39;", "'")


def test_withdrawing_consent_from_the_receipt_takes_the_episode_away_at_once(app, episode):
    episode_id, guid, token = episode
    listener = app.test_client()
    assert listener.get(f"/episodes/{guid}").status_code == 200
    assert quote(guid) in listener.get("/search?q=borehole").get_data(as_text=True)
    client = app.test_client()
    receipt = f"/receipts/{token}"
    page = text_of(client.get(receipt))
    assert '<option value="Joseph">Joseph</option>' in page and "Withdraw consent now" in page
    assert client.post(f"{receipt}/withdraw", data={"participant": "Joseph"}).status_code == 400
    answer = post_form(client, receipt, f"{receipt}/withdraw", participant="Joseph")
    assert answer.status_code == 303 and answer.location.endswith(f"{receipt}#requests")
    page = text_of(client.get(receipt))
    assert "Consent withdrawn: listeners can no longer hear this recording." in page
    assert "Consent withdrawn for Joseph through the receipt" in page
    assert "Joseph refused" in page and "Not published." in page
    assert listener.get(f"/episodes/{guid}").status_code == 404
    assert quote(guid) not in listener.get("/search?q=borehole").get_data(as_text=True)


def test_a_passage_request_from_the_receipt(app, db, episode):
    episode_id, _guid, token = episode
    client, receipt = app.test_client(), f"/receipts/{token}"
    post_form(client, receipt, f"{receipt}/passage", start="0:05", end="0:02", message="why")
    assert "The passage must end after it starts." in text_of(client.get(receipt))
    assert requests.requests_for(db, episode_id) == []
    post_form(client, receipt, f"{receipt}/passage", start="0:01", end="0:03", message="my name")
    page = text_of(client.get(receipt))
    assert "Asked through the receipt to remove the passage from 0:01 to 0:03." in page
    assert "Waiting for an editor's answer." in page
    (asked,) = requests.requests_for(db, episode_id)
    assert (asked.start, asked.end, asked.message) == (1.0, 3.0, "my name")


def test_a_takedown_request_holds_it_and_a_refusal_with_a_reason_releases_it(
    app, client, auth, db, episode
):
    episode_id, guid, token = episode
    contributor, listener, receipt = app.test_client(), app.test_client(), f"/receipts/{token}"
    post_form(contributor, receipt, f"{receipt}/takedown", message="Please take it down")
    assert listener.get(f"/episodes/{guid}").status_code == 404
    page = text_of(contributor.get(receipt))
    assert "A takedown was asked: it is held from listeners until an editor decides." in page
    assert "Ask for a takedown" not in page  # one is open already
    (asked,) = requests.requests_for(db, episode_id)

    auth.login("amina", "editor")
    queue = text_of(client.get("/admin/requests"))
    assert "Please take it down" in queue and "Only an admin may accept a takedown" in queue
    post_form(client, "/admin/requests", f"/admin/requests/{asked.id}/accept")
    assert requests.get_request(db, asked.id).is_open  # an editor may not
    post_form(client, "/admin/requests", f"/admin/requests/{asked.id}/refuse", answer=" ")
    assert "Give a reason" in text_of(client.get("/admin/requests"))
    assert requests.get_request(db, asked.id).is_open
    post_form(client, "/admin/requests", f"/admin/requests/{asked.id}/refuse",
              answer="It was a public meeting.")  # fmt: skip
    assert requests.get_request(db, asked.id).status == "refused"
    assert listener.get(f"/episodes/{guid}").status_code == 200
    page = text_of(contributor.get(receipt))
    assert "Refused: the recording stays in the archive. Answer: It was a public meeting." in page
    # the admins' history on the episode page names the decision
    auth.logout()
    auth.login("root", "admin")
    assert "request.refuse" in text_of(client.get(f"/episodes/{guid}"))


def test_a_listener_suggests_a_correction_and_an_editor_accepts_it(app, client, auth, db, episode):
    episode_id, guid, token = episode
    listener = app.test_client()
    page = listener.get(f"/episodes/{guid}?t=5").get_data(as_text=True)
    assert page.count("Suggest a correction") == 1
    assert f'href="/episodes/{quote(guid)}/correct?t=5"' in page
    form = text_of(listener.get(f"/episodes/{guid}/correct?t=5"))
    assert '<strong aria-current="true">0:04 we need a new pump before the rains</strong>' in form
    assert ">we need a new pump before the rains</textarea>" in form
    assert "the borehole by the school is dry" in form  # a neighbour to pick instead
    segment_id = re.search(r'name="segment" value="(\d+)"', form).group(1)
    better = "we need a new hand pump before the rains"
    sent = post_form(listener, f"/episodes/{guid}/correct?t=5", f"/episodes/{guid}/correct",
                     segment=segment_id, text=better)  # fmt: skip
    assert sent.status_code == 303
    assert "Thank you" in text_of(listener.get(sent.location))
    assert quote(guid) not in text_of(listener.get("/search?q=%22hand+pump%22"))

    assert client.get("/admin/requests").status_code == 302  # to the login page
    auth.login("amina", "editor")
    queue = text_of(client.get("/admin/requests"))
    assert "1 request waiting." in queue
    assert "we need a new <ins>hand</ins> pump before the rains" in queue
    (asked,) = requests.requests_for(db, episode_id)
    post_form(client, "/admin/requests", f"/admin/requests/{asked.id}/accept", answer="Thanks!")
    assert requests.get_request(db, asked.id).status == "accepted"
    assert quote(guid) in text_of(listener.get("/search?q=%22hand+pump%22"))
    receipt = text_of(app.test_client().get(f"/receipts/{token}"))
    assert "Corrected the transcript." in receipt
    assert "<ins>we need a new hand pump before the rains</ins>" in receipt
    assert "Accepted: the suggested correction at 0:04 was made. Answer: Thanks!" in receipt


def test_suggestions_are_throttled_per_device(app, episode):
    _episode_id, guid, _token = episode
    listener = app.test_client()
    page = f"/episodes/{guid}/correct?t=0"
    segment_id = re.search(r'name="segment" value="(\d+)"', text_of(listener.get(page))).group(1)
    for n in range(5):
        sent = post_form(listener, page, f"/episodes/{guid}/correct",
                         segment=segment_id, text=f"the borehole is dry {n}")  # fmt: skip
        assert sent.status_code == 303
    refused = post_form(listener, page, f"/episodes/{guid}/correct",
                        segment=segment_id, text="the borehole is dry again")  # fmt: skip
    assert refused.status_code == 429
    assert "This device has sent 5 corrections in the last 15 minutes" in text_of(refused)
    assert int(refused.headers["Retry-After"]) > 0
    other = app.test_client()  # another address may still send
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    sent = post_form(other, page, f"/episodes/{guid}/correct",
                     segment=segment_id, text="the borehole is empty")  # fmt: skip
    assert sent.status_code == 303


def test_a_correction_names_a_segment_of_this_episode(app, seed, db, episode):
    _episode_id, guid, _token = episode
    other = seed.episode("Other", [(0.0, 2.0, "something else")])
    foreign = db.execute("select id from segments where episode_id = ?", [other]).fetchone()[0]
    listener = app.test_client()
    sent = post_form(listener, f"/episodes/{guid}/correct", f"/episodes/{guid}/correct",
                     segment=str(foreign), text="changed")  # fmt: skip
    assert sent.status_code == 400
    hidden = seed.episode("Draft", LINES, visibility="draft")
    hidden_guid = db["episodes"].get(hidden)["guid"]
    assert listener.get(f"/episodes/{hidden_guid}/correct").status_code == 404


def test_a_receipt_never_shows_another_contributions_requests(app, seed, db, episode):
    episode_id, _guid, token = episode
    other = seed.episode("Printing history", [(0.0, 3.0, "printing began in Mainz")])
    other_token = with_receipt(db, other)
    requests.ask_passage_removed(db, episode_id, 1, 3, 12.0, "SECRET-REASON-A")
    requests.ask_takedown(db, other, "REASON-B")
    mine = text_of(app.test_client().get(f"/receipts/{token}"))
    theirs = text_of(app.test_client().get(f"/receipts/{other_token}"))
    assert "remove the passage from 0:01 to 0:03" in mine and "take the whole" not in mine
    assert "take the whole recording down" in theirs and "remove the passage" not in theirs
    assert "Borehole meeting" not in theirs and "Printing history" not in mine


def test_only_editors_see_the_queue(app, client, auth, episode):
    episode_id, _guid, _token = episode
    assert client.get("/admin/requests").status_code == 302
    auth.login("joseph", "uploader")
    assert client.get("/admin/requests").status_code == 403
    token = csrf_token(client.get("/upload").get_data(as_text=True))
    answer = client.post("/admin/requests/1/refuse", data={"csrf_token": token, "answer": "x"})
    assert answer.status_code == 403


@pytest.fixture
def recording(seed, db) -> tuple[int, str, str]:  # noqa: ANN001
    """A real, processed, public recording (the jfk clip) with its receipt."""
    from tests.conftest import clip

    episode = seed.recording(clip("jfk.flac"), title="Moon speech")
    return episode.id, episode.guid, with_receipt(db, episode.id)


def test_an_accepted_passage_request_is_cut_out(app, client, auth, db, recording):
    pytest.importorskip("radio.jobs.redact")
    episode_id, _guid, token = recording
    contributor, receipt = app.test_client(), f"/receipts/{token}"
    post_form(contributor, receipt, f"{receipt}/passage", start="0:01", end="0:03",
              message="It names my neighbour.")  # fmt: skip
    (asked,) = requests.requests_for(db, episode_id)
    auth.login("amina", "editor")
    queue = text_of(client.get("/admin/requests"))
    assert f'<select id="sound-{asked.id}" name="sound">' in queue
    post_form(client, "/admin/requests", f"/admin/requests/{asked.id}/accept",
              sound="silence", answer="Removed.")  # fmt: skip
    done = requests.get_request(db, asked.id)
    assert done.status == "accepted" and done.decided_by == "amina"
    entry = audit.entries(db, action="request.accept")[0]
    assert '"sound": "silence"' in entry.summary_after and entry.why == "Removed."
    page = text_of(contributor.get(receipt))
    assert "Accepted: the passage from 0:01 to 0:03 was removed. Answer: Removed." in page


def test_an_admin_accepts_a_takedown_request(app, client, auth, db, recording):
    pytest.importorskip("radio.jobs.takedown")
    episode_id, guid, token = recording
    contributor, listener, receipt = app.test_client(), app.test_client(), f"/receipts/{token}"
    post_form(contributor, receipt, f"{receipt}/takedown", message="My family asked me to.")
    (asked,) = requests.requests_for(db, episode_id)
    auth.login("root", "admin")
    assert "Also destroy the original" in text_of(client.get("/admin/requests"))
    post_form(client, "/admin/requests", f"/admin/requests/{asked.id}/accept", answer="Done.")
    assert requests.get_request(db, asked.id).status == "accepted"
    assert listener.get(f"/episodes/{guid}").status_code in (404, 410)
    # the receipt still opens and says it was taken down and why (radio/web/takedown.py)
    page = contributor.get(receipt)
    assert page.status_code == 200 and "Taken down on" in text_of(page)
    assert "Done." in text_of(page)
    told = [e.summary for e in history.contribution_history(db, episode_id)]
    assert "Accepted: the recording was taken down. Answer: Done." in told
