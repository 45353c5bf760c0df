"""PdqIndex read path under concurrent mutation.

Queries take no lock: they read a snapshot of the segment tuple and the delta while another thread
adds (flushing the delta into segments), removes, and background merges swap segments. These tests
hammer that path with a tiny GIL switch interval and check what must hold at every moment:
untouched entries are always found, so is an entry whose add() has returned (until its removal
begins), an entry whose remove() has returned is never found, no query raises, and results stay
sorted with each id once.
"""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import suraksha.matching.index.pdq as pdq_mod
from suraksha.matching.index.pdq import PdqIndex, kernel_available

KERNELS = [pytest.param(True, id="c-kernel"), pytest.param(False, id="numpy")]


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave threads every few bytecodes, not every 5 ms
    yield
    sys.setswitchinterval(old)


@pytest.mark.parametrize("use_kernel", KERNELS)
def test_queries_stay_consistent_during_adds_removes_and_merges(use_kernel, monkeypatch, fast_switching):
    if use_kernel and not kernel_available():
        pytest.skip("C kernel not built")
    # small delta and merge sizes so flushes, inline merges and background merges all happen
    monkeypatch.setattr(pdq_mod, "DELTA_MAX", 48)
    monkeypatch.setattr(pdq_mod, "BACKGROUND_MERGE_MIN", 300)
    rng = np.random.default_rng(17)
    stable = rng.integers(0, 256, (100, 32), dtype=np.uint8)  # ids 0..99, never touched
    churn = rng.integers(0, 256, (6000, 32), dtype=np.uint8)  # ids 1000.., added then removed
    idx = PdqIndex(use_kernel=use_kernel)
    idx.add(np.arange(len(stable), dtype=np.int64), stable)

    added_below = [0]  # churn rows < this have had add() return
    removing_below = [0]  # churn rows < this have had remove() called
    removed_below = [0]  # churn rows < this have had remove() return
    writer_done = threading.Event()
    errors: list[str] = []

    def writer() -> None:
        try:
            w = np.random.default_rng(1)
            i = 0
            while i < len(churn):
                k = min(int(w.integers(1, 30)), len(churn) - i)
                idx.add(np.arange(1000 + i, 1000 + i + k, dtype=np.int64), churn[i : i + k])
                i += k
                added_below[0] = i
                upto = max(0, i - 80)
                if upto > removed_below[0]:
                    removing_below[0] = upto
                    idx.remove(range(1000 + removed_below[0], 1000 + upto))
                    removed_below[0] = upto
        except Exception as e:  # pragma: no cover - reported below
            errors.append(f"writer: {e!r}")
        finally:
            writer_done.set()

    def reader(seed: int) -> None:
        r = np.random.default_rng(seed)
        while not writer_done.is_set():
            try:
                j = int(r.integers(0, len(stable)))
                got = idx.query(stable[j], 0)
                if (j, 0) not in got:
                    errors.append(f"untouched id {j} missing: {got}")
                gone = removed_below[0]
                if gone:
                    k = int(r.integers(0, gone))
                    got = idx.query(churn[k], 4)
                    if any(i == 1000 + k for i, _ in got):
                        errors.append(f"removed id {1000 + k} returned")
                lo, hi = removing_below[0], added_below[0]
                if hi > lo:  # added, and its removal not begun: must be found (delta or segment)
                    k = int(r.integers(lo, hi))
                    got = idx.query(churn[k], 4)
                    if removing_below[0] <= k and (1000 + k, 0) not in got:
                        errors.append(f"added id {1000 + k} missing: {got}")
                ids = [i for i, _ in got]
                if len(set(ids)) != len(ids) or got != sorted(got, key=lambda p: (p[1], p[0])):
                    errors.append(f"duplicate or unsorted result: {got}")
            except Exception as e:
                errors.append(f"reader: {e!r}")

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader, args=(s,)) for s in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    idx.wait_for_merges()
    assert not errors, errors[:5]
    assert len(idx) == len(stable) + len(churn) - removed_below[0]
    for j in range(0, len(stable), 7):
        assert idx.query(stable[j], 0) == [(j, 0)]
    for k in range(0, removed_below[0], 97):
        assert idx.query(churn[k], 0) == []
