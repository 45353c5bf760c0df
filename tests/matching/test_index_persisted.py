"""A damaged persisted PdqIndex must fail with ValueError, never read outside its arrays.

`load` checks shapes, dtypes and that every table's offsets run from 0 to n without decreasing
(a ValueError there makes the matcher rebuild from bank rows). The C kernel also bounds-checks
every bucket and candidate position it reads: a wild offset would otherwise read past the position
table, a wild position past the hash array (a segfault, or silent garbage).
"""

from __future__ import annotations

import numpy as np
import pytest

import suraksha.matching.index.pdq as pdq_mod
from suraksha.matching.index.pdq import PdqIndex, kernel_available

pytestmark = pytest.mark.skipif(not kernel_available(), reason="C kernel not built")


def _saved(tmp_path):
    rng = np.random.default_rng(31)
    hashes = rng.integers(0, 256, (20000, 32), dtype=np.uint8)
    idx = PdqIndex()
    idx.add(np.arange(len(hashes), dtype=np.int64), hashes)
    idx.compact()  # one probed segment, empty delta
    idx.save(tmp_path / "pdq")
    vdir = tmp_path / "pdq" / (tmp_path / "pdq" / "CURRENT").read_text()
    return hashes, vdir


@pytest.mark.parametrize("mmap", [False, True], ids=["read", "mmap"])
@pytest.mark.parametrize("part", ["offsets", "pos"])
def test_out_of_range_tables_raise_value_error(tmp_path, part, mmap, monkeypatch):
    # load refuses bad offsets (next test); let them through to reach the kernel's own checks,
    # as when a mapped file is damaged after loading
    monkeypatch.setattr(pdq_mod, "_offsets_valid", lambda *a: True)
    hashes, vdir = _saved(tmp_path)
    arr = np.load(vdir / f"seg0.{part}.npy")
    if part == "offsets":
        arr[:] = 2**31  # every bucket claims entries far past the segment's end
    else:
        arr[:-1] = 0xFF  # every position is 2**24 - 1, past the 20k hashes
    np.save(vdir / f"seg0.{part}.npy", arr)
    idx = PdqIndex.load(tmp_path / "pdq", mmap=mmap)
    with pytest.raises(ValueError, match="corrupt"):
        idx.query(hashes[0], 31)
    with pytest.raises(ValueError, match="corrupt"):
        idx.query_many(hashes[:20], 31)


def test_intact_tables_still_answer(tmp_path):
    hashes, _ = _saved(tmp_path)
    idx = PdqIndex.load(tmp_path / "pdq", mmap=True)
    assert idx.query(hashes[7], 0) == [(7, 0)]


def test_damaged_offsets_refused_at_load(tmp_path):
    """Offsets that decrease or do not end at the segment's size: load raises (the matcher then
    rebuilds from bank rows) instead of answering from a broken table."""
    _, vdir = _saved(tmp_path)
    good = np.load(vdir / "seg0.offsets.npy")
    for damage in ("decreasing", "wrong end"):
        arr = good.copy()
        if damage == "decreasing":
            arr[5] = arr[6] + 1
        else:
            arr[np.flatnonzero(arr == 20000)[0]] = 19999
        np.save(vdir / "seg0.offsets.npy", arr)
        with pytest.raises(ValueError, match="inconsistent"):
            PdqIndex.load(tmp_path / "pdq")
