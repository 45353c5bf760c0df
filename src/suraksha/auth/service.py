"""Staff accounts: create, sign in (password + TOTP, lock-out), sessions that expire, MFA resets.

Passwords are hashed with argon2id; session tokens and CSRF tokens are random; only the session
token's SHA-256 is stored, so a database leak does not hand out live sessions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from typing import Protocol

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from suraksha.auth import audit
from suraksha.auth.models import StaffSession, StaffUser
from suraksha.auth.roles import MFA_REQUIRED, validate_role
from suraksha.auth.settings import get_auth_settings
from suraksha.db import session_scope
from suraksha.db.base import utcnow


class TotpHolder(Protocol):
    """An account with an authenticator: a staff user or a portal officer."""

    totp_secret: str | None
    totp_last_step: int | None


USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,49}$")
ISSUER = "Suraksha"
# The one argon2id hasher for every password Suraksha keeps (staff users and portal officers).
password_hasher = PasswordHasher()
# A hash to verify against when the account does not exist, so timing does not reveal who has one.
DUMMY_PASSWORD_HASH = password_hasher.hash("not-a-real-password")


class AuthError(ValueError):
    """Bad input for an account operation (a clear message for the person)."""


class LoginFailed(Exception):
    """Sign-in refused; ``message`` is safe to show."""

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
        return value.replace(tzinfo=dt.timezone.utc)
    return value


def _info(u: StaffUser) -> UserInfo:
    locked_until = _aware(u.locked_until)
    return UserInfo(id=u.id, username=u.username, display_name=u.display_name, role=u.role, active=u.active,
                    locked=bool(locked_until and locked_until > utcnow()), mfa_enrolled=bool(u.totp_secret),
                    must_change_password=u.must_change_password, created_at=_aware(u.created_at),
                    last_login_at=_aware(u.last_login_at))


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
        totp_secret = pyotp.random_base32()
    with session_scope() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.username == username)) is not None:
            raise AuthError(f"a user named {username!r} already exists")
        user = StaffUser(username=username, display_name=display_name[:100] or username, role=role,
                         password_hash=hash_password(password), totp_secret=totp_secret,
                         must_change_password=generated if must_change_password is None else must_change_password,
                         preferences={})
        session.add(user)
        session.flush()
        audit.record(session, actor, "user.create", "staff_user", user.id, {"username": username, "role": role})
    return NewCredentials(username, password if generated else None, totp_secret)


def list_users() -> list[UserInfo]:
    with session_scope() as session:
        return [_info(u) for u in session.scalars(select(StaffUser).order_by(StaffUser.username)).all()]


def count_users() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(StaffUser)) or 0


def _user_by(session: Session, user: int | str) -> StaffUser:
    row = session.get(StaffUser, user) if isinstance(user, int) else session.scalar(select(StaffUser).where(StaffUser.username == user))
    if row is None:
        raise LookupError(f"no staff user {user!r}")
    return row


def reset_mfa(user: int | str, *, actor: str = "system:suraksha") -> NewCredentials:
    """Give the user a new TOTP secret (lost phone); their sessions end."""
    with session_scope() as session:
        row = _user_by(session, user)
        row.totp_secret = pyotp.random_base32()
        row.totp_last_step = None
        session.execute(delete(StaffSession).where(StaffSession.user_id == row.id))
        audit.record(session, actor, "user.reset_mfa", "staff_user", row.id, {"username": row.username})
        return NewCredentials(row.username, None, row.totp_secret)


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
        audit.record(session, actor, "user.activate" if active else "user.deactivate", "staff_user", row.id,
                     {"username": row.username})


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


def verify_totp(user: TotpHolder, code: str) -> bool:
    """Accept the current 30 s step or its neighbours, each step once (no replay of a seen code).

    Public because portal officers (``legal.officers``) sign in under the same rule; on success
    the holder's ``totp_last_step`` is advanced, so the caller must commit it."""
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or not re.fullmatch(r"\d{6}", code):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = time.time()
    for offset in (0, -1, 1):
        step = int(now // totp.interval) + offset
        if secrets.compare_digest(totp.at(step * totp.interval), code):
            if user.totp_last_step is not None and step <= user.totp_last_step:
                return False
            user.totp_last_step = step
            return True
    return False


def _new_session(session: Session, user: StaffUser, ip: str | None) -> str:
    settings = get_auth_settings()
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(StaffSession(id=hashlib.sha256(token.encode()).hexdigest(), user_id=user.id,
                             csrf_token=secrets.token_urlsafe(32), created_at=now, last_seen_at=now,
                             expires_at=now + dt.timedelta(hours=settings.session_max_hours), ip=(ip or "")[:64] or None))
    return token


def login(username: str, password: str, code: str, *, ip: str | None = None) -> str:
    """Check password and TOTP; returns a new session token. Repeated failures lock the account."""
    settings = get_auth_settings()
    generic = "invalid username, password or authentication code"
    username = (username or "").strip().lower()
    with session_scope() as session:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username)) if username else None
        if user is None:
            try:
                password_hasher.verify(DUMMY_PASSWORD_HASH, password or "x")
            except VerificationError:
                pass
            audit.record(session, "system:login", "login.failed", "staff_user", None, {"username": username[:50], "reason": "unknown user", "ip": ip})
            session.commit()  # keep the audit event; the raise below rolls back nothing else
            raise LoginFailed(generic)
        now = utcnow()
        locked_until = _aware(user.locked_until)
        if locked_until and locked_until > now:
            audit.record(session, f"user:{user.username}", "login.refused", "staff_user", user.id, {"reason": "locked", "ip": ip})
            session.commit()
            minutes = max(1, int((locked_until - now).total_seconds() // 60) + 1)
            raise LoginFailed(f"account locked after repeated failures; try again in {minutes} minutes or ask an admin to unlock it")
        try:
            ok = password_hasher.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            ok = False
        reason = None if ok else "password"
        if ok and not user.active:
            ok, reason = False, "inactive"
        if ok and (user.role in MFA_REQUIRED or user.totp_secret):
            if not verify_totp(user, code):
                ok, reason = False, "totp"
        if not ok:
            user.failed_logins += 1
            details = {"reason": reason, "ip": ip, "failures": user.failed_logins}
            if user.failed_logins >= settings.login_max_failures:
                user.locked_until = now + dt.timedelta(minutes=settings.lockout_minutes)
                details["locked_until"] = user.locked_until.isoformat()
            audit.record(session, f"user:{user.username}", "login.failed", "staff_user", user.id, details)
            session.commit()
            if reason == "inactive":
                raise LoginFailed("this account is deactivated")
            raise LoginFailed(generic)
        if user.password_hash and password_hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        token = _new_session(session, user, ip)
        audit.record(session, f"user:{user.username}", "login", "staff_user", user.id, {"ip": ip})
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
        return StaffPrincipal(user_id=user.id, username=user.username, display_name=user.display_name, role=user.role,
                              csrf_token=row.csrf_token, session_id=sid, must_change_password=user.must_change_password,
                              preferences=dict(user.preferences or {}))


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
            password_hasher.verify(user.password_hash, current or "")
        except (VerificationError, InvalidHashError):
            raise AuthError("current password is wrong") from None
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
