"""Tables owned by cases: review tasks, decisions, media reveals (exposure) and their one-time
original links, cases and their members."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.cases.categories import INDUSTRY_CLASSES
from suraksha.db.base import Base, JSONType, utcnow
from suraksha.db.types import BigId
from suraksha.policy.decisions import DECISION_CATEGORIES

__all__ = ["INDUSTRY_CLASSES"]

TASK_STATUSES = ("open", "second_review", "escalated", "done")
CATEGORIES = DECISION_CATEGORIES
STAGES = ("primary", "second", "senior", "appeal")
APPEAL_STATUSES = ("open", "upheld", "restored")


class ReviewTask(Base):
    """One item waiting in one review queue; created once per ``review`` outbox message."""

    __tablename__ = "review_tasks"
    __table_args__ = (
        UniqueConstraint("item_id", "queue", name="uq_review_tasks_item_queue"),
        Index("ix_review_tasks_queue_order", "status", "queue", "priority", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    queue: Mapped[str] = mapped_column(String(100))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="open")
    source_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, unique=True)
    reasons: Mapped[list] = mapped_column(JSONType, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_at: Mapped[dt.datetime] = mapped_column()
    escalated_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    escalation_note: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    pending_bank: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    final_decision_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)


class ReviewDecision(Base):
    """A reviewer's call on an item: category, industry class (CSAM), annotation, stage."""

    __tablename__ = "review_decisions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("review_tasks.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(BigInteger, index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20))
    industry_class: Mapped[str | None] = mapped_column(String(2), nullable=True, default=None)
    annotation: Mapped[str] = mapped_column(Text, default="")
    final: Mapped[bool] = mapped_column(default=False)
    bank: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    bank_result: Mapped[dict] = mapped_column(JSONType, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MediaReveal(Base):
    """A reviewer un-blurred one media: the daily exposure counter counts these."""

    __tablename__ = "media_reveals"
    __table_args__ = (Index("ix_media_reveals_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(BigInteger)
    media_position: Mapped[int] = mapped_column(Integer)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class MediaRevealToken(Base):
    """A one-time, short-lived right to fetch one media's original bytes, granted to the reviewer
    whose reveal was audited. Only the token's SHA-256 is stored; ``used_at`` is set by the one
    fetch it allows (an atomic update, so two fetches cannot both win)."""

    __tablename__ = "media_reveal_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    reveal_id: Mapped[int] = mapped_column(ForeignKey("media_reveals.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(BigInteger)
    media_position: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[dt.datetime] = mapped_column()
    used_at: Mapped[dt.datetime | None] = mapped_column(default=None)


class Case(Base):
    """The unit of human work around an incident."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | closed
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CaseItem(Base):
    __tablename__ = "case_items"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class CaseAccount(Base):
    __tablename__ = "case_accounts"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True, index=True)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Appeal(Base):
    """A user's appeal against a decision, submitted by the platform (``POST /v1/appeals``).

    One per item: it becomes a review task in the ``appeals`` queue for a reviewer who did not
    decide the original, and ends ``upheld`` or ``restored`` (with the restore action)."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), unique=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    platform_appeal_id: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    statement: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    original_decision_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    task_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    decided_by: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    note: Mapped[str] = mapped_column(Text, default="")
