"""Backfill: scan a platform's history from an export file, resumably, on the worker pool.

The export is streamed (``pipeline.exports``) in batches. Each batch is ONE transaction: its
items, their media and scan jobs (validated and stored by ``pipeline.ingest``'s functions, so a
backfilled item is what ``POST /v1/items`` would have stored, in one statement per table per
batch) and the run's checkpoint row
(``backfill_runs``: position, byte offset, counts, the first bad rows). A crash, ``kill -9`` or
Ctrl-C therefore loses at most the batch in hand, and a rerun continues after the last committed
row: nothing is read twice into the counts and nothing is stored twice. A second guard makes
that hold even across different export files: every backfilled item has the idempotency key
``backfill:<platform id>`` and a row whose key or platform id is already stored is counted as
"already present" and skipped.

Items keep their original ``created_at`` (``context.created_at``, required) and are marked
``retroactive``, so statistics put them in the period the content was posted and tell them from
live ingestion. Scanning is done by the ordinary workers (in this process with ``workers``, and
any ``suraksha worker`` elsewhere); ``wait_for_scans`` follows them until the run's items are done.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import and_, case, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from suraksha.config import get_settings
from suraksha.db import session_scope, utcnow
from suraksha.db.sql import dialect_name, insert_ignoring_conflicts
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.items.models import Account, Item, ItemMatch, ItemMedia, PendingMedia
from suraksha.pipeline import exports, ingest, queue, wakeups
from suraksha.pipeline.models import BackfillRun, ScanJob

MAX_ERRORS_KEPT = 100  # bad rows listed in the run row (all are counted)
BATCH_BYTES = 32 << 20  # a batch is committed early once its inline media reach this size


class BackfillConflict(Conflict, RuntimeError):
    """Another process moved this export's checkpoint: two backfills of one file at once."""


@dataclass(frozen=True)
class BadRowReport:
    line: int
    reason: str


@dataclass
class Progress:
    """What a progress display needs after each batch."""

    done: int  # bytes (JSONL) or rows (Parquet) read, of `total`
    total: int | None
    rows_read: int  # in this invocation
    ingested: int
    bad_rows: int
    waiting: bool = False  # reading is paused: the scan queue is full (see ``max_queued``)


@dataclass
class BackfillSummary:
    """The run's counts (cumulative over every attempt) and this invocation's timing."""

    run_id: int
    source: str
    format: str
    status: str  # running | finished | stopped
    resumed_from_line: int
    position: int
    rows_read: int
    ingested: int
    already_present: int
    bad_rows: int
    errors: list[dict[str, Any]] = field(default_factory=list)
    matched: int = 0
    verdicts: dict[str, int] = field(default_factory=dict)
    pending_scans: int = 0
    failed_scans: int = 0
    rows_read_now: int = 0  # by this invocation (a resumed run read the rest before)
    read_s: float = 0.0  # reading and ingesting, by this invocation
    elapsed_s: float = 0.0  # reading, ingesting and (unless --no-wait) waiting for the scans
    items_per_s: float = 0.0  # rows_read_now per second of elapsed_s

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Batch:
    items: list[ingest._Prepared] = field(default_factory=list)
    bad: list[BadRowReport] = field(default_factory=list)
    rows: int = 0
    inline_bytes: int = 0
    position: int = 0
    offset: int = 0


# ---------------------------------------------------------------- the run row
def open_run(path: Path, fmt: str | None = None) -> BackfillRun:
    """The checkpoint row of this export (created on the first run, found by fingerprint after)."""
    if not path.is_file():
        raise FileNotFoundError(2, "No such file", str(path))
    fmt = exports.detect_format(path, fmt)
    fp = exports.fingerprint(path)
    total = exports.total_of(path, fmt)
    now = utcnow()
    with session_scope() as session:
        insert_ignoring_conflicts(
            session,
            BackfillRun.__table__,
            [
                {
                    "source": str(path),
                    "fingerprint": fp,
                    "format": fmt,
                    "status": "running",
                    "position": 0,
                    "byte_offset": 0,
                    "total": total,
                    "rows_read": 0,
                    "ingested": 0,
                    "already_present": 0,
                    "bad_rows": 0,
                    "errors": [],
                    "started_at": now,
                    "updated_at": now,
                }
            ],
            ["fingerprint"],
        )
        run = session.scalars(select(BackfillRun).where(BackfillRun.fingerprint == fp)).one()
        if run.format != fmt:
            raise InvalidInput(f"this file was backfilled before as {run.format}, not {fmt}")
        run.source = str(path)
        session.flush()
        session.expunge(run)
    return run


def _rows(run: BackfillRun, path: Path, max_line_bytes: int) -> Iterator[exports.Row]:
    if run.format == "parquet":
        return exports.iter_parquet(path, start_row=run.position)
    return exports.iter_jsonl(path, start_line=run.position, start_offset=run.byte_offset, max_line_bytes=max_line_bytes)


# ---------------------------------------------------------------- one batch, one transaction
def _commit_batch(run_id: int, expected_position: int, batch: _Batch, *, status: str = "running") -> tuple[int, int]:
    """Store the batch's new items and move the checkpoint, together; returns (ingested, already present)."""
    now = utcnow()
    with session_scope() as session:
        present = _already_present(session, batch.items)
        new: list[ingest._Prepared] = []
        for prep in batch.items:
            p = prep.payload
            if p.idempotency_key in present or p.platform_id in present:
                continue
            present.update((p.idempotency_key, p.platform_id))
            new.append(prep)
        skipped = len(batch.items) - len(new)
        ids = _store_many(session, new)
        errors = session.scalar(select(BackfillRun.errors).where(BackfillRun.id == run_id)) or []
        room = MAX_ERRORS_KEPT - len(errors)
        if room > 0 and batch.bad:
            errors = [*errors, *({"line": b.line, "reason": b.reason} for b in batch.bad[:room])]
        values: dict[str, Any] = {
            "position": batch.position,
            "byte_offset": batch.offset,
            "status": status,
            "updated_at": now,
            "rows_read": BackfillRun.rows_read + batch.rows,
            "ingested": BackfillRun.ingested + len(ids),
            "already_present": BackfillRun.already_present + skipped,
            "bad_rows": BackfillRun.bad_rows + len(batch.bad),
            "errors": errors,
            "last_error": None,
        }
        if ids:
            values["first_item_id"] = func.coalesce(BackfillRun.first_item_id, min(ids))
            values["last_item_id"] = max(ids)
        if status == "finished":
            values["finished_at"] = now
        moved = session.execute(
            update(BackfillRun)
            .where(BackfillRun.id == run_id, BackfillRun.position == expected_position)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount
        if moved != 1:
            raise BackfillConflict("another backfill of this export is running (its checkpoint moved); run one backfill per file")
    if ids:
        queue.notify_new_work()
    return len(ids), skipped


def _item_row(prep: ingest._Prepared, now: dt.datetime) -> dict[str, Any]:
    """The item's columns as ``submit_item`` stores them, with its original time, marked retroactive."""
    p = prep.payload
    return {
        "platform_id": p.platform_id,
        "kind": p.kind,
        "text": p.text,
        "links": list(p.links),
        "context": p.context.model_dump(mode="json", exclude_none=True),
        "idempotency_key": p.idempotency_key,
        "status": "queued",
        "created_at": p.context.created_at or now,
        "received_at": now,
        "retroactive": True,
        "reasons": [],
        "actions": [],
        "text_hits": [],
        "priority": 0,
    }


def _store_many(session: Session, preps: list[ingest._Prepared]) -> list[int]:
    """The batch's items, media, inline bytes and scan jobs: ``ingest``'s rows, one statement per table.

    Validated by ``ingest._prepare`` as any submit is; ``_item_row`` is the stored shape.
    Accounts take the earliest and latest ``created_at`` of their items as first/last seen (kept
    if already earlier/later), so a backfilled account's history starts when it posted.
    """
    if not preps:
        return []
    now = utcnow()
    values = [_item_row(p, now) for p in preps]
    seen: dict[str, dict[str, Any]] = {}
    for p, v in zip(preps, values):
        if p.payload.account is not None:
            t = v["created_at"]
            a = seen.setdefault(
                p.payload.account.id,
                {"platform_account_id": p.payload.account.id, "handle": None, "first_seen": t, "last_seen": t},
            )
            a["handle"] = p.payload.account.handle or a["handle"]
            a["first_seen"], a["last_seen"] = min(a["first_seen"], t), max(a["last_seen"], t)
    accounts: dict[str, int] = {}
    if seen:
        insert_fn = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
        stmt = insert_fn(Account).values(list(seen.values()))
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["platform_account_id"],
            set_={
                "handle": func.coalesce(ex.handle, Account.handle),
                "first_seen": case((ex.first_seen < Account.first_seen, ex.first_seen), else_=Account.first_seen),
                "last_seen": case((ex.last_seen > Account.last_seen, ex.last_seen), else_=Account.last_seen),
            },
        ).returning(Account.id, Account.platform_account_id)
        accounts = {pid: aid for aid, pid in session.execute(stmt)}
    for p, v in zip(preps, values):
        v["account_id"] = accounts[p.payload.account.id] if p.payload.account else None
    items = Item.__table__
    ids = list(session.scalars(insert(items).returning(items.c.id, sort_by_parameter_order=True), values))
    media, pending = [], []
    for item_id, p in zip(ids, preps):
        for n, (m, data) in enumerate(zip(p.payload.media, p.inline)):
            media.append(
                {
                    "item_id": item_id,
                    "position": n,
                    "source_url": m.url,
                    "mime": m.mime,
                    "size": len(data) if data is not None else None,
                }
            )
            if data is not None:
                pending.append({"item_id": item_id, "position": n, "data": data, "held_for_evidence": False, "created_at": now})
    if media:
        session.execute(insert(ItemMedia.__table__), media)
    if pending:
        session.execute(insert(PendingMedia.__table__), pending)
    session.execute(
        insert(ScanJob.__table__),
        [{"item_id": i, "state": "queued", "attempts": 0, "available_at": now, "created_at": now} for i in ids],
    )
    if dialect_name(session) == "postgresql":
        # Delivered at commit: idle workers in other processes wake now, not at their next poll.
        session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": wakeups.NEW_WORK})
    return ids


def _already_present(session: Session, items: list[ingest._Prepared]) -> set[str]:
    """Keys and platform ids of this batch that are stored already (by a backfill or live ingest)."""
    if not items:
        return set()
    keys = [p.payload.idempotency_key for p in items]
    pids = list({p.payload.platform_id for p in items})
    found = set(session.scalars(select(Item.idempotency_key).where(Item.idempotency_key.in_(keys))))
    found |= set(session.scalars(select(Item.platform_id).where(Item.platform_id.in_(pids))))
    return found


def _mark(run_id: int, status: str, error: str | None = None) -> None:
    with session_scope() as session:
        session.execute(
            update(BackfillRun).where(BackfillRun.id == run_id).values(status=status, last_error=error, updated_at=utcnow())
        )


# ---------------------------------------------------------------- the run
def run_backfill(
    source: str | Path,
    *,
    fmt: str | None = None,
    batch_size: int = 500,
    max_errors: int = 100,
    max_line_bytes: int | None = None,
    on_bad_row: Callable[[BadRowReport], None] | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    on_start: Callable[[BackfillRun], None] | None = None,
    max_queued: int = 2000,
    media_root: str | Path | None = None,
) -> BackfillSummary:
    """Read the export from its checkpoint to the end (or until more than ``max_errors`` bad rows).

    Reading pauses while more than ``max_queued`` scan jobs wait (0: never pauses): live items
    are then never queued behind a whole history, and the queue stays short enough to claim from
    cheaply. With no worker running, a backfill of more than ``max_queued`` items waits for one.
    Media ``path``s must lie inside ``media_root`` (default: the export's folder).

    Returns the run's summary with status ``finished`` or ``stopped`` (too many bad rows; a rerun
    with a larger ``max_errors`` continues after the row that stopped it). The items are queued
    for scanning; ``wait_for_scans`` follows that and ``summarize`` counts the verdicts.
    """
    if batch_size < 1:
        raise InvalidInput("batch size must be at least 1")
    if max_errors < 0:
        raise InvalidInput("--max-errors must be 0 or more")
    if max_queued < 0:
        raise InvalidInput("--max-queued must be 0 or more")
    path = Path(source)
    settings = get_settings()
    max_media = settings.max_media_bytes
    max_line_bytes = max_line_bytes or max_media * 4 // 3 + (1 << 20)
    started = time.monotonic()
    run = open_run(path, fmt)
    resumed_from = run.position
    if on_start:
        on_start(run)
    if run.status == "finished":
        return summarize(run.id, resumed_from_line=resumed_from)
    base_dir = path.resolve().parent
    root = Path(media_root).resolve() if media_root else base_dir
    if not root.is_dir():
        raise InvalidInput(f"--media-root {str(media_root)!r} is not a folder")
    position, bad_total, read_here, ingested_here = run.position, run.bad_rows, 0, 0
    status = "running"
    batch = _Batch(position=run.position, offset=run.byte_offset)

    def pace(batch: _Batch) -> None:
        if max_queued and batch.items:
            _wait_for_room(
                max_queued - len(batch.items),
                lambda: (
                    on_progress
                    and on_progress(Progress(_done(run, batch), run.total, read_here, ingested_here, bad_total, waiting=True))
                ),
            )

    try:
        for row in _rows(run, path, max_line_bytes):
            batch.rows += 1
            batch.position, batch.offset = row.position, row.offset
            reason = row.error
            if reason is None:
                try:
                    prep = ingest._prepare(
                        exports.to_item(row.data or {}, base_dir=base_dir, max_media_bytes=max_media, media_root=root)
                    )
                except (exports.BadRow, ingest.IngestError) as exc:
                    reason = str(exc)
                else:
                    batch.items.append(prep)
                    batch.inline_bytes += sum(len(d) for d in prep.inline if d)
            if reason is not None:
                report = BadRowReport(row.line, reason)
                batch.bad.append(report)
                bad_total += 1
                if on_bad_row:
                    on_bad_row(report)
                if bad_total > max_errors:
                    status = "stopped"
                    break
            if batch.rows >= batch_size or batch.inline_bytes >= BATCH_BYTES:
                pace(batch)
                ingested_here += _commit_batch(run.id, position, batch)[0]
                read_here += batch.rows
                position = batch.position
                batch = _Batch(position=position, offset=batch.offset)
                if on_progress:
                    on_progress(Progress(_done(run, batch), run.total, read_here, ingested_here, bad_total))
        if status == "running":
            status = "finished"
        pace(batch)
        ingested_here += _commit_batch(run.id, position, batch, status=status)[0]
        read_here += batch.rows
        if on_progress:
            on_progress(
                Progress(
                    (run.total or 0) if status == "finished" else _done(run, batch),
                    run.total,
                    read_here,
                    ingested_here,
                    bad_total,
                )
            )
    except BackfillConflict:
        raise
    except BaseException as exc:  # noqa: BLE001 - Ctrl-C or a failure: the checkpoint stays at the last batch
        if not isinstance(exc, KeyboardInterrupt):
            _mark(run.id, "failed", f"{type(exc).__name__}: {exc}"[:2000])
        raise
    elapsed = time.monotonic() - started
    summary = summarize(run.id, resumed_from_line=resumed_from)
    summary.rows_read_now = read_here
    summary.read_s = summary.elapsed_s = round(elapsed, 3)
    summary.items_per_s = round(read_here / elapsed, 1) if elapsed > 0 else 0.0
    return summary


def queued_jobs() -> int:
    """Scan jobs waiting for a worker (all of them: live and backfilled)."""
    with session_scope() as session:
        return int(session.scalar(select(func.count()).select_from(ScanJob).where(ScanJob.state == "queued")) or 0)


def _wait_for_room(room: int, on_wait: Callable[[], Any]) -> None:
    """Block until at most ``room`` scan jobs are queued (backpressure on the reader)."""
    room = max(room, 0)
    while queued_jobs() > room:
        on_wait()
        queue.wait_for_finish(0.2)


def _done(run: BackfillRun, batch: _Batch) -> int:
    return batch.position if run.format == "parquet" else batch.offset


# ---------------------------------------------------------------- after: scans and counts
def _run_items(run: BackfillRun) -> Any:
    """The run's items: retroactive, backfill-keyed, with ids in the run's range."""
    if run.first_item_id is None:
        return Item.id.is_(None)
    return and_(
        Item.id >= run.first_item_id,
        Item.id <= run.last_item_id,
        Item.retroactive.is_(True),
        Item.idempotency_key.like(exports.KEY_PREFIX + "%"),
    )


def _get(run_id: int) -> BackfillRun:
    with session_scope() as session:
        run = session.get(BackfillRun, run_id)
        if run is None:
            raise NotFound(f"backfill run {run_id} not found")
        session.expunge(run)
    return run


def pending_scans(run_id: int) -> tuple[int, int]:
    """(items of the run not yet scanned, items scanned so far that matched a bank)."""
    run = _get(run_id)
    with session_scope() as session:
        pending = session.scalar(
            select(func.count()).select_from(Item).where(_run_items(run), Item.status.in_(("queued", "scanning")))
        )
        matched = session.scalar(
            select(func.count(func.distinct(ItemMatch.item_id))).join(Item, Item.id == ItemMatch.item_id).where(_run_items(run))
        )
    return int(pending or 0), int(matched or 0)


def wait_for_scans(run_id: int, *, poll_seconds: float = 0.5, on_progress: Callable[[int, int], None] | None = None) -> None:
    """Block until every item of the run is scanned (done or failed); calls ``on_progress(pending, matched)``."""
    while True:
        pending, matched = pending_scans(run_id)
        if on_progress:
            on_progress(pending, matched)
        if pending == 0:
            return
        queue.wait_for_finish(poll_seconds)


def summarize(run_id: int, *, resumed_from_line: int = 0) -> BackfillSummary:
    """The run's counts from the database: rows, items, bad rows, matches and verdicts so far."""
    run = _get(run_id)
    with session_scope() as session:
        verdicts = Counter(
            {
                v or "unscanned": n
                for v, n in session.execute(
                    select(Item.verdict, func.count()).where(_run_items(run), Item.status == "done").group_by(Item.verdict)
                )
            }
        )
        states = dict(session.execute(select(Item.status, func.count()).where(_run_items(run)).group_by(Item.status)).all())
    pending, matched = pending_scans(run_id)
    return BackfillSummary(
        run_id=run.id,
        source=run.source,
        format=run.format,
        status=run.status,
        resumed_from_line=resumed_from_line,
        position=run.position,
        rows_read=run.rows_read,
        ingested=run.ingested,
        already_present=run.already_present,
        bad_rows=run.bad_rows,
        errors=list(run.errors or [])[:10],
        matched=matched,
        verdicts=dict(verdicts),
        pending_scans=pending,
        failed_scans=int(states.get("failed", 0)),
    )


def list_runs() -> list[BackfillRun]:
    """Every backfill run, newest first (``suraksha backfill --list``)."""
    with session_scope() as session:
        runs = list(session.scalars(select(BackfillRun).order_by(BackfillRun.id.desc())))
        session.expunge_all()
    return runs


__all__ = [
    "BackfillConflict",
    "BackfillSummary",
    "BadRowReport",
    "Progress",
    "list_runs",
    "open_run",
    "pending_scans",
    "run_backfill",
    "summarize",
    "wait_for_scans",
]
