"""Keep the other party out of each channel of a two-party call.

On a call recording each party's voice leaks into the other's channel (a phone's echo, a
headset's sidetone, two microphones in one room), 15-40 dB down. The VAD hears that
cross-talk as speech and Whisper, given the channel alone, transcribes it: the first
tries gave one person's sentences again under the other's name, mangled ("Your call
cannot be completed" came out as "Your home cannot be committed" on the wrong speaker).

So each channel's leak is measured (how much of the other channel's power shows up in it
when the other party talks), and a moment where this channel holds nothing more than that
leak is turned down before the VAD and Whisper hear it. Both talking at once is kept: this
party's own voice stands well above the leak.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

FRAME_S = 0.02
LOUD_OVER_FLOOR_DB = 20.0  # the other party is surely talking: their leak can be measured
LEAK_PERCENTILE = 10  # of this/other power in those frames: the leak, not this party talking
OWN_OVER_LEAK_DB = 6.0  # this party's own voice: this far above the leak in this channel
GUARD_S = 0.1  # a word's soft onset or tail, next to this party's own speech, is kept
LEAK_REACH_S = 0.3  # the other party's pauses between words, inside their speech
# How far cross-talk is turned down: Whisper's log-mel input keeps 80 dB under the loudest
# moment of a window, and at -40 dB it still heard a leaked "Please" beside this party's words.
MUTE_DB = -90.0


def mute_cross_talk(raw: np.ndarray, levelled: np.ndarray, rate: int) -> np.ndarray:
    """``levelled`` (2, samples) with the moments where a channel of ``raw`` holds only the
    other party's leak turned down; levels are judged on ``raw``, before any gain."""
    if raw.shape[0] != 2:
        return levelled
    frame = max(1, int(FRAME_S * rate))
    power = [_frame_power(channel, frame) for channel in raw]
    out = levelled.copy()
    for ch in range(2):
        out[ch] *= _gains(~_muted(power[ch], power[1 - ch]), frame, levelled.shape[1])
    return out


def _muted(mine: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Frames near the other party's leak, and not near this party's own voice."""
    floor = np.percentile(mine, 10)
    loud = other > np.percentile(other, 10) * 10 ** (LOUD_OVER_FLOOR_DB / 10)
    if loud.sum() < 10:  # the other party hardly spoke: nothing leaks
        return np.zeros(len(mine), dtype=bool)
    gain = np.percentile(mine[loud] / other[loud], LEAK_PERCENTILE)
    leak = gain * other
    own = mine - leak  # powers add: this party's voice and the room, without the leak
    voice = own > np.maximum(leak * 10 ** (OWN_OVER_LEAK_DB / 10), 2 * floor)
    # Between the other party's words their leak may sink under the floor for a moment;
    # those moments go too, or the VAD would join the pieces of leak around them.
    leaking = ndimage.binary_dilation(leak > floor, iterations=_frames(LEAK_REACH_S))
    return leaking & ~ndimage.binary_dilation(voice, iterations=_frames(GUARD_S))


def _frames(seconds: float) -> int:
    return max(1, int(round(seconds / FRAME_S)))


def _frame_power(x: np.ndarray, frame: int) -> np.ndarray:
    n = -(-len(x) // frame)  # the last, partial frame too
    padded = np.zeros(n * frame, dtype=np.float64)
    padded[: len(x)] = x
    return np.mean(padded.reshape(n, frame) ** 2, axis=1) + 1e-12


def _gains(own: np.ndarray, frame: int, samples: int) -> np.ndarray:
    """Per-sample gain, ramped between frame centres so nothing clicks."""
    gain_db = np.where(own, 0.0, MUTE_DB)
    centres = (np.arange(len(own)) + 0.5) * frame
    return (10 ** (np.interp(np.arange(samples), centres, gain_db) / 20)).astype(np.float32)
