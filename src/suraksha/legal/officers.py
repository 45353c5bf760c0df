"""Officers of registered agencies: who may use the officers' portal, and their sessions.

An officer registers with an address on one of the agency's official email domains, proves the
mailbox with a one-time link, sets an argon2 password and enrols an authenticator (TOTP) in the
same step, then signs in with password + code. Failures lock the account like a staff account;
sessions expire like staff sessions. The password rules, argon2 hashing, the sign-in throttle and
its bound on concurrent argon2 runs, the atomic failure count, the TOTP check (each code once, by a
conditional update) and the sealing of TOTP seeds with the vault's master key are the staff ones
(``suraksha.auth``), so both kinds of account follow one policy.

Officers are a principal of their own (their own tables, cookie and session lookup): an officer
session can never open a staff page and a staff session never opens the portal.

There is no mail server: the confirmation link is an outbound notification row
(``legal_officer_notifications``) for a relay to send; demo mode also shows it on the page and
writes it to the log. Audit actors are ``officer:<id>`` (recorded as a user actor with that name,
which no staff username can collide with: staff names have no colon).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from dataclasses import dataclass

import pyotp
from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, String, Text, delete, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from suraksha import evidence
from suraksha.audit import record
from suraksha.auth import lockout, totp
from suraksha.auth import service as staff_auth
from suraksha.auth.settings import get_auth_settings
from suraksha.auth.throttle import LoginThrottled, get_login_throttle
from suraksha.db.base import Base, utcnow
from suraksha.db.session import session_scope
from suraksha.db.types import BigId
from suraksha.errors import Forbidden, InvalidInput, NotFound
from suraksha.jurisdictions import load_profile
from suraksha.legal.documents import CheckedPdf, check_pdf
from suraksha.legal.models import Agency

log = logging.getLogger(__name__)
EMAIL = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@([a-z0-9-]+(\.[a-z0-9-]+)+)$")
CONFIRM_HOURS = 48
MESSAGES_PER_HOUR = 5  # per address: registering over and over must not flood an officer's mailbox
ISSUER = "Suraksha portal"
GENERIC_FAILURE = "invalid email, password or authentication code"
TABLE = "legal_officers"  # the seal binding of an officer's TOTP seed
__all__ = ["LoginThrottled"]  # re-exported: the portal catches it beside OfficerLoginFailed


# ------------------------------------------------------------------------------------------ tables
class Officer(Base):
    """A person at a registered agency who files and follows requests through the portal."""

    __tablename__ = "legal_officers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("legal_agencies.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    rank: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40), nullable=True, default=None)
    password_hash: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    totp_secret: Mapped[str | None] = mapped_column(String(255), nullable=True, default=None)  # sealed (auth.totp)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)  # replay guard
    email_confirmed_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    mfa_enrolled_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    # Approval by the platform's legal team (l0004): only approved officers can file. The rank is
    # one of the jurisdiction's fixed ladder, the authorising document (a PDF) is kept in the vault.
    approval: Mapped[str] = mapped_column(String(12), default="pending", server_default="pending")
    approval_note: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    authority_filename: Mapped[str | None] = mapped_column(String(300), nullable=True, default=None)
    authority_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    authority_evidence_id: Mapped[str | None] = mapped_column(String(32), nullable=True, default=None)


class OfficerToken(Base):
    """A one-time confirmation link; only the token's SHA-256 is kept. Used up at enrolment."""

    __tablename__ = "legal_officer_tokens"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256(token)
    officer_id: Mapped[int] = mapped_column(ForeignKey("legal_officers.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(20), default="confirm")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)


class OfficerSession(Base):
    """A signed-in officer's browser; only the token's SHA-256 is stored."""

    __tablename__ = "legal_officer_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("legal_officers.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)


class OfficerNotification(Base):
    """A message for an officer's mailbox (the confirmation link), for a mail relay to send."""

    __tablename__ = "legal_officer_notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("legal_officers.id", ondelete="CASCADE"), index=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)


# ------------------------------------------------------------------------------------------- views
class OfficerError(InvalidInput):
    """Bad input for a registration / enrolment step (the message is safe to show)."""


class OfficerLoginFailed(Forbidden):
    code = "unauthorized"
    http_status = 401

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class OfficerView:
    id: int
    agency_id: int
    agency_name: str
    email: str
    name: str
    rank: str
    phone: str | None
    email_confirmed: bool
    mfa_enrolled: bool
    active: bool
    locked: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None
    approval: str = "pending"  # pending | approved | refused (by the platform's legal team)
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    approval_note: str | None = None
    authority_filename: str | None = None
    authority_sha256: str | None = None

    @property
    def approved(self) -> bool:
        return self.approval == "approved"


@dataclass(frozen=True)
class NotificationView:
    id: int
    officer_id: int
    to_address: str
    subject: str
    body: str
    link: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class Enrolment:
    """What the officer adds to an authenticator app; shown once, after the password is set."""

    email: str
    totp_secret: str

    @property
    def totp_uri(self) -> str:
        return pyotp.TOTP(self.totp_secret).provisioning_uri(name=self.email, issuer_name=ISSUER)


@dataclass(frozen=True)
class OfficerPrincipal:
    """The signed-in officer as the portal sees them."""

    officer_id: int
    email: str
    name: str
    rank: str
    agency_id: int
    agency_name: str
    jurisdiction: str
    agency_kind: str
    csrf_token: str
    session_id: str
    approval: str = "pending"

    @property
    def approved(self) -> bool:
        """Only an officer the platform's legal team approved may file."""
        return self.approval == "approved"

    @property
    def actor(self) -> str:
        return f"officer:{self.officer_id}"


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def _sha(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _view(o: Officer, agency_name: str) -> OfficerView:
    locked = _aware(o.locked_until)
    return OfficerView(
        o.id,
        o.agency_id,
        agency_name,
        o.email,
        o.name,
        o.rank,
        o.phone,
        o.email_confirmed_at is not None,
        o.mfa_enrolled_at is not None,
        o.active,
        bool(locked and locked > utcnow()),
        _aware(o.created_at),
        _aware(o.last_login_at),
        o.approval,
        o.approved_by,
        _aware(o.approved_at),
        o.approval_note,
        o.authority_filename,
        o.authority_sha256,
    )


def rank_choices(jurisdiction: str, agency_kind: str) -> list[tuple[str, str]]:
    """The fixed ranks an officer of this kind of agency may hold in ``jurisdiction``: (key, title),
    from the profile's ladder for the kind (police, government), else every ladder of the profile."""
    ladders = load_profile(jurisdiction).rank_ladders
    keys = ladders.get(agency_kind) or [r for ladder in ladders.values() for r in ladder]
    return [(k, k.replace("_", " ").title()) for k in dict.fromkeys(keys)]


def _rank_key(text: str) -> str:
    key = re.sub(r"[^a-z]+", "_", text.strip().lower()).strip("_")
    return key.removesuffix("_of_police")  # "Superintendent of Police" is the ladder's superintendent


def normalise_rank(rank: str, jurisdiction: str, agency_kind: str) -> str:
    """The rank as its ladder key ("Deputy Inspector General" -> deputy_inspector_general); anything
    not on the fixed list is refused with the list."""
    choices = rank_choices(jurisdiction, agency_kind)
    key = _rank_key(rank or "")
    for k, title in choices:
        if key in (k, _rank_key(title)):
            return k
    raise OfficerError("choose your rank from the list: " + ", ".join(title for _, title in choices))


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if len(email) > 320 or not EMAIL.match(email):
        raise OfficerError("enter a valid official email address (name@agency.gov.in)")
    return email


# -------------------------------------------------------------------------------------- registration
def register_officer(
    agency_id: int,
    email: str,
    name: str,
    rank: str,
    *,
    phone: str | None = None,
    authority: bytes | None = None,
    authority_name: str | None = None,
    base_url: str = "",
    mode: str = "demo",
) -> OfficerView:
    """Register (or re-send the link to) an officer of ``agency_id``; the address must be on one of
    the agency's official domains, the rank one of the jurisdiction's fixed list. ``authority``: the
    PDF authorising the officer (kept in the vault); the platform's legal team approves the officer
    against it (``approve_officer``) before they can file. The confirmation link goes to the outbox;
    an address that is already set up gets a notice instead of a link, and the caller's answer is the
    same either way, so the form does not tell a stranger which addresses have accounts."""
    email = normalise_email(email)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise OfficerError("enter your name (up to 200 characters)")
    pdf: CheckedPdf | None = None
    if authority is not None:
        try:
            pdf = check_pdf(authority, authority_name)
        except InvalidInput as exc:
            raise OfficerError(f"authorising document: {exc}") from None
    phone = (phone or "").strip()[:40] or None
    now = utcnow()
    with session_scope() as session:
        agency = session.get(Agency, agency_id) if isinstance(agency_id, int) else None
        if agency is None:
            raise OfficerError("choose your agency from the list")
        rank = normalise_rank(rank, agency.jurisdiction, agency.kind)
        domain = email.rsplit("@", 1)[1]
        if domain not in list(agency.email_domains or []):
            # The agency's domains are not listed here: this message reaches anonymous visitors.
            raise OfficerError(f"{domain} is not an official email domain of {agency.name}")
        officer = session.scalar(select(Officer).where(Officer.email == email))
        if officer is not None and _recent_messages(session, email, now) >= MESSAGES_PER_HOUR:
            record(session, "system:portal", "legal.officer.register_throttled", "legal_officer", officer.id, {"email": email})
            return _view(officer, agency.name)
        if officer is not None and officer.mfa_enrolled_at is not None:
            _notify(
                session,
                officer,
                "Suraksha portal: registration attempt",
                "Someone asked to register this address, which already has a portal account. If it was you, sign "
                "in as usual; if you forgot your password, ask the platform's legal team to reset it.",
                None,
                mode,
            )
            return _view(officer, agency.name)
        if officer is None:
            officer = Officer(agency_id=agency.id, email=email, name=name, rank=rank, phone=phone, created_at=now)
            session.add(officer)
            session.flush()
        else:  # registered but not finished: details may be corrected, older links stop working
            officer.agency_id, officer.name, officer.rank, officer.phone = agency.id, name, rank, phone
            officer.approval, officer.approved_by, officer.approved_at = "pending", None, None
        if pdf is not None:
            _store_authority(session, officer, pdf, agency.jurisdiction)
        _send_link(session, officer, base_url, mode, now)
        record(
            session,
            f"officer:{officer.id}",
            "legal.officer.register",
            "legal_officer",
            officer.id,
            {"agency_id": agency.id, "email": email, "rank": rank},
        )
        return _view(officer, agency.name)


def _store_authority(session: Session, officer: Officer, pdf: CheckedPdf, jurisdiction: str) -> None:
    ev = evidence.preserve(
        f"legal:officer:{officer.id}:authority:{pdf.sha256[:16]}",
        pdf.content,
        {"officer": officer.id, "email": officer.email, "document": pdf.filename, "sha256": pdf.sha256},
        [jurisdiction],
        f"officer:{officer.id}",
        session=session,
    )
    officer.authority_filename, officer.authority_sha256, officer.authority_evidence_id = pdf.filename, pdf.sha256, ev.id


def approve_officer(officer_id: int, actor: str, role: str, note: str = "", *, approve: bool = True) -> OfficerView:
    """The platform's legal team approves (or refuses, with a reason) an officer: the rank on the
    fixed list and the authorising document checked. Role ``legal`` only; approving needs the
    document on file. Refusing ends the officer's sessions."""
    if role != "legal":
        raise Forbidden("only the legal team approves officers")
    note = (note or "").strip()[:2000]
    if not approve and not note:
        raise OfficerError("say why the officer is refused")
    with session_scope() as session:
        row = _officer(session, officer_id)
        if approve and not row.authority_evidence_id:
            raise OfficerError("no authorising document is on file for this officer; ask them to register again with it")
        row.approval = "approved" if approve else "refused"
        row.approval_note, row.approved_by, row.approved_at = note or None, actor, utcnow()
        if not approve:
            session.execute(delete(OfficerSession).where(OfficerSession.officer_id == row.id))
        record(
            session,
            actor,
            "legal.officer.approve" if approve else "legal.officer.refuse",
            "legal_officer",
            row.id,
            {"email": row.email, "rank": row.rank, "document_sha256": row.authority_sha256, "note": note},
        )
        session.flush()
        return _view(row, session.get(Agency, row.agency_id).name)


def authority_document(officer_id: int, actor: str) -> tuple[str, bytes]:
    """The officer's authorising PDF for the legal team's review (an audited vault read)."""
    with session_scope() as session:
        row = _officer(session, officer_id)
        if not row.authority_evidence_id:
            raise NotFound(f"officer {officer_id} has no authorising document")
        evidence_id, filename = row.authority_evidence_id, row.authority_filename or "authority.pdf"
    return filename, evidence.read(evidence_id, actor, f"review of officer {officer_id}'s authorising document")


def require_approved(session: Session, officer_id: int) -> Officer:
    """The officer filing, if approved by the platform's legal team; Forbidden otherwise."""
    row = session.get(Officer, officer_id)
    if row is None or not row.active:
        raise Forbidden("this officer account is not active")
    if row.approval != "approved":
        raise Forbidden(
            "your registration is awaiting approval by the platform's legal team; you can file once it is approved"
            if row.approval == "pending"
            else "your registration was not approved by the platform's legal team; contact them"
        )
    return row


def _recent_messages(session: Session, email: str, now: dt.datetime) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OfficerNotification)
            .where(OfficerNotification.to_address == email, OfficerNotification.created_at > now - dt.timedelta(hours=1))
        )
        or 0
    )


def _send_link(session: Session, officer: Officer, base_url: str, mode: str, now: dt.datetime) -> None:
    """A fresh one-time link in the officer's outbox; older unused links stop working."""
    session.execute(
        update(OfficerToken).where(OfficerToken.officer_id == officer.id, OfficerToken.used_at.is_(None)).values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        OfficerToken(
            id=_sha(token),
            officer_id=officer.id,
            purpose="confirm",
            created_at=now,
            expires_at=now + dt.timedelta(hours=CONFIRM_HOURS),
        )
    )
    link = f"{base_url.rstrip('/')}/portal/confirm?token={token}"
    _notify(
        session,
        officer,
        "Suraksha portal: confirm your address",
        f"Open this link within {CONFIRM_HOURS} hours to set your password and authenticator: {link}",
        link,
        mode,
    )


def _notify(session: Session, officer: Officer, subject: str, body: str, link: str | None, mode: str) -> None:
    session.add(OfficerNotification(officer_id=officer.id, to_address=officer.email, subject=subject, body=body, link=link))
    if mode != "production":
        log.info("portal mail to %s: %s", officer.email, body)


def outbox(email: str | None = None, *, unsent_only: bool = False) -> list[NotificationView]:
    """Messages for officers' mailboxes (all, or one address's; ``unsent_only``: those the mail
    relay has not taken yet), oldest first."""
    with session_scope() as session:
        stmt = select(OfficerNotification).order_by(OfficerNotification.id)
        if email:
            stmt = stmt.where(OfficerNotification.to_address == email.strip().lower())
        if unsent_only:
            stmt = stmt.where(OfficerNotification.sent_at.is_(None))
        return [
            NotificationView(n.id, n.officer_id, n.to_address, n.subject, n.body, n.link, _aware(n.created_at))
            for n in session.scalars(stmt).all()
        ]


def mark_sent(notification_ids: list[int]) -> int:
    """The mail relay took these messages; returns how many were newly marked."""
    with session_scope() as session:
        rows = session.scalars(
            select(OfficerNotification).where(OfficerNotification.id.in_(notification_ids), OfficerNotification.sent_at.is_(None))
        ).all()
        now = utcnow()
        for n in rows:
            n.sent_at = now
        return len(rows)


def _live_token(session: Session, token: str) -> tuple[OfficerToken, Officer]:
    row = session.get(OfficerToken, _sha(token)) if token and len(token) < 200 else None
    if row is None or row.used_at is not None or _aware(row.expires_at) <= utcnow():
        raise OfficerError(
            "this confirmation link is not valid (used, replaced by a newer one, or expired); register again for a new one"
        )
    officer = session.get(Officer, row.officer_id)
    if officer is None or not officer.active:
        raise OfficerError("this account is deactivated")
    return row, officer


def check_confirmation(token: str) -> OfficerView:
    """The officer a live confirmation link belongs to (OfficerError otherwise)."""
    with session_scope() as session:
        _, officer = _live_token(session, token)
        return _view(officer, session.get(Agency, officer.agency_id).name)


def seal_totp_secret(officer_id: int, secret: str) -> str:
    """The stored (sealed) form of an officer's TOTP seed; ``OfficerError`` without a master key."""
    try:
        return totp.seal_secret(TABLE, officer_id, secret)
    except totp.TotpSealError as exc:
        raise OfficerError(str(exc)) from None


def set_password_and_begin_enrolment(token: str, password: str) -> Enrolment:
    """First half of confirming: the link proves the mailbox; set the password and get a new
    TOTP secret to add to an authenticator. The link stays usable until enrolment finishes (so
    a closed tab can start again), each time with a fresh secret."""
    staff_auth.validate_password(password)
    with session_scope() as session:
        _, officer = _live_token(session, token)
        officer.password_hash = staff_auth.hash_password(password)
        secret = totp.new_secret()
        officer.totp_secret = seal_totp_secret(officer.id, secret)
        officer.totp_last_step = None
        officer.email_confirmed_at = officer.email_confirmed_at or utcnow()
        record(session, f"officer:{officer.id}", "legal.officer.confirm", "legal_officer", officer.id, {"email": officer.email})
        return Enrolment(officer.email, secret)


def complete_enrolment(token: str, code: str) -> OfficerView:
    """Second half: a correct code from the new authenticator finishes set-up and uses up the
    link. Wrong codes count towards the lock-out like failed sign-ins (counted atomically before
    the check, as at sign-in), and the code is claimed once."""
    settings = get_auth_settings()
    with session_scope() as session:
        _, officer = _live_token(session, token)
        if officer.password_hash is None or officer.totp_secret is None:
            raise OfficerError("set your password first")
    now = utcnow()
    attempt = lockout.begin_attempt(
        Officer, officer.id, now=now, limit=settings.login_max_failures, lockout_minutes=settings.lockout_minutes
    )
    if attempt is None:
        raise OfficerError("too many wrong codes; try again later")
    step = totp.matching_step(totp.open_secret(TABLE, officer.id, officer.totp_secret), code)
    with session_scope() as session:
        if step is None or not totp.claim_step(session, Officer, officer.id, step):  # the staff TOTP rule, shared on purpose
            record(
                session,
                f"officer:{officer.id}",
                "legal.officer.enrol_failed",
                "legal_officer",
                officer.id,
                {"failures": attempt.failures},
            )
            session.commit()
            raise OfficerError("that code is not right; check the time on your phone and enter the current code")
        row, officer = _live_token(session, token)  # still live: a concurrent enrolment may have used it
        lockout.clear(session, Officer, officer.id, mfa_enrolled_at=now)
        row.used_at = now
        record(session, f"officer:{officer.id}", "legal.officer.enrol", "legal_officer", officer.id, {"email": officer.email})
        session.flush()
        session.refresh(officer)
        return _view(officer, session.get(Agency, officer.agency_id).name)


# ------------------------------------------------------------------------------------------ sign-in
def login(email: str, password: str, code: str, *, ip: str | None = None) -> str:
    """Password + TOTP; returns a new session token. Repeated failures lock the account for the
    staff lock-out period. Unconfirmed / unenrolled officers cannot sign in.

    The staff order (``suraksha.auth.service.login``): throttle (``LoginThrottled``), the attempt
    counted atomically (a locked account: no password checked), argon2 in a bounded slot, then the
    TOTP step claimed by a conditional update in the transaction that creates the session."""
    settings = get_auth_settings()
    email = (email or "").strip().lower()
    throttle = get_login_throttle()
    throttle.admit(ip, f"officer:{email[:320]}")
    with session_scope() as session:
        officer = session.scalar(select(Officer).where(Officer.email == email)) if email else None
    if officer is None or officer.password_hash is None:
        with throttle.hashing_slot():
            staff_auth.check_password(None, password or "x")  # same timing as a real check
        with session_scope() as session:
            record(
                session,
                "system:portal-login",
                "legal.officer.login_failed",
                "legal_officer",
                officer.id if officer else None,
                {"email": email[:320], "ip": ip, "reason": "unconfirmed" if officer else "unknown"},
            )
        raise OfficerLoginFailed(GENERIC_FAILURE)
    actor = f"officer:{officer.id}"
    now = utcnow()
    with throttle.hashing_slot():
        attempt = lockout.begin_attempt(
            Officer, officer.id, now=now, limit=settings.login_max_failures, lockout_minutes=settings.lockout_minutes
        )
        ok = attempt is not None and staff_auth.check_password(officer.password_hash, password)
    if attempt is None:
        with session_scope() as session:
            locked = _aware(session.scalar(select(Officer.locked_until).where(Officer.id == officer.id))) or now
            record(session, actor, "legal.officer.login_refused", "legal_officer", officer.id, {"reason": "locked", "ip": ip})
        minutes = max(1, int((locked - now).total_seconds() // 60) + 1)
        raise OfficerLoginFailed(
            f"account locked after repeated failures; try again in {minutes} minutes or ask the platform's legal team"
        )
    reason = None if ok else "password"
    step = None
    if ok and not officer.active:
        reason = "inactive"
    elif ok and officer.mfa_enrolled_at is None:
        reason = "not_enrolled"
    elif ok:
        step = totp.matching_step(totp.open_secret(TABLE, officer.id, officer.totp_secret), code)
        if step is None or (officer.totp_last_step is not None and step <= officer.totp_last_step):
            reason = "totp"
    with session_scope() as session:
        # The claim is the transaction's first write: of concurrent requests with one code, one wins.
        if reason is None and not totp.claim_step(session, Officer, officer.id, step):
            reason = "totp"
        if reason is not None:
            failures = attempt.failures
            if reason not in ("password", "totp"):  # the right password: not a guess, not counted
                lockout.give_back(session, Officer, attempt)
                failures -= 1
            record(
                session,
                actor,
                "legal.officer.login_failed",
                "legal_officer",
                officer.id,
                {"reason": reason, "ip": ip, "failures": failures},
            )
            session.commit()
            if reason == "inactive":
                raise OfficerLoginFailed("this account is deactivated; ask the platform's legal team")
            if reason == "not_enrolled":
                raise OfficerLoginFailed(
                    "your authenticator is not set up yet: open the confirmation link again (or register again for a new one)"
                )
            raise OfficerLoginFailed(GENERIC_FAILURE)
        values: dict = {"last_login_at": now}
        if totp.needs_reseal(officer.totp_secret):  # sealed under a rotated-out key
            values["totp_secret"] = seal_totp_secret(officer.id, totp.open_secret(TABLE, officer.id, officer.totp_secret) or "")
        lockout.clear(session, Officer, officer.id, **values)
        token = secrets.token_urlsafe(32)
        session.add(
            OfficerSession(
                id=_sha(token),
                officer_id=officer.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                last_seen_at=now,
                expires_at=now + dt.timedelta(hours=settings.session_max_hours),
                ip=(ip or "")[:64] or None,
            )
        )
        record(session, actor, "legal.officer.login", "legal_officer", officer.id, {"ip": ip})
        return token


def resolve_session(token: str | None) -> OfficerPrincipal | None:
    """The officer of a live portal session, or None (unknown, expired, idle, deactivated)."""
    if not token or len(token) > 200:
        return None
    settings = get_auth_settings()
    with session_scope() as session:
        row = session.get(OfficerSession, _sha(token))
        if row is None:
            return None
        now = utcnow()
        idle = now - _aware(row.last_seen_at)
        officer = session.get(Officer, row.officer_id)
        if (
            _aware(row.expires_at) <= now
            or idle > dt.timedelta(minutes=settings.session_idle_minutes)
            or officer is None
            or not officer.active
        ):
            session.delete(row)
            return None
        if idle > dt.timedelta(seconds=30):
            row.last_seen_at = now
        agency = session.get(Agency, officer.agency_id)
        return OfficerPrincipal(
            officer.id,
            officer.email,
            officer.name,
            officer.rank,
            agency.id,
            agency.name,
            agency.jurisdiction,
            agency.kind,
            row.csrf_token,
            row.id,
            officer.approval,
        )


def logout(token: str | None) -> None:
    if not token:
        return
    with session_scope() as session:
        row = session.get(OfficerSession, _sha(token))
        if row is not None:
            session.delete(row)
            record(session, f"officer:{row.officer_id}", "legal.officer.logout", "legal_officer", row.officer_id, {})


# ------------------------------------------------------------------------------- staff administration
def list_officers(agency_id: int | None = None) -> list[OfficerView]:
    with session_scope() as session:
        stmt = select(Officer, Agency.name).join(Agency, Agency.id == Officer.agency_id).order_by(Agency.name, Officer.email)
        if agency_id is not None:
            stmt = stmt.where(Officer.agency_id == agency_id)
        return [_view(o, name) for o, name in session.execute(stmt).all()]


def _officer(session: Session, officer_id: int) -> Officer:
    row = session.get(Officer, officer_id)
    if row is None:
        raise NotFound(f"no officer {officer_id}")
    return row


def set_active(officer_id: int, active: bool, actor: str) -> None:
    """Deactivate (sessions end at once) or reactivate an officer, e.g. one who left the agency."""
    with session_scope() as session:
        row = _officer(session, officer_id)
        row.active = active
        if not active:
            session.execute(delete(OfficerSession).where(OfficerSession.officer_id == row.id))
        record(
            session,
            actor,
            "legal.officer.activate" if active else "legal.officer.deactivate",
            "legal_officer",
            row.id,
            {"email": row.email},
        )


def reset_credentials(officer_id: int, actor: str, *, base_url: str = "", mode: str = "demo") -> None:
    """Lost phone or forgotten password: the password and authenticator are cleared, sessions
    end, and a new one-time link goes to the officer's (official) mailbox, so only the mailbox's
    owner sets them again."""
    with session_scope() as session:
        row = _officer(session, officer_id)
        row.password_hash = row.totp_secret = row.totp_last_step = row.mfa_enrolled_at = None
        row.failed_logins, row.locked_until = 0, None
        session.execute(delete(OfficerSession).where(OfficerSession.officer_id == row.id))
        _send_link(session, row, base_url, mode, utcnow())
        record(session, actor, "legal.officer.reset", "legal_officer", row.id, {"email": row.email})


def unlock(officer_id: int, actor: str) -> None:
    with session_scope() as session:
        row = _officer(session, officer_id)
        row.failed_logins, row.locked_until = 0, None
        record(session, actor, "legal.officer.unlock", "legal_officer", row.id, {"email": row.email})
