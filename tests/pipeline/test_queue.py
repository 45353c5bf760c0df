"""The queue: leases, reclaiming after a crash, conditional finishing, retries."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select, update

from suraksha.db import session_scope
from suraksha.items.models import Item, ItemMatch
from suraksha.outbox.models import OutboxMessage
from suraksha.pipeline import queue
from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.schemas import ItemIn

from .conftest import CSAM_IMAGE, b64


def make_items(n: int, **kw) -> list[int]:
    return [submit_item(ItemIn(platform_id=f"p{i}", account={"id": f"a{i % 3}"}, text="hi", **kw))[0].id for i in range(n)]


def expire_leases() -> None:
    with session_scope() as s:
        s.execute(
            update(ScanJob).where(ScanJob.state == "running").values(lease_expires_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
        )


def test_claims_never_overlap_and_mark_items_scanning(db_url):
    ids = make_items(5)
    a = queue.claim_jobs("w-a", 3, 60)
    b = queue.claim_jobs("w-b", 3, 60)
    assert len(a) == 3 and len(b) == 2
    assert {j.item_id for j in a} | {j.item_id for j in b} == set(ids)
    assert not {j.id for j in a} & {j.id for j in b}
    assert queue.claim_jobs("w-c", 3, 60) == []
    with session_scope() as s:
        assert set(s.scalars(select(Item.status)).all()) == {"scanning"}


def test_concurrent_claimers_take_each_job_once(db_url):
    make_items(60)
    taken: list[int] = []
    lock = threading.Lock()

    def claimer(n):
        while True:
            jobs = queue.claim_jobs(f"w{n}", 4, 60)
            if not jobs:
                return
            with lock:
                taken.extend(j.id for j in jobs)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(4)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert len(taken) == 60 and len(set(taken)) == 60


def test_expired_lease_is_reclaimed_and_the_dead_worker_cannot_finish(db_url, scanner):
    make_items(1, media=[{"data_base64": b64(CSAM_IMAGE)}])
    [job] = queue.claim_jobs("dead-worker", 1, 60)
    result = scanner.scan(job.item_id)
    assert queue.claim_jobs("other", 1, 60) == []  # lease still valid
    expire_leases()
    [again] = queue.claim_jobs("other", 1, 60)
    assert again.id == job.id and again.attempts == 2
    # The first worker wakes up late: its finish is refused and writes nothing.
    assert queue.finish_job("dead-worker", job.id, result) is False
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0
        assert s.get(Item, job.item_id).verdict is None
    assert queue.finish_job("other", again.id, scanner.scan(job.item_id)) is True
    assert queue.finish_job("other", again.id, result) is False  # finishing twice is refused too
    with session_scope() as s:
        keys = sorted(s.scalars(select(OutboxMessage.dedupe_key)).all())
        assert len(keys) == len(set(keys)) == 5
        assert s.scalar(select(func.count()).select_from(ItemMatch)) == 1
        assert s.get(ScanJob, job.id).state == "done"


def test_failures_back_off_then_fail_the_item(db_url):
    [item_id] = make_items(1)
    [job] = queue.claim_jobs("w", 1, 60)
    assert queue.fail_job("w", job, "RuntimeError: db hiccup", max_attempts=2) == "queued"
    assert queue.claim_jobs("w", 1, 60) == []  # backing off
    with session_scope() as s:
        s.execute(update(ScanJob).values(available_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC)))
    [job2] = queue.claim_jobs("w", 1, 60)
    assert job2.attempts == 2
    assert queue.fail_job("w", job2, "RuntimeError: again", max_attempts=2) == "failed"
    with session_scope() as s:
        item = s.get(Item, item_id)
        assert (item.status, item.error, item.verdict) == ("failed", "RuntimeError: again", None)
    assert queue.queue_depth() == {"failed": 1}


def test_lease_heartbeat_extends_only_own_jobs(db_url):
    make_items(2)
    jobs = queue.claim_jobs("w1", 2, 1)
    assert queue.extend_leases("w1", [j.id for j in jobs], 120) == 2
    assert queue.extend_leases("w2", [j.id for j in jobs], 120) == 0
    import time

    time.sleep(1.1)
    assert queue.claim_jobs("w3", 2, 60) == []  # extended, so not reclaimable


def test_live_jobs_counts_only_queued_and_running(db_url):
    make_items(3)
    [job] = queue.claim_jobs("w", 1, 60)
    assert queue.live_jobs() == {"queued": 2, "running": 1}
    queue.fail_job("w", job, "RuntimeError: gone", max_attempts=1)
    assert queue.live_jobs() == {"queued": 2}
    assert queue.queue_depth() == {"queued": 2, "failed": 1}
