"""Staff accounts: create, sign in (password + TOTP, lock-out), sessions that expire, MFA resets.

Passwords are hashed with argon2id; session tokens and CSRF tokens are random; only the session
token's SHA-256 is stored, so a database leak does not hand out live sessions. TOTP seeds are
sealed with the vault's master key (``auth.totp``). Sign-in is throttled per address and account
before any password is checked, with a bound on concurrent argon2 runs (``auth.throttle``), and
failures are counted atomically before the check (``auth.lockout``), so concurrent guesses can
neither exceed the lock-out limit nor reuse one authenticator code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from suraksha.auth import audit, lockout, totp
from suraksha.auth.models import StaffSession, StaffUser
from suraksha.auth.roles import MFA_REQUIRED, validate_role
from suraksha.auth.settings import get_auth_settings
from suraksha.auth.throttle import LoginThrottled, get_login_throttle
from suraksha.db import session_scope
from suraksha.db.base import utcnow
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound

__all__ = ["LoginThrottled"]  # re-exported: adapters catch it beside LoginFailed

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,49}$")
ISSUER = "Suraksha"
# The one argon2id hasher for every password Suraksha keeps (staff users and portal officers).
password_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal who has one.
DUMMY_PASSWORD_HASH = password_hasher.hash("not-a-real-password")


class AuthError(InvalidInput):
    """Bad input for an account operation (a clear message for the person)."""


class UserExists(Conflict, AuthError):
    """The user name is taken (409)."""


TABLE = StaffUser.__tablename__  # the seal binding of a staff user's TOTP seed


class LoginFailed(Forbidden):
    """Sign-in refused; ``message`` is safe to show."""

    code = "unauthorized"
    http_status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    locked: bool
    mfa_enrolled: bool
    must_change_password: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None


@dataclass(frozen=True)
class NewCredentials:
    """What a new (or reset) user needs, shown once: the one-time password and the TOTP secret."""

    username: str
    password: str | None
    totp_secret: str | None

    @property
    def totp_uri(self) -> str | None:
        if not self.totp_secret:
            return None
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=self.username, issuer_name=ISSUER)


@dataclass(frozen=True)
class StaffPrincipal:
    """The signed-in person, as the web layer sees them."""

    user_id: int
    username: str
    display_name: str
    role: str
    csrf_token: str
    session_id: str
    must_change_password: bool
    preferences: dict

    @property
    def actor(self) -> str:
        return f"user:{self.username}"


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _info(u: StaffUser) -> UserInfo:
    locked_until = _aware(u.locked_until)
    return UserInfo(
        id=u.id,
        username=u.username,
        display_name=u.display_name,
        role=u.role,
        active=u.active,
        locked=bool(locked_until and locked_until > utcnow()),
        mfa_enrolled=bool(u.totp_secret),
        must_change_password=u.must_change_password,
        created_at=_aware(u.created_at),
        last_login_at=_aware(u.last_login_at),
    )


def validate_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME.match(username):
        raise AuthError("username must be 3-50 lowercase letters, digits, '.', '_' or '-', starting with a letter or digit")
    return username


def validate_password(password: str) -> str:
    n = get_auth_settings().min_password_length
    if not isinstance(password, str) or len(password) < n:
        raise AuthError(f"password must be at least {n} characters")
    if len(password) > 1024:
        raise AuthError("password must be at most 1024 characters")
    return password


def hash_password(password: str) -> str:
    return password_hasher.hash(password)


def check_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; a missing or malformed hash is checked against the dummy
    hash, so the answer takes an argon2 run either way. Callers on a sign-in path hold a
    ``hashing_slot`` of the throttle around it."""
    try:
        return password_hasher.verify(password_hash or DUMMY_PASSWORD_HASH, password or "") and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def _seal_seed(row_id: int, secret: str) -> str:
    try:
        return totp.seal_secret(TABLE, row_id, secret)
    except totp.TotpSealError as exc:
        raise AuthError(str(exc)) from None


def generate_password() -> str:
    return secrets.token_urlsafe(15)  # 20 characters, ~120 bits


def create_user(
    username: str,
    role: str,
    *,
    display_name: str = "",
    password: str | None = None,
    totp_secret: str | None = None,
    must_change_password: bool | None = None,
    actor: str = "system:suraksha",
) -> NewCredentials:
    """Create a staff user. Without ``password`` a one-time password is generated (changed at first
    sign-in). A TOTP secret is generated for roles that require MFA. Returns what to hand over, once."""
    validate_username(username)
    validate_role(role)
    generated = password is None
    password = generate_password() if generated else validate_password(password)
    if totp_secret is None and role in MFA_REQUIRED:
        totp_secret = totp.new_secret()
    with session_scope() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
            raise UserExists(f"a user named {username!r} already exists")
        user = StaffUser(
            username=username,
            display_name=display_name[:100] or username,
            role=role,
            password_hash=hash_password(password),
            totp_secret=None,
            must_change_password=generated if must_change_password is None else must_change_password,
            preferences={},
        )
        session.add(user)
        session.flush()
        if totp_secret:  # sealed bound to the row id, so only once the row has one
            user.totp_secret = _seal_seed(user.id, totp_secret)
        audit.record(session, actor, "user.create", "staff_user", user.id, {"username": username, "role": role})
    return NewCredentials(username, password if generated else None, totp_secret)


def list_users() -> list[UserInfo]:
    with session_scope() as session:
        return [_info(u) for u in session.scalars(select(StaffUser).order_by(StaffUser.username)).all()]


def count_users() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(StaffUser)) or 0


def _user_by(session: Session, user: int | str) -> StaffUser:
    row = (
        session.get(StaffUser, user)
        if isinstance(user, int)
        else session.scalar(select(StaffUser).where(StaffUser.username == user))
    )
    if row is None:
        raise NotFound(f"no staff user {user!r}")
    return row


def reset_mfa(user: int | str, *, actor: str = "system:suraksha") -> NewCredentials:
    """Give the user a new TOTP secret (lost phone); their sessions end."""
    with session_scope() as session:
        row = _user_by(session, user)
        secret = totp.new_secret()
        row.totp_secret = _seal_seed(row.id, secret)
        row.totp_last_step = None
        session.execute(delete(StaffSession).where(StaffSession.user_id == row.id))
        audit.record(session, actor, "user.reset_mfa", "staff_user", row.id, {"username": row.username})
        return NewCredentials(row.username, None, secret)


def reset_password(user: int | str, *, actor: str = "system:suraksha") -> NewCredentials:
    """A new one-time password, to be changed at next sign-in; the user's sessions end."""
    password = generate_password()
    with session_scope() as session:
        row = _user_by(session, user)
        row.password_hash = hash_password(password)
        row.must_change_password = True
        session.execute(delete(StaffSession).where(StaffSession.user_id == row.id))
        audit.record(session, actor, "user.reset_password", "staff_user", row.id, {"username": row.username})
        return NewCredentials(row.username, password, None)


def unlock(user: int | str, *, actor: str = "system:suraksha") -> None:
    with session_scope() as session:
        row = _user_by(session, user)
        row.failed_logins = 0
        row.locked_until = None
        audit.record(session, actor, "user.unlock", "staff_user", row.id, {"username": row.username})


def set_active(user: int | str, active: bool, *, actor: str = "system:suraksha") -> None:
    with session_scope() as session:
        row = _user_by(session, user)
        row.active = active
        if not active:
            session.execute(delete(StaffSession).where(StaffSession.user_id == row.id))
        audit.record(
            session, actor, "user.activate" if active else "user.deactivate", "staff_user", row.id, {"username": row.username}
        )


def set_role(user: int | str, role: str, *, actor: str = "system:suraksha") -> None:
    validate_role(role)
    with session_scope() as session:
        row = _user_by(session, user)
        old = row.role
        row.role = role
        if role in MFA_REQUIRED and not row.totp_secret:
            raise AuthError(f"{row.username} has no TOTP secret; reset their MFA first")
        session.execute(delete(StaffSession).where(StaffSession.user_id == row.id))
        audit.record(session, actor, "user.set_role", "staff_user", row.id, {"username": row.username, "from": old, "to": role})


def _new_session(session: Session, user: StaffUser, ip: str | None) -> str:
    settings = get_auth_settings()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        StaffSession(
            id=hashlib.sha256(token.encode()).hexdigest(),
            user_id=user.id,
            csrf_token=secrets.token_urlsafe(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=settings.session_max_hours),
            ip=(ip or "")[:64] or None,
        )
    )
    return token


def login(username: str, password: str, code: str, *, ip: str | None = None) -> str:
    """Check password and TOTP; returns a new session token. Repeated failures lock the account.

    Order matters: the throttle first (``LoginThrottled``: too many attempts from ``ip`` or for
    this name, or no argon2 slot free), then the attempt is counted atomically (a locked account
    is refused with no password checked), then argon2 in a bounded slot, then the TOTP step is
    claimed by a conditional update in the transaction that creates the session."""
    settings = get_auth_settings()
    generic = "invalid username, password or authentication code"
    username = (username or "").strip().lower()
    throttle = get_login_throttle()
    throttle.admit(ip, f"staff:{username[:100]}")
    with session_scope() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username)) if username else None
    if user is None:
        with throttle.hashing_slot():
            check_password(None, password or "x")  # the same argon2 run as a real check: timing tells nothing
        with session_scope() as session:
            audit.record(
                session,
                "system:login",
                "login.failed",
                "staff_user",
                None,
                {"username": username[:50], "reason": "unknown user", "ip": ip},
            )
        raise LoginFailed(generic)
    now = utcnow()
    actor = f"user:{user.username}"
    with throttle.hashing_slot():
        attempt = lockout.begin_attempt(
            StaffUser, user.id, now=now, limit=settings.login_max_failures, lockout_minutes=settings.lockout_minutes
        )
        ok = attempt is not None and check_password(user.password_hash, password)
    if attempt is None:
        with session_scope() as session:
            locked_until = _aware(session.scalar(select(StaffUser.locked_until).where(StaffUser.id == user.id))) or now
            audit.record(session, actor, "login.refused", "staff_user", user.id, {"reason": "locked", "ip": ip})
        minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
        raise LoginFailed(f"account locked after repeated failures; try again in {minutes} minutes or ask an admin to unlock it")
    reason = None if ok else "password"
    if ok and not user.active:
        reason = "inactive"
    step = None
    if reason is None and (user.role in MFA_REQUIRED or user.totp_secret):
        step = totp.matching_step(totp.open_secret(TABLE, user.id, user.totp_secret), code)
        if step is None or (user.totp_last_step is not None and step <= user.totp_last_step):
            reason = "totp"
    values: dict = {"last_login_at": now}
    if reason is None and user.password_hash and password_hasher.check_needs_rehash(user.password_hash):
        values["password_hash"] = hash_password(password)  # before the transaction: no write lock held while hashing
    with session_scope() as session:
        # The claim is the transaction's first write: of concurrent requests with one code, one wins.
        if reason is None and step is not None and not totp.claim_step(session, StaffUser, user.id, step):
            reason = "totp"
        if reason is not None:
            details = {"reason": reason, "ip": ip, "failures": attempt.failures}
            if attempt.locked_until is not None:
                details["locked_until"] = attempt.locked_until.isoformat()
            audit.record(session, actor, "login.failed", "staff_user", user.id, details)
            session.commit()
            if reason == "inactive":
                raise LoginFailed("this account is deactivated")
            raise LoginFailed(generic)
        if step is not None and totp.needs_reseal(user.totp_secret):  # sealed under a rotated-out key
            values["totp_secret"] = _seal_seed(user.id, totp.open_secret(TABLE, user.id, user.totp_secret) or "")
        lockout.clear(session, StaffUser, user.id, **values)
        token = _new_session(session, user, ip)
        audit.record(session, actor, "login", "staff_user", user.id, {"ip": ip})
        return token


def _session_id(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def resolve_session(token: str | None) -> StaffPrincipal | None:
    """The principal of a live session, or None (unknown, expired, idle too long, user deactivated)."""
    if not token or len(token) > 200:
        return None
    settings = get_auth_settings()
    sid = _session_id(token)
    with session_scope() as session:
        row = session.get(StaffSession, sid)
        if row is None:
            return None
        now = utcnow()
        idle = now - _aware(row.last_seen_at)
        if _aware(row.expires_at) <= now or idle > dt.timedelta(minutes=settings.session_idle_minutes):
            session.delete(row)
            return None
        user = session.get(StaffUser, row.user_id)
        if user is None or not user.active:
            session.delete(row)
            return None
        if idle > dt.timedelta(seconds=30):
            row.last_seen_at = now
        return StaffPrincipal(
            user_id=user.id,
            username=user.username,
            display_name=user.display_name,
            role=user.role,
            csrf_token=row.csrf_token,
            session_id=sid,
            must_change_password=user.must_change_password,
            preferences=dict(user.preferences or {}),
        )


def logout(token: str | None) -> None:
    if not token:
        return
    with session_scope() as session:
        row = session.get(StaffSession, _session_id(token))
        if row is not None:
            user = session.get(StaffUser, row.user_id)
            session.delete(row)
            audit.record(session, f"user:{user.username if user else row.user_id}", "logout", "staff_user", row.user_id, {})


def change_password(user_id: int, current: str, new: str) -> None:
    validate_password(new)
    with session_scope() as session:
        user = _user_by(session, user_id)
        try:
            with get_login_throttle().hashing_slot():
                right = check_password(user.password_hash, current or "")
        except LoginThrottled as exc:
            raise AuthError(exc.message) from None
        if not right:
            raise AuthError("current password is wrong")
        if current == new:
            raise AuthError("the new password must differ from the current one")
        user.password_hash = hash_password(new)
        user.must_change_password = False
        audit.record(session, f"user:{user.username}", "user.change_password", "staff_user", user.id, {})


def set_preferences(user_id: int, prefs: dict) -> dict:
    with session_scope() as session:
        user = _user_by(session, user_id)
        merged = {**(user.preferences or {}), **prefs}
        user.preferences = merged
        audit.record(session, f"user:{user.username}", "user.preferences", "staff_user", user.id, prefs)
        return merged


def purge_expired_sessions() -> int:
    with session_scope() as session:
        return session.execute(delete(StaffSession).where(StaffSession.expires_at < utcnow())).rowcount or 0
