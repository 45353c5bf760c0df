"""Scan workers keep freed memory, so every picture does not page-fault its buffers in again."""

from __future__ import annotations

import json
import platform
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc allocator tuning"
)

_PROBE = r"""
import io, json, resource, sys, threading
import numpy as np
from PIL import Image
from suraksha.signals import media_signals
if sys.argv[1] == "tuned":
    from suraksha.pipeline.worker import keep_freed_memory
    assert keep_freed_memory()
rng = np.random.default_rng(3)
buf = io.BytesIO()
Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)).save(buf, "JPEG")
data, faults = buf.getvalue(), []
def scan():  # in a thread, like a worker: glibc gives it its own arena
    for _ in range(4):
        before = resource.getrusage(resource.RUSAGE_THREAD).ru_minflt
        media_signals(data, fast=True)
        faults.append(resource.getrusage(resource.RUSAGE_THREAD).ru_minflt - before)
t = threading.Thread(target=scan); t.start(); t.join()
print(json.dumps(faults))
"""


def _faults(mode: str) -> list[int]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout)


def test_a_tuned_worker_thread_hashes_repeat_pictures_without_page_faults():
    plain, tuned = _faults("plain"), _faults("tuned")
    # Untuned, every picture faults its megabytes of buffers in again; tuned, only the first does.
    assert min(plain[1:]) > 300, plain
    assert max(tuned[1:]) < min(plain[1:]) / 5, (plain, tuned)


def test_after_its_first_batch_a_worker_keeps_its_startup_objects_out_of_full_collections(db_url, monkeypatch):
    import gc
    import threading

    from suraksha.pipeline import worker
    from suraksha.pipeline.ingest import submit_item
    from suraksha.pipeline.schemas import ItemIn

    monkeypatch.setattr(worker, "_frozen", False)
    gc.unfreeze()
    item, _ = submit_item(ItemIn(platform_id="gc", text="hello"))
    stop = threading.Event()
    done = threading.Thread(target=worker.run_worker, args=(stop,), kwargs={"poll_interval": 0.05})
    done.start()
    try:
        from suraksha.pipeline.views import wait_for_verdict

        assert wait_for_verdict(item.id, 10).status == "done"
    finally:
        stop.set()
        done.join(10)
    try:
        assert gc.get_freeze_count() > 1000  # the modules, mappers and caches loaded so far
    finally:
        gc.unfreeze()  # give the test process its collector back
