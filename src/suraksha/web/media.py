"""HTTP shape of media in the review workspace (the rules are in ``suraksha.cases.media``).

``GET /media/<item>/<pos>`` answers the blurred preview; with ``?token=`` from an audited reveal it
answers the original once. Both are ``no-store`` and never sniffed, so no cache keeps them.
Media never kept answers 404 "not retained"; a preserved copy that fails to read back answers 410
"evidence damaged — reported to admins" (the vault has logged, counted and audited it).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.responses import Response

from suraksha.cases.media import Preview, RevealGrant
from suraksha.cases.service import MediaDamaged

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}


def preview_options(prefs: dict[str, Any]) -> dict[str, Any]:
    """The reviewer's wellness settings that shape the server's preview (size, grey)."""
    try:
        thumb = int(prefs.get("thumb") or 160)
    except (TypeError, ValueError):
        thumb = 160
    return {"thumb": thumb, "grayscale": bool(prefs.get("grayscale", True))}


def preview_response(preview: Preview) -> Response:
    headers = {**NO_STORE, "Content-Disposition": "inline", "X-Suraksha-Media": preview.kind}
    if preview.reason:
        headers["X-Suraksha-Media-Reason"] = preview.reason.encode("ascii", "replace").decode()[:200]
    return Response(preview.data, media_type=preview.mime, headers=headers)


def original_response(data: bytes, mime: str) -> Response:
    return Response(data, media_type=mime, headers={**NO_STORE, "Content-Disposition": "inline", "X-Suraksha-Media": "original"})


def not_retained_response() -> Response:
    return Response("media not retained: only its hashes were kept", status_code=404, media_type="text/plain", headers=NO_STORE)


def damaged_response(exc: MediaDamaged) -> Response:
    """410: the bytes were kept but no longer read back intact; says so instead of "not retained".
    ``X-Suraksha-Media: damaged`` and the kind (tamper, missing_blob, ...) let the page's script tell."""
    return Response(
        f"{MediaDamaged.MESSAGE}: media {exc.position} of item {exc.item_id} was preserved but no longer reads back intact",
        status_code=410,
        media_type="text/plain; charset=utf-8",
        headers={**NO_STORE, "X-Suraksha-Media": "damaged", "X-Suraksha-Media-Reason": exc.kind},
    )


def refused_response(message: str) -> Response:
    return Response(message, status_code=403, media_type="text/plain", headers=NO_STORE)


def reveal_payload(grant: RevealGrant, item_id: int, position: int, break_every: int) -> dict[str, Any]:
    """What the page's script needs after a reveal: the one-time URL and the exposure counter."""
    count = grant.exposure_today
    return {
        "revealed": True,
        "exposure_today": count,
        "break_prompt": count > 0 and count % break_every == 0,
        "break_every": break_every,
        "expires_at": grant.expires_at.isoformat(),
        "original_url": f"/media/{item_id}/{position}?token={quote(grant.token, safe='')}",
    }
