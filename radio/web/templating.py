"""What every template can use: the filters that format times and sizes, and the archive's
enums, so templates compare with ``Visibility.PUBLIC``, never a retyped string, and show
them in the reader's language (``|label``). Dates and durations in the reader's language are
``radio.web.i18n``'s filters (``|date``, ``|datetime``, ``|duration``); ``|day`` stays the ISO
day, for ``<time datetime>``. Installed in ``create_app`` (``init_app``)."""

from __future__ import annotations

from flask import Flask
from flask_babel import gettext, lazy_gettext

from radio.data.episodes import EpisodeStatus, Visibility
from radio.data.tags import TagKind
from radio.data.users import Role
from radio.web.http.mediafiles import MediaFile


def init_app(app: Flask) -> None:
    app.add_template_filter(clock, "clock")
    app.add_template_filter(seconds_text, "sec")
    app.add_template_filter(day, "day")
    app.add_template_filter(size, "size")
    app.add_template_filter(label, "label")
    app.context_processor(lambda: {"strings": script_strings})
    app.jinja_env.globals.update(
        EpisodeStatus=EpisodeStatus,
        MediaFile=MediaFile,
        Role=Role,
        TagKind=TagKind,
        Visibility=Visibility,
    )


# The enums' values as people read them (the values themselves stay English in the database).
LABELS = {
    EpisodeStatus.QUEUED: lazy_gettext("queued"),
    EpisodeStatus.PROCESSING: lazy_gettext("processing"),
    EpisodeStatus.READY: lazy_gettext("ready"),
    EpisodeStatus.FAILED: lazy_gettext("failed"),
    Visibility.PUBLIC: lazy_gettext("public"),
    Visibility.DRAFT: lazy_gettext("draft"),
    Visibility.PRIVATE: lazy_gettext("private"),
    TagKind.TAXONOMY: lazy_gettext("station topic"),
    TagKind.KEYPHRASE: lazy_gettext("keyphrase"),
    TagKind.MANUAL: lazy_gettext("editor's tag"),
    Role.UPLOADER: lazy_gettext("uploader"),
    Role.EDITOR: lazy_gettext("editor"),
    Role.ADMIN: lazy_gettext("admin"),
}


def script_strings() -> dict[str, str]:
    """What the static scripts show, in the reader's language: base.html hands it to them
    as JSON (``radio-strings``), each looks a text up by key and falls back on the English
    one. Placeholders are ``{name}`` there, filled by the script; only texts a script
    shows, so every page carries little."""

    return {**_player_and_upload_strings(), **_offline_share_and_edit_strings()}


def _fill(*names: str) -> dict[str, str]:
    """Placeholders the scripts fill themselves: ``%(rate)s`` comes out as ``{rate}``."""
    return {name: "{" + name + "}" for name in names}


def _player_and_upload_strings() -> dict[str, str]:
    fill = _fill
    return {
        # static/app.js: the player, upload progress
        "player": gettext("Player"),
        "position": gettext("Position"),
        "back15": gettext("Back 15 seconds"),
        "forward15": gettext("Forward 15 seconds"),
        "play": gettext("Play"),
        "pause": gettext("Pause"),
        "playKeys": gettext("k or Space"),
        "speed": gettext("Speed %(rate)s×", **fill("rate")),
        "fileTooLarge": gettext(
            "%(file)s: larger than the limit of %(limit)s.", **fill("file", "limit")
        ),
        "uploadTooLarge": gettext(
            "These files add up to %(total)s, over the limit of %(limit)s. Send fewer at once.",
            **fill("total", "limit"),
        ),
        "uploadProgress": gettext(
            "%(percent)s%% sent (%(sent)s of %(total)s)", **fill("percent", "sent", "total")
        ),
        "uploadSent": gettext("Sent. Checking the recordings…"),
        "uploadAnswered": gettext("The archive answered %(status)s; try again.", **fill("status")),
        "uploadBroke": gettext("The connection broke off, so nothing was stored. Try again."),
        "uploadSending": gettext("Sending…"),
    }


def _offline_share_and_edit_strings() -> dict[str, str]:
    fill = _fill
    return {
        # static/offline.js
        "resumeAt": gettext("Resume at %(time)s", **fill("time")),
        "savedOffline": gettext("Saved for offline: %(label)s, %(size)s.", **fill("label", "size")),
        "saving": gettext("Saving…"),
        "noSpace": gettext("There isn't enough space on this device. Nothing was kept."),
        "saveFailed": gettext("Couldn't save it: %(error)s. Nothing was kept.", **fill("error")),
        "remove": gettext("Remove"),
        "removeTitle": gettext("Remove %(title)s", **fill("title")),
        # static/share.js
        "timesFormat": gettext("Give times as minutes:seconds, e.g. 1:05."),
        "endAfterStart": gettext("The end must come after the start."),
        "noteTooLong": gettext("A voice note is at most 2 minutes; shorten it."),
        "episodeEndsAt": gettext("The episode ends at %(time)s.", **fill("time")),
        "seconds": gettext("%(n)s seconds", **fill("n")),
        "shortened": gettext("Shortened to 2 minutes, the longest a voice note may be."),
        "linkCopied": gettext("Link copied."),
        "selectLink": gettext("Select the link and copy it."),
        "makingNote": gettext("Making the voice note…"),
        "noteRefused": gettext("The archive could not make it (%(status)s).", **fill("status")),
        "noteDownloaded": gettext("Voice note downloaded (%(size)s KB).", **fill("size")),
        "noteFailed": gettext("The voice note could not be made."),
        "startsAt": gettext("Starts at %(time)s; press End here where it ends.", **fill("time")),
        # static/edit.js
        "now": gettext("Now"),
        "nowTitle": gettext("Now: use the player's current time for %(name)s", **fill("name")),
        "playFrom": gettext("Play from the start of %(name)s", **fill("name")),
        "thisChapter": gettext("this chapter"),
    }


def label(value: object) -> str:
    """A status, visibility, tag kind or role in the reader's language (else as it is)."""
    return str(LABELS.get(str(value), value))  # type: ignore[call-overload]


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
