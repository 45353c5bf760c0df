"""Tables owned by enforcement: actions to the platform, the items that led to them, their deliveries.

Actions come from ``action`` outbox messages (``actions.take_action_message``, wired by
``suraksha.dispatch``), from people (``request_action``) and from network suspensions
(``networks.suspend``); the outbox table itself belongs to ``suraksha.outbox``.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, utcnow
from suraksha.db.types import BigId
from suraksha.policy.actions import ActionKind

# --------------------------------------------------------------------------- actions
#: The platform actions (``policy.actions.ActionKind``): a row's ``kind`` is the same name a verdict uses.
ACTION_KINDS: tuple[str, ...] = tuple(k.value for k in ActionKind if k.on_platform)
ACTION_STATUSES = ("pending", "delivering", "acknowledged", "failed", "dead")


class Action(Base):
    """One effect on the platform, delivered to its connector until acknowledged.

    ``idempotency_key`` is unique and travels in every delivery of this action, so the platform can
    ignore a repeat (a retry after a lost answer, a dispatcher killed after sending). A suspension
    triggered by several items of one account is one row (key per account, not per item); the items
    are listed in ``action_items``. ``status``: pending (never tried) -> delivering (claimed by a
    dispatcher, with a lease) -> acknowledged, or failed (retry at ``next_attempt_at``) -> ... ->
    dead after ``SURAKSHA_ACTION_MAX_ATTEMPTS`` (``alert`` set) until someone retries it.
    """

    __tablename__ = "actions"
    __table_args__ = (Index("ix_actions_claim", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(30))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    item_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    account_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    platform_item_id: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    platform_account_id: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    country: Mapped[str | None] = mapped_column(String(2), nullable=True, default=None)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(default=dict)  # rule, labels, message for notify_user, ...
    source: Mapped[str] = mapped_column(String(20), default="outbox")  # outbox | network | manual
    requested_by: Mapped[str] = mapped_column(String(200), default="system:pipeline")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    alert: Mapped[bool] = mapped_column(Boolean, default=False, index=True)  # dead-lettered, not yet retried
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)


class ActionItem(Base):
    """Which items (and outbox messages) led to an action: a suspension collapses many."""

    __tablename__ = "action_items"

    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    outbox_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ActionDelivery(Base):
    """One attempt to deliver an action: written when it starts (``in_flight``), completed after.

    An attempt whose dispatcher died stays ``in_flight`` until the action is claimed again; it is
    then marked ``abandoned`` (its outcome is unknown: the platform may have acted, and dedupes the
    retry by the idempotency key).
    """

    __tablename__ = "action_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    dispatcher: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    outcome: Mapped[str] = mapped_column(String(20), default="in_flight")  # in_flight | acknowledged | error | abandoned
    http_status: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    response: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)  # first 500 chars
