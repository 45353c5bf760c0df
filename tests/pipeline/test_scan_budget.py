"""Workers under the scan budget (issue 11.2): a hostile video costs its item a media error with the
reason, not the worker's time; the job completes and the next item is scanned. Real signals (PyAV,
pdqhash) on generated benign videos; the bank and policy are the pipeline test doubles."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select
from tests.signals.hostile_video import Work, count_work, moving_video, static_video

from suraksha.db import session_scope
from suraksha.pipeline import queue, views
from suraksha.pipeline import scan as scan_mod
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.settings import reset_pipeline_settings
from suraksha.pipeline.worker import process_batch, start_background_workers
from suraksha.signals.budget import HASHED_FRAME_COST, ScanBudget

from . import fakes
from .conftest import b64
from .test_scan import submit

QVGA = 320 * 240


@pytest.fixture(scope="module")
def hostile() -> bytes:
    """~0.5 MB announcing 4 hours of static 4K at 1 fps (decoding alone took 110 s here, hashing hours)."""
    return static_video(3840, 2160, 4 * 3600)


@pytest.fixture(scope="module")
def normal() -> bytes:
    return moving_video(320, 240, seconds=4, fps=10)


@pytest.fixture
def work(monkeypatch) -> Work:
    return count_work(monkeypatch)


@pytest.fixture
def real_scanner(db_url, matcher) -> scan_mod.Scanner:
    """The real media_signals (and so the budget from the settings); fake bank and policy."""
    s = scan_mod.Scanner(matcher=matcher, policy=fakes.FakePolicy(), classifiers=[])
    scan_mod.set_scanner(s)
    return s


def drain(scanner) -> None:
    while jobs := queue.claim_jobs("test-worker", 16, 60):
        process_batch("test-worker", jobs, scanner, max_attempts=3)


def test_a_worker_records_the_budget_error_and_scans_the_next_item(real_scanner, hostile, normal, work):
    hostile_id = submit(media=[{"data_base64": b64(hostile)}])
    normal_id = submit(media=[{"data_base64": b64(normal)}])
    workers = start_background_workers(1, poll_interval=0.05)
    try:
        first = views.wait_for_verdict(hostile_id, timeout=10)
        second = views.wait_for_verdict(normal_id, timeout=10)
    finally:
        workers.stop()
    assert (first.status, first.verdict) == ("done", "allow")
    assert first.media[0].error.startswith(
        "ScanBudgetExceeded: scan budget exceeded: the header's 14400 frames of 3840x2160, 14400 s"
    )
    assert first.error.startswith("media[0]: ScanBudgetExceeded: scan budget exceeded")
    assert first.media[0].signals == {"sha256": hashlib.sha256(hostile).hexdigest(), "md5": hashlib.md5(hostile).hexdigest()}
    assert (second.status, second.media[0].error, len(second.media[0].signals["vpdq"])) == ("done", None, 4)
    assert work.hashed == 4  # the normal video's 4 seconds; nothing of the hostile one was decoded
    with session_scope() as s:  # both jobs completed and their leases released
        assert s.execute(select(ScanJob.state, ScanJob.lease_expires_at)).all() == [("done", None), ("done", None)]


def test_a_known_video_over_budget_is_still_matched_by_its_exact_hash(real_scanner, matcher, hostile, work):
    matcher.add("sha256", hashlib.sha256(hostile).hexdigest(), "local-csam", "csam", 1)
    item_id = submit(media=[{"data_base64": b64(hostile)}])
    drain(real_scanner)
    view = views.get_item(item_id)
    assert (view.status, view.verdict, view.rule) == ("done", "remove", "csam-match")
    assert [(m.bank, m.signal_type) for m in view.matches] == [("local-csam", "sha256")]
    assert "scan budget exceeded" in view.media[0].error
    assert (work.decoded, work.hashed) == (0, 0)


def test_the_media_of_one_item_share_the_budget_from_the_settings(real_scanner, normal, monkeypatch, work):
    one = QVGA * (40 + 4 * HASHED_FRAME_COST)  # what vPDQ of `normal` costs: 40 frames decoded, 4 hashed
    monkeypatch.setenv("SURAKSHA_SCAN_BUDGET_PIXEL_FRAMES", str(one * 3 // 2))
    reset_pipeline_settings()
    other = moving_video(320, 240, seconds=3, fps=10)
    item_id = submit(media=[{"data_base64": b64(normal)}, {"data_base64": b64(other)}, {"data_base64": b64(normal)}])
    next_id = submit(media=[{"data_base64": b64(normal)}])  # its own budget: scanned in full
    drain(real_scanner)
    view = views.get_item(item_id)
    assert view.status == "done" and view.media[0].error is None and len(view.media[0].signals["vpdq"]) == 4
    assert "over the 4.0e6 left of 1.2e7" in view.media[1].error and "ScanBudgetExceeded" in view.media[1].error
    assert "over the 4.0e6 left of 1.2e7" in view.media[2].error
    assert views.get_item(next_id).media[0].error is None
    assert work.hashed == 4 + 4


def test_no_media_is_fetched_once_the_time_is_spent(db_url, matcher, fetched, normal):
    now = [0.0]
    fetches: list[str] = []

    def fetch(url: str) -> bytes:  # a slow server: the first fetch takes 100 s of the item's 60
        fetches.append(url)
        now[0] += 100
        return normal

    scanner = scan_mod.Scanner(
        matcher=matcher,
        policy=fakes.FakePolicy(),
        classifiers=[],
        fetch=fetch,
        scan_budget=lambda: ScanBudget(60, clock=lambda: now[0]),
    )
    item_id = submit(media=[{"url": "https://cdn.example/a.mp4"}, {"url": "https://cdn.example/b.mp4"}])
    drain(scanner)
    view = views.get_item(item_id)
    assert fetches == ["https://cdn.example/a.mp4"]
    assert view.status == "done"
    for media in view.media:
        assert "scan budget exceeded: 100.0 s of decoding, over the limit of 60 s" in media.error
