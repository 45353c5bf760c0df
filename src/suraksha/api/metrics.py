"""Prometheus metrics served at ``/metrics``.

Counters and histograms live in the process's default registry (one set per process, whatever the
number of app instances). The scan-queue depth is read from the database when scraped, so it is
right even when the workers run in other processes.
"""

from __future__ import annotations

import logging
import threading
import time

from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

log = logging.getLogger(__name__)

ITEMS_INGESTED = Counter("suraksha_items_ingested", "Items accepted by POST /v1/items (rate() gives items/s).", ["created"])
MATCHES = Counter("suraksha_matches", "Bank matches returned by the API, by bank label and endpoint.", ["label", "endpoint"])
REQUEST_LATENCY = Histogram(
    "suraksha_http_request_duration_seconds",
    "HTTP request latency by route.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ITEM_VERDICT_LATENCY = Histogram(
    "suraksha_item_wait_seconds",
    "POST /v1/items?wait=true: time from ingest to verdict.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LOOKUP_LATENCY = Histogram(
    "suraksha_lookup_seconds",
    "Matcher lookups made by the API, by signal type.",
    ["signal_type"],
    buckets=(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5),
)


class _QueueCollector(Collector):
    """``suraksha_scan_queue_jobs{state}`` read on scrape (cached for a second)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: tuple[float, dict[str, int]] = (0.0, {})

    def collect(self):
        g = GaugeMetricFamily("suraksha_scan_queue_jobs", "Scan jobs by state (queue depth: state=queued).", labels=["state"])
        depth = self._depth()
        for state in sorted(set(depth) | {"queued", "running"}):
            g.add_metric([state], depth.get(state, 0))
        yield g

    def _depth(self) -> dict[str, int]:
        with self._lock:
            at, cached = self._cached
            if time.monotonic() - at < 1.0:
                return cached
            try:
                from suraksha.pipeline.queue import queue_depth

                cached = queue_depth()
            except Exception:  # metrics must never fail the scrape
                log.debug("queue depth unavailable", exc_info=True)
                cached = {}
            self._cached = (time.monotonic(), cached)
            return cached


_registered = False
_register_lock = threading.Lock()


def register_collectors() -> None:
    global _registered
    with _register_lock:
        if not _registered:
            REGISTRY.register(_QueueCollector())
            # ``suraksha_evidence_read_errors_total{kind}`` lives with the vault that counts it;
            # importing it here makes every kind show at 0 from the first scrape, so alerts can fire.
            import suraksha.evidence.vault  # noqa: F401

            _registered = True


def count_matches(matches, endpoint: str) -> None:
    for m in matches:
        MATCHES.labels(label=m.label, endpoint=endpoint).inc()
