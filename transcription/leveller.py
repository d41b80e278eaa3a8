"""Bring every voice of a block of audio to one speaking level before VAD and Whisper.

A group call or a phone-in show mixes a close loud host with callers 10-20 dB quieter.
Silero VAD and Whisper both hear quiet speech worse (the VAD's speech probability falls
with the level, and Whisper's log-mel input is clamped 8 dB under its loudest moment), so
quiet callers lost words or vanished. This is a slow automatic gain: the level of the
speech around each moment (the loud frames of a few seconds, not the pauses) is brought
to ``TARGET_DB``; pauses get the gain of the speech beside them, so background noise is
never lifted on its own. Nothing here is stored: it only feeds the transcriber.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

TARGET_DB = -22.0  # RMS of speech, dBFS: a normal recording level, well under clipping
MAX_GAIN_DB = 30.0  # a voice 30 dB under the target is lifted, quieter ones only that much
MAX_CUT_DB = 12.0
FRAME_S = 0.05
SPEECH_OVER_FLOOR_DB = 12.0  # frames this far above the noise floor count as a voice
WINDOW_S = 3.0  # the span whose speech sets the gain of a moment
MIN_VOICED = 0.2  # share of voiced frames in the window for its level to count
OTHER_VOICE_DB = 6.0  # a frame this much louder in another channel is that channel's voice
CEILING = 0.98


def level_channels(audio: np.ndarray, rate: int) -> np.ndarray:
    """Each channel of ``audio`` (channels, samples) with its own speech at ``TARGET_DB``.

    A frame where another channel is much louder is that channel's voice leaking into this
    one (a two-party call's cross-talk): it never sets this channel's gain, or the other
    party would be lifted into this one's transcript.
    """
    frame = max(1, int(FRAME_S * rate))
    levels = [_frame_db(channel, frame) for channel in audio]
    loudest = np.max(levels, axis=0) if len(levels) > 1 else None
    return np.stack(
        [
            _apply(channel, db, frame, None if loudest is None else db > loudest - OTHER_VOICE_DB)
            for channel, db in zip(audio, levels, strict=True)
        ]
    )


def _frame_db(x: np.ndarray, frame: int) -> np.ndarray:
    n = len(x) // frame
    frames = x[: n * frame].reshape(n, frame).astype(np.float64)
    return 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)


def _apply(x: np.ndarray, rms_db: np.ndarray, frame: int, own: np.ndarray | None) -> np.ndarray:
    n = len(rms_db)
    if n < 2:
        return x
    floor = np.percentile(rms_db, 10)
    voiced = rms_db > max(floor + SPEECH_OVER_FLOOR_DB, -75.0)
    if own is not None:
        voiced &= own
    if not voiced.any():
        return x
    gain_db = _gain_curve(rms_db, voiced, int(WINDOW_S / FRAME_S))
    # Per sample, by straight lines between frame centres: no steps, no clicks.
    centres = (np.arange(n) + 0.5) * frame
    gains = 10 ** (np.interp(np.arange(len(x)), centres, gain_db) / 20)
    y = x * gains.astype(np.float32)
    # A soft ceiling: a shout after a whisper must not clip into noise.
    peak = np.abs(y) > CEILING
    if peak.any():
        y[peak] = np.sign(y[peak]) * (CEILING + (1 - CEILING) * np.tanh(np.abs(y[peak]) - CEILING))
    return y


def _gain_curve(rms_db: np.ndarray, voiced: np.ndarray, window: int) -> np.ndarray:
    """Gain in dB per frame: the target minus the voiced level around each frame."""
    power = np.where(voiced, 10 ** (rms_db / 10), 0.0)
    count = ndimage.uniform_filter1d(voiced.astype(np.float64), window, mode="nearest")
    mean = ndimage.uniform_filter1d(power, window, mode="nearest")
    known = count > MIN_VOICED  # enough voice nearby to say how loud it is
    # Frames far from any voice (long pauses, the other party's turn) take the channel's
    # typical speaking level: the nearest few frames of a voice's onset are too quiet to
    # go by, and would lift a whole silence, or cross-talk, by 20 dB.
    typical = 10 * np.log10(np.mean(10 ** (rms_db[voiced] / 10)))
    level_db = np.full(len(rms_db), typical)
    level_db[known] = 10 * np.log10(mean[known] / count[known])
    return np.clip(TARGET_DB - level_db, -MAX_CUT_DB, MAX_GAIN_DB)
