"""MP4 (M4A) tags and chapters for ``radio.media.filetags``: iTunes-style tags with mutagen,
chapters by a stream-copy remux through FFmpeg's MP4 muxer (mutagen only reads them)."""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
from mutagen.mp4 import MP4, MP4Cover, MP4FreeForm

from radio.media.errors import FileTagError
from radio.media.tagfields import DIGEST_KEY, GENRE, ChapterMark, FileTags

MP4_DIGEST = f"----:org.radio-archive:{DIGEST_KEY}"


def remux_with_chapters(src: Path, dest: Path, chapters: Sequence[ChapterMark]) -> None:
    """Copy ``src``'s packets into ``dest`` unchanged, with these chapters (or none).

    FFmpeg writes MP4 chapters as Apple's chapter text track and as Nero ``chpl`` (what
    mutagen reads back); mutagen itself only reads them. The brand is kept ("M4A " from
    the ipod muxer, "isom" from mp4) and the index goes first, for players that stream.
    """
    try:
        with av.open(str(src)) as inp:
            brand = inp.metadata.get("major_brand", "").strip()
            muxer = "ipod" if brand == "M4A" else "mp4"
            stream = inp.streams.audio[0]
            with av.open(str(dest), "w", format=muxer, options={"movflags": "+faststart"}) as out:
                copy = out.add_stream_from_template(stream)
                out.set_chapters(
                    [
                        {
                            "id": i,
                            "start": round(c.start * 1000),
                            "end": round(c.end * 1000),
                            "time_base": Fraction(1, 1000),
                            "metadata": {"title": c.title},
                        }
                        for i, c in enumerate(chapters, start=1)
                    ]
                )
                for packet in inp.demux(stream):
                    if packet.dts is None:  # the demuxer's flush packet
                        continue
                    packet.stream = copy
                    out.mux(packet)
    except (av.FFmpegError, IndexError) as e:
        raise FileTagError(f"{src.name} can't be copied to add chapters ({e}).") from e


def write_mp4(path: Path, tags: FileTags) -> None:
    f = MP4(path)
    if f.tags is None:
        f.add_tags()
    f.tags.clear()
    values: dict[str, list] = {
        "\xa9nam": [tags.title],
        "\xa9alb": [tags.album],
        "\xa9ART": [tags.station],
        "aART": [tags.station],
        "\xa9gen": [GENRE],
        "cprt": [tags.copyright],
    }
    if tags.date:
        values["\xa9day"] = [tags.date]
    if tags.description:
        values["desc"] = [tags.description[:255]]  # iTunes' short description
        values["ldes"] = [tags.description]
    if tags.url:
        values["purl"] = [tags.url]
    if tags.cover:
        fmt = MP4Cover.FORMAT_PNG if tags.cover.mime == "image/png" else MP4Cover.FORMAT_JPEG
        values["covr"] = [MP4Cover(tags.cover.data, imageformat=fmt)]
    values[MP4_DIGEST] = [MP4FreeForm(tags.digest().encode())]
    f.tags.update(values)
    f.save()
