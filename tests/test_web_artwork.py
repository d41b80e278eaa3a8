"""Artwork for episodes and shows: uploads checked (bad ones refused with a clear message),
served with an ETag, shown on pages and named per item and channel in the feeds."""

from __future__ import annotations

import io

import av
import numpy as np
from lxml import etree

from radio.data.episodes import get_episode
from radio.jobs.filetags import gather
from radio.media.artwork import MAX_ARTWORK_BYTES
from tests.conftest import clip
from tests.webserver import csrf_token

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
NS = {"itunes": ITUNES}
RECORDING = "cannot-complete-as-dialed.wav"


def picture(width: int, height: int, codec: str = "png", seed: int = 1) -> bytes:
    """A real picture encoded by FFmpeg (PyAV): PNG or JPEG."""
    pix = "rgb24" if codec == "png" else "yuvj420p"
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 255, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    with av.open(out, "w", format="image2pipe") as container:
        stream = container.add_stream(codec, rate=1)
        stream.width, stream.height, stream.pix_fmt = width, height, pix
        frame = av.VideoFrame.from_ndarray(pixels, format="rgb24").reformat(format=pix)
        for packet in [*stream.encode(frame), *stream.encode()]:
            container.mux(packet)
    return out.getvalue()


def upload(client, guid: str, data: bytes, name: str = "cover.png"):  # noqa: ANN001, ANN201
    token = csrf_token(client.get(f"/episodes/{guid}/edit").get_data(as_text=True))
    return client.post(
        f"/episodes/{guid}/artwork",
        data={"csrf_token": token, "artwork": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def feed(client, path: str = "/feeds/all.xml"):  # noqa: ANN001, ANN201
    return etree.fromstring(client.get(path).data)


def test_upload_serve_and_feed_per_item(app, client, auth, seed, db):
    app.config["FEED_IMAGE_URL"] = "/static/station.png"
    ep = seed.recording(clip(RECORDING), title="Harvest", show="Farm hour")
    other = seed.recording(clip("queue-thereare.wav"), title="No picture")
    auth.login("amina", "editor")
    jpeg = picture(600, 600, "mjpeg")
    done = upload(client, ep.guid, jpeg, "harvest.jpg")
    assert "Saved the episode&#39;s artwork." in done.get_data(as_text=True)
    page = client.get(f"/episodes/{ep.guid}").get_data(as_text=True)
    assert 'alt="Artwork of Harvest"' in page and 'width="160"' in page
    src = page.split('class="art" src="', 1)[1].split('"', 1)[0]
    assert src.endswith(".jpg")

    # the listening files get it as their cover when they are tagged again
    facts = gather(db, app.config, get_episode(db, ep.id))
    assert facts.cover is not None and facts.cover.data == jpeg
    assert gather(db, app.config, get_episode(db, other.id)).cover is None

    listener = app.test_client()
    served = listener.get(src)
    assert served.status_code == 200 and served.data == jpeg
    assert served.mimetype == "image/jpeg" and served.headers["ETag"]
    again = listener.get(src, headers={"If-None-Match": served.headers["ETag"]})
    assert again.status_code == 304
    assert listener.get("/artwork/" + "0" * 64 + ".jpg").status_code == 404
    assert listener.get("/artwork/../secret_key").status_code == 404

    channel = feed(listener)
    images = {
        item.findtext("guid"): item.xpath("itunes:image/@href", namespaces=NS)
        for item in channel.iter("item")
    }
    assert images[ep.guid] == ["http://localhost" + src]
    assert images[other.guid] == []  # apps show the channel's picture
    assert channel.xpath("/rss/channel/itunes:image/@href", namespaces=NS) == [
        "http://localhost/static/station.png"
    ]


def test_bad_images_are_refused_with_clear_messages(app, client, auth, seed, tmp_path):
    ep = seed.recording(clip(RECORDING), title="Harvest")
    auth.login("amina", "editor")
    good = picture(400, 400)
    cases = {
        "not a JPEG or PNG": (b"GIF89a" + b"\0" * 200, "cover.png"),
        "cut short or damaged": (good[: len(good) // 2], "cut.png"),
        "at most 3000 pixels": (picture(3200, 16), "wide.png"),
        "at most 2 MB": (b"\x89PNG\r\n\x1a\n" + b"\0" * MAX_ARTWORK_BYTES, "huge.png"),
        "is empty": (b"", "empty.png"),
        "Choose a JPEG or PNG": (None, ""),
    }
    for message, (data, name) in cases.items():
        if data is None:
            token = csrf_token(client.get(f"/episodes/{ep.guid}/edit").get_data(as_text=True))
            answer = client.post(
                f"/episodes/{ep.guid}/artwork", data={"csrf_token": token}, follow_redirects=True
            )
        else:
            answer = upload(client, ep.guid, data, name)
        text = answer.get_data(as_text=True)
        assert message in text, (message, text[:2000])
    page = client.get(f"/episodes/{ep.guid}").get_data(as_text=True)
    assert "/artwork/" not in page  # nothing was taken
    assert not list((tmp_path / "home" / "media" / "artwork").glob("*.png"))


def test_show_artwork_stands_for_its_episodes_and_its_feed(app, client, auth, seed):
    ep = seed.recording(clip(RECORDING), title="Harvest", show="Farm hour")
    auth.login("amina", "editor")
    token = csrf_token(client.get("/shows/farm-hour/settings").get_data(as_text=True))
    png = picture(500, 500)
    saved = client.post(
        "/shows/farm-hour/settings",
        data={"csrf_token": token, "artwork": (io.BytesIO(png), "farm.png")},
        content_type="multipart/form-data",
    )
    assert saved.status_code == 303
    listener = app.test_client()
    show_feed = feed(listener, "/feeds/shows/farm-hour.xml")
    [channel_image] = show_feed.xpath("/rss/channel/itunes:image/@href", namespaces=NS)
    assert channel_image.endswith(".png")
    assert show_feed.xpath("//item/itunes:image/@href", namespaces=NS) == [channel_image]
    page = listener.get(f"/episodes/{ep.guid}").get_data(as_text=True)
    assert 'alt="Artwork of Harvest"' in page  # the show's picture stands for it
    home = listener.get("/").get_data(as_text=True)
    assert channel_image.removeprefix("http://localhost") in home  # and in the lists
    # its own artwork wins over the show's
    upload(client, ep.guid, picture(300, 300, "mjpeg", seed=2), "own.jpg")
    items = feed(listener, "/feeds/shows/farm-hour.xml").xpath(
        "//item/itunes:image/@href", namespaces=NS
    )
    assert items[0].endswith(".jpg") and items[0] != channel_image
    # a replaced picture nobody names any more is removed
    old_name = channel_image.rsplit("/", 1)[1]
    token = csrf_token(client.get("/shows/farm-hour/settings").get_data(as_text=True))
    client.post(
        "/shows/farm-hour/settings",
        data={"csrf_token": token, "artwork": (io.BytesIO(picture(400, 400, seed=3)), "n.png")},
        content_type="multipart/form-data",
    )
    assert listener.get(f"/artwork/{old_name}").status_code == 404
