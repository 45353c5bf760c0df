"""Scan workers: claim jobs, scan, record; in-process threads or ``suraksha worker`` processes.

A worker holds leases on the jobs it works on and renews them while a scan runs (heartbeat), so
only a dead worker's jobs are re-claimed. Stopping is graceful: the batch in hand is finished and
recorded, then the loop exits; a ``kill -9`` instead leaves the jobs leased until the lease
expires, and another worker scans them again — recording happens once, in one transaction.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from dataclasses import dataclass, field

from suraksha.errors import NotFound
from suraksha.pipeline import queue
from suraksha.pipeline.scan import Scanner, ScanResult, check_scan_settings, get_scanner
from suraksha.pipeline.settings import get_pipeline_settings

log = logging.getLogger(__name__)

MIN_IDLE_SLEEP = 0.005

# glibc hands the multi-megabyte buffers of a decode + resize + PDQ back to the kernel after every
# picture in a worker thread's arena, so the next picture page-faults them in again: ~1,400 faults,
# 4-5 ms of an 8 ms hash on this VM (docs/benchmarks.md). Keeping up to this much freed memory per
# arena, and serving buffers under 32 MB from the arena instead of fresh mmaps, removes that.
_MALLOC_KEEP_BYTES = 64 * 1024 * 1024
_MALLOC_MMAP_MIN_BYTES = 32 * 1024 * 1024  # glibc's ceiling for M_MMAP_THRESHOLD on 64-bit
_malloc_tuned = False


def keep_freed_memory() -> bool:
    """Tune glibc's allocator for repeated large scans (once per process); False where not glibc."""
    global _malloc_tuned
    if _malloc_tuned:
        return True
    import ctypes
    import ctypes.util
    import platform

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        m_trim_threshold, m_mmap_threshold = -1, -3
        ok = libc.mallopt(m_trim_threshold, _MALLOC_KEEP_BYTES) == 1
        ok = libc.mallopt(m_mmap_threshold, _MALLOC_MMAP_MIN_BYTES) == 1 and ok
    except (OSError, AttributeError):
        return False
    _malloc_tuned = ok
    return ok


_frozen = False


def freeze_startup_objects() -> None:
    """Move everything alive now out of the garbage collector's reach (``gc.freeze``), once per
    process, after the first batch has loaded the matcher, the policy and the database layer.

    Full (generation 2) collections walk every object; in a worker that is the bank index, the
    SQLAlchemy mappers and caches, the policy..., and one took 40-80 ms, an item's whole latency
    budget, a few times a minute under load (the known-hash p99 outliers, docs/benchmarks.md). Frozen
    objects are never collected; they were going to live as long as the process anyway."""
    global _frozen
    if not _frozen:
        _frozen = True
        freeze_current_objects()


def freeze_current_objects() -> None:
    """Collect, then move every object still alive out of the collector's reach (``gc.freeze``)."""
    import gc

    gc.collect()
    gc.freeze()


def new_worker_id(suffix: str = "") -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}{suffix}"


@dataclass
class _Held:
    """Jobs a worker thread is working on (for the lease heartbeat)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    jobs: dict[str, list[int]] = field(default_factory=dict)

    def set(self, worker_id: str, ids: list[int]) -> None:
        with self.lock:
            self.jobs[worker_id] = ids

    def snapshot(self) -> dict[str, list[int]]:
        with self.lock:
            return {k: list(v) for k, v in self.jobs.items() if v}


def process_batch(worker_id: str, jobs: list[queue.ClaimedJob], scanner: Scanner, max_attempts: int) -> int:
    """Scan claimed jobs and record them; returns how many were recorded as done."""
    results: list[tuple[int, ScanResult]] = []
    runnable = []
    for job in jobs:
        if job.attempts > max_attempts:
            # Claimed more times than allowed: its workers keep dying on it (a poison item).
            queue.fail_job(
                worker_id,
                job,
                f"gave up after {job.attempts - 1} attempts (worker died while scanning)",
                max_attempts=max_attempts,
                permanent=True,
            )
        else:
            runnable.append(job)
    scanned = scanner.scan_many([j.item_id for j in runnable]) if runnable else {}
    for job in runnable:
        outcome = scanned.get(job.item_id)
        if isinstance(outcome, ScanResult):
            results.append((job.id, outcome))
            continue
        exc = outcome if isinstance(outcome, Exception) else RuntimeError("no scan result")
        log.error("scan of item %s failed (attempt %s): %s: %s", job.item_id, job.attempts, type(exc).__name__, exc, exc_info=exc)
        queue.fail_job(worker_id, job, f"{type(exc).__name__}: {exc}", max_attempts=max_attempts)
    if not results:
        return 0
    try:
        return len(queue.finish_jobs(worker_id, results))
    except Exception:  # noqa: BLE001 - one bad result must not sink the batch: record one by one
        log.exception("recording a batch failed; recording its jobs one by one")
    done = 0
    by_id = {j.id: j for j in jobs}
    for job_id, result in results:
        try:
            done += queue.finish_job(worker_id, job_id, result)
        except Exception as exc:  # noqa: BLE001
            log.exception("recording item %s failed", result.item_id)
            queue.fail_job(worker_id, by_id[job_id], f"recording failed: {type(exc).__name__}: {exc}", max_attempts=max_attempts)
    return done


def _loop(
    worker_id: str,
    stop_event: threading.Event,
    poll_interval: float,
    scanner: Scanner | None,
    held: _Held,
    batch: int,
    lease_seconds: int,
    max_attempts: int,
    counter: list[int],
) -> None:
    idle = MIN_IDLE_SLEEP
    linger = get_pipeline_settings().worker_linger_ms / 1000
    while not stop_event.is_set():
        try:
            jobs = queue.claim_jobs(worker_id, batch, lease_seconds)
        except Exception:  # noqa: BLE001 - database away: wait and retry
            log.exception("claiming jobs failed; retrying in %.1f s", poll_interval)
            stop_event.wait(poll_interval)
            continue
        if not jobs:
            # Woken at once by new work (in-process ingest; PostgreSQL NOTIFY from anywhere). The
            # poll finds what nobody announces (retries coming due, expired leases); without
            # notifications from other processes (SQLite) it starts fast and backs off.
            listening = queue.wait_for_work(idle)
            idle = poll_interval if listening else min(poll_interval, idle * 2)
            continue
        idle = MIN_IDLE_SLEEP
        held.set(worker_id, [j.id for j in jobs])
        try:
            counter[0] += process_batch(worker_id, jobs, scanner or get_scanner(), max_attempts)
            freeze_startup_objects()
        except Exception:  # noqa: BLE001 - e.g. the database went away while failing a job
            log.exception("processing a batch failed; its leases will expire and it will be retried")
            stop_event.wait(poll_interval)
            continue
        finally:
            held.set(worker_id, [])
        if linger and len(jobs) < batch:
            stop_event.wait(linger)  # let the next few items arrive: one batch for them, not one each


def _heartbeat(stop_event: threading.Event, held: _Held, lease_seconds: int) -> None:
    while not stop_event.wait(max(1.0, lease_seconds / 3)):
        for worker_id, ids in held.snapshot().items():
            try:
                queue.extend_leases(worker_id, ids, lease_seconds)
            except Exception:  # noqa: BLE001
                log.exception("lease heartbeat failed")


def run_worker(
    stop_event: threading.Event,
    concurrency: int = 1,
    poll_interval: float = 0.2,
    *,
    scanner: Scanner | None = None,
    batch: int | None = None,
    lease_seconds: int | None = None,
    max_attempts: int | None = None,
    worker_id: str | None = None,
) -> int:
    """Run `concurrency` worker threads until `stop_event` is set; returns the jobs recorded.

    New work wakes an idle thread at once (in-process ingest; on PostgreSQL, ingest's NOTIFY from
    any process). Besides, it polls every `poll_interval` (on SQLite starting at 5 ms and backing
    off to it, since other processes cannot wake it).
    """
    check_scan_settings()  # a setting no scan can work with stops the worker here, with its reason
    keep_freed_memory()
    ps = get_pipeline_settings()
    batch = batch or ps.worker_batch
    lease_seconds = lease_seconds or ps.lease_seconds
    max_attempts = max_attempts or ps.max_scan_attempts
    base_id = worker_id or new_worker_id()
    held = _Held()
    heart_stop = threading.Event()
    heart = threading.Thread(target=_heartbeat, args=(heart_stop, held, lease_seconds), daemon=True, name="lease-heartbeat")
    heart.start()
    counters = [[0] for _ in range(concurrency)]
    threads = [
        threading.Thread(
            target=_loop,
            args=(f"{base_id}/{n}", stop_event, poll_interval, scanner, held, batch, lease_seconds, max_attempts, counters[n]),
            name=f"scan-worker-{n}",
            daemon=True,
        )
        for n in range(concurrency)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    heart_stop.set()
    heart.join(timeout=5)
    return sum(c[0] for c in counters)


class BackgroundWorkers:
    """In-process workers for ``suraksha serve`` (embedded mode)."""

    def __init__(self, n: int, **kwargs) -> None:
        check_scan_settings()  # in the caller's thread: `serve` refuses to start, with the reason
        self.stop_event = threading.Event()
        self.recorded: int | None = None
        self._thread = threading.Thread(target=self._run, args=(n, kwargs), daemon=True, name="scan-workers")
        self._thread.start()

    def _run(self, n: int, kwargs: dict) -> None:
        self.recorded = run_worker(self.stop_event, concurrency=n, **kwargs)

    def stop(self, timeout: float = 30.0) -> None:
        self.stop_event.set()
        queue.notify_new_work()
        self._thread.join(timeout)


def start_background_workers(n: int = 1, **kwargs) -> BackgroundWorkers:
    """Start `n` worker threads in this process; call ``.stop()`` on shutdown."""
    return BackgroundWorkers(n, **kwargs)


def scan_now(item_id: int, scanner: Scanner | None = None) -> bool:
    """Scan one item right here and record the result (``suraksha scan-item``); True when recorded.

    Goes through a leased job like any worker, so the exactly-once rules hold if a worker scans
    the same item at the same time.
    """
    import datetime as dt

    from suraksha.db import session_scope, utcnow
    from suraksha.items.models import Item
    from suraksha.pipeline.models import ScanJob

    wid = new_worker_id(":now")
    now = utcnow()
    lease = get_pipeline_settings().lease_seconds
    with session_scope() as session:
        if session.get(Item, item_id) is None:
            raise NotFound(f"item {item_id} not found")
        job = ScanJob(
            item_id=item_id,
            state="running",
            attempts=1,
            lease_owner=wid,
            lease_expires_at=now + dt.timedelta(seconds=lease),
            available_at=now,
            created_at=now,
        )
        session.add(job)
        session.flush()
        claimed = queue.ClaimedJob(job.id, item_id, 1)
    try:
        result = (scanner or get_scanner()).scan(item_id)
    except Exception as exc:
        queue.fail_job(wid, claimed, f"{type(exc).__name__}: {exc}", max_attempts=get_pipeline_settings().max_scan_attempts)
        raise
    return queue.finish_job(wid, claimed.id, result)
