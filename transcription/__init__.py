"""Speech to text and back out as subtitles: Whisper models on disk, transcripts, formats.

Never imports Flask or ``radio``: it takes paths and dataclasses and returns dataclasses.
Names are loaded on first use, so ``transcription.formats`` or ``transcription.topics`` don't
pull in faster-whisper, CTranslate2 and ONNX Runtime (about a second and 50 MB).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "UnreadableAudio": "channels",
    "detect_two_party": "channels",
    "FORMATS": "formats",
    "ModelInfo": "models",
    "ModelNotFoundError": "models",
    "find_models": "models",
    "pick_model": "models",
    "Chapter": "segments",
    "Segment": "segments",
    "TranscriptInfo": "segments",
    "Transcriber": "transcribe",
    "TranscriptionError": "errors",
    "Word": "segments",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'transcription' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
