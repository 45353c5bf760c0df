"""Request-size limit and per-key rate limits.

The size limit is enforced before the body is read: a declared ``Content-Length`` over the limit is
refused at once, and a body without one (chunked) is counted as it streams and refused as soon as it
passes the limit, so a huge upload never sits in memory.
"""

from __future__ import annotations

import json
import math
import threading
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suraksha.api.errors import ApiError


class BodySizeLimit:
    """Pure ASGI middleware (works for JSON and multipart alike)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _reply(send, scope, 400, "bad_request", "Content-Length is not a number")
                return
            if length > limit:
                await _reply(send, scope, 413, "payload_too_large",
                             f"request body is {length} bytes, over the {limit}-byte limit")
                return

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(413, "payload_too_large", f"request body is over the {limit}-byte limit")
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except ApiError as exc:
            if started or exc.status_code != 413:
                raise
            await _reply(send, scope, 413, exc.code, str(exc.detail))


async def _reply(send: Send, scope: Scope, status: int, code: str, message: str) -> None:
    body_obj: dict = {"error": {"code": code, "message": message}}
    if str(scope.get("path", "")).startswith(("/h/", "/m/", "/c/")):
        body_obj["message"] = message
    body = json.dumps(body_obj).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            (b"connection", b"close")]})
    await send({"type": "http.response.body", "body": body})


class RateLimiter:
    """In-process token bucket per API key: ``rate`` requests a minute, bursts up to ``rate``.

    Per process: with N server processes a key may get up to N times its limit. That is the
    trade-off for not touching the database on every request (documented in docs/decisions.md).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[int, tuple[float, float]] = {}  # key id -> (tokens, last refill time)

    def check(self, key_id: int, rate_per_minute: int) -> float:
        """Take a token; returns 0 when allowed, else the seconds until one is available."""
        now = time.monotonic()
        capacity = float(rate_per_minute)
        per_second = rate_per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key_id, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * per_second)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / per_second

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()


def retry_after_header(wait_seconds: float) -> str:
    return str(max(1, math.ceil(wait_seconds)))
