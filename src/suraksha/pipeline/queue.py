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

import base64
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection, DateTime, bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from suraksha.db import get_engine, session_scope, utcnow
from suraksha.db.sql import autocommit_engine, dialect_name
from suraksha.items.models import Item, ItemMatch, ItemMedia, ItemScore, PendingMedia
from suraksha.outbox import enqueue_many
from suraksha.pipeline import archive, scan, wakeups
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.settings import get_pipeline_settings

if TYPE_CHECKING:
    from suraksha.pipeline.scan import ScanResult


@dataclass(frozen=True)
class ClaimedJob:
    id: int
    item_id: int
    attempts: int  # including this one


# ---------------------------------------------------------------- wake-ups (pipeline.wakeups)
def notify_new_work() -> None:
    """Wake in-process workers now (ingest calls this after its commit); other processes get
    ingest's NOTIFY on PostgreSQL, or poll on SQLite."""
    wakeups.new_work()


def wait_for_work(timeout: float) -> bool:
    """Sleep until new work is announced or `timeout` seconds pass; True when announcements from
    other processes reach this one (PostgreSQL LISTEN), so idle polling can be slow."""
    listening = wakeups.listen(wakeups.NEW_WORK, get_engine())
    wakeups.wait_for_work(timeout)
    return listening


def wait_for_finish(timeout: float) -> None:
    """Block until some job is finished (by a worker here or, on PostgreSQL, anywhere), or `timeout` seconds."""
    wakeups.listen(wakeups.SCANNED, get_engine())
    wakeups.wait_for_any_scan(timeout)


# ---------------------------------------------------------------- enqueue / claim
def enqueue_scan(session: Session, item_id: int, *, delay_seconds: float = 0) -> None:
    """Add a scan job for an existing item (rescans) inside the caller's transaction."""
    now = utcnow()
    session.add(ScanJob(item_id=item_id, state="queued", available_at=now + dt.timedelta(seconds=delay_seconds), created_at=now))
    session.execute(update(Item).where(Item.id == item_id).values(status="queued"))
    if dialect_name(session) == "postgresql":
        session.execute(_PG_NEW_WORK)  # wakes workers in other processes at commit


_PG_NEW_WORK = text(f"SELECT pg_notify('{wakeups.NEW_WORK}', '')")


# PostgreSQL: pick, lease and mark the items in ONE statement (autocommit, so it is its own
# transaction). SKIP LOCKED: workers on many machines never wait on each other's rows; a row
# changed by another worker since our snapshot is re-checked against the WHERE before it is locked.
_PG_CLAIM = text("""
WITH picked AS (
    SELECT id FROM scan_jobs
    WHERE state IN ('queued', 'running')  -- the partial index ix_scan_jobs_live: live jobs in id order
      AND ((state = 'queued' AND available_at <= :now) OR (state = 'running' AND lease_expires_at < :now))
    ORDER BY id LIMIT :n
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE scan_jobs SET state = 'running', lease_owner = :worker, lease_expires_at = :until,
                         attempts = scan_jobs.attempts + 1
    FROM picked WHERE scan_jobs.id = picked.id
    RETURNING scan_jobs.id, scan_jobs.item_id, scan_jobs.attempts
), scanning AS (
    UPDATE items SET status = 'scanning'
    FROM claimed WHERE items.id = claimed.item_id AND items.status = 'queued'
)
SELECT id, item_id, attempts FROM claimed
""")


# SQLite: the same pick as one UPDATE (its write lock serialises claimers). INDEXED BY, because
# without ANALYZE statistics SQLite prefers OR-ing the (state, available_at) index and sorting every
# queued job (105 ms a claim with 100,000 queued; 0.03 ms through the partial index).
_SQLITE_CLAIM = text("""
UPDATE scan_jobs SET state = 'running', lease_owner = :worker, lease_expires_at = :until, attempts = attempts + 1
WHERE id IN (
    SELECT id FROM scan_jobs INDEXED BY ix_scan_jobs_live
    WHERE state IN ('queued', 'running')
      AND ((state = 'queued' AND available_at <= :now) OR (state = 'running' AND lease_expires_at < :now))
    ORDER BY id LIMIT :n
)
RETURNING id, item_id, attempts
""").bindparams(bindparam("now", type_=DateTime(timezone=True)), bindparam("until", type_=DateTime(timezone=True)))


_SQLITE_ANY_RUNNABLE = text("""
SELECT id FROM scan_jobs INDEXED BY ix_scan_jobs_live
WHERE state IN ('queued', 'running')
  AND ((state = 'queued' AND available_at <= :now) OR (state = 'running' AND lease_expires_at < :now))
LIMIT 1
""").bindparams(bindparam("now", type_=DateTime(timezone=True)))


def claim_jobs(worker_id: str, n: int = 1, lease_seconds: int = 60) -> list[ClaimedJob]:
    """Lease up to `n` runnable jobs (queued and due, or running with an expired lease) to `worker_id`."""
    now = utcnow()
    until = now + dt.timedelta(seconds=lease_seconds)
    engine = get_engine()
    if engine.dialect.name == "postgresql":
        with autocommit_engine().connect() as conn:
            rows = conn.execute(_PG_CLAIM, {"now": now, "n": n, "worker": worker_id, "until": until}).all()
        return sorted((ClaimedJob(r.id, r.item_id, r.attempts) for r in rows), key=lambda j: j.id)
    params = {"now": now, "n": n, "worker": worker_id, "until": until}
    with engine.connect() as conn:  # Core, not an ORM session
        # A read first: an idle worker's poll then takes no write lock (the UPDATE would, even when
        # it claims nothing), so polling never makes an ingest or a recording wait for the lock.
        if conn.execute(_SQLITE_ANY_RUNNABLE, params).first() is None:
            return []
        conn.rollback()  # end the read, then claim in a transaction of its own
        with conn.begin():
            # One statement: SQLite takes the write lock for it, so two workers cannot claim one job.
            rows = conn.execute(_SQLITE_CLAIM, params).all()
            if rows:
                conn.execute(_SQLITE_SCANNING, {"ids": [r.item_id for r in rows]})
    return sorted((ClaimedJob(r.id, r.item_id, r.attempts) for r in rows), key=lambda j: j.id)


_SQLITE_SCANNING = (
    update(Item.__table__)
    .where(Item.__table__.c.id.in_(bindparam("ids", expanding=True)), Item.__table__.c.status == "queued")
    .values(status="scanning")
)


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
    .values(
        kind=bindparam("b_kind"),
        sha256=bindparam("b_sha256"),
        md5=bindparam("b_md5"),
        pdq=bindparam("b_pdq"),
        pdq_quality=bindparam("b_pdq_quality"),
        vpdq=bindparam("b_vpdq"),
        error=bindparam("b_error"),
        size=bindparam("b_size"),
        mime=bindparam("b_mime"),
    )
)
_item_update = (
    update(Item.__table__)
    .where(Item.__table__.c.id == bindparam("b_id"))
    .values(
        status="done",
        verdict=bindparam("b_verdict"),
        rule=bindparam("b_rule"),
        reasons=bindparam("b_reasons"),
        actions=bindparam("b_actions"),
        facts=bindparam("b_facts"),
        priority=bindparam("b_priority"),
        text_hits=bindparam("b_text_hits"),
        scanned_at=bindparam("b_scanned_at"),
        error=bindparam("b_error"),
    )
)


_ids = bindparam("ids", expanding=True)
_matches, _scores, _pending = ItemMatch.__table__, ItemScore.__table__, PendingMedia.__table__
_delete_matches = delete(_matches).where(_matches.c.item_id.in_(_ids))
_delete_scores = delete(_scores).where(_scores.c.item_id.in_(_ids))
_insert_matches = insert(_matches)
_insert_scores = insert(_scores)
_discard_pending = delete(_pending).where(_pending.c.item_id.in_(_ids), _pending.c.held_for_evidence.is_(False))
_jobs = ScanJob.__table__
_take_jobs = (
    update(_jobs)
    .where(_jobs.c.id.in_(_ids), _jobs.c.lease_owner == bindparam("worker"), _jobs.c.state == "running")
    .values(state="done", finished_at=bindparam("now"), last_error=None, lease_expires_at=None)
    .returning(_jobs.c.id)
)


def _write_results(conn: Connection, results: list[ScanResult]) -> None:
    """Record scans whose jobs this transaction has just closed (a few prebuilt statements per batch)."""
    now = utcnow()
    item_ids = [r.item_id for r in results]
    # A rescan replaces the previous scan's matches and scores (never accumulates duplicates).
    conn.execute(_delete_matches, {"ids": item_ids})
    conn.execute(_delete_scores, {"ids": item_ids})
    media = [
        {
            "b_item": r.item_id,
            "b_pos": m.position,
            "b_kind": m.kind,
            "b_sha256": m.sha256,
            "b_md5": m.md5,
            "b_pdq": m.pdq,
            "b_pdq_quality": m.pdq_quality,
            "b_vpdq": m.vpdq,
            "b_error": m.error,
            "b_size": m.size,
            "b_mime": m.mime,
        }
        for r in results
        for m in r.media
    ]
    if media:
        conn.execute(_media_update, media)
    matches = [{"item_id": r.item_id, **row} for r in results for row in r.matches]
    if matches:
        conn.execute(_insert_matches, matches)
    scores = [{"item_id": r.item_id, **row} for r in results for row in r.scores]
    if scores:
        conn.execute(_insert_scores, scores)
    conn.execute(
        _item_update,
        [
            {
                "b_id": r.item_id,
                "b_verdict": r.verdict.verdict,
                "b_rule": r.verdict.rule,
                "b_reasons": list(r.verdict.reasons),
                "b_actions": r.verdict.stored_actions(),
                "b_facts": r.verdict.stored_facts(),
                "b_priority": r.verdict.priority,
                "b_text_hits": r.text_hits,
                "b_scanned_at": now,
                "b_error": r.error,
            }
            for r in results
        ],
    )
    enqueue_many(
        conn,
        [
            {"topic": o.topic, "dedupe_key": o.dedupe_key, "item_id": r.item_id, "account_id": o.account_id, "payload": o.payload}
            for r in results
            for o in r.outbox
        ],
    )
    pm = _pending.c
    discard = [r.item_id for r in results if not r.preserve]
    if discard:
        conn.execute(_discard_pending, {"ids": discard})
    preserve = [r for r in results if r.preserve]
    if preserve:
        # Held for the evidence vault: inline bytes stay; fetched bytes are added.
        ids = [r.item_id for r in preserve]
        conn.execute(update(_pending).where(pm.item_id.in_(ids)).values(held_for_evidence=True))
        kept = {(row[0], row[1]) for row in conn.execute(select(pm.item_id, pm.position).where(pm.item_id.in_(ids)))}
        fetched = [
            {"item_id": r.item_id, "position": m.position, "data": m.data, "held_for_evidence": True, "created_at": now}
            for r in preserve
            for m in r.media
            if m.data is not None and (r.item_id, m.position) not in kept
        ]
        if fetched:
            conn.execute(insert(_pending), fetched)


# ---------------------------------------------------------------- finish, PostgreSQL: one statement
# The same writes as ``_write_results``, as data-modifying CTEs of ONE statement run in autocommit
# (so it is its own transaction): every write joins ``r``, the results whose jobs ``taken`` just
# closed, so a job no longer leased to this worker writes nothing at all. All CTEs see one snapshot:
# deleting the old matches and inserting the new ones touch different rows. Results, media signals,
# matches, scores and messages travel as JSON record sets; a job's rows carry its job id.
_PG_FINISH = text(f"""
WITH taken AS (
    UPDATE scan_jobs SET state = 'done', finished_at = :now, last_error = NULL, lease_expires_at = NULL
    WHERE id = ANY(CAST(:job_ids AS bigint[])) AND lease_owner = :worker AND state = 'running'
    RETURNING id, item_id
), r AS (
    SELECT DISTINCT ON (x.item_id) x.*
    FROM jsonb_to_recordset(CAST(:results AS jsonb)) AS x(job_id bigint, item_id bigint, verdict text, rule text,
         reasons jsonb, actions jsonb, facts jsonb, priority int, text_hits jsonb, error text, preserve boolean)
    JOIN taken ON taken.id = x.job_id
    ORDER BY x.item_id, x.job_id DESC
), old_matches AS (
    DELETE FROM item_matches WHERE item_id IN (SELECT item_id FROM r)
), old_scores AS (
    DELETE FROM item_scores WHERE item_id IN (SELECT item_id FROM r)
), signals AS (
    UPDATE item_media SET kind = m.kind, sha256 = m.sha256, md5 = m.md5, pdq = m.pdq, pdq_quality = m.pdq_quality,
                          vpdq = m.vpdq, error = m.error, size = m.size, mime = m.mime
    FROM jsonb_to_recordset(CAST(:media AS jsonb)) AS m(job_id bigint, position int, kind text, sha256 text, md5 text,
         pdq text, pdq_quality int, vpdq jsonb, error text, size bigint, mime text)
    JOIN r ON r.job_id = m.job_id
    WHERE item_media.item_id = r.item_id AND item_media.position = m.position
), new_matches AS (
    INSERT INTO item_matches (item_id, media_position, bank, bank_id, label, signal_type, signal, entry_id, distance, transform)
    SELECT r.item_id, x.media_position, x.bank, x.bank_id, x.label, x.signal_type, x.signal, x.entry_id, x.distance, x.transform
    FROM jsonb_to_recordset(CAST(:matches AS jsonb)) AS x(job_id bigint, media_position int, bank text, bank_id int,
         label text, signal_type text, signal text, entry_id bigint, distance int, transform text)
    JOIN r ON r.job_id = x.job_id
), new_scores AS (
    INSERT INTO item_scores (item_id, media_position, classifier, name, value)
    SELECT r.item_id, x.media_position, x.classifier, x.name, x.value
    FROM jsonb_to_recordset(CAST(:scores AS jsonb)) AS x(job_id bigint, media_position int, classifier text, name text,
         value double precision)
    JOIN r ON r.job_id = x.job_id
), verdicts AS (
    UPDATE items SET status = 'done', verdict = r.verdict, rule = r.rule, reasons = r.reasons, actions = r.actions, facts = r.facts,
                     priority = r.priority, text_hits = r.text_hits, scanned_at = :now, error = r.error
    FROM r WHERE items.id = r.item_id
), messages AS (  -- what outbox.enqueue_many writes (the outbox's columns and defaults)
    INSERT INTO outbox_messages (topic, dedupe_key, item_id, account_id, payload, status, attempts, next_attempt_at, created_at)
    SELECT o.topic, o.dedupe_key, r.item_id, o.account_id, o.payload, 'pending', 0, :now, :now
    FROM jsonb_to_recordset(CAST(:outbox AS jsonb)) AS o(job_id bigint, topic text, dedupe_key text, account_id bigint,
         payload jsonb)
    JOIN r ON r.job_id = o.job_id
    ON CONFLICT (dedupe_key) DO NOTHING
), discarded AS (
    DELETE FROM pending_media WHERE item_id IN (SELECT item_id FROM r WHERE NOT preserve) AND NOT held_for_evidence
), held AS (
    UPDATE pending_media SET held_for_evidence = true WHERE item_id IN (SELECT item_id FROM r WHERE preserve)
), fetched AS (
    INSERT INTO pending_media (item_id, position, data, held_for_evidence, created_at)
    SELECT r.item_id, f.position, decode(f.data, 'base64'), true, :now
    FROM jsonb_to_recordset(CAST(:fetched AS jsonb)) AS f(job_id bigint, position int, data text)
    JOIN r ON r.job_id = f.job_id AND r.preserve
    WHERE NOT EXISTS (SELECT 1 FROM pending_media p WHERE p.item_id = r.item_id AND p.position = f.position)
)
SELECT taken.id, (SELECT pg_notify('{wakeups.SCANNED}', string_agg(item_id::text, ',')) FROM r) IS NULL AS announced
FROM taken
""")


def _finish_pg(worker_id: str, done: list[tuple[int, ScanResult]]) -> tuple[list[int], list[int]]:
    """Record finished scans in one statement; returns (job ids recorded, item ids recorded)."""
    now = utcnow()
    results, media, matches, scores, outbox, fetched = [], [], [], [], [], []
    for job_id, r in done:
        v = r.verdict
        results.append(
            {
                "job_id": job_id,
                "item_id": r.item_id,
                "verdict": v.verdict,
                "rule": v.rule,
                "reasons": list(v.reasons),
                "actions": v.stored_actions(),
                "facts": v.stored_facts(),
                "priority": v.priority,
                "text_hits": r.text_hits,
                "error": r.error,
                "preserve": r.preserve,
            }
        )
        for m in r.media:
            media.append(
                {
                    "job_id": job_id,
                    "position": m.position,
                    "kind": m.kind,
                    "sha256": m.sha256,
                    "md5": m.md5,
                    "pdq": m.pdq,
                    "pdq_quality": m.pdq_quality,
                    "vpdq": m.vpdq,
                    "error": m.error,
                    "size": m.size,
                    "mime": m.mime,
                }
            )
            if r.preserve and m.data is not None and m.source_url is not None:  # inline bytes are there already
                fetched.append({"job_id": job_id, "position": m.position, "data": base64.b64encode(m.data).decode()})
        matches += [{"job_id": job_id, **row} for row in r.matches]
        scores += [{"job_id": job_id, **row} for row in r.scores]
        outbox += [
            {"job_id": job_id, "topic": o.topic, "dedupe_key": o.dedupe_key, "account_id": o.account_id, "payload": o.payload}
            for o in r.outbox
        ]
    params = {
        "now": now,
        "worker": worker_id,
        "job_ids": [job_id for job_id, _ in done],
        "results": json.dumps(results),
        "media": json.dumps(media),
        "matches": json.dumps(matches),
        "scores": json.dumps(scores),
        "outbox": json.dumps(outbox),
        "fetched": json.dumps(fetched),
    }
    with autocommit_engine().connect() as conn:
        taken = sorted(row.id for row in conn.execute(_PG_FINISH, params))
    by_job = dict(done)
    return taken, sorted({by_job[j].item_id for j in taken})


def _announce_scanned(session: Session, item_ids: list[int]) -> None:
    """NOTIFY waiters in other processes (PostgreSQL delivers it at commit, never on rollback)."""
    if item_ids and dialect_name(session) == "postgresql":
        session.execute(_PG_ANNOUNCE, {"ids": ",".join(map(str, item_ids))})


_PG_ANNOUNCE = text(f"SELECT pg_notify('{wakeups.SCANNED}', :ids)")


def finish_jobs(worker_id: str, done: list[tuple[int, ScanResult]]) -> list[int]:
    """Record finished scans (job id, result) in ONE transaction; returns the job ids recorded.

    The jobs are closed first, conditionally: a job no longer leased to `worker_id` is skipped (its
    result discarded) because whoever holds it now records it instead. On PostgreSQL the whole
    batch is one statement (``_PG_FINISH``), elsewhere a few statements in one transaction.
    """
    if not done:
        return []
    forgotten: list[int] = []
    archive_rows: list[dict] = []
    if get_pipeline_settings().findings_only:  # benign first scans leave no row (scan.forget_benign)
        with session_scope() as session:
            forgotten = scan.forget_benign(session, worker_id, done, before_delete=_archive_rows(session, archive_rows))
        done = [(job_id, r) for job_id, r in done if job_id not in forgotten]
    if not done:
        taken, item_ids = [], []
    elif get_engine().dialect.name == "postgresql":
        taken, item_ids = _finish_pg(worker_id, done)
    else:
        now = utcnow()
        with get_engine().begin() as conn:  # Core: building ORM statements cost more than SQLite running them
            taken = sorted(
                conn.scalars(_take_jobs, {"ids": [job_id for job_id, _ in done], "worker": worker_id, "now": now}).all()
            )
            by_item: dict[int, ScanResult] = {}
            for job_id, result in done:
                if job_id in taken:
                    by_item[result.item_id] = result  # two jobs of one item in a batch: record it once
            if by_item:
                _write_results(conn, list(by_item.values()))
        item_ids = list(by_item)
    wakeups.scanned(item_ids)
    ids = set(item_ids)
    recorded = {r.item_id: r for _, r in done if r.item_id in ids}
    archive.append_scanned(list(recorded.values()))  # the signal archive, after commit; never raises
    if archive_rows and (writer := archive.get_writer()) is not None:
        writer.append(archive_rows)  # forgotten benign items: their rows were read before the item went
    return sorted(taken + forgotten)


def _archive_rows(session: Session, into: list[dict]) -> Callable[[list[ScanResult]], None]:
    """Read the archive rows of items about to be forgotten, while their rows still exist."""

    def read(results: list[ScanResult]) -> None:
        if archive.archive_enabled():
            into.extend(archive.rows_for_results(results, session=session))

    return read


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
                update(Item)
                .where(Item.id == job.item_id)
                .values(status="failed", error=error)
                .execution_options(synchronize_session=False)
            )
            _announce_scanned(session, [job.item_id])
            state = "failed"
        else:
            delay = min(300.0, 2.0**job.attempts)
            if not _take_job(
                session,
                worker_id,
                job.id,
                state="queued",
                lease_owner=None,
                last_error=error,
                available_at=now + dt.timedelta(seconds=delay),
            ):
                return "lost"
            state = "queued"
    if state == "failed":
        wakeups.scanned([job.item_id])
    return state


def _jobs_by_state(*where) -> dict[str, int]:
    with session_scope() as session:
        rows = session.execute(select(ScanJob.state, func.count()).where(*where).group_by(ScanJob.state)).all()
    return {state: count for state, count in rows}


def live_jobs() -> dict[str, int]:
    """Queued and running jobs only, read through the partial index of live jobs: cheap however many
    done jobs the table holds (what a waiter or a sampler polls; ``queue_depth`` counts every state)."""
    return _jobs_by_state(ScanJob.state.in_(("queued", "running")))


def queue_depth() -> dict[str, int]:
    """Jobs per state (for /metrics and the benchmarks)."""
    return _jobs_by_state()
