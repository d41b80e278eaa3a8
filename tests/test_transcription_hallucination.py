"""Whisper's inventions are dropped and logged; speech is kept (#11)."""

from __future__ import annotations

import logging

import pytest
from faster_whisper.transcribe import Segment as WhisperSegment

from transcription.hallucination import hallucination


def said(text: str, *, logprob: float = -0.3, compression: float = 1.4, no_speech: float = 0.05):
    return WhisperSegment(
        id=1,
        seek=0,
        start=10.0,
        end=12.0,
        text=text,
        tokens=[],
        avg_logprob=logprob,
        compression_ratio=compression,
        no_speech_prob=no_speech,
        words=None,
        temperature=0.0,
    )


@pytest.mark.parametrize(
    "segment",
    [
        said(" Thank you for watching!", logprob=-1.1),
        said(" Thanks for watching.", no_speech=0.8),
        said(" I hope you enjoyed this video.", logprob=-0.9),
        said(" Subtitles by the Amara.org community", logprob=-1.2),
        said(" the the the the the the the the the the the the", logprob=-1.0, compression=6.0),
    ],
)
def test_an_invented_phrase_is_dropped_and_logged(segment, caplog) -> None:  # noqa: ANN001
    caplog.set_level(logging.INFO, logger="transcription.hallucination")
    assert hallucination(segment, offset=60.0)
    assert "70.0-72.0 s" in caplog.text  # where it was, in the recording's own time


@pytest.mark.parametrize(
    "segment",
    [
        said(" Thank you for watching, and see you at the market on Tuesday."),
        said(" Thank you.", logprob=-0.2),  # said clearly at the end of a show: kept
        said(" Water water water, they shouted.", compression=1.9),
        said(" We start the meeting with the water committee's report.", logprob=-0.9),
    ],
)
def test_speech_is_kept(segment) -> None:  # noqa: ANN001
    assert hallucination(segment) is None
