"""The shared core: accounts, items, their media (signals, not bytes), matches and scores.

Every area reads these; the pipeline writes them (ingest, scan, backfill, rescan). Signals are
kept, media bytes are not: a rescan (new bank entries, retroactive matching) needs only the stored
hashes. Inline bytes wait in ``pending_media`` until their item is scanned, then are deleted in the
same transaction that records the verdict, unless the verdict says ``preserve``: then the row stays
with ``held_for_evidence=True`` for the evidence vault to take.

The tables were created by the pipeline's migrations (p0001…p0005), which stay where they are so
existing databases upgrade unchanged; new migrations of these tables go in this area's ``i`` branch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from suraksha.db.base import Base, JSONType, utcnow
from suraksha.db.types import BigId

ITEM_STATUSES = ("queued", "scanning", "done", "failed")


class Account(Base):
    """A platform account; every item links to one, so an account's history is one query."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    platform_account_id: Mapped[str] = mapped_column(String(200), unique=True)
    handle: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    first_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[dt.datetime] = mapped_column(default=utcnow)

    items: Mapped[list[Item]] = relationship(back_populates="account")


class Item(Base):
    """One piece of platform content submitted for scanning, and its verdict once scanned."""

    __tablename__ = "items"
    __table_args__ = (
        Index("ix_items_account_created", "account_id", "created_at"),
        # One item per platform item (i0001): a resend answers with the stored item. Duplicates
        # stored before the index existed keep their rows, marked ``duplicate_of`` the oldest.
        Index(
            "uq_items_platform_item",
            "platform",
            "platform_id",
            unique=True,
            sqlite_where=text("duplicate_of IS NULL"),
            postgresql_where=text("duplicate_of IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Which platform the item comes from (the request's ``platform``, "default" when one platform
    # uses this install); with ``platform_id`` it names the item: one row per pair.
    platform: Mapped[str] = mapped_column(String(100), default="default", server_default="default")
    platform_id: Mapped[str] = mapped_column(String(200), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default="post")
    text: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
    links: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    context: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True, default=None)
    # SHA-256 of the canonical request (ingest.request_fingerprint): a resend with another body under
    # the same idempotency key or platform item id is refused (409) instead of answered as this item.
    # NULL for items stored before p0004 and for backfilled ones: a resend of those is answered.
    request_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    # Set (by migration i0001 only) on an item stored twice under one platform item id before the
    # unique index: the id of the oldest, which the index keeps. Such rows stay for their history.
    duplicate_of: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)  # original time (context.created_at)
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    retroactive: Mapped[bool] = mapped_column(Boolean, default=False)
    verdict: Mapped[str | None] = mapped_column(String(10), nullable=True, default=None, index=True)
    rule: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    reasons: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    actions: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # ActionRequest texts: "remove_item", "report:ncmec"
    # The verdict's facts (policy.model.Fact.to_json): which kinds of condition fired, with their
    # details. Transparency counts these, never the words of ``reasons``. NULL until scanned (and for
    # items scanned before p0005 whose reasons were empty); migration p0005 filled it from reasons.
    facts: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True)
    text_hits: Mapped[list[Any]] = mapped_column(JSONType, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    scanned_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)

    account: Mapped[Account | None] = relationship(back_populates="items")
    media: Mapped[list[ItemMedia]] = relationship(order_by="ItemMedia.position", passive_deletes=True)


class ItemMedia(Base):
    """One media of an item: where it came from and, once scanned, its signals (or why not)."""

    __tablename__ = "item_media"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # index in the submitted media list
    source_url: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)  # None: inline bytes
    mime: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    kind: Mapped[str | None] = mapped_column(String(10), nullable=True, default=None)  # image | video
    sha256: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None, index=True)
    md5: Mapped[str | None] = mapped_column(String(32), nullable=True, default=None)
    pdq: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)
    pdq_quality: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    vpdq: Mapped[list[Any] | None] = mapped_column(JSONType, nullable=True, default=None)
    error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


class PendingMedia(Base):
    """Media bytes waiting for their scan (inline uploads), or held for the evidence vault.

    In the database, not on a local disk, so a worker on any machine can scan any item. Rows are
    deleted in the scan's finishing transaction unless the verdict asks to preserve the media; then
    ``held_for_evidence`` is set (URL-fetched bytes are added here too) and the evidence area takes
    them from here.
    """

    __tablename__ = "pending_media"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    held_for_evidence: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class ItemMatch(Base):
    """A signal of an item (a media's hash, a link, its text) that hit a bank entry."""

    __tablename__ = "item_matches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    media_position: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)  # None: link/text
    bank: Mapped[str] = mapped_column(String(100))
    bank_id: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    label: Mapped[str] = mapped_column(String(50), index=True)
    signal_type: Mapped[str] = mapped_column(String(16))
    signal: Mapped[str] = mapped_column(Text)
    entry_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None, index=True)
    distance: Mapped[int] = mapped_column(Integer, default=0)
    transform: Mapped[str | None] = mapped_column(String(30), nullable=True, default=None)
    # True for a match found by ``suraksha rescan`` after the item was scanned (p0002).
    retroactive: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    matched_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)  # None: at scanned_at


class ItemScore(Base):
    """A classifier's output for one media of an item."""

    __tablename__ = "item_scores"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    media_position: Mapped[int | None] = mapped_column(Integer, nullable=True, default=None)
    classifier: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    value: Mapped[float] = mapped_column()


class ItemCount(Base):
    """Per-day counters of items that left no item row (findings-only storage, i0002).

    With ``SURAKSHA_FINDINGS_ONLY`` a benign item is scanned and forgotten: what remains is one
    increment here (per UTC day, platform and kind), so transparency can still say how many items
    were scanned in a period. Items with a finding are stored in full and counted from their rows.
    """

    __tablename__ = "item_counts"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    platform: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    benign: Mapped[int] = mapped_column(BigInteger, default=0)
