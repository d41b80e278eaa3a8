"""Removing a passage really removes it (#16 item 4, must show).

A real recording (tests/data/basic-pbx-ivr-main.wav) is taken in and transcribed by the
real pipeline (Whisper tiny.en), edited, chaptered and shared; then two passages are removed
through ``radio.jobs.redact.redact``: "Waldo's Premier Provider of the Perfect Products"
(a whole segment, replaced by the tone) and "establish a sales partnership" (inside a
segment, replaced by silence). Every rendition is decoded with PyAV before and after.

Metric outside the span: the decoded rendition after a redaction against the one before,
away from the span's edges (0.1 s, the codecs' frames and the ramps) and the file's ends:
SNR (signal over difference) above 20 dB and correlation above 0.99. A redaction encodes
the copy once more with the same settings, so "identical within codec tolerance" is a
second generation of the codec: on this clip the MP3 keeps about 26 dB, Opus about 23 dB,
AAC about 24 dB, all with correlation above 0.997.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from lxml import etree

from radio import create_app
from radio.data import audit, processing
from radio.data.edits import edit_segments, save_chapters
from radio.data.redactions import redactions_of
from radio.data.requests import suggest_correction
from radio.data.soundbites import add_soundbite, of_episode
from radio.data.tags import chapters
from radio.data.transcripts import load_segments, request_retranscription
from radio.data.users import add_user
from radio.db import connect, database_path
from radio.jobs import leases
from radio.jobs.redact import RedactError, redact
from radio.jobs.topics import retag
from radio.media import store
from radio.media.audio import RATE, iter_mono
from tests.conftest import Runner, clip, settings
from transcription.segments import Chapter

TONE = (3.4, 6.4)  # "Waldo's Premier Provider of the Perfect Products." (3.52 to 6.28 s)
SILENCE = (10.9, 12.7)  # "establish a sales partnership" (10.98 to 12.62 s)
TONE_WORDS = ("waldo", "premier", "provider", "perfect", "products")
SILENCE_WORDS = ("establish", "sales", "partnership")
GONE = TONE_WORDS + SILENCE_WORDS
MARGIN = 0.1  # seconds left out at a span's edges and the file's ends
EDITOR = audit.Actor("amina", None)


def decode(path: Path) -> np.ndarray:
    return np.concatenate(list(iter_mono(path, rate=RATE)))


def files(app, db, episode_id: int) -> dict[str, Path]:  # noqa: ANN001
    rows = db.execute("select kind, path from renditions where episode_id = ?", [episode_id])
    return {kind: store.resolve(app.config["HOME"], path) for kind, path in rows.fetchall()}


def window(x: np.ndarray, start: float, end: float) -> np.ndarray:
    return x[round(start * RATE) : round(end * RATE)]


def dbfs(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def outside(
    before: np.ndarray, after: np.ndarray, span: tuple[float, float]
) -> tuple[float, float]:
    """(SNR dB, correlation) of ``after`` against ``before`` away from ``span`` and the ends."""
    n = min(len(before), len(after))
    keep = np.zeros(n, bool)
    keep[round(MARGIN * RATE) : n - round(MARGIN * RATE)] = True
    keep[round((span[0] - MARGIN) * RATE) : round((span[1] + MARGIN) * RATE)] = False
    a, b = before[:n][keep].astype(np.float64), after[:n][keep].astype(np.float64)
    snr = 10 * np.log10(np.sum(a**2) / np.sum((a - b) ** 2))
    return float(snr), float(np.corrcoef(a, b)[0, 1])


def tone_share(x: np.ndarray, rate: int = RATE) -> tuple[float, float]:
    """(the strongest frequency in Hz, the share of the energy within 50 Hz of 1 kHz)."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1 / rate)
    near = np.abs(freqs - 1000) <= 50
    return float(freqs[np.argmax(spectrum)]), float(spectrum[near].sum() / spectrum.sum())


@pytest.fixture(scope="module")
def archive(tmp_path_factory):  # noqa: ANN201
    """The recording, transcribed, edited, chaptered and shared; decoded before, between and
    after the two redactions."""
    from tests.archive import Seeder

    home = tmp_path_factory.mktemp("redact") / "home"
    app = create_app(settings(home, TRANSCRIBE=True, SECRET_KEY="r"))
    db = connect(database_path(app))
    ep = Seeder(app, db).recording(clip("basic-pbx-ivr-main.wav"), title="Switchboard")
    user_id = add_user(db, "amina", "correct horse", "editor").id
    segments = db.execute(
        "select id, text from segments where episode_id = ? order by idx", [ep.id]
    ).fetchall()
    waldo = next(i for i, text in segments if "waldo" in text.lower())
    edit_segments(db, ep.id, user_id, {waldo: "Waldo's Premier Provider of Perfect Products."})
    # an editor's chapters and back: the history quotes the computed chapter's title
    save_chapters(db, ep.id, user_id, [Chapter(0.0, 25.0, "Welcome")])
    save_chapters(db, ep.id, user_id, None)
    retag(db, app.config, [ep.id])
    starts = dict(db.execute("select id, start from segments where episode_id = ?", [ep.id]))
    now = dict(db.execute("select id, text from segments where episode_id = ?", [ep.id]))
    # a listener's suggestion for the segment that goes: its words must go with it
    suggest_correction(
        db, ep.id, (waldo, starts[waldo], now[waldo]), "Waldo's premier products", None
    )
    add_soundbite(db, ep.id, start=2.0, duration=16.0, title="The provider", user_id=user_id)
    client = app.test_client()
    assert client.get(f"/episodes/{ep.guid}/clip.opus?from=3&to=6").status_code == 200
    state = {"app": app, "db": db, "ep": ep, "home": home, "client": client}
    state["old_original"] = store.resolve(home, ep.source_path)
    state["chapters_before"] = chapters(db, ep.id)
    state["before"] = {k: decode(p) for k, p in files(app, db, ep.id).items()}
    state["sizes_before"] = {k: p.stat().st_size for k, p in files(app, db, ep.id).items()}
    state["tone"] = redact(db, app.config, ep.id, *TONE, actor=EDITOR, reason="Named a firm")
    state["between"] = {k: decode(p) for k, p in files(app, db, ep.id).items()}
    state["silence"] = redact(
        db, app.config, ep.id, *SILENCE, actor=EDITOR, reason="Private deal", sound="silence"
    )
    state["after"] = {k: decode(p) for k, p in files(app, db, ep.id).items()}
    yield state
    db.conn.close()


def test_the_tone_replaces_the_span_in_every_rendition(archive) -> None:  # noqa: ANN001
    assert set(archive["between"]) == {"mp3", "opus", "aac"}
    for kind, x in archive["between"].items():
        inside = window(x, TONE[0] + MARGIN, TONE[1] - MARGIN)
        assert -24.5 < dbfs(inside) < -21.5, kind  # a -20 dBFS (peak) sine: -23 dBFS RMS
        strongest, share = tone_share(inside)
        assert abs(strongest - 1000) < 5 and share > 0.95, (kind, strongest, share)
        snr, corr = outside(archive["before"][kind], x, TONE)
        assert snr > 20 and corr > 0.99, (kind, snr, corr)


def test_silence_replaces_the_span_and_the_rest_stays(archive) -> None:  # noqa: ANN001
    for kind, x in archive["after"].items():
        assert dbfs(window(x, SILENCE[0] + MARGIN, SILENCE[1] - MARGIN)) < -60, kind
        assert dbfs(window(x, TONE[0] + MARGIN, TONE[1] - MARGIN)) > -24.5, kind  # still there
        snr, corr = outside(archive["between"][kind], x, SILENCE)
        assert snr > 20 and corr > 0.99, (kind, snr, corr)
        speech = window(x, 0.2, 2.8)  # "Thank you for calling ..." is kept, and audible
        assert dbfs(speech) > -35, kind


def test_the_result_says_what_was_done(archive) -> None:  # noqa: ANN001
    tone, silence = archive["tone"], archive["silence"]
    assert (tone.start, tone.end, tone.sound) == (*TONE, "tone")
    assert tone.words_removed == 7 and silence.words_removed == 4
    assert silence.sound == "silence" and len(silence.files) == 4  # three copies, the original
    rows = redactions_of(archive["db"], archive["ep"].id)
    assert [(r.sound, r.reason, r.by, r.words_removed) for r in rows] == [
        ("tone", "Named a firm", "amina", 7),
        ("silence", "Private deal", "amina", 4),
    ]


def _texts(archive) -> dict[str, str]:  # noqa: ANN001
    """Everything a listener, an editor or the history can read about the episode."""
    app, db, ep, client = archive["app"], archive["db"], archive["ep"], archive["client"]
    found = {f"/{fmt}": client.get(f"/episodes/{ep.guid}/transcript.{fmt}").get_data(as_text=True)
             for fmt in ("vtt", "srt", "json", "txt")}  # fmt: skip
    found["page"] = client.get(f"/episodes/{ep.guid}").get_data(as_text=True)
    found["chapters"] = client.get(f"/feeds/chapters/{ep.guid}.json").get_data(as_text=True)
    found["feed"] = client.get("/feeds/all.xml").get_data(as_text=True)
    runner = Runner(archive["home"])
    for fmt in ("vtt", "srt", "json", "txt"):
        result = runner("transcript", str(ep.id), "--format", fmt)
        assert result.exit_code == 0, result.output
        found[f"cli {fmt}"] = result.output
    history = db.execute(
        "select before, after from transcript_edits union all "
        "select before, after from episode_edits"
    ).fetchall()
    found["edits"] = json.dumps(history)
    found["audit"] = audit.as_json(audit.entries(db))
    found["db chapters"] = json.dumps([c.title for c in chapters(db, ep.id)])
    found["soundbites"] = json.dumps([b.title for b in of_episode(db, ep.id)])
    found["tags"] = json.dumps(list(db.query("select label from tags")))
    found["requests"] = json.dumps(db.execute("select original, proposed from requests").fetchall())
    found["topics"] = client.get("/topics").get_data(as_text=True)
    del app
    return found


def test_the_removed_words_are_in_no_format_page_or_history(archive) -> None:  # noqa: ANN001
    texts = _texts(archive)
    assert "thank you for calling" in texts["/txt"].lower()  # what was kept is all there
    assert "to press 1" in texts["/txt"].lower()  # a segment keeps its words outside
    assert "waldo" in " ".join(c.title for c in archive["chapters_before"]).lower()
    for where, text in texts.items():
        for word in GONE:
            assert word not in text.lower(), (word, where)
    assert "[removed]" in texts["edits"] and "[removed]" in texts["audit"]


def test_no_search_finds_the_removed_words(archive) -> None:  # noqa: ANN001
    from radio.data.search import search

    db, ep, client = archive["db"], archive["ep"], archive["client"]
    assert search(db, "calling").total == 1  # the rest is found as before
    assert ep.guid in client.get("/search?q=calling").get_data(as_text=True)
    for word in GONE:
        assert search(db, word, include_hidden=True).total == 0, word
        assert ep.guid not in client.get(f"/search?q={word}").get_data(as_text=True), word
        feed = etree.fromstring(client.get(f"/feeds/search.xml?q={word}").data)
        assert feed.findall("channel/item") == [], word
        result = Runner(archive["home"])("search", word)
        assert result.exit_code == 0 and word not in result.output.lower(), word
    segments = " ".join(s.text for s in load_segments(db, ep.id)).lower()
    assert not any(word in segments for word in GONE)


def test_the_original_is_replaced_and_the_old_one_gone(archive) -> None:  # noqa: ANN001
    from radio.data.episodes import get_episode

    db, home = archive["db"], archive["home"]
    ep = get_episode(db, archive["ep"].id)
    assert not archive["old_original"].exists()
    new = store.resolve(home, ep.source_path)
    assert new.suffix == ".flac" and ep.source_sha256 in new.name
    assert ep.source_sha256 == __import__("hashlib").sha256(new.read_bytes()).hexdigest()
    x = decode(new)  # the tone was written into it too, at the original's own level
    strongest, share = tone_share(window(x, TONE[0] + MARGIN, TONE[1] - MARGIN))
    assert abs(strongest - 1000) < 5 and share > 0.95
    assert dbfs(window(x, SILENCE[0] + MARGIN, SILENCE[1] - MARGIN)) < -60
    assert dbfs(window(x, 0.2, 2.8)) > -40  # its speech outside is still there


def test_derived_files_and_rows_follow(archive) -> None:  # noqa: ANN001
    app, db, ep = archive["app"], archive["db"], archive["ep"]
    for kind, path in files(app, db, ep.id).items():
        (size,) = db.execute(
            "select bytes from renditions where episode_id = ? and kind = ?", [ep.id, kind]
        ).fetchone()
        assert size == path.stat().st_size  # the feed's length is the file's
    assert not (store.episode_dir(archive["home"], ep.guid) / "clips").exists()
    peaks = json.loads((store.episode_dir(archive["home"], ep.guid) / "peaks.json").read_text())
    per = peaks["seconds_per_peak"]
    in_silence = peaks["peaks"][round((SILENCE[0] + 0.5) / per) : round((SILENCE[1] - 0.5) / per)]
    assert in_silence and max(in_silence) < 0.01
    assert of_episode(db, ep.id) == []  # the soundbite over the passage
    redacts = audit.entries(db, action="episode.redact")
    assert [e.why for e in redacts] == ["Private deal", "Named a firm"]
    assert json.loads(redacts[1].summary_before) == {"from": 3.4, "to": 6.4}
    assert json.loads(redacts[1].summary_after)["words_removed"] == 7


def test_refusals_say_why(archive) -> None:  # noqa: ANN001
    app, db, ep = archive["app"], archive["db"], archive["ep"]
    cases = [((30.0, 31.0), "outside the episode"), ((5.0, 5.0), "must come after")]
    for span, message in cases:
        with pytest.raises(RedactError, match=message):
            redact(db, app.config, ep.id, *span, actor=EDITOR, reason="x")
    with pytest.raises(RedactError, match="Say why"):
        redact(db, app.config, ep.id, 1.0, 2.0, actor=EDITOR, reason=" ")
    processing.claim_lease(db, ep.id, "elsewhere:1:abc", 4e9, 0)  # another machine's worker
    try:
        with pytest.raises(RedactError, match="being processed"):
            redact(db, app.config, ep.id, 1.0, 2.0, actor=EDITOR, reason="x")
    finally:
        processing.release_lease(db, ep.id, "elsewhere:1:abc")
    request_retranscription(db, ep.id, model=None, language=None, user_id=None)
    try:
        with pytest.raises(RedactError, match="transcribed again"):
            redact(db, app.config, ep.id, 1.0, 2.0, actor=EDITOR, reason="x")
    finally:
        db.execute("delete from retranscriptions where episode_id = ?", [ep.id])
    assert len(redactions_of(db, ep.id)) == 2  # nothing was done
    assert leases.take_lease(db, ep.id, 1)  # and no lease was left behind
    processing.release_lease(db, ep.id, leases.WORKER_ID)


def test_hand_made_chapters_inside_the_span_go(archive) -> None:  # noqa: ANN001
    app, db, ep = archive["app"], archive["db"], archive["ep"]
    marks = [Chapter(0.0, 20.0, "Welcome"), Chapter(20.0, 22.0, "Directory"),
             Chapter(22.0, 25.39, "Operator")]  # fmt: skip
    save_chapters(db, ep.id, None, marks)
    redact(db, app.config, ep.id, 19.9, 21.6, actor=EDITOR, reason="Internal", sound="silence")
    assert [c.title for c in chapters(db, ep.id)] == ["Welcome", "Operator"]


def test_the_audit_stays_append_only_but_for_removed_words(db) -> None:  # noqa: ANN001
    """Migration 0022's narrow exception: a summary may become "[removed]", nothing else."""
    import sqlite3

    audit.record(db, EDITOR, "chapters.edit", "episode:1", before={"chapters": "0:00 Waldo"})
    (entry,) = audit.entries(db)
    refused = (
        "update audit set actor = 'someone' where id = ?",
        "update audit set summary_before = 'edited' where id = ?",
        "update audit set why = 'later' where id = ?",
        "delete from audit where id = ?",
    )
    for sql in refused:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(sql, [entry.id])
    db.execute("update audit set summary_before = '[removed]' where id = ?", [entry.id])
    (scrubbed,) = audit.entries(db)
    assert (scrubbed.summary_before, scrubbed.actor, scrubbed.at) == (
        "[removed]",
        "amina",
        entry.at,
    )


def test_an_original_another_episode_shares_stays(app, seed, db) -> None:  # noqa: ANN001
    """The trashed first take still points at the old original: it is kept (emptying the
    trash removes it later); the redacted episode gets its own."""
    from radio.data.episodes import get_episode
    from radio.data.trash import move_to_trash

    first = seed.recording(clip("jfk.flac"), title="First take")
    move_to_trash(db, first.id, None)
    second = seed.recording(clip("jfk.flac"), title="Second take")
    assert second.source_path == first.source_path
    redact(db, app.config, second.id, 1.0, 2.0, actor=EDITOR, reason="x", sound="silence")
    assert store.resolve(app.config["HOME"], first.source_path).is_file()
    now = get_episode(db, second.id)
    assert now.source_path != first.source_path and now.source_path.endswith(".flac")
    x = decode(store.resolve(app.config["HOME"], now.source_path))
    assert dbfs(window(x, 1.0, 2.0)) < -60 and dbfs(window(x, 3.0, 5.0)) > -40
