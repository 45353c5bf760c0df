"""Tables owned by the matching area: banks, their entries, the change log and exchange checkpoints."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, utcnow
from suraksha.db.types import BigId


class Bank(Base):
    """A named set of signals with a label; a negative bank suppresses matches."""

    __tablename__ = "banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    label: Mapped[str] = mapped_column(String(50))
    negative: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=31)
    match_transforms: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(String(200), default="local")
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    entries: Mapped[list[BankEntry]] = relationship(back_populates="bank", passive_deletes=True)


class BankEntry(Base):
    """One signal in a bank (a hash, a canonical URL, a domain...), with free-form metadata."""

    __tablename__ = "bank_entries"
    __table_args__ = (
        UniqueConstraint("bank_id", "signal_type", "signal", name="uq_bank_entries_bank_signal"),
        Index("ix_bank_entries_signal", "signal_type", "signal"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal: Mapped[str] = mapped_column(Text)
    extra: Mapped[dict] = mapped_column("metadata", default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    bank: Mapped[Bank] = relationship(back_populates="entries")


class MatchingChange(Base):
    """Append-only log of entry changes; every matcher process tails it to stay current in < 1 s."""

    __tablename__ = "matching_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(BigInteger, index=True)
    bank_id: Mapped[int] = mapped_column(Integer)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal: Mapped[str] = mapped_column(Text)
    op: Mapped[str] = mapped_column(String(8))  # "add" | "remove"
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ExchangeCheckpoint(Base):
    """Where an incremental fetch from an exchange (NCMEC, StopNCII, ThreatExchange, file) left off."""

    __tablename__ = "exchange_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(ForeignKey("banks.id", ondelete="CASCADE"), unique=True)
    exchange: Mapped[str] = mapped_column(String(50))
    config: Mapped[dict] = mapped_column(default=dict)
    checkpoint: Mapped[dict] = mapped_column(default=dict)
    fetched_at: Mapped[dt.datetime | None] = mapped_column(default=None, nullable=True)
    entries_fetched: Mapped[int] = mapped_column(Integer, default=0)
