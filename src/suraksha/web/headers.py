"""The headers every page is sent with: no caching, no framing, no sniffing, no referrer, a strict CSP.

Its own module because ``security`` and ``render`` both send pages and harden them: ``security``
renders its refusal pages with ``render``, and ``render`` no longer has to import ``security`` back
(that was an import cycle).
"""

from __future__ import annotations

from fastapi import Response

SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    # blob: only so review.js can show a revealed original it fetched once with its one-time link.
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; script-src 'self'; "
    "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'",
}


def harden(response: Response) -> Response:
    """Add the security headers a response does not set itself."""
    for k, v in SECURITY_HEADERS.items():
        response.headers.setdefault(k, v)
    return response
