"""The heavy part of a re-run's audio phase (#15, #17): a published episode's listening
copies and peaks rendered again into a staging folder, by the archive's own worker
(``radio.jobs.rerun``, which then tags and swaps them) or by a worker on another machine
(``radio.jobs.remote_rerun``, which sends them to the archive for that)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any


def render_staging(
    config: dict[str, Any], source: Path, staging: Path, progress: Callable[[float], None]
) -> dict[str, Any]:
    """Render ``source`` into ``staging`` (emptied first: a killed run's leftovers) with the
    archive's settings; what was made, as the reruns row keeps it (``staged``). ``progress``
    hears the fraction rendered."""
    from radio.media import renditions  # PyAV: only where the work is done

    shutil.rmtree(staging, ignore_errors=True)
    made = renditions.render(
        source,
        staging,
        target_lufs=float(config["TARGET_LUFS"]),
        max_true_peak=float(config["MAX_TRUE_PEAK_DBTP"]),
        mp3_bitrate=int(config["MP3_BITRATE"]),
        opus_bitrate=int(config["OPUS_BITRATE"]),
        aac_bitrate=int(config["AAC_BITRATE"]),
        progress=lambda done, total: progress(done / total if total else 0.0),
        max_seconds=float(config["MAX_DURATION_HOURS"]) * 3600.0,
    )
    return {
        "duration": made.duration,
        "loudness_before": _finite(made.before.integrated_lufs),
        "true_peak_before": _finite(made.before.true_peak_dbtp),
        "loudness_after": _finite(made.after.integrated_lufs),
        "true_peak_after": _finite(made.after.true_peak_dbtp),
        "renditions": [
            {
                "kind": r.kind,
                "file": r.path.name,
                "mime": r.mime,
                "bitrate": r.bitrate,
                "sample_rate": r.sample_rate,
                "duration": r.duration,
            }
            for r in made.renditions
        ],
    }


def _finite(value: float) -> float | None:
    return value if value == value and abs(value) != float("inf") else None
