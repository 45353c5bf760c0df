"""Evidence tables: preserved objects, legal holds on them, and their chain of custody.

Plaintext never reaches these tables: the record is stored encrypted and the media lives in an
encrypted blob file; what is stored in clear is what investigators need to match and verify
(SHA-256, MD5, size) and what retention needs (jurisdictions, dates). A purged object keeps its row
(a tombstone: hashes, dates, custody) but loses its wrapped data key and ciphertext.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, JSONType, utcnow
from suraksha.db.types import BigId

EVIDENCE_STATUSES = ("preserved", "purged")
CUSTODY_ACTIONS = ("capture", "read", "export", "verify", "hold", "release", "purge", "tamper_detected", "rekey")


class Evidence(Base):
    __tablename__ = "evidence"
    __table_args__ = (Index("ix_evidence_status_retention", "status", "retention_until"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random; never the media hash
    item_ref: Mapped[str] = mapped_column(String(200), index=True)
    status: Mapped[str] = mapped_column(String(12), default="preserved")
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    md5: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(32))
    wrapped_key: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    record_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    blob_name: Mapped[str] = mapped_column(String(100))
    jurisdictions: Mapped[list] = mapped_column(JSONType, default=list)
    captured_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    captured_by: Mapped[str] = mapped_column(String(200))
    retention_until: Mapped[dt.datetime] = mapped_column()
    purged_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)


class LegalHold(Base):
    """A hold on one object for one request; active while ``released_at`` is null."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    request_ref: Mapped[str] = mapped_column(String(200), index=True)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    released_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    released_by: Mapped[str | None] = mapped_column(String(200), nullable=True, default=None)
    release_reason: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


class CustodyEvent(Base):
    """Who did what to which object, when and why (the chain of custody)."""

    __tablename__ = "custody_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    evidence_id: Mapped[str] = mapped_column(ForeignKey("evidence.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSONType, default=dict)
