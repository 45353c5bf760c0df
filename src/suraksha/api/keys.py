"""API keys: create (the secret is shown once), list, change scopes, revoke, verify.

A key is ``srk_`` + 43 URL-safe characters (256 random bits). Its first 12 characters are stored as
``prefix`` to find the row and to tell keys apart; only the SHA-256 of the whole key is stored, and
it is compared in constant time.

Each key holds **scopes** (``SCOPES``); every API route requires exactly one (``api.auth.require_scope``).
A key created without scopes gets ``scan`` only (least privilege: an integration that submits items
and looks up hashes cannot read police requests, other items or change banks). ``admin`` stands for
every scope, present and future. Scopes are stored space-separated, as OAuth 2 writes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suraksha.api.models import ApiKey
from suraksha.api.scopes import ADMIN, DEFAULT_SCOPES, DEMO_KEY_SCOPES, SCOPES  # noqa: F401 - re-exported
from suraksha.db import session_scope, utcnow
from suraksha.errors import Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

KEY_PREFIX = "srk_"
PREFIX_CHARS = 12
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
LAST_USED_RESOLUTION = 60.0  # write last_used_at at most once a minute per key per process


class ApiKeyError(InvalidInput):
    """Bad key operation (bad name, duplicate name, bad rate limit)."""


class KeyExists(Conflict, ApiKeyError):
    """The key name is taken (409)."""


class KeyNotFound(NotFound):
    pass


def normalize_scopes(scopes: object) -> tuple[str, ...]:
    """Known, de-duplicated, sorted scope names; an unknown name is an ``ApiKeyError`` naming the
    valid ones (a typo must not silently create a key that can do less, or more, than meant)."""
    if isinstance(scopes, str) or not isinstance(scopes, (list, tuple, set, frozenset)):
        raise ApiKeyError(f"scopes must be a list of names, got {scopes!r}")
    names = set()
    for scope in scopes:
        if not isinstance(scope, str) or scope.strip() not in SCOPES:
            raise ApiKeyError(f"unknown scope {scope!r}; scopes are: {', '.join(SCOPES)}")
        names.add(scope.strip())
    if not names:
        raise ApiKeyError(f"a key needs at least one scope; scopes are: {', '.join(SCOPES)}")
    return tuple(sorted(names))


def _parse_stored(stored: str | None) -> tuple[str, ...]:
    """Scopes as stored; a name this version does not know (written by a newer one) grants nothing."""
    return tuple(sorted({s for s in (stored or "").split() if s in SCOPES}))


@dataclass(frozen=True)
class KeyInfo:
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked: bool
    rate_limit_per_minute: int
    scopes: tuple[str, ...] = ()

    @classmethod
    def of(cls, k: ApiKey) -> KeyInfo:
        return cls(
            k.id, k.name, k.prefix, k.created_at, k.last_used_at, k.revoked, k.rate_limit_per_minute, _parse_stored(k.scopes)
        )


@dataclass(frozen=True)
class Principal:
    """Who is calling: the key's id and name, its rate limit and its scopes."""

    key_id: int
    name: str
    rate_limit_per_minute: int
    scopes: frozenset[str] = frozenset()

    def allows(self, scope: str) -> bool:
        """Whether this key may use a route that requires ``scope`` (``admin`` may use every route)."""
        return ADMIN in self.scopes or scope in self.scopes


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    name: str, rate_limit_per_minute: int | None = None, scopes: list[str] | tuple[str, ...] | None = None
) -> tuple[KeyInfo, str]:
    """Create a key; returns its info and the secret, which is not stored and cannot be shown again.
    ``scopes`` defaults to ``DEFAULT_SCOPES`` (``scan`` only)."""
    from suraksha.api.settings import get_api_settings

    if not isinstance(name, str) or not NAME.match(name):
        raise ApiKeyError(f"key name must be 1-100 letters, digits, '_', '.', '@' or '-'; got {name!r}")
    granted = normalize_scopes(DEFAULT_SCOPES if scopes is None else scopes)
    rate = get_api_settings().default_rate_limit_per_minute if rate_limit_per_minute is None else rate_limit_per_minute
    if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= 1_000_000:
        raise ApiKeyError(f"rate limit must be 1..1000000 requests per minute, got {rate!r}")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with session_scope() as session:
        if session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None:
            raise KeyExists(f"an API key named {name!r} already exists")
        row = ApiKey(
            name=name,
            prefix=secret[:PREFIX_CHARS],
            key_hash=_hash(secret),
            revoked=False,
            rate_limit_per_minute=rate,
            scopes=" ".join(granted),
            created_at=utcnow(),
        )
        session.add(row)
        session.flush()
        return KeyInfo.of(row), secret


def list_keys() -> list[KeyInfo]:
    with session_scope() as session:
        return [KeyInfo.of(k) for k in session.scalars(select(ApiKey).order_by(ApiKey.id))]


def get_key(name: str) -> KeyInfo | None:
    with session_scope() as session:
        row = session.scalar(select(ApiKey).where(ApiKey.name == name))
        return KeyInfo.of(row) if row else None


def _find(session: Session, name_or_prefix: str, verb: str) -> ApiKey:
    row = session.scalar(select(ApiKey).where(ApiKey.name == name_or_prefix))
    if row is None:
        rows = session.scalars(select(ApiKey).where(ApiKey.prefix == name_or_prefix)).all()
        if len(rows) > 1:
            raise ApiKeyError(f"prefix {name_or_prefix!r} is ambiguous; {verb} by name")
        row = rows[0] if rows else None
    if row is None:
        raise KeyNotFound(f"no API key named {name_or_prefix!r}")
    return row


def set_scopes(name_or_prefix: str, scopes: list[str] | tuple[str, ...]) -> KeyInfo:
    """Replace a key's scopes (narrow a legacy ``admin`` key without handing out a new secret).
    Takes effect at once in this process, within ``key_cache_seconds`` in others."""
    granted = normalize_scopes(scopes)
    with session_scope() as session:
        row = _find(session, name_or_prefix, "change")
        row.scopes = " ".join(granted)
        info = KeyInfo.of(row)
    _cache.forget(info.id)
    return info


def revoke_key(name_or_prefix: str) -> KeyInfo:
    """Revoke by name or by displayed prefix. Takes effect at once in this process, within
    ``key_cache_seconds`` in others."""
    with session_scope() as session:
        row = _find(session, name_or_prefix, "revoke")
        if not row.revoked:
            row.revoked = True
            row.revoked_at = utcnow()
        info = KeyInfo.of(row)
    _cache.forget(info.id)
    return info


class _VerifiedCache:
    """Recently verified keys (hash -> principal, expiry), so a request costs no DB read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_hash: dict[str, tuple[Principal, float]] = {}
        self._last_write: dict[int, float] = {}
        self._warned_admin: set[int] = set()

    def first_admin_use(self, key_id: int) -> bool:
        """True the first time this process sees ``key_id`` holding ``admin`` (warn once, not per request)."""
        with self._lock:
            if key_id in self._warned_admin:
                return False
            self._warned_admin.add(key_id)
            return True

    def get(self, key_hash: str) -> Principal | None:
        with self._lock:
            hit = self._by_hash.get(key_hash)
            if hit and hit[1] > time.monotonic():
                return hit[0]
            return None

    def put(self, key_hash: str, principal: Principal, ttl: float) -> None:
        with self._lock:
            if len(self._by_hash) > 10_000:
                self._by_hash.clear()
            self._by_hash[key_hash] = (principal, time.monotonic() + ttl)

    def forget(self, key_id: int) -> None:
        with self._lock:
            for h in [h for h, (p, _) in self._by_hash.items() if p.key_id == key_id]:
                del self._by_hash[h]

    def clear(self) -> None:
        with self._lock:
            self._by_hash.clear()
            self._last_write.clear()
            self._warned_admin.clear()

    def due_for_write(self, key_id: int) -> bool:
        now = time.monotonic()
        with self._lock:
            if now - self._last_write.get(key_id, -1e9) < LAST_USED_RESOLUTION:
                return False
            self._last_write[key_id] = now
            return True


_cache = _VerifiedCache()


def clear_key_cache() -> None:
    """Forget verified keys (tests switch databases)."""
    _cache.clear()


def verify_key(key: str) -> Principal | None:
    """The principal for a presented key, or None when it is unknown or revoked."""
    from suraksha.api.settings import get_api_settings

    if not key.startswith(KEY_PREFIX) or len(key) > 200:
        return None
    key_hash = _hash(key)
    cached = _cache.get(key_hash)
    if cached is not None:
        _touch(cached.key_id)
        return cached
    with session_scope() as session:
        rows = session.scalars(select(ApiKey).where(ApiKey.prefix == key[:PREFIX_CHARS])).all()
        found = None
        for row in rows:
            if hmac.compare_digest(row.key_hash, key_hash) and not row.revoked:
                found = Principal(row.id, row.name, row.rate_limit_per_minute, frozenset(_parse_stored(row.scopes)))
    if found is None:
        return None
    if ADMIN in found.scopes and _cache.first_admin_use(found.key_id):
        log.warning(
            "API key %r (id %d) holds the 'admin' scope: it can use every route, legal requests and bank "
            "deletion included; give the integration only the scopes it needs "
            "(suraksha apikey scopes %s --scope ...)",
            found.name,
            found.key_id,
            found.name,
        )
    _cache.put(key_hash, found, get_api_settings().key_cache_seconds)
    _touch(found.key_id)
    return found


def _touch(key_id: int) -> None:
    if not _cache.due_for_write(key_id):
        return
    with session_scope() as session:
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))
