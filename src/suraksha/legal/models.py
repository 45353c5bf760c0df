"""Tables owned by legal: agencies, legal requests and everything hanging off one request.

A ``LegalRequest`` is one incoming order, request or complaint (types come from the jurisdiction
profile: ``takedown_order``, ``data_request``, ...). Its clock (``due_at``) is computed once at
intake from the profile and the order's own deadline. Child rows say what it concerns
(``LegalTarget``), what data it asks for (``LegalDataPoint``), whether it may be worked on
(``LegalCheck``), what came with it (``LegalDocument``, stored in the evidence vault), reminders
received (``LegalReminder``), escalations sent (``LegalNotification``), the signed answers
(``Disclosure``) and every step taken (``LegalEvent``, mirrored in the hash-chained audit log).

Officers are the portal's (``legal/officers.py``, migration ``l0002``); a request keeps the
officer's id and, denormalised, the name / rank / email as filed, so the record of who asked
stays true even if the officer's account later changes.

No foreign keys leave this area: items, accounts, evidence and actions are referred to by id,
because a request must outlive the purge of what it concerns (the record of the order is kept).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, JSONType, utcnow
from suraksha.db.types import BigId

AGENCY_KINDS = ("police", "court", "government", "commission", "ngo", "user")
ISSUER_KINDS = ("court", "government", "police", "commission", "ngo", "user")
CHANNELS = ("portal", "staff", "email", "paper")
# received: checks not (all) passed yet; in_progress: checks passed, work may start;
# approved: the answer passed legal review; answered: the answer went out (order executed,
# disclosure delivered); rejected: refused with a reason (invalid order); closed: nothing more to do.
REQUEST_STATUSES = ("received", "in_progress", "approved", "answered", "rejected", "closed")
OPEN_STATUSES = ("received", "in_progress", "approved")
TARGET_KINDS = ("account", "url", "item")
DATA_POINT_KEYS = ("subscriber_data", "ip_logs", "content_urls", "server_details", "linked_accounts", "content_media")
DATA_POINT_STATUSES = ("pending", "found", "withheld", "unavailable")
CHECK_KEYS = ("agency", "rank", "legal_basis", "document")
NOTIFICATION_LEVELS = ("nodal", "compliance")


class Agency(Base):
    """An organisation that may send requests: a police unit, court, ministry, commission, NGO."""

    __tablename__ = "legal_agencies"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    jurisdiction: Mapped[str] = mapped_column(String(2), default="in")
    email_domains: Mapped[list] = mapped_column(JSONType, default=list)  # ["mhpolice.gov.in"]
    created_by: Mapped[str] = mapped_column(String(200), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LegalRequest(Base):
    __tablename__ = "legal_requests"
    __table_args__ = (Index("ix_legal_requests_open_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)  # LR-2026-000123
    type: Mapped[str] = mapped_column(String(40))
    jurisdiction: Mapped[str] = mapped_column(String(2))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("legal_agencies.id"), nullable=True, default=None, index=True)
    officer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    officer_name: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    officer_rank: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    officer_email: Mapped[str | None] = mapped_column(String(320), nullable=True, default=None)
    issuer_kind: Mapped[str] = mapped_column(String(20))
    rank_exception: Mapped[bool] = mapped_column(Boolean, default=False)  # e.g. Director, no JS appointed
    case_number: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)  # FIR / case no.
    legal_basis: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    summary: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    order_deadline: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    due_at: Mapped[dt.datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="received")
    status_reason: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    channel: Mapped[str] = mapped_column(String(10), default="staff")
    period_from: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    period_to: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    answer: Mapped[dict] = mapped_column(default=dict)  # what was done and when (orders); summary (disclosures)
    approved_by: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    approved_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LegalTarget(Base):
    """One account, URL or item a request concerns, and (for orders) the action taken on it."""

    __tablename__ = "legal_targets"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(Text)  # as the officer wrote it: platform account id, URL, item id
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    item_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    action_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    action_kind: Mapped[str | None] = mapped_column(String(30), nullable=True, default=None)
    outcome: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    # Done: when the platform acknowledged every action (``done_source`` platform), or when legal
    # staff recorded an action taken outside Suraksha (manual: what, when, by whom, evidence).
    done_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    action_ids: Mapped[list | None] = mapped_column(JSONType, nullable=True, default=None)  # every action waited on
    done_source: Mapped[str | None] = mapped_column(String(12), nullable=True, default=None)  # platform | manual
    done_by: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    done_what: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    done_evidence: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


class LegalDataPoint(Base):
    """One data point a data request asks for, what was found, or why it is not given."""

    __tablename__ = "legal_data_points"
    __table_args__ = (UniqueConstraint("request_id", "key", name="uq_legal_data_points_request_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    sources: Mapped[list] = mapped_column(JSONType, default=list)  # ["suraksha", "connector"]
    data: Mapped[list] = mapped_column(JSONType, default=list)  # rows (dicts) for the CSV / JSON
    reason: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    updated_by: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LegalCheck(Base):
    """One verification check before work starts; a failure can be answered or overridden."""

    __tablename__ = "legal_checks"
    __table_args__ = (UniqueConstraint("request_id", "key", name="uq_legal_checks_request_key"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    answer_note: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    answered_by: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    answered_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    checked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LegalDocument(Base):
    """A PDF that came with a request or a reminder; the bytes live (encrypted) in the vault."""

    __tablename__ = "legal_documents"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="order")  # order | reminder | other
    filename: Mapped[str] = mapped_column(String(300))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    evidence_id: Mapped[str] = mapped_column(String(32))
    uploaded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class LegalReminder(Base):
    """A reminder received from the requester (logged; the portal shows them on the request)."""

    __tablename__ = "legal_reminders"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    officer_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    channel: Mapped[str] = mapped_column(String(10), default="portal")
    note: Mapped[str] = mapped_column(Text)
    document_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    recorded_by: Mapped[str] = mapped_column(String(200))


class LegalNotification(Base):
    """An escalation sent before breach (one per request and level); stored, not emailed."""

    __tablename__ = "legal_notifications"
    __table_args__ = (UniqueConstraint("request_id", "level", name="uq_legal_notifications_request_level"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    level: Mapped[str] = mapped_column(String(12))
    recipients: Mapped[list] = mapped_column(JSONType, default=list)
    threshold: Mapped[float] = mapped_column()
    message: Mapped[str] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Disclosure(Base):
    """A signed package answering a request; the ZIP is kept encrypted in the evidence vault."""

    __tablename__ = "legal_disclosures"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    evidence_id: Mapped[str] = mapped_column(String(32))
    public_key: Mapped[str] = mapped_column(String(100))  # base64 raw Ed25519 public key that signed it
    manifest: Mapped[dict] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    downloads: Mapped[int] = mapped_column(Integer, default=0)
    last_downloaded_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)


class LegalEvent(Base):
    """Every step on a request, in order: the request's own history (also in the audit log)."""

    __tablename__ = "legal_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("legal_requests.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(50))
    details: Mapped[dict] = mapped_column(default=dict)
