"""Where uploads wait while they arrive: the archive's own disk, never a global temp folder.

werkzeug writes each file part of a form to a temporary file as it parses the body.
By default that is in the system's temp folder, which may be a small RAM disk; a
recording of several hundred MB belongs on the archive's disk, next to where it will be
kept. ``SpoolingRequest`` (``app.request_class``, set in ``create_app``) puts it in
``media/incoming`` of the app's data folder, as a named file removed on close (or, after a
crash, by ``store.sweep_partials`` at the next start).

Only the upload form may send that much: every other request body is capped at
``MAX_FORM_BYTES`` (a URL-encoded form is read whole into memory, so the upload limit of
gigabytes would let one login form fill it), and each text field of a multipart form at
Flask's ``MAX_FORM_MEMORY_SIZE``. Past either, werkzeug answers 413.
"""

from __future__ import annotations

import io
from typing import IO, cast

from flask import Request, current_app

from radio.media import store

IN_MEMORY_BYTES = 500 * 1024  # werkzeug's own threshold: a small part stays in memory
MAX_FORM_BYTES = 8 * 1024 * 1024  # any body but an upload's: the edit form of a 6 h transcript
# where a body may be as large as the upload limit: recordings, and stations' bundles (#17)
UPLOAD_ENDPOINTS = ("upload.upload", "exchange_admin.take_in")


class SpoolingRequest(Request):
    """A Flask request whose uploaded files spool to ``media/incoming``, and whose body may
    be as large as the upload limit only when it is sent to the upload form (or a bundle to
    the exchange page)."""

    @property
    def max_content_length(self) -> int | None:
        limit = super().max_content_length
        if self.endpoint in UPLOAD_ENDPOINTS or limit is None:
            return limit
        return min(limit, MAX_FORM_BYTES)

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        # werkzeug keeps the file in the FileStorage and closes it with the request. A big
        # one goes straight to a named spool in media/incoming that ingest hard-links into
        # the archive: the upload needs its size once on disk, not three times.
        if total_content_length is not None and total_content_length <= IN_MEMORY_BYTES:
            return io.BytesIO()
        return cast(IO[bytes], store.spool_file(current_app.config["HOME"]))
