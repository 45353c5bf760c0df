"""Audit tables: the events (append-only, hash-chained) and a one-row head.

The head row is both the lock that serializes appends on PostgreSQL (``SELECT ... FOR UPDATE``)
and the witness of the chain's end: it stores the last ``seq`` and ``hash``, so deleting the newest
events is detected as well as deleting or editing older ones.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, JSONType, utcnow
from suraksha.db.types import BigId

GENESIS_HASH = "0" * 64
HEAD_ID = 1


class AuditEvent(Base):
    """One access or decision. Never updated or deleted (database triggers refuse both)."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)
    actor_type: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str | None] = mapped_column(String(50), nullable=True)
    object_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's last link: ``seq`` and ``hash`` of the newest event (``seq`` 0 when empty)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger, default=0)
    hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
