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

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
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
_media_update = (
    update(ItemMedia.__table__)
    .where(ItemMedia.__table__.c.item_id == bindparam("b_item"), ItemMedia.__table__.c.position == bindparam("b_pos"))
    .values(kind=bindparam("b_kind"), sha256=bindparam("b_sha256"), md5=bindparam("b_md5"), pdq=bindparam("b_pdq"),
            pdq_quality=bindparam("b_pdq_quality"), vpdq=bindparam("b_vpdq"), error=bindparam("b_error"),
            size=bindparam("b_size"), mime=bindparam("b_mime"))
)
_item_update = (
    update(Item.__table__)
    .where(Item.__table__.c.id == bindparam("b_id"))
    .values(status="done", verdict=bindparam("b_verdict"), rule=bindparam("b_rule"), reasons=bindparam("b_reasons"),
            actions=bindparam("b_actions"), priority=bindparam("b_priority"), text_hits=bindparam("b_text_hits"),
            scanned_at=bindparam("b_scanned_at"), error=bindparam("b_error"))
)


def _write_results(session: Session, results: list[ScanResult]) -> None:
    """Record scans whose jobs this transaction has just closed (a few statements per batch)."""
    now = utcnow()
    conn = session.connection()
    item_ids = [r.item_id for r in results]
    # A rescan replaces the previous scan's matches and scores (never accumulates duplicates).
    conn.execute(delete(ItemMatch.__table__).where(ItemMatch.__table__.c.item_id.in_(item_ids)))
    conn.execute(delete(ItemScore.__table__).where(ItemScore.__table__.c.item_id.in_(item_ids)))
    media = [{"b_item": r.item_id, "b_pos": m.position, "b_kind": m.kind, "b_sha256": m.sha256, "b_md5": m.md5,
              "b_pdq": m.pdq, "b_pdq_quality": m.pdq_quality, "b_vpdq": m.vpdq, "b_error": m.error, "b_size": m.size,
              "b_mime": m.mime} for r in results for m in r.media]
    if media:
        conn.execute(_media_update, media)
    matches = [{"item_id": r.item_id, **row} for r in results for row in r.matches]
    if matches:
        conn.execute(insert(ItemMatch.__table__), matches)
    scores = [{"item_id": r.item_id, **row} for r in results for row in r.scores]
    if scores:
        conn.execute(insert(ItemScore.__table__), scores)
    conn.execute(_item_update, [
        {"b_id": r.item_id, "b_verdict": r.verdict.verdict, "b_rule": r.verdict.rule, "b_reasons": list(r.verdict.reasons),
         "b_actions": list(r.verdict.actions), "b_priority": r.verdict.priority, "b_text_hits": r.text_hits,
         "b_scanned_at": now, "b_error": r.error}
        for r in results
    ])
    outbox = [{"topic": o.topic, "dedupe_key": o.dedupe_key, "item_id": r.item_id, "account_id": o.account_id,
               "payload": o.payload, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
              for r in results for o in r.outbox]
    if outbox:
        insert_ignoring_conflicts(session, OutboxMessage.__table__, outbox, ["dedupe_key"])
    pm = PendingMedia.__table__.c
    discard = [r.item_id for r in results if not r.preserve]
    if discard:
        conn.execute(delete(PendingMedia.__table__).where(pm.item_id.in_(discard), pm.held_for_evidence.is_(False)))
    preserve = [r for r in results if r.preserve]
    if preserve:
        # Held for the evidence vault: inline bytes stay; fetched bytes are added.
        ids = [r.item_id for r in preserve]
        conn.execute(update(PendingMedia.__table__).where(pm.item_id.in_(ids)).values(held_for_evidence=True))
        kept = {(row[0], row[1]) for row in conn.execute(select(pm.item_id, pm.position).where(pm.item_id.in_(ids)))}
        fetched = [{"item_id": r.item_id, "position": m.position, "data": m.data, "held_for_evidence": True, "created_at": now}
                   for r in preserve for m in r.media if m.data is not None and (r.item_id, m.position) not in kept]
        if fetched:
            conn.execute(insert(PendingMedia.__table__), fetched)


def finish_jobs(worker_id: str, done: list[tuple[int, ScanResult]]) -> list[int]:
    """Record finished scans (job id, result) in ONE transaction; returns the job ids recorded.

    The jobs are closed first, conditionally: a job no longer leased to `worker_id` is skipped (its
    result discarded) because whoever holds it now records it instead.
    """
    if not done:
        return []
    now = utcnow()
    with session_scope() as session:
        taken = set(session.scalars(
            update(ScanJob)
            .where(ScanJob.id.in_([job_id for job_id, _ in done]), ScanJob.lease_owner == worker_id, ScanJob.state == "running")
            .values(state="done", finished_at=now, last_error=None, lease_expires_at=None)
            .returning(ScanJob.id)
            .execution_options(synchronize_session=False)
        ).all())
        by_item: dict[int, ScanResult] = {}
        for job_id, result in done:
            if job_id in taken:
                by_item[result.item_id] = result  # two jobs of one item in a batch: record it once
        if by_item:
            _write_results(session, list(by_item.values()))
    _notify_finished()
    return sorted(taken)


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
