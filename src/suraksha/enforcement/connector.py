"""The platform connector: signed JSON webhooks that ask the platform to act.

Every action is one ``POST`` to ``SURAKSHA_CONNECTOR_URL`` with a JSON body and three headers:

    X-Suraksha-Timestamp:  1763856000                 (Unix seconds when signed)
    X-Suraksha-Signature:  v1=<hex HMAC-SHA256(secret, "<timestamp>." + body)>
    Idempotency-Key:       action:remove_item:item:42 (the same on every retry of this action)

The platform verifies the signature and the timestamp's age (``verify_signature`` below is written
to be copied: standard library only), performs the action once per idempotency key, and answers
2xx. Anything else is a failed delivery: 5xx, 408, 425, 429 and network errors are retried with
backoff; other 4xx mean the request itself is refused (bad signature, unknown item) and dead-letter
the action at once, because sending the same bytes again cannot succeed.

In demo mode without a URL, ``RecordingConnector`` appends each signed webhook to
``$SURAKSHA_HOME/connector-outbox.jsonl`` and acknowledges it, so the whole flow runs offline.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from suraksha.errors import Forbidden

TIMESTAMP_HEADER = "X-Suraksha-Timestamp"
SIGNATURE_HEADER = "X-Suraksha-Signature"
IDEMPOTENCY_HEADER = "Idempotency-Key"
EVENT_HEADER = "X-Suraksha-Event"
SIGNATURE_VERSION = "v1"
RETRYABLE_STATUS = frozenset({408, 425, 429})


class SignatureError(Forbidden, ValueError):
    """A webhook's signature or timestamp does not verify (the message says which)."""


def signature(secret: str | bytes, timestamp: int, body: bytes) -> str:
    """``v1=<hex>``: HMAC-SHA256 over ``b"<timestamp>." + body`` with the shared secret."""
    key = secret.encode() if isinstance(secret, str) else secret
    mac = hmac.new(key, str(int(timestamp)).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={mac}"


def signed_headers(
    secret: str | bytes, body: bytes, *, idempotency_key: str, event: str, now: float | None = None
) -> dict[str, str]:
    ts = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(ts),
        SIGNATURE_HEADER: signature(secret, ts, body),
        IDEMPOTENCY_HEADER: idempotency_key,
        EVENT_HEADER: event,
    }


def verify_signature(
    headers: Mapping[str, str], body: bytes, secret: str | bytes, now: float | None = None, tolerance_s: int = 300
) -> bool:
    """Check a Suraksha webhook on the platform side; True, or ``SignatureError`` saying why.

    ``headers``: the request headers (any case); ``body``: the raw request body, exactly as
    received (not re-serialised JSON); ``now``: Unix seconds (default: the clock). A timestamp more
    than ``tolerance_s`` seconds away from ``now`` is refused, so a captured request cannot be
    replayed later; within the window, dedupe by the ``Idempotency-Key`` header.
    """
    lower = {k.lower(): v for k, v in headers.items()}
    raw_ts = lower.get(TIMESTAMP_HEADER.lower())
    given = lower.get(SIGNATURE_HEADER.lower())
    if not raw_ts or not given:
        raise SignatureError(f"missing {TIMESTAMP_HEADER} or {SIGNATURE_HEADER} header")
    try:
        ts = int(raw_ts)
    except ValueError:
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix time: {raw_ts[:40]!r}") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance_s:
        raise SignatureError(
            f"timestamp is {int(current - ts)} s away from now (allowed: {tolerance_s} s): replayed or clock skew"
        )
    expected = signature(secret, ts, body)
    # Several signatures may be sent during a secret rotation: "v1=aaa,v1=bbb".
    if not any(hmac.compare_digest(expected, part.strip()) for part in given.split(",")):
        raise SignatureError("signature does not match (wrong secret, or the body was changed)")
    return True


# --------------------------------------------------------------------------- delivering
@dataclass(frozen=True)
class Webhook:
    """One action as sent: its event type, idempotency key and JSON body."""

    event: str
    idempotency_key: str
    body: dict[str, Any]

    def encoded(self) -> bytes:
        return json.dumps(self.body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(frozen=True)
class DeliveryResult:
    acknowledged: bool
    retryable: bool = True
    http_status: int | None = None
    error: str | None = None
    response: str | None = None


class Connector(Protocol):
    def deliver(self, webhook: Webhook) -> DeliveryResult: ...


class HttpConnector:
    """POSTs signed webhooks with httpx; ``transport`` lets tests plug in a fake platform."""

    def __init__(self, url: str, secret: str, *, timeout: float = 10.0, transport: httpx.BaseTransport | None = None) -> None:
        if not url or not url.lower().startswith(("http://", "https://")):
            raise ValueError("SURAKSHA_CONNECTOR_URL must be an http(s):// URL")
        if not secret:
            raise ValueError("SURAKSHA_CONNECTOR_SECRET is required to sign webhooks")
        self.url = url
        self._secret = secret
        self._http = httpx.Client(timeout=timeout, transport=transport, headers={"User-Agent": "suraksha-connector/1"})

    def __repr__(self) -> str:  # never the secret
        return f"HttpConnector(url={self.url!r})"

    def close(self) -> None:
        self._http.close()

    def deliver(self, webhook: Webhook) -> DeliveryResult:
        body = webhook.encoded()
        headers = signed_headers(self._secret, body, idempotency_key=webhook.idempotency_key, event=webhook.event)
        try:
            r = self._http.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return DeliveryResult(False, True, None, f"network error: {type(exc).__name__}: {exc}"[:500])
        text = r.text[:500] if r.content else None
        if r.is_success:
            return DeliveryResult(True, False, r.status_code, None, text)
        retryable = r.status_code >= 500 or r.status_code in RETRYABLE_STATUS
        return DeliveryResult(False, retryable, r.status_code, f"HTTP {r.status_code} {r.reason_phrase}", text)


class RecordingConnector:
    """Demo connector: appends every signed webhook to a JSON-lines file and acknowledges it."""

    def __init__(self, path: Path, secret: str = "demo-connector-secret") -> None:
        self.path = path
        self._secret = secret
        self._lock = threading.Lock()

    def deliver(self, webhook: Webhook) -> DeliveryResult:
        body = webhook.encoded()
        headers = signed_headers(self._secret, body, idempotency_key=webhook.idempotency_key, event=webhook.event)
        line = json.dumps({"headers": headers, "body": webhook.body}, sort_keys=True)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
        return DeliveryResult(True, False, 200, None, "recorded")


def connector_from_settings(transport: httpx.BaseTransport | None = None) -> Connector:
    """The configured connector: HTTP when a URL is set; the recording one in demo mode; else an error."""
    from suraksha.config import get_settings
    from suraksha.enforcement.settings import get_enforcement_settings

    es = get_enforcement_settings()
    settings = get_settings()
    if es.connector_url:
        if settings.mode == "production" and not es.connector_url.lower().startswith("https://"):
            raise ValueError("SURAKSHA_CONNECTOR_URL must be https:// in production mode")
        secret = es.connector_secret.get_secret_value() if es.connector_secret else ""
        return HttpConnector(es.connector_url, secret, timeout=es.connector_timeout_s, transport=transport)
    if settings.mode == "production":
        raise ValueError("SURAKSHA_CONNECTOR_URL and SURAKSHA_CONNECTOR_SECRET must be set in production mode")
    return RecordingConnector(settings.home / "connector-outbox.jsonl")
