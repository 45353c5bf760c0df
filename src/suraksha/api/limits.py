"""Request-size limit, the in-flight body budget, URL hygiene and per-key rate limits.

The size limit is enforced before the body is read: a declared ``Content-Length`` over the limit is
refused at once, and a body without one (chunked) is counted as it streams and refused as soon as it
passes the limit, so a huge upload never sits in memory.

The size limit alone bounds one request, not the process: four concurrent 64 MB item bodies took
the server from 156 MB to 1.2 GB (the raw body, its parsed JSON and the decoded media each hold a
copy). ``BodyBudget`` bounds the bytes of large bodies held at once; a large request that does not
fit answers 503 with ``Retry-After`` before its body is read.
"""

from __future__ import annotations

import json
import math
import threading
import time
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suraksha.api.errors import ApiError

# Bodies up to this size are always admitted (they are still counted): an ordinary item or lookup
# is never turned away because two large uploads are in flight.
SMALL_BODY_BYTES = 1 << 20
BUSY_RETRY_AFTER_SECONDS = 2


class BodyBudget:
    """Bytes of request bodies this process holds at once, shared by every request.

    Thread-safe (a test client runs requests on several event loops); each request takes its
    declared length before its body is read, or its chunks as they arrive, and gives it all back
    when it is answered.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.in_flight = 0
        self._lock = threading.Lock()

    def take(self, n: int, *, held: int = 0) -> bool:
        """Reserve ``n`` more bytes for a request already holding ``held``; False when they do not
        fit (a request whose total stays at or under ``SMALL_BODY_BYTES`` always fits)."""
        with self._lock:
            if held + n > SMALL_BODY_BYTES and self.in_flight + n > self.limit:
                return False
            self.in_flight += n
            return True

    def give_back(self, n: int) -> None:
        with self._lock:
            self.in_flight -= n


class BodySizeLimit:
    """Pure ASGI middleware (works for JSON and multipart alike): the per-request size limit and
    the process-wide ``BodyBudget`` (default: twice the size limit, ``SURAKSHA_MAX_INFLIGHT_BODY_BYTES``)."""

    def __init__(self, app: ASGIApp, max_bytes: int, max_in_flight_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        if max_in_flight_bytes is None:
            from suraksha.api.settings import get_api_settings

            max_in_flight_bytes = getattr(get_api_settings(), "max_inflight_body_bytes", None) or 2 * max_bytes
        self.budget = BodyBudget(max(max_in_flight_bytes, max_bytes))  # one largest body always fits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        length = 0
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                await _reply(send, scope, 400, "bad_request", "Content-Length is not a number")
                return
            if length > limit:
                await _reply(
                    send, scope, 413, "payload_too_large", f"request body is {length} bytes, over the {limit}-byte limit"
                )
                return
            if length < 0:
                await _reply(send, scope, 400, "bad_request", "Content-Length is negative")
                return
        budget = self.budget
        if length and not budget.take(length):
            await _busy(send, scope, budget)
            return
        held = length  # bytes reserved for this request, given back when it is answered

        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received, held
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise ApiError(413, "payload_too_large", f"request body is over the {limit}-byte limit")
                if received > held:  # no (or a wrong) Content-Length: reserve as it streams
                    if not budget.take(received - held, held=held):
                        raise ApiError(503, "busy", _busy_message(budget), {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})
                    held = received
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except ApiError as exc:
            if started or exc.status_code not in (413, 503):
                raise
            await _reply(send, scope, exc.status_code, exc.code, str(exc.detail), exc.headers)
        finally:
            budget.give_back(held)


def _busy_message(budget: BodyBudget) -> str:
    return (
        f"the server is receiving too many large request bodies at once (limit {budget.limit} bytes in "
        f"flight, SURAKSHA_MAX_INFLIGHT_BODY_BYTES); nothing was read or stored: retry in {BUSY_RETRY_AFTER_SECONDS} s"
    )


async def _busy(send: Send, scope: Scope, budget: BodyBudget) -> None:
    await _reply(send, scope, 503, "busy", _busy_message(budget), {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)})


class RefuseNulInUrl:
    """A NUL (``%00``) in the URL's path or query is refused with 422 naming where, before routing.

    No database stores NUL in text (PostgreSQL refuses it: a 500 on every path or query value that
    reached a query, such as ``/v1/accounts/{id}``), and no legitimate client sends one. Lone
    surrogates cannot arrive this way: the server decodes URLs as UTF-8, replacing invalid bytes.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            where = _nul_in_url(scope)
            if where:
                await _reply(
                    send,
                    scope,
                    422,
                    "invalid_request",
                    f"{where} contains a NUL character (%00), which cannot be stored; remove it and send again",
                )
                return
        await self.app(scope, receive, send)


def _nul_in_url(scope: Scope) -> str | None:
    if "\x00" in str(scope.get("path", "")):
        return "the URL path"
    query = scope.get("query_string") or b""
    if b"%00" in query or b"\x00" in query:
        for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
            if "\x00" in name:
                return "a query parameter name"
            if "\x00" in value:
                return f"query parameter {name[:100]!r}"
    return None


async def _reply(send: Send, scope: Scope, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
    body_obj: dict = {"error": {"code": code, "message": message}}
    if str(scope.get("path", "")).startswith(("/h/", "/m/", "/c/")):
        body_obj["message"] = message
    body = json.dumps(body_obj).encode()
    extra = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *extra,
            ],
        }
    )
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
