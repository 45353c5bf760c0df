"""The outbox table: what a transaction asked to be done after it, delivered later with retries.

A scan's finishing transaction (and a rescan's) inserts one ``OutboxMessage`` per action, report,
review task or preservation its verdict calls for; ``suraksha.dispatch`` hands each topic to the
area that carries it out (``consume``). ``dedupe_key`` is unique, so a scan finished twice (it is
not, but a crash-and-retry must not be able to) cannot enqueue anything twice.

``status``: ``pending`` (due at ``next_attempt_at``) -> ``claimed`` (a dispatcher holds it until
``next_attempt_at``, its lease) -> ``delivered`` | ``skipped`` (can never be carried out; the reason
is in ``last_error``) | back to ``pending`` with a backoff after a failure | ``dead`` after
``SURAKSHA_OUTBOX_MAX_ATTEMPTS`` (an alert; ``suraksha outbox retry`` sends it again).

The PostgreSQL finishing statement of the scan queue (``pipeline.queue._PG_FINISH``) inserts rows in
SQL for speed: a column added here with no server default must be added there too.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, utcnow
from suraksha.db.types import BigId

TOPICS = ("action", "report", "review", "preserve")
STATUSES = ("pending", "claimed", "delivered", "skipped", "dead")
UNFINISHED = ("pending", "claimed", "dead")  # not carried out (yet): what waits on a message waits on these


class OutboxMessage(Base):
    """Something to deliver outside the transaction that decided it (transactional outbox)."""

    __tablename__ = "outbox_messages"
    __table_args__ = (Index("ix_outbox_messages_dispatch", "topic", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(20))  # one of TOPICS
    dedupe_key: Mapped[str] = mapped_column(String(300), unique=True)  # e.g. "42:action:remove"
    item_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    payload: Mapped[dict] = mapped_column(default=dict)  # type: ignore[type-arg]
    status: Mapped[str] = mapped_column(String(12), default="pending")  # one of STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # claims so far; the claim's fencing token
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # due time, or lease expiry when claimed
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
