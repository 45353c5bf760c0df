"""Tables owned by the pipeline: the scan-job queue and backfill runs (items live in ``items/``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from suraksha.db.base import Base, JSONType, utcnow
from suraksha.db.types import BigId

JOB_STATES = ("queued", "running", "done", "failed")


class ScanJob(Base):
    """The scan queue: one job per item, leased by a worker; an expired lease is claimable again."""

    __tablename__ = "scan_jobs"
    __table_args__ = (
        Index("ix_scan_jobs_claim", "state", "available_at"),
        # The live jobs in claim order (migration p0003): claiming never walks the finished ones.
        Index(
            "ix_scan_jobs_live",
            "id",
            postgresql_where=text("state IN ('queued', 'running')"),
            sqlite_where=text("state IN ('queued', 'running')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(String(100), nullable=True, default=None)
    lease_expires_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    available_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)


BACKFILL_STATUSES = ("running", "finished", "stopped", "failed")


class BackfillRun(Base):
    """A ``suraksha backfill`` of one export file: its checkpoint and its counts.

    Updated in the same transaction as each batch of items it ingests, so after a crash the
    position says exactly which rows are stored and a rerun continues from there. Keyed by the
    file's content fingerprint (not its path), so a moved copy resumes and an edited file starts
    afresh.
    """

    __tablename__ = "backfill_runs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(Text)  # path as given on the latest run
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    format: Mapped[str] = mapped_column(String(10))  # jsonl | parquet
    status: Mapped[str] = mapped_column(String(12), default="running")
    position: Mapped[int] = mapped_column(BigInteger, default=0)  # lines (jsonl) / rows (parquet) done
    byte_offset: Mapped[int] = mapped_column(BigInteger, default=0)  # jsonl: where the next line starts
    total: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)  # bytes / rows
    rows_read: Mapped[int] = mapped_column(BigInteger, default=0)
    ingested: Mapped[int] = mapped_column(BigInteger, default=0)
    already_present: Mapped[int] = mapped_column(BigInteger, default=0)
    bad_rows: Mapped[int] = mapped_column(BigInteger, default=0)
    first_item_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)
    last_item_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, default=None)  # items: ids in [first, last]
    errors: Mapped[list] = mapped_column(JSONType, default=list)  # the first bad rows: {line, reason}
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(nullable=True, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True, default=None)
