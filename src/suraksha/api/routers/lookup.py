"""``POST /v1/hash`` (media -> signals) and ``GET /v1/lookup`` (one signal -> matches)."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from suraksha.api.auth import require_scope
from suraksha.api.errors import ApiError
from suraksha.api.matcher import request_matcher
from suraksha.api.metrics import LOOKUP_LATENCY, count_matches
from suraksha.api.schemas import ERRORS, HashJsonIn, HashOut, LookupOut, match_out
from suraksha.api.uploads import decode_base64, hash_in_pool, hash_out, mime_hint, read_upload
from suraksha.signals.types import find_signal_type, signal_type_names

router = APIRouter(prefix="/v1", tags=["hashing and lookup"], dependencies=[Depends(require_scope("scan"))], responses=ERRORS)

HASH_BODY_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}, "required": ["file"]}
            },
            "application/json": {"schema": HashJsonIn.model_json_schema()},
        },
        "required": True,
    }
}


@router.post("/hash", response_model=HashOut, summary="Compute an image's or video's signals", openapi_extra=HASH_BODY_DOC)
async def hash_media(request: Request) -> dict[str, Any]:
    """Upload a file as multipart field `file`, or send JSON `{"data_base64": ..., "mime": ...}`.
    Nothing is stored.

    Decoded formats (recognised from the bytes, never from `mime`): JPEG, PNG, GIF, BMP, TIFF and
    WebP pictures; MP4/MOV, Matroska/WebM, AVI, FLV, MPEG-TS and MPEG video coded in H.264, HEVC,
    VP8, VP9, AV1, MPEG-4 part 2, MPEG-1/2, MJPEG, H.263 or Sorenson (FLV1). Anything else is 415
    `unsupported_media` naming what was sent. When the server is already hashing
    `SURAKSHA_HASH_CONCURRENCY` media, the answer is 503 `hashing_busy` with `Retry-After`."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=5)
        try:
            upload = form.get("file")
            if upload is None or isinstance(upload, str):
                raise ApiError(422, "invalid_request", "multipart field 'file' (the media) is required")
            data = await read_upload(upload)
            mime = mime_hint(upload.content_type)
        finally:
            await form.close()
    elif ctype == "application/json":
        try:
            body = HashJsonIn.model_validate_json(await request.body())
        except ValueError as exc:
            raise _json_error(exc) from None
        data = decode_base64(body.data_base64)
        mime = body.mime
    else:
        raise ApiError(415, "unsupported_media_type", "send multipart/form-data (field 'file') or application/json")
    ms = await hash_in_pool(data, mime)  # the bounded hash pool: 503 + Retry-After when full
    return hash_out(ms, len(data))


def _json_error(exc: Exception) -> ApiError:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return ApiError(400, "invalid_json", "request body is not valid JSON")
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ())) or 'body'}: {e.get('msg')}" for e in errors[:10]]
        return ApiError(422, "invalid_request", "; ".join(parts))
    return ApiError(400, "bad_request", str(exc))


@router.get("/lookup", response_model=LookupOut, summary="Match one signal against every enabled bank")
def lookup(
    signal_type: str = Query(description=f"One of {', '.join(signal_type_names())}.", max_length=16),
    signal: str = Query(
        description="The signal value (hash, URL, domain...). A URL is looked up with its domain.", max_length=100_000
    ),
    matcher: Any = Depends(request_matcher),
) -> LookupOut:
    st = find_signal_type(signal_type)
    if st is None:
        raise ApiError(
            400, "bad_request", f"unknown signal type {signal_type!r} (expected one of {', '.join(signal_type_names())})"
        )
    start = time.perf_counter()
    matches = matcher.lookup(st.name, signal, related=True)  # a URL carries its domain (SignalType.related)
    LOOKUP_LATENCY.labels(signal_type).observe(time.perf_counter() - start)
    count_matches(matches, "v1_lookup")
    return LookupOut(signal_type=signal_type, signal=signal, matched=bool(matches), matches=[match_out(m) for m in matches])
