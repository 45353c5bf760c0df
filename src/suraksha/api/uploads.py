"""Reading media from requests: multipart uploads and base64, always under the media size limit."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import UploadFile

from suraksha.api.errors import ApiError, media_error_status
from suraksha.config import get_settings

CHUNK = 1 << 20


async def read_upload(file: UploadFile) -> bytes:
    """The upload's bytes; 413 as soon as it passes SURAKSHA_MAX_MEDIA_BYTES, 400 when empty."""
    limit = get_settings().max_media_bytes
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = await file.read(CHUNK)
        if not chunk:
            break
        total += len(chunk)
        if total > limit:
            raise ApiError(413, "media_too_large", f"upload is over the {limit}-byte media limit")
        parts.append(chunk)
    if total == 0:
        raise ApiError(400, "empty_media", "the uploaded file is empty")
    return b"".join(parts)


def mime_hint(content_type: str | None) -> str | None:
    """A client's declared type, only when it says something (multipart parts default to octet-stream)."""
    if not content_type:
        return None
    ct = content_type.split(";")[0].strip().lower()
    return ct if ct.startswith(("image/", "video/")) else None


def decode_base64(data_base64: str, field: str = "data_base64") -> bytes:
    limit = get_settings().max_media_bytes
    if len(data_base64) > (limit + 2) // 3 * 4 + 4:
        raise ApiError(413, "media_too_large", f"{field} decodes to more than the {limit}-byte media limit")
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ApiError(400, "invalid_base64", f"{field} is not valid base64") from None
    if not data:
        raise ApiError(400, "empty_media", f"{field} is empty")
    return data


def media_signals_or_4xx(data: bytes, mime: str | None = None) -> Any:
    """Hash media with the configured safety limits; bad media becomes 400/413/415 with the reason."""
    from suraksha.signals import media_signals
    from suraksha.signals.errors import MediaError

    settings = get_settings()
    try:
        return media_signals(data, mime, max_pixels=settings.max_image_pixels, max_bytes=settings.max_media_bytes)
    except MediaError as exc:
        status, code = media_error_status(exc)
        raise ApiError(status, code, str(exc)) from None


def hash_out(ms: Any, size: int) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": ms.kind, "size": size, "sha256": ms.sha256, "md5": ms.md5}
    if ms.pdq is not None:
        out["pdq"] = ms.pdq.hash
        out["pdq_quality"] = ms.pdq.quality
    if ms.vpdq is not None:
        out["vpdq"] = [{"second": f.second, "pdq": f.pdq, "quality": f.quality} for f in ms.vpdq]
    return out
