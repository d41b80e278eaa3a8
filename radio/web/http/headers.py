"""The safety headers every response carries, pages, feeds, media and errors alike.

A WSGI layer around everything else (installed last in ``create_app``), so that answers
made before Flask (``radio.web.http.mediacache``) carry them too:

- ``Content-Security-Policy``: scripts, styles, media and requests from this archive only,
  and no inline script (the pages have none: ``static/app.js`` does all there is); no
  plugins, no ``<base>``, forms only to this archive, and no framing by any site.
- ``X-Frame-Options: DENY`` (``frame-ancestors`` for older browsers),
  ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin``.

A header a view set itself is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # the favicon is an empty data: URL
        "media-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS: tuple[tuple[str, str], ...] = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Referrer-Policy", "same-origin"),
)

StartResponse = Callable[..., Any]


class SecurityHeaders:
    """WSGI middleware adding ``HEADERS`` to every response that doesn't set them."""

    def __init__(self, wsgi_app: Callable[[dict[str, Any], StartResponse], Iterable[bytes]]):
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            present = {name.lower() for name, _ in headers}
            headers.extend((n, v) for n, v in HEADERS if n.lower() not in present)
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)
