"""Where uploads wait while they arrive: the archive's own disk, never a global temp folder.

werkzeug writes each file part of a form to a temporary file as it parses the body.
By default that is in the system's temp folder, which may be a small RAM disk; a
recording of several hundred MB belongs on the archive's disk, next to where it will be
kept. ``SpoolingRequest`` (``app.request_class``, set in ``create_app``) puts it in
``media/incoming`` of the app's data folder, as an unnamed file the system removes on close.
"""

from __future__ import annotations

import tempfile
from typing import IO, cast

from flask import Request, current_app

from radio.media import store

IN_MEMORY_BYTES = 500 * 1024  # werkzeug's own threshold: a small part stays in memory


def incoming_folder(home: str) -> str:
    return str(store.media_root(home) / "incoming")


class SpoolingRequest(Request):
    """A Flask request whose uploaded files spool to ``media/incoming``."""

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        folder = incoming_folder(current_app.config["HOME"])
        # werkzeug keeps the file in the FileStorage and closes it with the request
        spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=IN_MEMORY_BYTES, mode="rb+", dir=folder
        )
        return cast(IO[bytes], spool)
