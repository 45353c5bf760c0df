"""The scan queue in the database: claim with a lease, finish in one transaction, retry on error.

Claiming uses ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (workers on many machines never
wait on each other's rows) and one atomic ``UPDATE ... WHERE id IN (SELECT ...)`` on SQLite (which
serialises writers anyway). A job whose worker died keeps ``state='running'`` with a lease in the
past and is claimed again.

Finishing writes the item's media signals, matches, scores, verdict and status, its outbox
messages, deletes its pending media bytes (or holds them for evidence) and marks the job done, all in
one transaction that first checks the job is still leased to this worker. A worker that lost its
lease (it was too slow, someone else re-claimed the job) writes nothing, so a scan's effects are
recorded exactly once; outbox ``dedupe_key``s are unique besides.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from suraksha.db import session_scope, utcnow
from suraksha.enforcement.models import OutboxMessage
from suraksha.pipeline.models import Item, ItemMatch, ItemMedia, ItemScore, PendingMedia, ScanJob
from suraksha.pipeline.sql import dialect_name, insert_ignoring_conflicts

if TYPE_CHECKING:
    from suraksha.pipeline.scan import ScanResult


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    item_id: int
    attempts: int  # including this one


# ---------------------------------------------------------------- in-process wake-ups
_new_work = threading.Event()
_finished = threading.Condition()


def notify_new_work() -> None:
    """Wake in-process workers now (ingest calls this after its commit); others poll."""
    _new_work.set()


def wait_for_work(timeout: float) -> None:
    if _new_work.wait(timeout):
        _new_work.clear()


def wait_for_finish(timeout: float) -> None:
    """Block until an in-process worker finishes some job, or `timeout` seconds."""
    with _finished:
        _finished.wait(timeout)


def _notify_finished() -> None:
    with _finished:
        _finished.notify_all()


# ---------------------------------------------------------------- enqueue / claim
def enqueue_scan(session: Session, item_id: int, *, delay_seconds: float = 0) -> None:
    """Add a scan job for an existing item (rescans) inside the caller's transaction."""
    now = utcnow()
    session.add(ScanJob(item_id=item_id, state="queued", available_at=now + dt.timedelta(seconds=delay_seconds), created_at=now))
    session.execute(update(Item).where(Item.id == item_id).values(status="queued"))


def claim_jobs(worker_id: str, n: int = 1, lease_seconds: int = 60) -> list[ClaimedJob]:
    """Lease up to `n` runnable jobs (queued and due, or running with an expired lease) to `worker_id`."""
    now = utcnow()
    runnable = or_(
        and_(ScanJob.state == "queued", ScanJob.available_at <= now),
        and_(ScanJob.state == "running", ScanJob.lease_expires_at < now),
    )
    values = {
        "state": "running",
        "lease_owner": worker_id,
        "lease_expires_at": now + dt.timedelta(seconds=lease_seconds),
        "attempts": ScanJob.attempts + 1,
    }
    with session_scope() as session:
        if dialect_name(session) == "postgresql":
            ids = session.scalars(
                select(ScanJob.id).where(runnable).order_by(ScanJob.id).limit(n).with_for_update(skip_locked=True)
            ).all()
            if not ids:
                return []
            target = ScanJob.id.in_(ids)
        else:
            # One statement: SQLite takes the write lock for it, so two workers cannot claim one job.
            target = ScanJob.id.in_(select(ScanJob.id).where(runnable).order_by(ScanJob.id).limit(n).scalar_subquery())
        rows = session.execute(
            update(ScanJob).where(target, runnable).values(**values)
            .returning(ScanJob.id, ScanJob.item_id, ScanJob.attempts)
            .execution_options(synchronize_session=False)
        ).all()
        if rows:
            session.execute(
                update(Item).where(Item.id.in_([r.item_id for r in rows]), Item.status == "queued")
                .values(status="scanning").execution_options(synchronize_session=False)
            )
    return sorted((ClaimedJob(r.id, r.item_id, r.attempts) for r in rows), key=lambda j: j.id)


def extend_leases(worker_id: str, job_ids: list[int], lease_seconds: int) -> int:
    """Push the lease of jobs still held by `worker_id` (a long scan's heartbeat)."""
    if not job_ids:
        return 0
    with session_scope() as session:
        r = session.execute(
            update(ScanJob)
            .where(ScanJob.id.in_(job_ids), ScanJob.lease_owner == worker_id, ScanJob.state == "running")
            .values(lease_expires_at=utcnow() + dt.timedelta(seconds=lease_seconds))
            .execution_options(synchronize_session=False)
        )
        return r.rowcount


def _take_job(session: Session, worker_id: str, job_id: int, **values) -> bool:
    """Conditionally close the job: only if it is still leased to this worker. First statement of
    the finishing transaction, so on PostgreSQL it also locks the row until commit."""
    r = session.execute(
        update(ScanJob)
        .where(ScanJob.id == job_id, ScanJob.lease_owner == worker_id, ScanJob.state == "running")
        .values(lease_expires_at=None, **values)
        .execution_options(synchronize_session=False)
    )
    return r.rowcount == 1


# ---------------------------------------------------------------- finish
def _write_result(session: Session, result: ScanResult) -> None:
    item_id = result.item_id
    now = utcnow()
    # A rescan replaces the previous scan's matches and scores (never accumulates duplicates).
    session.execute(delete(ItemMatch).where(ItemMatch.item_id == item_id))
    session.execute(delete(ItemScore).where(ItemScore.item_id == item_id))
    for m in result.media:
        session.execute(
            update(ItemMedia).where(ItemMedia.item_id == item_id, ItemMedia.position == m.position)
            .values(kind=m.kind, sha256=m.sha256, md5=m.md5, pdq=m.pdq, pdq_quality=m.pdq_quality,
                    vpdq=m.vpdq, error=m.error, size=m.size, mime=m.mime)
            .execution_options(synchronize_session=False)
        )
    if result.matches:
        session.execute(insert(ItemMatch), [{"item_id": item_id, **row} for row in result.matches])
    if result.scores:
        session.execute(insert(ItemScore), [{"item_id": item_id, **row} for row in result.scores])
    v = result.verdict
    session.execute(
        update(Item).where(Item.id == item_id)
        .values(status="done", verdict=v.verdict, rule=v.rule, reasons=list(v.reasons), actions=list(v.actions),
                priority=v.priority, text_hits=result.text_hits, scanned_at=now, error=result.error)
        .execution_options(synchronize_session=False)
    )
    if result.outbox:
        insert_ignoring_conflicts(
            session, OutboxMessage.__table__,
            [{"topic": o.topic, "dedupe_key": o.dedupe_key, "item_id": item_id, "account_id": o.account_id,
              "payload": o.payload, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
             for o in result.outbox],
            ["dedupe_key"],
        )
    if result.preserve:
        # Held for the evidence vault: inline bytes stay; fetched bytes are added.
        session.execute(
            update(PendingMedia).where(PendingMedia.item_id == item_id).values(held_for_evidence=True)
            .execution_options(synchronize_session=False)
        )
        kept = set(session.scalars(select(PendingMedia.position).where(PendingMedia.item_id == item_id)).all())
        fetched = [{"item_id": item_id, "position": m.position, "data": m.data, "held_for_evidence": True, "created_at": now}
                   for m in result.media if m.data is not None and m.position not in kept]
        if fetched:
            session.execute(insert(PendingMedia), fetched)
    else:
        session.execute(delete(PendingMedia).where(PendingMedia.item_id == item_id, PendingMedia.held_for_evidence.is_(False)))


def finish_jobs(worker_id: str, done: list[tuple[int, ScanResult]]) -> list[int]:
    """Record finished scans (job id, result) in ONE transaction; returns the job ids recorded.

    A job no longer leased to `worker_id` is skipped (its result discarded): whoever holds it now
    records it instead.
    """
    recorded: list[int] = []
    if not done:
        return recorded
    now = utcnow()
    with session_scope() as session:
        for job_id, result in done:
            if _take_job(session, worker_id, job_id, state="done", finished_at=now, last_error=None):
                _write_result(session, result)
                recorded.append(job_id)
    _notify_finished()
    return recorded


def finish_job(worker_id: str, job_id: int, result: ScanResult) -> bool:
    return bool(finish_jobs(worker_id, [(job_id, result)]))


def fail_job(worker_id: str, job: ClaimedJob, error: str, *, max_attempts: int, permanent: bool = False) -> str:
    """A scan raised: retry later with backoff, or after `max_attempts` mark job and item failed.

    Returns the job's new state ('queued' or 'failed'), or 'lost' when the lease was lost.
    """
    now = utcnow()
    error = error[:2000]
    with session_scope() as session:
        if permanent or job.attempts >= max_attempts:
            if not _take_job(session, worker_id, job.id, state="failed", finished_at=now, last_error=error):
                return "lost"
            session.execute(
                update(Item).where(Item.id == job.item_id).values(status="failed", error=error)
                .execution_options(synchronize_session=False)
            )
            state = "failed"
        else:
            delay = min(300.0, 2.0 ** job.attempts)
            if not _take_job(session, worker_id, job.id, state="queued", lease_owner=None, last_error=error,
                             available_at=now + dt.timedelta(seconds=delay)):
                return "lost"
            state = "queued"
    _notify_finished()
    return state


def queue_depth() -> dict[str, int]:
    """Jobs per state (for /metrics and the benchmarks)."""
    with session_scope() as session:
        rows = session.execute(select(ScanJob.state, func.count()).group_by(ScanJob.state)).all()
    return {state: count for state, count in rows}
