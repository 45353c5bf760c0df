"""PdqIndex and ExactIndex: identical to brute force, incremental, persisted, strict on input."""

from __future__ import annotations

import numpy as np
import pytest

import suraksha.matching.index.pdq as pdq_mod
from suraksha.matching.index.exact import ExactIndex
from suraksha.matching.index.pdq import (
    BruteForcePdqIndex,
    PdqIndex,
    bytes_to_hex,
    kernel_available,
    pdq_hex_to_bytes,
)

THRESHOLDS = (0, 1, 15, 31, 32, 47, 63)
KERNELS = [pytest.param(True, id="c-kernel"), pytest.param(False, id="numpy")]


def flip(h: np.ndarray, nbits: int, rng: np.random.Generator) -> np.ndarray:
    """A copy of the 32-byte hash `h` with exactly `nbits` distinct bits flipped."""
    bits = np.unpackbits(h.copy())
    bits[rng.choice(256, nbits, replace=False)] ^= 1
    return np.packbits(bits)


def clustered(rng: np.random.Generator, n_base: int, per: int, n_random: int) -> np.ndarray:
    """Clusters of near-duplicates (1-20 flipped bits, a few far ones) plus uniform random hashes."""
    base = rng.integers(0, 256, (n_base, 32), dtype=np.uint8)
    rows = [base]
    for b in base:
        for _ in range(per):
            rows.append(flip(b, int(rng.integers(1, 40)), rng)[None])
    rows.append(rng.integers(0, 256, (n_random, 32), dtype=np.uint8))
    return np.concatenate(rows)


def queries(rng: np.random.Generator, stored: np.ndarray, k: int) -> np.ndarray:
    picks = stored[rng.integers(0, len(stored), k)]
    near = np.stack([flip(h, int(rng.integers(0, 33)), rng) for h in picks])
    return np.concatenate([near, rng.integers(0, 256, (k // 4, 32), dtype=np.uint8)])


def assert_same(idx, ref, qs: np.ndarray, thresholds=THRESHOLDS) -> None:
    for t in thresholds:
        for q in qs:
            assert idx.query(q, t) == ref.query(q, t), f"threshold {t}"


@pytest.fixture(params=KERNELS)
def use_kernel(request) -> bool:
    if request.param and not kernel_available():
        pytest.skip("C kernel not built")
    return request.param


def test_kernel_is_built():
    """`pip install -e .` builds the C kernel; the numpy twin is only a fallback."""
    assert kernel_available()


# ---------------------------------------------------------------- exactness vs brute force
@pytest.mark.parametrize("compacted", [True, False], ids=["segment", "delta"])
@pytest.mark.parametrize("n_random", [0, 3000])
def test_identical_to_brute_force(use_kernel, n_random, compacted):
    rng = np.random.default_rng(7 + n_random)
    hashes = clustered(rng, 60, 30, n_random)
    ids = rng.permutation(10 * len(hashes))[: len(hashes)].astype(np.int64)
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    idx.add(ids, hashes)
    ref.add(ids, hashes)
    if compacted:
        idx.compact()
        assert len(idx._segments) == 1 and idx._d_n == 0
    else:
        assert not idx._segments
    assert len(idx) == len(ref) == len(hashes)
    assert_same(idx, ref, queries(rng, hashes, 40))


def test_edge_distances_exactly_at_threshold(use_kernel):
    """Hashes at distance t and t+1 from the query, for every tested t: t is in, t+1 is out."""
    rng = np.random.default_rng(3)
    q = rng.integers(0, 256, 32, dtype=np.uint8)
    dists = sorted({d for t in THRESHOLDS for d in (t, t + 1)})
    # several hashes per distance, with the flipped bits spread differently over the chunks
    hashes = np.stack([flip(q, d, rng) for d in dists for _ in range(4)])
    hashes = np.concatenate([hashes, rng.integers(0, 256, (2000, 32), dtype=np.uint8)])
    ids = np.arange(len(hashes), dtype=np.int64)
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    idx.add(ids, hashes)
    idx.compact()  # a segment (probed), not the delta (scanned)
    ref.add(ids, hashes)
    for t in THRESHOLDS:
        got = idx.query(q, t)
        assert got == ref.query(q, t)
        assert max(d for _, d in got) == t
        assert all(d <= t for _, d in got)


def test_concentrated_flips_still_found(use_kernel):
    """Worst case for chunking: all differing bits packed into as few chunks as possible."""
    rng = np.random.default_rng(11)
    q = rng.integers(0, 256, 32, dtype=np.uint8)
    bits = np.unpackbits(q)
    rows = []
    for start in range(0, 256, 8):
        for d in (15, 31, 32, 47, 63):
            b = bits.copy()
            b[np.arange(start, start + d) % 256] ^= 1
            rows.append(np.packbits(b))
    hashes = np.concatenate([np.stack(rows), rng.integers(0, 256, (3000, 32), dtype=np.uint8)])
    ids = np.arange(len(hashes), dtype=np.int64)
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    idx.add(ids, hashes)
    idx.compact()  # a segment (probed), not the delta (scanned)
    ref.add(ids, hashes)
    assert_same(idx, ref, q[None])


def test_query_many_matches_query(use_kernel):
    rng = np.random.default_rng(5)
    hashes = clustered(rng, 30, 20, 2000)
    idx = PdqIndex(use_kernel=use_kernel)
    idx.add(np.arange(len(hashes), dtype=np.int64), hashes)
    idx.compact()  # a segment (probed), not the delta (scanned)
    qs = queries(rng, hashes, 64)
    for t in (0, 31, 47):
        assert idx.query_many(qs, t) == [idx.query(q, t) for q in qs]


def test_results_sorted_by_distance_then_id(use_kernel):
    rng = np.random.default_rng(1)
    q = rng.integers(0, 256, 32, dtype=np.uint8)
    hashes = np.stack([flip(q, d, rng) for d in (5, 3, 3, 0, 5)])
    idx = PdqIndex(use_kernel=use_kernel)
    idx.add(np.array([50, 40, 30, 20, 10], dtype=np.int64), hashes)
    assert idx.query(q.tobytes(), 31) == [(20, 0), (30, 3), (40, 3), (10, 5), (50, 5)]


# ---------------------------------------------------------------- incremental
def test_add_remove_readd_visible_immediately(use_kernel):
    rng = np.random.default_rng(2)
    hashes = rng.integers(0, 256, (20000, 32), dtype=np.uint8)
    idx = PdqIndex(use_kernel=use_kernel)
    idx.add(np.arange(20000, dtype=np.int64), hashes)  # one segment
    fresh = rng.integers(0, 256, 32, dtype=np.uint8)
    idx.add(np.array([99999]), fresh[None])  # goes to the delta: no rebuild
    assert idx.query(fresh, 0) == [(99999, 0)]
    assert len(idx) == 20001
    idx.remove([99999, 5, 123456789])  # unknown ids ignored
    assert idx.query(fresh, 31) == []
    assert idx.query(hashes[5], 0) == []
    assert len(idx) == 19999
    idx.add(np.array([5]), fresh[None])  # re-add id 5 with another hash
    assert idx.query(fresh, 0) == [(5, 0)]
    assert idx.query(hashes[5], 0) == []
    # replacing an id that lives in the segment
    idx.add(np.array([7]), hashes[8][None])
    assert idx.query(hashes[8], 0) == [(7, 0), (8, 0)]
    assert idx.query(hashes[7], 0) == []
    assert len(idx) == 20000


def test_many_small_adds_and_removes_match_brute_force(use_kernel, monkeypatch):
    """Enough churn to flush the delta into segments and merge them; compared after every step."""
    monkeypatch.setattr(pdq_mod, "DELTA_MAX", 64)
    rng = np.random.default_rng(9)
    pool = clustered(rng, 20, 10, 800)
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    live: set[int] = set()
    qs = queries(rng, pool, 12)
    for step in range(40):
        k = int(rng.integers(1, 40))
        ids = rng.choice(600, k, replace=False).astype(np.int64)
        hs = pool[rng.integers(0, len(pool), k)]
        idx.add(ids, hs)
        ref.add(ids, hs)
        live |= set(ids.tolist())
        gone = rng.choice(600, int(rng.integers(0, 15)), replace=False)
        idx.remove(gone)
        ref.remove(gone.tolist())
        live -= set(gone.tolist())
        assert len(idx) == len(ref) == len(live)
        if step % 5 == 0:
            assert_same(idx, ref, qs, (0, 31, 63))
    assert len(idx._segments) >= 1
    assert_same(idx, ref, qs)
    idx.compact()
    assert len(idx._segments) == 1 and idx._d_n == 0
    assert_same(idx, ref, qs)


def test_background_merges_keep_results_exact(use_kernel, monkeypatch):
    """Big merges run in a thread; removals and replacements made meanwhile still apply."""
    monkeypatch.setattr(pdq_mod, "DELTA_MAX", 32)
    monkeypatch.setattr(pdq_mod, "BACKGROUND_MERGE_MIN", 64)
    rng = np.random.default_rng(21)
    pool = clustered(rng, 20, 10, 600)
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    qs = queries(rng, pool, 10)
    for step in range(60):
        k = int(rng.integers(1, 50))
        ids = rng.choice(500, k, replace=False).astype(np.int64)
        hs = pool[rng.integers(0, len(pool), k)]
        idx.add(ids, hs)
        ref.add(ids, hs)
        gone = rng.choice(500, int(rng.integers(0, 20)), replace=False)
        idx.remove(gone)
        ref.remove(gone.tolist())
        assert len(idx) == len(ref)
        if step % 10 == 0:
            assert_same(idx, ref, qs, (31,))
    idx.wait_for_merges()
    assert len(idx) == len(ref)
    assert_same(idx, ref, qs, (0, 31, 63))
    idx.compact()
    assert_same(idx, ref, qs, (31,))


def test_compact_preserves_results(use_kernel):
    rng = np.random.default_rng(4)
    hashes = clustered(rng, 30, 20, 1000)
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    ids = np.arange(len(hashes), dtype=np.int64)
    idx.add(ids, hashes)
    ref.add(ids, hashes)
    idx.remove(range(0, len(hashes), 3))
    ref.remove(range(0, len(hashes), 3))
    extra = rng.integers(0, 256, (50, 32), dtype=np.uint8)
    idx.add(np.arange(10**6, 10**6 + 50), extra)
    ref.add(np.arange(10**6, 10**6 + 50), extra)
    qs = queries(rng, hashes, 30)
    before = [idx.query(q, 31) for q in qs]
    idx.compact()
    assert [idx.query(q, 31) for q in qs] == before
    assert_same(idx, ref, qs)
    assert len(idx) == len(ref)


def test_large_ids_and_negative_ids(use_kernel):
    rng = np.random.default_rng(6)
    hashes = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    ids = np.array([2**62, -5, 123 * 2**20 + 7], dtype=np.int64)
    idx = PdqIndex(use_kernel=use_kernel)
    idx.add(ids, hashes)
    idx.compact()  # a segment (probed), not the delta (scanned)
    for i, h in zip(ids.tolist(), hashes):
        assert idx.query(h, 0) == [(i, 0)]
    idx.remove([2**62])
    assert idx.query(hashes[0], 0) == []


# ---------------------------------------------------------------- persistence
def test_save_load_round_trip(tmp_path, use_kernel):
    rng = np.random.default_rng(8)
    hashes = clustered(rng, 30, 20, 2000)
    idx = PdqIndex(use_kernel=use_kernel)
    idx.add(np.arange(len(hashes), dtype=np.int64), hashes)
    idx.compact()  # a segment (probed), not the delta (scanned)
    idx.remove([1, 2, 3])
    idx.add(np.array([10**9]), hashes[:1])  # delta entry
    qs = queries(rng, hashes, 30)
    idx.save(tmp_path / "pdq")
    for mmap in (False, True):
        back = PdqIndex.load(tmp_path / "pdq", mmap=mmap, use_kernel=use_kernel)
        assert len(back) == len(idx)
        for t in (0, 31, 63):
            assert [back.query(q, t) for q in qs] == [idx.query(q, t) for q in qs]
        # the loaded index stays mutable
        back.remove([10**9])
        assert (10**9, 0) not in back.query(hashes[0], 0)
    # saving again replaces the version atomically and cleans the old one
    idx.save(tmp_path / "pdq")
    assert len([p for p in (tmp_path / "pdq").iterdir() if p.name.startswith("v-")]) == 1
    assert len(PdqIndex.load(tmp_path / "pdq")) == len(idx)


def test_load_refuses_missing_or_corrupt(tmp_path):
    with pytest.raises(ValueError, match="no readable PDQ index"):
        PdqIndex.load(tmp_path / "nothing")
    idx = PdqIndex()
    idx.add(np.arange(100, dtype=np.int64), np.random.default_rng(0).integers(0, 256, (100, 32), dtype=np.uint8))
    idx.compact()
    idx.save(tmp_path / "pdq")
    vdir = tmp_path / "pdq" / (tmp_path / "pdq" / "CURRENT").read_text()
    np.save(vdir / "seg0.ids.npy", np.arange(5, dtype=np.int64))
    with pytest.raises(ValueError, match="inconsistent"):
        PdqIndex.load(tmp_path / "pdq")


def test_empty_index(tmp_path, use_kernel):
    idx = PdqIndex(use_kernel=use_kernel)
    q = np.zeros(32, dtype=np.uint8)
    assert len(idx) == 0
    assert idx.query(q, 63) == []
    assert idx.query_many(np.zeros((3, 32), dtype=np.uint8), 31) == [[], [], []]
    idx.remove([1, 2])
    idx.add(np.empty(0, dtype=np.int64), np.empty((0, 32), dtype=np.uint8))
    idx.compact()
    idx.save(tmp_path / "e")
    assert len(PdqIndex.load(tmp_path / "e")) == 0
    idx.add(np.array([1]), q[None])
    idx.remove([1])
    idx.compact()
    assert len(idx) == 0 and idx.query(q, 63) == []


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("index_cls", [PdqIndex, BruteForcePdqIndex])
def test_bad_input(index_cls):
    idx = index_cls()
    good = np.zeros((2, 32), dtype=np.uint8)
    with pytest.raises(ValueError, match="uint8 of shape"):
        idx.add(np.array([1, 2]), np.zeros((2, 31), dtype=np.uint8))
    with pytest.raises(ValueError, match="uint8 of shape"):
        idx.add(np.array([1, 2]), np.zeros((2, 32), dtype=np.int32))
    with pytest.raises(ValueError, match="ids but"):
        idx.add(np.array([1, 2, 3]), good)
    with pytest.raises(ValueError, match="unique"):
        idx.add(np.array([1, 1]), good)
    with pytest.raises(ValueError, match="integer"):
        idx.add(np.array([1.0, 2.0]), good)
    idx.add(np.array([1, 2]), good)
    for t in (-1, 64, 1000, 3.0, None, True):
        with pytest.raises(ValueError, match="threshold"):
            idx.query(good[0], t)
    with pytest.raises(ValueError, match="32 bytes"):
        idx.query(b"\x00" * 31, 10)
    with pytest.raises(ValueError, match="shape"):
        idx.query(np.zeros(32, dtype=np.int64), 10)
    with pytest.raises(ValueError, match="shape"):
        idx.query_many(np.zeros((2, 16), dtype=np.uint8), 10)
    assert len(idx) == 2  # nothing changed by the refused calls


def test_hex_helpers():
    h = "f" * 8 + "0123456789abcdef" * 3 + "0" * 8
    raw = pdq_hex_to_bytes(h)
    assert len(raw) == 32 and bytes_to_hex(raw) == h
    assert pdq_hex_to_bytes(h.upper()) == raw
    assert bytes_to_hex(np.frombuffer(raw, dtype=np.uint8)) == h
    for bad in ("abc", "g" * 64, "0" * 66, 123):
        with pytest.raises(ValueError, match="PDQ hash"):
            pdq_hex_to_bytes(bad)


# ---------------------------------------------------------------- exact index
def test_exact_index(tmp_path):
    idx = ExactIndex()
    idx.add(np.array([1, 2, 3]), ["aa", "bb", "aa"])
    assert idx.query("aa") == [1, 3]
    assert idx.query("zz") == []
    assert len(idx) == 3
    idx.add([3], ["cc"])  # re-adding an id replaces its value
    assert idx.query("aa") == [1] and idx.query("cc") == [3]
    idx.remove([1, 99])
    assert idx.query("aa") == [] and len(idx) == 2
    idx.add([4, 5], ["https://example.org/ä?x=1", "line\nbreak"])
    idx.save(tmp_path / "x")
    back = ExactIndex.load(tmp_path / "x")
    assert len(back) == 4
    for v in ("bb", "cc", "https://example.org/ä?x=1", "line\nbreak", "aa"):
        assert back.query(v) == idx.query(v)
    idx.save(tmp_path / "x")  # second save replaces files, leaves one set
    assert len(list((tmp_path / "x").iterdir())) == 4
    assert ExactIndex.load(tmp_path / "x").query("bb") == [2]


def test_exact_index_bad_input(tmp_path):
    idx = ExactIndex()
    with pytest.raises(ValueError, match="ids but"):
        idx.add([1, 2], ["a"])
    with pytest.raises(ValueError, match="unique"):
        idx.add([1, 1], ["a", "b"])
    with pytest.raises(ValueError, match="strings"):
        idx.add([1], [b"a"])
    with pytest.raises(ValueError, match="string"):
        idx.query(5)
    with pytest.raises(ValueError, match="no readable exact index"):
        ExactIndex.load(tmp_path / "missing")
    assert len(idx) == 0


def test_kernel_tables_identical_to_numpy_tables():
    """The C build (parallel over chunk groups above 100k entries) writes the numpy twin's bytes."""
    if not kernel_available():
        pytest.skip("C kernel not built")
    rng = np.random.default_rng(12)
    hashes = rng.integers(0, 256, (150_000, 32), dtype=np.uint8)
    ids = rng.permutation(150_000).astype(np.int64)
    a = pdq_mod._Segment.build(ids, hashes, use_kernel=True)
    b = pdq_mod._Segment.build(ids, hashes, use_kernel=False)
    assert np.array_equal(a.ids, b.ids) and np.array_equal(a.hashes, b.hashes)
    assert np.array_equal(a.offsets, b.offsets)
    assert np.array_equal(a.pos[:-1], b.pos[:-1])


def test_exact_index_shared_values_vs_reference():
    """Many entries per value and one per value, with churn: same answers as a plain dict of sets."""
    rng = np.random.default_rng(13)
    idx, ref = ExactIndex(), {}
    vocab = [f"v{k}" for k in range(30)]
    for _ in range(300):
        ids = rng.choice(200, int(rng.integers(1, 8)), replace=False).tolist()
        vals = [vocab[int(rng.integers(0, len(vocab)))] for _ in ids]
        idx.add(ids, vals)
        ref.update(zip(ids, vals))
        gone = rng.choice(200, int(rng.integers(0, 4)), replace=False).tolist()
        idx.remove(gone)
        for g in gone:
            ref.pop(g, None)
        assert len(idx) == len(ref)
    for v in vocab + ["absent"]:
        assert idx.query(v) == sorted(i for i, x in ref.items() if x == v)


@pytest.mark.parametrize("scan_cost", [pytest.param(1e9, id="always-probe"), pytest.param(0.0, id="always-scan")])
def test_exact_whichever_plan_is_chosen(use_kernel, monkeypatch, scan_cost):
    """Probing with large radii (what big indexes do at high thresholds) and the linear scan are
    both exact; small test indexes would otherwise pick the scan above ~40 bits."""
    monkeypatch.setattr(pdq_mod, "_SCAN_COST", scan_cost)
    rng = np.random.default_rng(31)
    q = rng.integers(0, 256, 32, dtype=np.uint8)
    bits = np.unpackbits(q)
    rows = [flip(q, d, rng) for d in range(0, 65) for _ in range(2)]
    for start in range(0, 256, 16):  # differing bits packed together
        for d in (31, 32, 47, 48, 63, 64):
            b = bits.copy()
            b[np.arange(start, start + d) % 256] ^= 1
            rows.append(np.packbits(b))
    hashes = np.concatenate([np.stack(rows), clustered(rng, 20, 10, 1500)])
    ids = np.arange(len(hashes), dtype=np.int64)
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    idx.add(ids, hashes)
    idx.compact()  # a segment (probed), not the delta (scanned)
    ref.add(ids, hashes)
    assert all((idx._segments[0].plan(t) is None) == (scan_cost == 0.0) for t in THRESHOLDS if t > 0)
    assert_same(idx, ref, np.concatenate([q[None], queries(rng, hashes, 6)]))


def test_numpy_fallback_when_kernel_missing():
    """Without the compiled module the index still imports and answers (numpy twins)."""
    import subprocess
    import sys

    code = (
        "import sys; sys.modules['suraksha.matching.index._pdqkernel'] = None\n"
        "import numpy as np\n"
        "from suraksha.matching.index import pdq\n"
        "assert not pdq.kernel_available()\n"
        "h = np.random.default_rng(0).integers(0, 256, (300, 32), dtype=np.uint8)\n"
        "i = pdq.PdqIndex(); i.add(np.arange(300), h); i.compact()\n"
        "r = pdq.BruteForcePdqIndex(); r.add(np.arange(300), h)\n"
        "assert all(i.query(q, 63) == r.query(q, 63) for q in h[:20])\n"
        "assert i.query(h[7], 0) == [(7, 0)]\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
