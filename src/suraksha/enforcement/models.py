"""Tables owned by enforcement. For now only the outbox the pipeline writes to.

The scan's finishing transaction inserts one ``OutboxMessage`` per action, report, review task or
preservation its verdict calls for; dispatchers (enforcement, reporting, review, evidence) deliver
them later with retries. ``dedupe_key`` is unique, so a scan finished twice (it is not, but a
crash-and-retry must not be able to) cannot enqueue anything twice.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")

OUTBOX_TOPICS = ("action", "report", "review", "preserve")


class OutboxMessage(Base):
    """Something to deliver outside the scan transaction (transactional outbox)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_dispatch", "topic", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(20))  # action | report | review | preserve
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)  # e.g. "42:action:remove"
    item_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    payload: Mapped[dict] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
