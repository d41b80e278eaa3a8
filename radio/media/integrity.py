"""Whether a recording decodes from its start to its end (a truncated or corrupt file is
refused at ingest, with a message that says so), without decoding a long file whole."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import av

from radio.i18n import _
from radio.media import formats
from radio.media.audio import (
    NotAudioError,
    Probe,
    TruncatedAudioError,
    _audio_stream,
    _decode,
    _open,
)

logger = logging.getLogger(__name__)

_HEAD_SECONDS = 3.0  # check_decodes decodes this much at each end


def _end_time(frames: Iterator[av.AudioFrame], limit: float | None) -> float | None:
    """Time at which the last of ``frames`` ends (stopping after ``limit`` seconds)."""
    end = start = None
    for frame in frames:
        t = float(frame.time) if frame.time is not None else (end or 0.0)
        start = t if start is None else start
        end = t + frame.samples / frame.sample_rate
        if limit is not None and end - start >= limit:
            break
    return end


def check_decodes(path: Path, probe: Probe) -> None:
    """Decode the first seconds and the last seconds; raise if the file is damaged or cut."""
    path = Path(path)
    if probe.format_name == "ogg" and formats.ogg_last_page_cut(path):
        raise TruncatedAudioError(
            _(
                "{name} seems cut off: it stops in the middle of its last Ogg page. "
                "Copy or upload the complete file again."
            ).format(name=path.name)
        )
    if probe.format_name == "wav" and formats.wav_shortfall(path) > 0:
        raise TruncatedAudioError(
            _(
                "{name} seems cut off: its header promises more audio than the file holds. "
                "Copy or upload the complete file again."
            ).format(name=path.name)
        )
    with _open(path) as container:
        stream = _audio_stream(container, path)
        offset = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
        expected = offset + probe.duration
        long_file = probe.duration > 3 * _HEAD_SECONDS
        try:
            end = _end_time(_decode(container, stream, path), _HEAD_SECONDS if long_file else None)
            if end is None:
                raise NotAudioError(
                    _("{name} holds no audio that decodes; export it again.").format(name=path.name)
                )
            if long_file:
                target = (expected - _HEAD_SECONDS) / stream.time_base
                container.seek(int(target), stream=stream, backward=True)
                end = _end_time(_decode(container, stream, path), None)
        except av.FFmpegError as exc:
            end = None
            logger.debug("%s: decoding near the end failed: %s", path.name, exc)
    slack = 0.5 + 0.002 * probe.duration  # container durations are exact to a frame or two
    if end is None or end < expected - slack:
        if end is not None:
            message = _(
                "{name} seems cut off: it says it lasts {duration:.1f} s but the "
                "audio stops at about {stops:.1f} s. Copy or upload the complete file again."
            )
        else:
            message = _(
                "{name} seems cut off: it says it lasts {duration:.1f} s but the "
                "audio stops at an unknown point. Copy or upload the complete file again."
            )
        raise TruncatedAudioError(
            message.format(
                name=path.name,
                duration=probe.duration,
                stops=end - offset if end is not None else 0.0,
            )
        )
