"""Tags and chapters inside the listening files, so a downloaded episode keeps them offline.

- MP3: ID3v2.4 (title, show, station, date, description, licence, language, page, cover)
  with ID3 chapter frames (``CHAP``) under one ordered top-level table of contents (``CTOC``);
- Ogg Opus: Vorbis comments, chapters as the Vorbis chapter extension
  (``CHAPTER001=00:01:30.000``, ``CHAPTER001NAME=...``), cover as ``METADATA_BLOCK_PICTURE``;
- M4A (AAC): iTunes-style MP4 tags, and chapters (a QuickTime chapter track and Nero
  ``chpl``), which mutagen can't write: FFmpeg's MP4 muxer writes them on a stream-copy remux.

The audio is never encoded again: tags go into a copy (``x.part``) beside the file, which is
flushed and renamed over it, so a crash leaves the old file or the new one, and the decoded
samples are the same before and after. Each file carries a digest of what was written into
it (``DIGEST_KEY``), so asking again for the same tags leaves the file (and its ETag) alone.
"""

from __future__ import annotations

import base64
import logging
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import mutagen
from mutagen import id3
from mutagen.flac import Picture
from mutagen.id3._tags import save_frame  # see _ChaptersInOrder
from mutagen.mp4 import MP4
from mutagen.oggopus import OggOpus

from radio.media.audio import PART_SUFFIX, commit_part
from radio.media.errors import FileTagError as TagError
from radio.media.mp4tags import MP4_DIGEST as _MP4_DIGEST
from radio.media.mp4tags import remux_with_chapters, write_mp4
from radio.media.store import fsync_path
from radio.media.tagfields import (  # noqa: F401 - part of this module's API
    DIGEST_KEY,
    GENRE,
    IMAGE_TYPES,
    ChapterMark,
    Cover,
    FileTags,
    image_type,
)

logger = logging.getLogger(__name__)

# Bump when what a writer puts into a file changes, so every file is written again.
_VORBIS_DIGEST = DIGEST_KEY.upper().replace("-", "_")
_TOC_ID = "toc"
_NO_OFFSET = 0xFFFFFFFF  # ID3 CHAP: "use the times, not byte offsets"

# ISO 639-1 (Whisper's codes) to ISO 639-2/B, which ID3's TLAN and COMM language want.
_LANGUAGE_PAIRS = (
    "en=eng zh=chi de=ger es=spa ru=rus ko=kor fr=fre ja=jpn pt=por tr=tur pl=pol ca=cat "
    "nl=dut ar=ara sv=swe it=ita id=ind hi=hin fi=fin vi=vie he=heb uk=ukr el=gre ms=may "
    "cs=cze ro=rum da=dan hu=hun ta=tam no=nor th=tha ur=urd hr=hrv bg=bul lt=lit la=lat "
    "mi=mao ml=mal cy=wel sk=slo te=tel fa=per lv=lav bn=ben sr=srp az=aze sl=slv kn=kan "
    "et=est mk=mac br=bre eu=baq is=ice hy=arm ne=nep mn=mon bs=bos kk=kaz sq=alb sw=swa "
    "gl=glg mr=mar pa=pan si=sin km=khm sn=sna yo=yor so=som af=afr oc=oci ka=geo be=bel "
    "tg=tgk sd=snd gu=guj am=amh yi=yid lo=lao uz=uzb fo=fao ht=hat ps=pus tk=tuk nn=nno "
    "mt=mlt sa=san lb=ltz my=bur bo=tib tl=tgl mg=mlg as=asm tt=tat haw=haw ln=lin ha=hau "
    "ba=bak jw=jav jv=jav su=sun yue=chi"
)
_ISO639_2 = dict(pair.split("=") for pair in _LANGUAGE_PAIRS.split())


def chapter_marks(
    chapters: Sequence[tuple[float, float, str]], duration: float | None
) -> tuple[ChapterMark, ...]:
    """Chapters fit for a file: in order, inside the audio, none empty or overlapping."""
    marks: list[ChapterMark] = []
    limit = duration if duration and duration > 0 else float("inf")
    for start, end, title in sorted(chapters):
        start = max(float(start), marks[-1].end if marks else 0.0)
        end = min(float(end), limit)
        if end > start and title.strip():
            marks.append(ChapterMark(round(start, 3), round(end, 3), " ".join(title.split())))
    return tuple(marks)


def kind_of(path: Path) -> str:
    """mp3, opus or m4a, by the file name the renditions are given."""
    suffix = Path(path).suffix.lower().lstrip(".")
    kind = {"mp3": "mp3", "opus": "opus", "ogg": "opus", "m4a": "m4a", "mp4": "m4a"}.get(suffix)
    if kind is None:
        raise TagError(f"{Path(path).name}: only MP3, Ogg Opus and M4A files can be tagged.")
    return kind


def has_tags(path: Path, tags: FileTags) -> bool:
    """Whether ``path`` already carries exactly these tags (its digest matches)."""
    try:
        return read_digest(path) == tags.digest()
    except (mutagen.MutagenError, OSError):
        return False


def read_digest(path: Path) -> str | None:
    kind = kind_of(path)
    if kind == "mp3":
        frames = id3.ID3(path).getall(f"TXXX:{DIGEST_KEY}")
        return str(frames[0].text[0]) if frames else None
    if kind == "opus":
        values = OggOpus(path).tags.get(_VORBIS_DIGEST)
        return values[0] if values else None
    values = (MP4(path).tags or {}).get(_MP4_DIGEST)
    return bytes(values[0]).decode() if values else None


def write_tags(path: Path, tags: FileTags) -> bool:
    """Put ``tags`` into the file at ``path`` by way of a copy renamed over it; False when the
    file already carried them (and was left untouched).

    The new file is always given a modification time after the old one's, so its validators
    (size and mtime make the ETag) change even when its size does not.
    """
    path = Path(path)
    kind = kind_of(path)
    if has_tags(path, tags):
        return False
    old = path.stat()
    part = path.with_name(path.name + PART_SUFFIX)
    try:
        if kind == "m4a":
            remux_with_chapters(path, part, tags.chapters)
        else:
            shutil.copyfile(path, part)
        _WRITERS[kind](part, tags)
        _after(part, old.st_mtime_ns)
        fsync_path(part)
        commit_part(part)
    except (mutagen.MutagenError, ValueError) as e:
        raise TagError(f"{path.name} can't be tagged ({e}); `radio retry` makes it again.") from e
    finally:
        part.unlink(missing_ok=True)
    logger.info("%s: tagged (%d chapters)", path, len(tags.chapters))
    return True


def _after(part: Path, old_mtime_ns: int) -> None:
    st = part.stat()
    if st.st_mtime_ns <= old_mtime_ns:  # same clock tick as the old file's last write
        os.utime(part, ns=(st.st_atime_ns, old_mtime_ns + 1_000))


# --- MP3 --------------------------------------------------------------------------------


class _ChaptersInOrder(id3.ID3):
    """An ID3 tag whose CHAP frames follow each other in time order.

    mutagen orders frames by their size, and FFmpeg (so the many players built on it) lists
    chapters in the order of their frames, not of the CTOC. Here the frames go as they were
    added (chapters are added in time order), the pictures last, as mutagen would.
    """

    def _write(self, config: Any) -> bytearray:  # mutagen's hook for the frames' bytes
        frames = sorted(self.values(), key=lambda frame: frame.FrameID == "APIC")
        return bytearray().join(save_frame(frame, config=config) for frame in frames)


def _write_id3(path: Path, tags: FileTags) -> None:
    """A new ID3v2.4 tag in place of the encoder's; no ID3v1 (it can't hold UTF-8)."""
    frames = _ChaptersInOrder()
    lang = _iso639_2(tags.language)
    frames.add(id3.TIT2(encoding=3, text=tags.title))
    frames.add(id3.TALB(encoding=3, text=tags.album))
    frames.add(id3.TPE1(encoding=3, text=tags.station))
    frames.add(id3.TPE2(encoding=3, text=tags.station))
    frames.add(id3.TCON(encoding=3, text=GENRE))
    if tags.date:
        frames.add(id3.TDRC(encoding=3, text=tags.date))
    if tags.description:
        frames.add(id3.COMM(encoding=3, lang=lang or "und", desc="", text=tags.description))
    frames.add(id3.TCOP(encoding=3, text=tags.copyright))
    if tags.licence_url:
        frames.add(id3.WCOP(url=tags.licence_url))
    if lang:
        frames.add(id3.TLAN(encoding=3, text=lang))
    if tags.url:
        frames.add(id3.WOAS(url=tags.url))
    if tags.cover:
        frames.add(
            id3.APIC(
                encoding=3, mime=tags.cover.mime, type=id3.PictureType.COVER_FRONT,
                desc="Cover", data=tags.cover.data,
            )
        )  # fmt: skip
    ids = [f"chp{i}" for i in range(1, len(tags.chapters) + 1)]
    for element_id, chapter in zip(ids, tags.chapters, strict=True):
        sub = [id3.TIT2(encoding=3, text=chapter.title)]
        if tags.url:  # the same moment on the episode's page
            link = f"{tags.url}?t={_seconds(chapter.start)}"
            sub.append(id3.WXXX(encoding=3, desc="chapter url", url=link))
        frames.add(
            id3.CHAP(
                element_id=element_id,
                start_time=round(chapter.start * 1000),
                end_time=round(chapter.end * 1000),
                start_offset=_NO_OFFSET,
                end_offset=_NO_OFFSET,
                sub_frames=sub,
            )
        )
    if ids:
        frames.add(
            id3.CTOC(
                element_id=_TOC_ID,
                flags=id3.CTOCFlags.TOP_LEVEL | id3.CTOCFlags.ORDERED,
                child_element_ids=ids,
                sub_frames=[id3.TIT2(encoding=3, text="Chapters")],
            )
        )
    frames.add(id3.TXXX(encoding=3, desc=DIGEST_KEY, text=tags.digest()))
    frames.save(path, v1=id3.ID3v1SaveOptions.REMOVE, v2_version=4)


def _iso639_2(code: str | None) -> str | None:
    if not code:
        return None
    base = code.lower().split("-")[0]
    return _ISO639_2.get(base) or (base if len(base) == 3 and base.isalpha() else None)


def _seconds(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


# --- Ogg Opus ---------------------------------------------------------------------------


def _write_vorbis(path: Path, tags: FileTags) -> None:
    """Vorbis comments, replacing the encoder's (the Opus header's own fields stay)."""
    f = OggOpus(path)
    f.tags.clear()
    comments: list[tuple[str, str]] = [
        ("TITLE", tags.title),
        ("ALBUM", tags.album),
        ("ARTIST", tags.station),
        ("ALBUMARTIST", tags.station),
        ("ORGANIZATION", tags.station),
        ("GENRE", GENRE),
    ]
    if tags.date:
        comments.append(("DATE", tags.date))
    if tags.description:
        comments.append(("DESCRIPTION", tags.description))
    comments.append(("COPYRIGHT", tags.copyright))
    if tags.licence:  # the Vorbis field takes a URL or words; both help someone reusing it
        comments.append(("LICENSE", tags.licence_url or tags.licence))
    if tags.language:
        comments.append(("LANGUAGE", tags.language))
    if tags.url:
        comments += [("CONTACT", tags.url), ("URL", tags.url)]
    for number, chapter in enumerate(tags.chapters, start=1):
        comments.append((f"CHAPTER{number:03d}", vorbis_time(chapter.start)))
        comments.append((f"CHAPTER{number:03d}NAME", chapter.title))
    if tags.cover:
        comments.append(("METADATA_BLOCK_PICTURE", _flac_picture(tags.cover)))
    comments.append((_VORBIS_DIGEST, tags.digest()))
    for key, value in comments:
        f.tags[key] = [*f.tags.get(key, []), value]
    f.save()


def vorbis_time(seconds: float) -> str:
    """The chapter extension's time: HH:MM:SS.mmm."""
    ms = round(seconds * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


def _flac_picture(cover: Cover) -> str:
    picture = Picture()
    picture.type, picture.mime, picture.desc = 3, cover.mime, "Cover"
    picture.data = cover.data
    return base64.b64encode(picture.write()).decode("ascii")


_WRITERS = {"mp3": _write_id3, "opus": _write_vorbis, "m4a": write_mp4}
