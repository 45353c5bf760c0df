"""The throttle in front of password checks: per-address and per-account token buckets, and a
bound on how many argon2 verifications run at once.

Why: one argon2id verification costs 64 MiB and tens of milliseconds of a core. Sixteen clients
sending wrong passwords (to real or invented usernames alike) grew a server from 147 to 915 MB and
made every other request wait (``POST /v1/items`` p50 6 -> 632 ms). The lock-out only protects
accounts that exist; this protects the server.

- Each sign-in attempt (staff ``/login`` and the officers' portal) takes one token from the
  bucket of the client address and one from the bucket of the account name typed, before any
  database work. An empty bucket answers ``LoginThrottled`` (HTTP 429 with ``Retry-After``).
  Unknown account names have buckets too, so a 429 says nothing about who has an account.
- At most ``login_hash_concurrency`` argon2 verifications run at once in this process; an attempt
  waits up to ``login_hash_wait_seconds`` for a slot, then is answered ``LoginThrottled`` too.
  Memory for hashing is thereby bounded at concurrency x 64 MiB whatever the load.

The state is in this process (the embedded default runs one server process). Several server
processes behind a load balancer each keep their own buckets, so the effective per-address limit
is multiplied by the number of processes; the hashing bound is per process by design. The client
address is the TCP peer: behind a reverse proxy, every client shares the proxy's address unless
the server is told to trust forwarded headers.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from suraksha.auth.settings import AuthSettings, get_auth_settings
from suraksha.errors import Unavailable

MAX_KEYS = 10_000  # buckets remembered per kind; the least recently used are forgotten beyond that


class LoginThrottled(Unavailable):
    """Too many sign-in attempts (from this address, for this account, or server-wide) right now;
    ``message`` is safe to show and ``retry_after`` is whole seconds to wait."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = max(1, int(retry_after))


class TokenBuckets:
    """Token buckets by key: ``capacity`` attempts at once, refilled at ``per_second``.

    Not thread-safe on its own; ``LoginThrottle`` holds one lock around both kinds. A full bucket
    is the same as no bucket, so forgetting the least recently used keys beyond ``max_keys``
    bounds memory against a flood of invented names."""

    def __init__(self, capacity: float, per_second: float, max_keys: int = MAX_KEYS) -> None:
        self.capacity = float(capacity)
        self.per_second = float(per_second)
        self.max_keys = max_keys
        self._state: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def level(self, key: str, now: float) -> float:
        tokens, at = self._state.get(key, (self.capacity, now))
        return min(self.capacity, tokens + (now - at) * self.per_second)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` has a whole token (0 when it has one now)."""
        missing = 1.0 - self.level(key, now)
        if missing <= 0:
            return 0.0
        return math.inf if self.per_second <= 0 else missing / self.per_second

    def take(self, key: str, now: float) -> None:
        self._state[key] = (self.level(key, now) - 1.0, now)
        self._state.move_to_end(key)
        while len(self._state) > self.max_keys:
            self._state.popitem(last=False)


class LoginThrottle:
    """The per-process sign-in throttle (see the module docstring)."""

    def __init__(self, settings: AuthSettings) -> None:
        self._lock = threading.Lock()
        self.by_address = TokenBuckets(settings.login_ip_burst, settings.login_ip_per_minute / 60.0)
        self.by_account = TokenBuckets(settings.login_account_burst, settings.login_account_per_minute / 60.0)
        self._slots = threading.BoundedSemaphore(max(1, settings.login_hash_concurrency))
        self._slot_wait = max(0.0, settings.login_hash_wait_seconds)

    def admit(self, address: str | None, account: str) -> None:
        """Take a token for ``address`` and one for ``account``, or raise ``LoginThrottled`` (and
        take none) when either bucket is empty."""
        now = time.monotonic()
        buckets = [(b, k) for b, k in ((self.by_address, address), (self.by_account, account)) if b.enabled and k]
        with self._lock:
            wait = max((b.wait(k, now) for b, k in buckets), default=0.0)
            if wait > 0:
                raise LoginThrottled(
                    f"Too many sign-in attempts from your network or for this account. Wait {_seconds(wait)} and try again.",
                    retry_after=_ceil(wait),
                )
            for bucket, key in buckets:
                bucket.take(key, now)

    @contextmanager
    def hashing_slot(self) -> Iterator[None]:
        """Hold one of the few argon2 slots; ``LoginThrottled`` when none frees up in time."""
        if not self._slots.acquire(timeout=self._slot_wait):
            raise LoginThrottled("The server is busy with other sign-ins. Wait a few seconds and try again.", retry_after=2)
        try:
            yield
        finally:
            self._slots.release()


def _ceil(seconds: float) -> int:
    return 3600 if math.isinf(seconds) else max(1, math.ceil(seconds))


def _seconds(seconds: float) -> str:
    n = _ceil(seconds)
    return f"{n} second{'s' if n != 1 else ''}" if n < 120 else f"{math.ceil(n / 60)} minutes"


_current: tuple[AuthSettings, LoginThrottle] | None = None
_current_lock = threading.Lock()


def get_login_throttle() -> LoginThrottle:
    """The process's throttle, built from the current auth settings (rebuilt, with full buckets,
    when ``reset_auth_settings`` has replaced them)."""
    global _current
    settings = get_auth_settings()
    with _current_lock:
        if _current is None or _current[0] is not settings:
            _current = (settings, LoginThrottle(settings))
        return _current[1]


def reset_login_throttle() -> None:
    """Forget every bucket (full buckets again on next use)."""
    global _current
    with _current_lock:
        _current = None
