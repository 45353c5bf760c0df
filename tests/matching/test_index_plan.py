"""The PDQ index's query plan on corpora that are not uniform: biased bits and large families of
near-duplicates. Results stay identical to brute force, and a segment whose probed buckets are
overfull is scanned instead (the real bucket occupancy decides, per query and per segment)."""

from __future__ import annotations

import numpy as np
import pytest

from suraksha.matching.index.pdq import BruteForcePdqIndex, PdqIndex, kernel_available

THRESHOLDS = (0, 8, 31, 32, 47)
KERNELS = [pytest.param(True, id="c-kernel"), pytest.param(False, id="numpy")]


@pytest.fixture(params=KERNELS)
def use_kernel(request) -> bool:
    if request.param and not kernel_available():
        pytest.skip("C kernel not built")
    return request.param


def biased(rng: np.random.Generator, n: int, biased_bits: int = 160) -> np.ndarray:
    """Hashes whose first `biased_bits` bits are set with probability 0.03 (or 0.97), the rest
    uniform: whole chunks hold one or two values, as low-detail pictures give."""
    p = np.full(256, 0.5)
    p[:biased_bits] = np.where(rng.random(biased_bits) < 0.5, 0.03, 0.97)
    bits = (rng.random((n, 256)) < p).astype(np.uint8)
    return np.packbits(bits, axis=1)


def families(rng: np.random.Generator, n_families: int, size: int, max_flips: int = 24) -> np.ndarray:
    """`n_families` centres, each with `size` members 1..max_flips bits away from it."""
    centres = rng.integers(0, 256, (n_families, 32), dtype=np.uint8)
    bits = np.unpackbits(np.repeat(centres, size, axis=0), axis=1)
    flips = rng.integers(1, max_flips + 1, len(bits))
    for c in range(max_flips):
        rows = np.flatnonzero(flips > c)
        bits[rows, rng.integers(0, 256, len(rows))] ^= 1
    return np.packbits(bits, axis=1)


def near(rng: np.random.Generator, stored: np.ndarray, k: int, max_flips: int = 32) -> np.ndarray:
    """k queries: stored hashes with 0..max_flips bits flipped, plus k // 4 uniform misses."""
    bits = np.unpackbits(stored[rng.integers(0, len(stored), k)], axis=1)
    flips = rng.integers(0, max_flips + 1, k)
    for c in range(max_flips):
        rows = np.flatnonzero(flips > c)
        bits[rows, rng.integers(0, 256, len(rows))] ^= 1
    return np.concatenate([np.packbits(bits, axis=1), rng.integers(0, 256, (k // 4, 32), dtype=np.uint8)])


def build(hashes: np.ndarray, use_kernel: bool, *, split: int = 0) -> tuple[PdqIndex, BruteForcePdqIndex]:
    """The index as one compacted segment (plus `split` rows added after: a second segment or the
    delta) and the brute-force reference over the same rows."""
    ids = np.arange(len(hashes), dtype=np.int64) * 5 + 3
    idx, ref = PdqIndex(use_kernel=use_kernel), BruteForcePdqIndex()
    cut = len(hashes) - split
    idx.add(ids[:cut], hashes[:cut])
    idx.compact()
    if split:
        idx.add(ids[cut:], hashes[cut:])
    ref.add(ids, hashes)
    return idx, ref


def assert_exact(idx: PdqIndex, ref: BruteForcePdqIndex, qs: np.ndarray) -> None:
    for t in THRESHOLDS:
        expected = [ref.query(q, t) for q in qs]
        assert [idx.query(q, t) for q in qs] == expected, f"query, threshold {t}"
        assert idx.query_many(qs, t) == expected, f"query_many, threshold {t}"


@pytest.mark.parametrize("split", [0, 300, 9000], ids=["one-segment", "with-delta", "two-segments"])
def test_biased_bits_identical_to_brute_force(use_kernel, split):
    rng = np.random.default_rng(11)
    hashes = biased(rng, 30_000)
    idx, ref = build(hashes, use_kernel, split=split)
    assert_exact(idx, ref, near(rng, hashes, 48))


@pytest.mark.parametrize("split", [0, 300], ids=["one-segment", "with-delta"])
def test_near_duplicate_families_identical_to_brute_force(use_kernel, split):
    rng = np.random.default_rng(12)
    hashes = np.concatenate([families(rng, 12, 1500), rng.integers(0, 256, (6000, 32), dtype=np.uint8)])
    hashes = hashes[rng.permutation(len(hashes))]
    idx, ref = build(hashes, use_kernel, split=split)
    assert_exact(idx, ref, near(rng, hashes, 48))


def test_removed_entries_stay_removed_when_scanned(use_kernel):
    """The scan path (taken for overfull buckets) honours removals like the probe path."""
    rng = np.random.default_rng(13)
    hashes = families(rng, 2, 8000, max_flips=6)
    idx, ref = build(hashes, use_kernel)
    gone = np.arange(0, len(hashes), 3, dtype=np.int64) * 5 + 3
    idx.remove(gone)
    ref.remove(gone)
    qs = near(rng, hashes, 12, max_flips=4)
    assert_exact(idx, ref, qs)
    assert idx._segments[0].scans > 0  # the path under test was taken


def test_overfull_buckets_choose_a_scan(use_kernel):
    """A query inside a family of 16,000 near-identical hashes lands in buckets holding most of the
    segment: verifying them would cost more than reading every hash once, so the segment is scanned.
    A query unlike the family still probes (small buckets), on the same segment."""
    rng = np.random.default_rng(14)
    fam = families(rng, 1, 16_000, max_flips=4)
    hashes = np.concatenate([fam, rng.integers(0, 256, (4000, 32), dtype=np.uint8)])
    idx, ref = build(hashes, use_kernel)
    seg = idx._segments[0]
    inside, outside = fam[5], rng.integers(0, 256, 32, dtype=np.uint8)
    before = seg.scans
    assert idx.query(inside, 31) == ref.query(inside, 31)
    assert len(ref.query(inside, 31)) > 15_000
    assert seg.scans == before + 1
    assert idx.query(outside, 31) == ref.query(outside, 31)
    assert seg.scans == before + 1  # probed, not scanned
    # the plan itself moved away from the chunks the family fills: its occupancy is measured
    occ = seg.occupancy()
    assert occ.max() > 1000 * (seg.n / 2 ** seg.widths.max())


def test_uniform_hashes_never_scan(use_kernel):
    """On uniform hashes the plan and its limits are today's: no query falls back to a scan."""
    rng = np.random.default_rng(15)
    hashes = rng.integers(0, 256, (40_000, 32), dtype=np.uint8)
    idx, ref = build(hashes, use_kernel)
    qs = near(rng, hashes, 40, max_flips=31)
    for q in qs:
        assert idx.query(q, 31) == ref.query(q, 31)
    assert idx._segments[0].scans == 0


@pytest.mark.skipif(not kernel_available(), reason="C kernel not built")
def test_occupancy_survives_save_and_load(tmp_path):
    rng = np.random.default_rng(16)
    hashes = biased(rng, 20_000)
    idx, ref = build(hashes, True)
    occ = idx._segments[0].occupancy().copy()
    idx.save(tmp_path / "pdq")
    loaded = PdqIndex.load(tmp_path / "pdq")
    assert loaded._segments[0]._occupancy is not None
    assert np.allclose(loaded._segments[0]._occupancy, occ)
    qs = near(rng, hashes, 16)
    assert loaded.query_many(qs, 31) == [ref.query(q, 31) for q in qs]
