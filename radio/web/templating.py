"""What every template can use: the filters that format times and sizes, and the archive's
enums, so templates compare with ``Visibility.PUBLIC``, never a retyped string.
Installed in ``create_app`` (``init_app``)."""

from __future__ import annotations

from flask import Flask

from radio.data.episodes import EpisodeStatus, Visibility
from radio.data.tags import TagKind
from radio.data.users import Role
from radio.web.http.mediafiles import MediaFile


def init_app(app: Flask) -> None:
    app.add_template_filter(clock, "clock")
    app.add_template_filter(seconds_text, "sec")
    app.add_template_filter(day, "day")
    app.add_template_filter(size, "size")
    app.jinja_env.globals.update(
        EpisodeStatus=EpisodeStatus,
        MediaFile=MediaFile,
        Role=Role,
        TagKind=TagKind,
        Visibility=Visibility,
    )


def clock(seconds: float | None) -> str:
    """1:02:03, or 2:03 under an hour."""
    total = int(seconds or 0)
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def seconds_text(seconds: float) -> str:
    """Seconds for a URL: ``12.5``, ``8``; the same text for a link and its target's id."""
    return f"{seconds:.2f}".rstrip("0").rstrip(".")


def day(value: str | None) -> str:
    return (value or "")[:10]


def size(n: int | float | None) -> str:
    n = float(n or 0)
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit in ("bytes", "KB") else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"
