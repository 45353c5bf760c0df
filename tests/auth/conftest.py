"""Auth test helpers: an argon2 call counter, settings overrides, requests released at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyotp
import pytest
from argon2 import PasswordHasher

PASSWORD = "correct horse battery staple"


@dataclass
class Argon2Calls:
    """argon2 verifications seen (every one: staff, officers, the dummy hash of unknown users)."""

    calls: int = 0
    in_flight: int = 0
    max_in_flight: int = 0


@pytest.fixture
def argon2_calls(monkeypatch) -> Argon2Calls:
    seen, lock, original = Argon2Calls(), threading.Lock(), PasswordHasher.verify

    def counting(self, hash, password):  # noqa: A002 - argon2's own parameter name
        with lock:
            seen.calls += 1
            seen.in_flight += 1
            seen.max_in_flight = max(seen.max_in_flight, seen.in_flight)
        try:
            return original(self, hash, password)
        finally:
            with lock:
                seen.in_flight -= 1

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return seen


def auth_settings(monkeypatch, **values) -> None:
    from suraksha.auth.settings import reset_auth_settings

    for name, value in values.items():
        monkeypatch.setenv(f"SURAKSHA_{name.upper()}", str(value))
    reset_auth_settings()


def wrong_code(totp: pyotp.TOTP) -> str:
    """A 6-digit code that is not valid in the accepted window (now and one step either side)."""
    valid = {totp.at(time.time() + 30 * k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def at_once(n: int, call: Callable[[], object]) -> list[object]:
    """Run ``call`` in ``n`` threads released together; each result or the exception raised."""
    gate = threading.Barrier(n)

    def one(_):
        gate.wait()
        try:
            return call()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            return exc

    with ThreadPoolExecutor(n) as pool:
        return list(pool.map(one, range(n)))
