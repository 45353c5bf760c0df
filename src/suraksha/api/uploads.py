"""Reading media from requests (multipart uploads and base64, always under the media size limit)
and hashing it in the API's bounded hash pool."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from fastapi import UploadFile

from suraksha.api.errors import ApiError
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
    """Hash media with the configured safety limits; bad media raises a ``MediaError`` (400
    corrupt, 413 over a limit, 415 anything that is not an allowed picture or video format:
    signals.formats), which ``suraksha.api.errors`` answers with the reason."""
    from suraksha.pipeline.settings import new_scan_budget
    from suraksha.signals import media_signals

    settings = get_settings()
    # The workers' scan budget (SURAKSHA_SCAN_BUDGET_*): over it is 413 with the reason.
    return media_signals(
        data, mime, max_pixels=settings.max_image_pixels, max_bytes=settings.max_media_bytes, budget=new_scan_budget()
    )


T = TypeVar("T")
#: Seconds a client is asked to wait when every hashing slot is taken.
HASH_RETRY_AFTER = 2


class HashPool:
    """At most ``size`` media hashed at once, on threads of their own.

    Decoding and hashing one media can take seconds. In Starlette's shared threadpool (40 threads)
    that work competes with every synchronous endpoint and dependency (``/status``, the API-key
    check, ``POST /v1/items``), so a burst of slow media would starve them. Here a hash either gets
    one of ``size`` slots at once or the request is answered 503 with ``Retry-After``: nothing
    queues, so memory stays bounded too. A slot is released when the work ends in its thread, not
    when the request goes away, so a client that disconnects cannot free a slot still in use.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._slots = threading.BoundedSemaphore(size)
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="suraksha-hash")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a hashing slot; ApiError 503 when all are taken."""
        if not self._slots.acquire(blocking=False):
            raise ApiError(
                503,
                "hashing_busy",
                f"the server is already hashing {self.size} media (SURAKSHA_HASH_CONCURRENCY); retry shortly",
                {"Retry-After": str(HASH_RETRY_AFTER)},
            )

        def work() -> T:
            try:
                return fn(*args, **kwargs)
            finally:
                self._slots.release()

        try:
            future = self._executor.submit(contextvars.copy_context().run, work)
        except BaseException:
            self._slots.release()
            raise
        return await asyncio.wrap_future(future)


_pools: dict[int, HashPool] = {}
_pools_lock = threading.Lock()


def hash_pool() -> HashPool:
    """This process's hash pool, sized by ``SURAKSHA_HASH_CONCURRENCY`` (default 2)."""
    from suraksha.api.settings import get_api_settings

    size = get_api_settings().hash_concurrency
    with _pools_lock:
        pool = _pools.get(size)
        if pool is None:
            pool = _pools[size] = HashPool(size)
        return pool


async def hash_in_pool(data: bytes, mime: str | None = None) -> Any:
    """``media_signals_or_4xx`` in the bounded hash pool: the one way API routes hash media."""
    return await hash_pool().run(media_signals_or_4xx, data, mime)


def hash_out(ms: Any, size: int) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": ms.kind, "size": size, "sha256": ms.sha256, "md5": ms.md5}
    if ms.pdq is not None:
        out["pdq"] = ms.pdq.hash
        out["pdq_quality"] = ms.pdq.quality
    if ms.vpdq is not None:
        out["vpdq"] = [{"second": f.second, "pdq": f.pdq, "quality": f.quality} for f in ms.vpdq]
    return out
