"""What the archive takes in, and what a few file headers say, read without FFmpeg.

- The container formats a recording may come in (FFmpeg's demuxer names): audio files and
  the video files a recording is often kept in. FFmpeg guesses a format for almost any bytes
  (a ZIP with an MP3 stored in it opens as MP3, text as "tty"), so a file is also sniffed
  for the signatures of archives, documents, images and programs first.
- The limits on decoded audio: channels and sample rate of every decoded frame, and the
  length, whatever a header claims (``radio.media.audio`` applies them while it decodes).
- Header facts FFmpeg doesn't report: an MP3's frame count, a WAV's promised data, an Ogg
  file's last page.

Light: no PyAV here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from radio.i18n import _

# Audio containers, then the video containers recordings are kept in (FFmpeg's names).
ACCEPTED_FORMATS = frozenset(
    {
        "wav", "w64", "mp3", "flac", "ogg", "aiff", "aac", "amr", "amrnb", "amrwb", "asf",
        "caf", "au", "ac3", "eac3", "dts", "wv", "ape", "tta", "mov,mp4,m4a,3gp,3g2,mj2",
        "matroska,webm", "avi", "mpeg", "mpegts", "flv",
    }
)  # fmt: skip
# Leading bytes of files that are not recordings, whatever FFmpeg makes of them.
_A_ZIP = _("a ZIP archive")
_SIGNATURES: tuple[tuple[bytes, Any], ...] = (  # what each is: lazy, shown to the uploader
    (b"PK\x03\x04", _A_ZIP),
    (b"PK\x05\x06", _("an empty ZIP archive")),
    (b"PK\x07\x08", _A_ZIP),
    (b"Rar!\x1a\x07", _("a RAR archive")),
    (b"7z\xbc\xaf\x27\x1c", _("a 7-Zip archive")),
    (b"\x1f\x8b", _("a gzip archive")),
    (b"BZh", _("a bzip2 archive")),
    (b"\xfd7zXZ\x00", _("an xz archive")),
    (b"%PDF", _("a PDF document")),
    (b"\x7fELF", _("a program")),
    (b"MZ", _("a Windows program")),
    (b"\x89PNG", _("a PNG image")),
    (b"\xff\xd8\xff", _("a JPEG image")),
    (b"GIF8", _("a GIF image")),
)
_ZIP_END = b"PK\x05\x06"  # a ZIP's last record, 22 bytes from the end without a comment
MIN_RATE = 8_000  # telephone audio; below it speech isn't intelligible
MAX_RATE = 192_000
MAX_CHANNELS = 8  # a 7.1 mix or an 8-track recorder; more needs a mixdown first
LENGTH_MARGIN_S = 1.0  # encoder padding: a 6 h recording may decode to 6 h 00 min 00.05 s


def too_long(name: str, seconds: float, limit: float, stated: float | None) -> str:
    """Why a recording whose decoding stopped at ``seconds`` is refused."""
    if stated and stated < limit:
        message = _(
            "{name} holds more than {seconds} of audio, though its header says {stated}: "
            "over the limit of {limit}."
        )
    else:
        message = _("{name} holds more than {seconds} of audio: over the limit of {limit}.")
    return message.format(
        name=name, seconds=clock(seconds), stated=clock(stated or 0), limit=clock(limit)
    )


def clock(seconds: float) -> str:
    """'6 h 00 min 05 s', '12 min 30 s', '9 s': a length with its seconds, never rounded up
    to look like a limit it passes."""
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{h} h {m:02d} min {s:02d} s"
    return f"{m} min {s:02d} s" if m else f"{seconds:.1f} s"


def sniff(path: Path) -> str | None:
    """What ``path`` is when its first (or, for a ZIP, last) bytes say it is no recording:
    'a ZIP archive', 'a PNG image'... None when they don't."""
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(8)
        f.seek(max(0, size - 22))
        tail = f.read(22)
    for signature, what in _SIGNATURES:
        if head.startswith(signature):
            return str(what)
    return str(_A_ZIP) if tail.startswith(_ZIP_END) else None


def frame_problem(name: str, channels: int, rate: int) -> str | None:
    """What is wrong with decoded audio of ``channels`` at ``rate``, if anything: no channels,
    too many, or a rate out of bounds."""
    if channels < 1:
        return _(
            "{name} has an audio track with no channels in it, so there is nothing to hear "
            "(or it isn't a recording at all); export the recording again as WAV, FLAC or MP3."
        ).format(name=name)
    if channels > MAX_CHANNELS:
        return _(
            "{name} has {channels} audio channels; the archive takes up to {limit}. "
            "Export a mono or stereo mix."
        ).format(name=name, channels=channels, limit=MAX_CHANNELS)
    if not MIN_RATE <= rate <= MAX_RATE:
        return _(
            "{name} is sampled at {rate:,} Hz; the archive takes {lowest:,} to "
            "{highest:,} Hz. Export it at 44,100 or 48,000 Hz."
        ).format(name=name, rate=rate, lowest=MIN_RATE, highest=MAX_RATE)
    return None


def has_vbr_header(path: Path) -> bool:
    """True when an MP3 carries a Xing/Info/VBRI frame count, so its duration is exact."""
    with path.open("rb") as f:
        head = f.read(10)
        skip = 0
        if head[:3] == b"ID3" and len(head) == 10:  # syncsafe tag size
            skip = 10 + sum((b & 0x7F) << (7 * (3 - i)) for i, b in enumerate(head[6:10]))
        f.seek(skip)
        frame = f.read(4096)
    return any(tag in frame for tag in (b"Xing", b"Info", b"VBRI"))


def wav_shortfall(path: Path) -> int:
    """Bytes a WAV's data chunk claims beyond the end of the file (FFmpeg just stops early).

    A recorder that died mid-take leaves 0 or 0xFFFFFFFF there; those are not claims.
    """
    with path.open("rb") as f:
        if f.read(12)[8:] != b"WAVE":
            return 0
        while len(header := f.read(8)) == 8:
            size = int.from_bytes(header[4:], "little")
            if header[:4] == b"data":
                left = path.stat().st_size - f.tell()
                return size - left if 0 < size < 0xFFFFFFFF else 0
            f.seek(size + (size & 1), 1)
    return 0


_OGG_TAIL = 128 * 1024  # an Ogg page is at most 65,307 bytes: the last one starts in here


def ogg_last_page_cut(path: Path) -> bool:
    """True when an Ogg file ends inside a page: the header promises more than is there.

    Ogg states no total length, so a cut file decodes as a shorter whole one; but a cut
    at a random byte almost always falls inside a page (a page ends exactly at the end
    of a file only when it is complete).
    """
    size = path.stat().st_size
    with path.open("rb") as f:
        f.seek(max(0, size - _OGG_TAIL))
        tail = f.read()
    at = tail.rfind(b"OggS")
    while at >= 0:
        header = tail[at : at + 27]
        if len(header) == 27 and header[4] == 0:  # stream structure version 0: a page
            count = header[26]
            lacing = tail[at + 27 : at + 27 + count]
            if len(lacing) < count:
                return True
            return at + 27 + count + sum(lacing) > len(tail)
        at = tail.rfind(b"OggS", 0, at)
    return False
