"""Tables owned by reporting: reports to authorities and every change of their state.

A ``Report`` is one submission about one reported user and incident to one destination
(``ncmec``, ``in_police``, ``uk_nca``): subject ``account:7:incident:2``, gathering every item of
that account that was reported while the report was still a draft (``ReportItem``; an item
without an account is its own subject, ``item:42``). ``(destination, subject)`` is unique, and so
is ``(destination, item_id)`` in ``report_items``: an outbox message handled twice, or two
dispatchers racing, can never report an item twice. A later incident of the same account is a new
report that names the earlier ones (NCMEC ``priorCTReports``). Supplemental reports get their own
subject (``account:7:incident:2:supplemental:1``) and point at the first (``supplemental_to``).
``item_id`` is the first item of the report (kept for readers that look at one item).
Every state change is a ``ReportEvent`` written in the same transaction.

States: ``draft`` (waiting for something: the review decision the policy requires, the evidence)
-> ``queued`` (ready: the dispatcher files NCMEC reports; India/UK packages wait for a person to
send them) -> ``submitted`` (NCMEC: filing in progress; India/UK: sent through the portal, by
email or in person) -> ``finished`` (NCMEC finished the report; police/NCA acknowledged) or
``failed`` (retried at ``next_attempt_at`` unless ``gave_up``) or ``retracted`` (withdrawn).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, utcnow
from suraksha.db.types import BigId

REPORT_STATES = ("draft", "queued", "submitted", "finished", "failed", "retracted")
DESTINATIONS = ("ncmec", "in_police", "uk_nca")
DELIVERY_METHODS = ("portal", "email", "in_person")


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("destination", "subject", name="uq_reports_destination_subject"),
        Index("ix_reports_claim", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    destination: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(200))  # "account:7:incident:1", "item:42", "...:supplemental:1"
    item_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    supplemental_to: Mapped[int | None] = mapped_column(ForeignKey("reports.id"), nullable=True, default=None, index=True)
    state: Mapped[str] = mapped_column(String(12), default="draft")
    state_reason: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    gave_up: Mapped[bool] = mapped_column(Boolean, default=False)  # failed for good; alert raised
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)  # NCMEC reportId, portal ack no.
    request_id: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)  # NCMEC Request-ID of the last error
    package: Mapped[dict] = mapped_column(default=dict)  # India / UK: the package as built (JSON)
    extra_info: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)  # supplemental: what is new
    police_unit: Mapped[str | None] = mapped_column(String(300), nullable=True, default=None)
    fir_number: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    delivery_method: Mapped[str | None] = mapped_column(String(20), nullable=True, default=None)
    delivery_reference: Mapped[str | None] = mapped_column(String(300), nullable=True, default=None)
    created_by: Mapped[str] = mapped_column(String(200), default="system:pipeline")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    # the network (organised group) the reported account belongs to, as sent (NCMEC groupIdentifier)
    group_identifier: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    network: Mapped[dict | None] = mapped_column(nullable=True, default=None)  # members and links, as looked up


class ReportItem(Base):
    """An item that a report covers. ``excluded`` says why an item was left out after it joined
    (its review said it is not reportable); the row stays, so the record shows it was considered."""

    __tablename__ = "report_items"
    __table_args__ = (UniqueConstraint("destination", "item_id", name="uq_report_items_destination_item"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    destination: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int] = mapped_column(BigInteger)
    outbox_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    excluded: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


class ReportEvent(Base):
    """One state change of a report (or a note on it), with when, who and why."""

    __tablename__ = "report_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(12), nullable=True, default=None)
    to_state: Mapped[str] = mapped_column(String(12))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    details: Mapped[dict] = mapped_column(default=dict)
