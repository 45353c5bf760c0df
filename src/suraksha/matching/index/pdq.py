"""PDQ index: exact Hamming-radius search over 256-bit hashes, incremental, persisted.

Design (measured in ``benchmarks/bench_index.py``; reasons in ``docs/decisions.md``):

* **Multi-index hashing, exact.** A segment splits the 256 bits into ``m`` chunks of ``w`` bits
  (``w`` grows with the segment's size) and keeps, per chunk, the segment's positions sorted by
  that chunk's value (a counting sort: ``offsets[v]..offsets[v+1]`` is the bucket of value ``v``).
  If two hashes are within distance ``r`` and chunk ``j`` is probed with radius ``t_j`` (every value
  within ``t_j`` flipped bits), then by pigeonhole some probed chunk finds them whenever
  ``sum(t_j + 1) > r`` — so a query picks radii per threshold (cheapest plan by a cost model,
  unprobed chunks have ``t_j = -1``) and verifies every candidate by popcount against the stored
  hash. Results are therefore identical to brute force at every threshold 0..256; when the cost
  model says probing is dearer than a linear scan (large thresholds), the segment is scanned.
* **Never slower than a scan on skewed corpora.** The cost model uses each segment's measured
  bucket occupancy (from its offsets: biased bits and near-duplicate families make some chunks
  useless), and per query the kernel sums the real sizes of the buckets it is about to read and
  gives up for a linear scan once they hold more entries than the scan would cost. ``query_many``
  scans such queries together, blocked so each block of hashes is read once for all of them.
* **Incremental.** New hashes go to a small *delta* (scanned linearly) and are matchable at once;
  removals clear an ``alive`` byte (tombstone). A full delta becomes a new segment; segments merge
  binary-counter style (amortised O(log n) rebuilds per entry). ``compact()`` merges everything and
  is never needed for correctness.
* **Memory.** Per entry: 32 bytes of hash, 8 of id, 1 alive byte and 3 bytes of position per
  chunk table (4 when a segment exceeds 2**24 entries), plus ``m * 2**w`` 4-byte offsets.
* **Hot loops in C** (``_pdqkernel``, built by ``pip install -e .``); when it is not importable,
  numpy twins give identical results, only slower.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import threading
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

try:  # the C kernel; optional
    from suraksha.matching.index import _pdqkernel as _kernel
except ImportError:  # pragma: no cover - exercised by forcing use_kernel=False in tests
    _kernel = None

try:  # glibc's malloc_trim: return freed heap pages to the OS after a big build (see _Segment.build)
    import ctypes

    _malloc_trim = ctypes.CDLL(None).malloc_trim
except (OSError, AttributeError):  # pragma: no cover - not glibc
    _malloc_trim = None

__all__ = [
    "BruteForcePdqIndex",
    "PdqIndex",
    "bytes_to_hex",
    "kernel_available",
    "pdq_hex_to_bytes",
]

HASH_BYTES = 32
HASH_BITS = 256
MAX_THRESHOLD = 63
FORMAT_VERSION = 1
DELTA_MAX = 8192  # entries scanned linearly on every query before they become a segment
TRIM_AFTER_BUILD = 1 << 18  # segments this big release freed heap memory to the OS when built
BACKGROUND_MERGE_MIN = 1 << 20  # merges this big run in a thread (about 1 s of build at 1M)

# Cost model for choosing probe radii vs a linear scan, in units of "one random cache miss".
_CAND_COST = 1.0  # verifying one candidate (random read of a 32-byte hash)
_PROBE_COST = 0.25  # reading one probed value's bucket bounds
_SCAN_COST = 0.06  # one entry of a linear scan (sequential); calibrated: crossover at r≈55 (1M), ≈60 (10M)


def kernel_available() -> bool:
    """Whether the C kernel was importable (otherwise the numpy twins run)."""
    return _kernel is not None


# --------------------------------------------------------------------------- hex helpers
def pdq_hex_to_bytes(hex_hash: str) -> bytes:
    """64 hex digits -> 32 bytes. Raises ValueError with the reason."""
    if not isinstance(hex_hash, str):
        raise ValueError(f"PDQ hash must be a hex string, got {type(hex_hash).__name__}")
    s = hex_hash.strip()
    if len(s) != 2 * HASH_BYTES:
        raise ValueError(f"PDQ hash must be 64 hex digits, got {len(s)} characters")
    try:
        return bytes.fromhex(s)
    except ValueError:
        raise ValueError(f"PDQ hash is not hexadecimal: {hex_hash!r}") from None


def bytes_to_hex(raw: bytes | np.ndarray) -> str:
    """32 bytes -> 64 lowercase hex digits."""
    b = _as_query(raw).tobytes()
    return b.hex()


# --------------------------------------------------------------------------- validation
def _check_threshold(threshold: int) -> int:
    if isinstance(threshold, bool) or not isinstance(threshold, (int, np.integer)):
        raise ValueError(f"threshold must be an integer in 0..{MAX_THRESHOLD}, got {threshold!r}")
    t = int(threshold)
    if not 0 <= t <= MAX_THRESHOLD:
        raise ValueError(f"threshold must be in 0..{MAX_THRESHOLD}, got {t}")
    return t


def _as_query(h: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    if isinstance(h, (bytes, bytearray, memoryview)):
        b = bytes(h)
        if len(b) != HASH_BYTES:
            raise ValueError(f"a PDQ hash is {HASH_BYTES} bytes, got {len(b)}")
        return np.frombuffer(b, dtype=np.uint8)
    if isinstance(h, np.ndarray):
        if h.dtype != np.uint8 or h.size != HASH_BYTES or h.ndim not in (1, 2) or (h.ndim == 2 and h.shape[0] != 1):
            raise ValueError(f"a PDQ hash array must be uint8 of shape (32,), got {h.dtype} {h.shape}")
        return np.ascontiguousarray(h.reshape(HASH_BYTES))
    raise ValueError(f"a PDQ hash must be 32 bytes or a uint8 array, got {type(h).__name__}")


def _as_hashes(hashes: np.ndarray, what: str = "hashes") -> np.ndarray:
    if not isinstance(hashes, np.ndarray):
        raise ValueError(f"{what} must be a numpy uint8 array of shape (n, 32), got {type(hashes).__name__}")
    if hashes.dtype != np.uint8 or hashes.ndim != 2 or hashes.shape[1] != HASH_BYTES:
        raise ValueError(f"{what} must be uint8 of shape (n, 32), got {hashes.dtype} {hashes.shape}")
    return np.ascontiguousarray(hashes)


def _as_ids(ids: np.ndarray | Iterable[int]) -> np.ndarray:
    if isinstance(ids, np.ndarray):
        if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be a 1-d integer array, got {ids.dtype} {ids.shape}")
        if ids.dtype == np.uint64 and ids.size and int(ids.max()) > np.iinfo(np.int64).max:
            raise ValueError("ids must fit in int64")
        return ids.astype(np.int64, copy=False)
    try:
        return np.fromiter((int(i) for i in ids), dtype=np.int64)
    except (TypeError, OverflowError) as e:
        raise ValueError(f"ids must be integers that fit in int64: {e}") from None


def _check_add(ids: np.ndarray, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ids = _as_ids(ids)
    hashes = _as_hashes(hashes)
    if len(ids) != len(hashes):
        raise ValueError(f"{len(ids)} ids but {len(hashes)} hashes")
    if not _all_unique(ids):
        raise ValueError("ids in one add() call must be unique")
    return ids, hashes


def _all_unique(ids: np.ndarray) -> bool:
    """Whether the int64 ids are distinct. np.unique took 16 s on 10M ids (numpy 2.4); a sort
    takes 0.1 s, and ascending ids (bank rows) need one comparison pass."""
    if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
        return True
    s = np.sort(ids)
    return not bool(np.any(s[1:] == s[:-1]))


def _popcount_rows(words: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hamming distances between rows of (n, 4) uint64 words and one (4,) query."""
    return np.bitwise_count(words ^ q).sum(axis=1, dtype=np.int32)


def _sorted_results(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    pairs.sort(key=lambda p: (p[1], p[0]))
    return pairs


# --------------------------------------------------------------------------- layout and plans
def _layout(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chunk bit offsets and widths for a segment of n entries.

    Wider chunks mean fewer candidates per probe but more probes and bigger offset tables;
    floor(log2(n)) - 1 bits (at most 22: 16 MiB of offsets per chunk) was fastest at 1M (18 bits)
    and 10M (22 bits) in benchmarks/bench_index.py.
    """
    w = max(8, min(22, int(math.log2(max(n, 1))) - 1))
    m = math.ceil(HASH_BITS / w)
    base, extra = divmod(HASH_BITS, m)
    widths = np.array([base + 1] * extra + [base] * (m - extra), dtype=np.int32)
    bitoff = np.concatenate([[0], np.cumsum(widths)[:-1]]).astype(np.int32)
    return bitoff, widths


def _plan(n: int, widths: np.ndarray, threshold: int, occupancy: np.ndarray | None = None) -> np.ndarray | None:
    """Cheapest probe radii per chunk with sum(radius + 1) > threshold, or None for a linear scan.

    ``occupancy[j]`` is the expected number of entries in the bucket a probe of chunk j lands in;
    uniform hashes give n / 2**width, biased bits and near-duplicate families much more (see
    ``_Segment.occupancy``), which moves the radii to the chunks that still discriminate."""
    m = len(widths)
    if occupancy is None:
        occupancy = np.array([n / float(1 << int(w)) for w in widths])
    radius = np.full(m, -1, dtype=np.int32)
    total = 0.0
    for _ in range(threshold + 1):
        best, best_cost = -1, math.inf
        for j in range(m):
            w = int(widths[j])
            t = int(radius[j]) + 1
            if t > w:
                continue
            probes = math.comb(w, t)
            cost = probes * (_PROBE_COST + _CAND_COST * float(occupancy[j]))
            if cost < best_cost:
                best, best_cost = j, cost
        if best < 0:
            return None
        radius[best] += 1
        total += best_cost
    if total > _SCAN_COST * n:
        return None
    return radius


def _probe_count(widths: np.ndarray, radius: np.ndarray) -> int:
    """Bucket reads of a plan: every value within radius[j] flipped bits of chunk j."""
    return sum(sum(math.comb(int(w), t) for t in range(int(r) + 1)) for w, r in zip(widths, radius))


def _candidate_limit(n: int, widths: np.ndarray, radius: np.ndarray) -> int:
    """Most candidates a plan may verify before a linear scan is cheaper (-1: the probes alone
    cost more than the scan)."""
    left = _SCAN_COST * n - _PROBE_COST * _probe_count(widths, radius)
    return int(left / _CAND_COST) if left > 0 else -1


def _chunk_values(words: np.ndarray, bitoff: int, width: int) -> np.ndarray:
    """Chunk values of every row of (n, 4) uint64 words (numpy twin of the C extraction)."""
    idx, sh = divmod(int(bitoff), 64)
    v = words[..., idx] >> np.uint64(sh)
    if sh + width > 64:
        v = v | (words[..., idx + 1] << np.uint64(64 - sh))
    return (v & np.uint64((1 << width) - 1)).astype(np.uint32)


_MASKS: dict[tuple[int, int], np.ndarray] = {}


def _flip_masks(width: int, radius: int) -> np.ndarray:
    """Every XOR mask of at most `radius` set bits among `width` bits (uint32)."""
    key = (width, radius)
    masks = _MASKS.get(key)
    if masks is None:
        out = [0]
        frontier = [(0, 0)]  # (mask, next bit)
        for _ in range(radius):
            nxt = []
            for mask, start in frontier:
                for b in range(start, width):
                    nxt.append((mask | (1 << b), b + 1))
            out.extend(mk for mk, _ in nxt)
            frontier = nxt
        masks = np.array(out, dtype=np.uint32)
        _MASKS[key] = masks
    return masks


# --------------------------------------------------------------------------- segment
class _Segment:
    """An immutable set of entries (sorted by id) with its chunk tables; only `alive` changes."""

    def __init__(self, ids, hashes, alive, bitoff, widths, base, offsets, pos, pos_bytes):
        self.ids = ids
        self.hashes = hashes
        self.alive = alive
        self.n = len(ids)
        self.live = int(np.count_nonzero(alive))
        self.bitoff = bitoff
        self.widths = widths
        self.base = base
        self.offsets = offsets
        self.pos = pos
        self.pos_bytes = pos_bytes
        self.words = hashes.view("<u8").reshape(-1, 4)
        self._plans: dict[int, tuple[tuple[np.ndarray, int], ...]] = {}
        self._occupancy: np.ndarray | None = None
        self.scans = 0  # queries that found the probed buckets overfull and scanned (statistics)

    @classmethod
    def build(cls, ids: np.ndarray, hashes: np.ndarray, use_kernel: bool) -> _Segment:
        order = np.argsort(ids, kind="stable")
        ids = np.ascontiguousarray(ids[order])
        hashes = np.ascontiguousarray(hashes[order])
        n = len(ids)
        bitoff, widths = _layout(n)
        sizes = (1 << widths.astype(np.int64)) + 1
        base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        offsets = np.empty(int(sizes.sum()), dtype=np.uint32)
        pos_bytes = 3 if n <= (1 << 24) else 4
        pos = np.empty(len(widths) * n * pos_bytes + 1, dtype=np.uint8)  # +1: safe 4-byte reads
        pos[-1] = 0
        if use_kernel and _kernel is not None:
            # tables are independent: contiguous groups of chunks built in parallel (GIL released)
            m = len(widths)
            groups = min(m, os.cpu_count() or 1, 4) if n >= 100_000 else 1
            bounds = [m * g // groups for g in range(groups + 1)]
            view = memoryview(pos)

            def part(g: int) -> None:
                a, b = bounds[g], bounds[g + 1]
                _kernel.build(hashes, n, bitoff[a:b], widths[a:b], base[a:b], offsets, view[a * n * pos_bytes :], pos_bytes)

            if groups == 1:
                part(0)
            else:
                with ThreadPoolExecutor(groups) as pool:
                    list(pool.map(part, range(groups)))
        else:
            words = hashes.view("<u8").reshape(-1, 4)
            for j in range(len(widths)):
                w = int(widths[j])
                vals = _chunk_values(words, int(bitoff[j]), w)
                counts = np.bincount(vals, minlength=1 << w)
                off = offsets[base[j] : base[j] + (1 << w) + 1]
                off[0] = 0
                np.cumsum(counts, out=off[1:])
                order_j = np.argsort(vals, kind="stable").astype("<u4")
                raw = order_j.view(np.uint8).reshape(n, 4)[:, :pos_bytes]
                pos[j * n * pos_bytes : (j + 1) * n * pos_bytes] = raw.reshape(-1)
        alive = np.ones(n, dtype=np.uint8)
        seg = cls(ids, hashes, alive, bitoff, widths, base, offsets, pos, pos_bytes)
        seg.occupancy()  # here, not in the first query (0.1 s at 10M)
        if n >= TRIM_AFTER_BUILD and _malloc_trim is not None:
            # glibc keeps the build's freed temporaries resident (measured: 220 MiB after building
            # 10M entries, 1084 -> 864 MiB RSS once trimmed); hand them back to the OS.
            del order
            _malloc_trim(0)
        return seg

    def locate(self, ids: np.ndarray) -> np.ndarray:
        """Positions of the given ids that are alive here."""
        if self.n == 0 or len(ids) == 0:
            return np.empty(0, dtype=np.int64)
        p = np.searchsorted(self.ids, ids)
        inside = p < self.n
        p, ids = p[inside], ids[inside]
        p = p[self.ids[p] == ids]  # ids are unique per call and per segment: no duplicates
        return p[self.alive[p] == 1]

    def kill(self, positions: np.ndarray) -> None:
        if len(positions):
            self.alive[positions] = 0
            self.live -= len(positions)

    def occupancy(self) -> np.ndarray:
        """Per chunk, the expected size of the bucket a probe lands in when queries look like the
        stored hashes: sum(size**2) / n over the chunk's buckets (the offsets give every size).
        n / 2**width for uniform hashes; far more where bits are biased or families share chunks."""
        if self._occupancy is None:
            occ = np.empty(len(self.widths))
            for j in range(len(self.widths)):
                off = self.offsets[int(self.base[j]) : int(self.base[j]) + (1 << int(self.widths[j])) + 1]
                sizes = np.diff(off.astype(np.int64)).astype(np.float64)
                # others in a stored entry's bucket: n / 2**width for uniform (Poisson) sizes
                occ[j] = max(float(sizes @ (sizes - 1.0)) / max(self.n, 1), self.n / float(1 << int(self.widths[j])))
            self._occupancy = occ
        return self._occupancy

    def plans(self, threshold: int) -> tuple[tuple[np.ndarray, int], ...]:
        """(radii, candidate limit) to try in order; none left (or every one over its limit for
        this query) means a linear scan. First the plan for this segment's real occupancy; when
        that says "scan", the plan for uniform hashes still gets a try, because a query unlike the
        stored families lands in small buckets (the kernel gives up as soon as they are not)."""
        plans = self._plans.get(threshold)
        if plans is None:
            fitted = _plan(self.n, self.widths, threshold, self.occupancy())
            chosen = [fitted] if fitted is not None else [_plan(self.n, self.widths, threshold)]
            plans = tuple(
                (r, lim) for r in chosen if r is not None for lim in [_candidate_limit(self.n, self.widths, r)] if lim >= 0
            )
            self._plans[threshold] = plans
        return plans

    def plan(self, threshold: int) -> np.ndarray | None:
        """The first probe plan tried at this threshold (None: always a linear scan)."""
        plans = self.plans(threshold)
        return plans[0][0] if plans else None

    def query(self, q: np.ndarray, threshold: int, use_kernel: bool) -> list[tuple[int, int]]:
        """(position, distance) of live entries within threshold, unordered."""
        if self.live == 0:
            return []
        hits = self.probe(q, threshold, use_kernel)
        if hits is None:
            self.scans += 1
            return self.scan(q, threshold, use_kernel)
        return hits

    def scan(self, q: np.ndarray, threshold: int, use_kernel: bool) -> list[tuple[int, int]]:
        if use_kernel and _kernel is not None:
            return _kernel.brute(self.hashes, self.alive, self.n, q, threshold)
        return _np_scan(self.words, self.alive, q.view("<u8"), threshold)

    def probe(self, q: np.ndarray, threshold: int, use_kernel: bool) -> list[tuple[int, int]] | None:
        """Probe with the first plan whose buckets for this query hold few enough entries that
        verifying them is cheaper than a scan; None when there is none (then scan)."""
        for radius, limit in self.plans(threshold):
            if use_kernel and _kernel is not None:
                hits = _kernel.mih_query(
                    self.hashes,
                    self.alive,
                    self.n,
                    self.bitoff,
                    self.widths,
                    radius,
                    self.base,
                    self.offsets,
                    self.pos,
                    self.pos_bytes,
                    q,
                    threshold,
                    limit,
                )
            else:
                hits = self._np_probe(q, threshold, radius, limit)
            if hits is not None:
                return hits
        return None

    def _np_probe(self, q: np.ndarray, threshold: int, radius: np.ndarray, limit: int) -> list[tuple[int, int]] | None:
        qw = q.view("<u8")
        cand = []
        pb = self.pos_bytes
        seen = 0
        buckets = []
        for j in np.flatnonzero(radius >= 0):
            w = int(self.widths[j])
            vals = _chunk_values(qw, int(self.bitoff[j]), w) ^ _flip_masks(w, int(radius[j]))
            off = self.offsets[self.base[j] : self.base[j] + (1 << w) + 1]
            lo = off[vals].astype(np.int64)
            counts = off[vals + 1].astype(np.int64) - lo
            seen += int(counts.sum())
            if seen > limit:  # the real occupancy: overfull buckets, a scan is cheaper
                return None
            buckets.append((j, lo, counts))
        for j, lo, counts in buckets:
            total = int(counts.sum())
            if total == 0:
                continue
            starts = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
            k = (starts + j * self.n) * pb
            p = self.pos[k].astype(np.int64) | (self.pos[k + 1].astype(np.int64) << 8) | (self.pos[k + 2].astype(np.int64) << 16)
            if pb == 4:
                p |= self.pos[k + 3].astype(np.int64) << 24
            cand.append(p)
        if not cand:
            return []
        p = np.unique(np.concatenate(cand))
        p = p[self.alive[p] == 1]
        d = _popcount_rows(self.words[p], qw)
        keep = d <= threshold
        return list(zip(p[keep].tolist(), d[keep].tolist()))

    def live_entries(self) -> tuple[np.ndarray, np.ndarray]:
        mask = self.alive == 1
        return self.ids[mask], self.hashes[mask]


def _np_scan(words: np.ndarray, alive: np.ndarray | None, qw: np.ndarray, threshold: int) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    block = 1 << 18
    for start in range(0, len(words), block):
        d = _popcount_rows(words[start : start + block], qw)
        hit = d <= threshold
        if alive is not None:
            hit &= alive[start : start + block] == 1
        idx = np.flatnonzero(hit)
        out.extend(zip((idx + start).tolist(), d[idx].tolist()))
    return out


# --------------------------------------------------------------------------- the index
class PdqIndex:
    """Exact PDQ index: ``query`` returns every live (id, distance) within the threshold.

    Thread safety: any number of threads may query while one thread at a time mutates (mutations
    take a lock; readers work on snapshots and never block). The C kernel releases the GIL, so
    ``query_many`` and concurrent ``query`` calls use several cores.
    """

    def __init__(self, *, use_kernel: bool | None = None) -> None:
        self._use_kernel = kernel_available() if use_kernel is None else bool(use_kernel and kernel_available())
        self._lock = threading.RLock()
        self._background_merges = True
        self._merging_segments: tuple[_Segment, ...] = ()
        self._merge_thread: threading.Thread | None = None
        self._kill_log: list[np.ndarray] | None = None
        self._segments: tuple[_Segment, ...] = ()
        self._reset_delta()

    # -- delta: small, scanned linearly -----------------------------------------------------
    def _reset_delta(self, cap: int = 256) -> None:
        self._d_ids = np.empty(cap, dtype=np.int64)
        self._d_hashes = np.empty((cap, HASH_BYTES), dtype=np.uint8)
        self._d_alive = np.zeros(cap, dtype=np.uint8)
        self._d_n = 0
        self._d_slot: dict[int, int] = {}

    def _delta_append(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        k = len(ids)
        need = self._d_n + k
        if need > len(self._d_ids):
            cap = max(need, 2 * len(self._d_ids))
            d_ids = np.empty(cap, dtype=np.int64)
            d_hashes = np.empty((cap, HASH_BYTES), dtype=np.uint8)
            d_alive = np.zeros(cap, dtype=np.uint8)
            d_ids[: self._d_n] = self._d_ids[: self._d_n]
            d_hashes[: self._d_n] = self._d_hashes[: self._d_n]
            d_alive[: self._d_n] = self._d_alive[: self._d_n]
            # publish the grown arrays together: a reader takes them as one tuple
            self._d_ids, self._d_hashes, self._d_alive = d_ids, d_hashes, d_alive
        s = self._d_n
        self._d_ids[s:need] = ids
        self._d_hashes[s:need] = hashes
        self._d_alive[s:need] = 1
        for i, slot in zip(ids.tolist(), range(s, need)):
            self._d_slot[i] = slot
        self._d_n = need  # entries become visible to readers here

    def _delta_live(self) -> tuple[np.ndarray, np.ndarray]:
        n = self._d_n
        mask = self._d_alive[:n] == 1
        return self._d_ids[:n][mask], self._d_hashes[:n][mask]

    # -- mutation ----------------------------------------------------------------------------
    def _kill(self, ids: np.ndarray) -> None:
        if self._d_slot:
            for i in ids.tolist():
                slot = self._d_slot.pop(i, None)
                if slot is not None:
                    self._d_alive[slot] = 0
        for seg in self._segments:
            seg.kill(seg.locate(ids))
        if self._kill_log is not None:
            self._kill_log.append(ids.copy())

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        """Add entries; an id already present is replaced. Matchable when this returns."""
        ids, hashes = _check_add(ids, hashes)
        if len(ids) == 0:
            return
        with self._lock:
            self._kill(ids)
            if self._d_n + len(ids) <= DELTA_MAX:
                self._delta_append(ids, hashes)
                return
            d_ids, d_hashes = self._delta_live()
            new = _Segment.build(np.concatenate([d_ids, ids]), np.concatenate([d_hashes, hashes]), self._use_kernel)
            self._publish(self._segments + (new,), clear_delta=True)
            self._merge_tail()

    def remove(self, ids: Iterable[int]) -> None:
        """Remove entries by id (unknown ids are ignored). Not matched when this returns."""
        ids = np.sort(_as_ids(ids if isinstance(ids, np.ndarray) else list(ids)))
        ids = ids[np.concatenate([[True], ids[1:] != ids[:-1]])] if len(ids) > 1 else ids
        if len(ids) == 0:
            return
        with self._lock:
            self._kill(ids)

    def _publish(self, segments: tuple[_Segment, ...], clear_delta: bool) -> None:
        segments = tuple(s for s in segments if s.live > 0)
        if clear_delta:
            # readers holding the old tuple still see the old delta: never a moment without them
            self._segments = segments
            self._reset_delta()
        else:
            self._segments = segments

    def _merge_tail(self) -> None:
        """Merge the newest segments while the last is at least half the size of the one before
        (a binary counter: each entry is rebuilt O(log n) times in all). Small merges run here;
        one of >= BACKGROUND_MERGE_MIN entries runs in a thread, so add() never waits for a big
        rebuild and what it added is already matchable (it is in a segment or the delta)."""
        while True:
            segs = self._segments
            busy = self._merging_segments
            if busy:  # only segments newer than the ones being merged in the background
                where = [i for i, s in enumerate(segs) if any(s is x for x in busy)]
                if where:
                    segs = segs[max(where) + 1 :]
            if len(segs) < 2 or 2 * segs[-1].live < segs[-2].live:
                return
            a, b = segs[-2], segs[-1]
            if a.live + b.live >= BACKGROUND_MERGE_MIN and self._background_merges:
                if busy:
                    return  # one at a time; the running one calls _merge_tail again when done
                self._start_background_merge(a, b)
                return
            ia, ha = a.live_entries()
            ib, hb = b.live_entries()
            merged = _Segment.build(np.concatenate([ia, ib]), np.concatenate([ha, hb]), self._use_kernel)
            self._replace((a, b), merged)

    def _replace(self, olds: tuple[_Segment, ...], new: _Segment) -> bool:
        """Swap `olds` (still all present) for `new`, at the place of the first; else do nothing."""
        segs = list(self._segments)
        where = [i for i, s in enumerate(segs) if any(s is o for o in olds)]
        if len(where) != len(olds):
            return False
        segs = [s for s in segs if not any(s is o for o in olds)]
        segs.insert(where[0], new)
        self._publish(tuple(segs), clear_delta=False)
        return True

    def _start_background_merge(self, a: _Segment, b: _Segment) -> None:
        ia, ha = a.live_entries()  # under the lock: a consistent snapshot
        ib, hb = b.live_entries()
        self._kill_log = []
        self._merging_segments = (a, b)

        def run() -> None:
            try:
                merged = _Segment.build(np.concatenate([ia, ib]), np.concatenate([ha, hb]), self._use_kernel)
            except BaseException:  # pragma: no cover - e.g. out of memory: keep the two segments
                with self._lock:
                    self._kill_log, self._merging_segments = None, ()
                raise
            with self._lock:
                # removals and replacements made while building apply to the new segment too
                for ids in self._kill_log or ():
                    merged.kill(merged.locate(ids))
                self._kill_log, self._merging_segments = None, ()
                self._replace((a, b), merged)
                self._merge_tail()

        t = threading.Thread(target=run, name="pdq-index-merge", daemon=True)
        self._merge_thread = t
        t.start()

    def wait_for_merges(self) -> None:
        """Block until no background merge is running (tests, benchmarks, shutdown)."""
        while True:
            t = self._merge_thread
            if t is None or not t.is_alive():
                return
            t.join()

    def compact(self) -> None:
        """Merge every segment and the delta into one segment, dropping removed entries."""
        while True:
            self.wait_for_merges()
            with self._lock:
                if self._merging_segments:  # another one started meanwhile
                    continue
                parts = [s.live_entries() for s in self._segments] + [self._delta_live()]
                ids = np.concatenate([p[0] for p in parts])
                hashes = np.concatenate([p[1] for p in parts]) if len(ids) else np.empty((0, HASH_BYTES), np.uint8)
                segs = (_Segment.build(ids, hashes, self._use_kernel),) if len(ids) else ()
                self._publish(segs, clear_delta=True)
                return

    # -- queries -----------------------------------------------------------------------------
    def __len__(self) -> int:
        return sum(s.live for s in self._segments) + len(self._d_slot)

    def query(self, hash32: bytes | np.ndarray, threshold: int) -> list[tuple[int, int]]:
        """Every live (id, distance) with distance <= threshold, sorted by distance then id."""
        q = _as_query(hash32)
        threshold = _check_threshold(threshold)
        return self._query(q, threshold)

    def _query(self, q: np.ndarray, threshold: int) -> list[tuple[int, int]]:
        d_n, d_ids, d_hashes, d_alive = self._d_n, self._d_ids, self._d_hashes, self._d_alive
        segments = self._segments
        out: list[tuple[int, int]] = []
        for seg in segments:
            hits = seg.query(q, threshold, self._use_kernel)
            if hits:
                ids = seg.ids
                out.extend((int(ids[p]), d) for p, d in hits)
        if d_n:
            if self._use_kernel:
                hits = _kernel.brute(d_hashes, d_alive, d_n, q, threshold)
            else:
                hits = _np_scan(d_hashes[:d_n].view("<u8").reshape(-1, 4), d_alive[:d_n], q.view("<u8"), threshold)
            out.extend((int(d_ids[p]), d) for p, d in hits)
        if len(segments) + (1 if d_n else 0) > 1 and out:
            # an id replaced while this query ran could show twice; keep the nearest
            seen: dict[int, int] = {}
            for i, d in out:
                if i not in seen or d < seen[i]:
                    seen[i] = d
            out = list(seen.items())
        return _sorted_results(out)

    def query_many(self, hashes: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        """``query`` for each row, on every core when the C kernel is available (it releases the
        GIL). Per segment, queries whose probed buckets are overfull are scanned together in one
        blocked pass (each block of stored hashes is compared with all of them while in cache)."""
        hashes = _as_hashes(hashes, "queries")
        threshold = _check_threshold(threshold)
        workers = min(os.cpu_count() or 1, 8)
        k = len(hashes)
        if not self._use_kernel or k == 0:
            return [self._query(hashes[i], threshold) for i in range(k)]
        size = max(16, min(256, -(-k // (4 * workers))))
        blocks = [hashes[s : s + size] for s in range(0, k, size)]
        if workers > 1 and len(blocks) > 1:
            with ThreadPoolExecutor(min(workers, len(blocks))) as pool:
                parts = list(pool.map(lambda b: self._query_block(b, threshold), blocks))
        else:
            parts = [self._query_block(b, threshold) for b in blocks]
        return [r for part in parts for r in part]

    def _query_block(self, qs: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        d_n, d_ids, d_hashes, d_alive = self._d_n, self._d_ids, self._d_hashes, self._d_alive
        segments = self._segments
        k = len(qs)
        out: list[list[tuple[int, int]]] = [[] for _ in range(k)]
        for seg in segments:
            if seg.live == 0:
                continue
            ids = seg.ids
            overfull = []
            for i in range(k):
                hits = seg.probe(qs[i], threshold, True)
                if hits is None:
                    overfull.append(i)
                elif hits:
                    out[i].extend((int(ids[p]), d) for p, d in hits)
            if overfull:
                seg.scans += len(overfull)
                scanned = _kernel.brute_many(
                    seg.hashes, seg.alive, seg.n, np.ascontiguousarray(qs[overfull]), len(overfull), threshold
                )
                for i, hits in zip(overfull, scanned):
                    out[i].extend((int(ids[p]), d) for p, d in hits)
        if d_n:
            scanned = _kernel.brute_many(d_hashes, d_alive, d_n, qs, k, threshold)
            for i, hits in enumerate(scanned):
                out[i].extend((int(d_ids[p]), d) for p, d in hits)
        several = len(segments) + (1 if d_n else 0) > 1
        for i in range(k):
            if several and out[i]:
                seen: dict[int, int] = {}  # an id replaced while this ran could show twice
                for e, d in out[i]:
                    if e not in seen or d < seen[e]:
                        seen[e] = d
                out[i] = list(seen.items())
            _sorted_results(out[i])
        return out

    # -- persistence -------------------------------------------------------------------------
    def save(self, directory: Path) -> None:
        """Write the index under ``directory`` atomically: a new version folder, then ``CURRENT``."""
        directory = Path(directory)
        with self._lock:  # a consistent snapshot: alive copies and delta copies
            snap = [(s, s.alive.copy()) for s in self._segments]
            d_ids, d_hashes = self._delta_live()
        directory.mkdir(parents=True, exist_ok=True)
        name = f"v-{uuid.uuid4().hex}"
        tmp = directory / (name + ".tmp")
        tmp.mkdir()
        meta = {"format": FORMAT_VERSION, "kind": "pdq-mih", "segments": []}
        for k, (s, alive) in enumerate(snap):
            for part, arr in (("ids", s.ids), ("hashes", s.hashes), ("alive", alive), ("offsets", s.offsets), ("pos", s.pos)):
                _write_npy(tmp / f"seg{k}.{part}.npy", arr)
            meta["segments"].append(
                {
                    "n": s.n,
                    "pos_bytes": s.pos_bytes,
                    "bitoff": s.bitoff.tolist(),
                    "widths": s.widths.tolist(),
                    "base": s.base.tolist(),
                    "occupancy": s.occupancy().tolist(),
                }
            )
        _write_npy(tmp / "delta.ids.npy", d_ids)
        _write_npy(tmp / "delta.hashes.npy", d_hashes)
        (tmp / "meta.json").write_text(json.dumps(meta))
        _fsync_dir(tmp)
        final = directory / name
        os.rename(tmp, final)
        cur = directory / "CURRENT.tmp"
        with open(cur, "w") as f:
            f.write(name)
            f.flush()
            os.fsync(f.fileno())
        os.replace(cur, directory / "CURRENT")
        _fsync_dir(directory)
        for old in directory.iterdir():  # older versions and leftovers of interrupted saves
            if old.name.startswith("v-") and old.name != name:
                shutil.rmtree(old, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, *, mmap: bool = False, use_kernel: bool | None = None) -> PdqIndex:
        """Read an index written by ``save``. ``mmap=True`` maps the read-only arrays instead of
        reading them (instant start, pages fault in on first use). Raises ValueError if corrupt."""
        directory = Path(directory)
        try:
            name = (directory / "CURRENT").read_text().strip()
            vdir = directory / name
            meta = json.loads((vdir / "meta.json").read_text())
        except (OSError, ValueError) as e:
            raise ValueError(f"no readable PDQ index in {directory}: {e}") from None
        if meta.get("format") != FORMAT_VERSION or meta.get("kind") != "pdq-mih":
            raise ValueError(f"unsupported PDQ index format in {vdir}: {meta.get('format')!r}")
        mode = "r" if mmap else None
        idx = cls(use_kernel=use_kernel)
        segs = []
        try:
            for k, sm in enumerate(meta["segments"]):
                arr = {
                    p: np.load(vdir / f"seg{k}.{p}.npy", mmap_mode=mode, allow_pickle=False)
                    for p in ("ids", "hashes", "offsets", "pos")
                }
                alive = np.array(np.load(vdir / f"seg{k}.alive.npy", allow_pickle=False), dtype=np.uint8)
                n, pb = int(sm["n"]), int(sm["pos_bytes"])
                bitoff = np.array(sm["bitoff"], dtype=np.int32)
                widths = np.array(sm["widths"], dtype=np.int32)
                base = np.array(sm["base"], dtype=np.int64)
                ok = (
                    arr["ids"].shape == (n,)
                    and arr["ids"].dtype == np.int64
                    and arr["hashes"].shape == (n, HASH_BYTES)
                    and arr["hashes"].dtype == np.uint8
                    and alive.shape == (n,)
                    and pb in (3, 4)
                    and arr["pos"].shape == (len(widths) * n * pb + 1,)
                    and arr["pos"].dtype == np.uint8
                    and arr["offsets"].dtype == np.uint32
                    and len(bitoff) == len(widths) == len(base)
                    and int((base + (1 << widths.astype(np.int64)) + 1).max(initial=0)) <= len(arr["offsets"])
                )
                if not ok or not _offsets_valid(arr["offsets"], base, widths, n):
                    raise ValueError(f"segment {k} of {vdir} is inconsistent")
                seg = _Segment(arr["ids"], arr["hashes"], alive, bitoff, widths, base, arr["offsets"], arr["pos"], pb)
                occ = sm.get("occupancy")  # absent in indexes saved before it was kept: computed on use
                if isinstance(occ, list) and len(occ) == len(widths) and all(isinstance(x, (int, float)) for x in occ):
                    seg._occupancy = np.array(occ, dtype=np.float64)
                segs.append(seg)
            d_ids = np.load(vdir / "delta.ids.npy", allow_pickle=False)
            d_hashes = np.load(vdir / "delta.hashes.npy", allow_pickle=False)
        except (OSError, KeyError, TypeError) as e:
            raise ValueError(f"PDQ index in {vdir} is unreadable: {e}") from None
        idx._segments = tuple(segs)
        if len(d_ids):
            idx._delta_append(*_check_add(d_ids, d_hashes))
        return idx


def _offsets_valid(offsets: np.ndarray, base: np.ndarray, widths: np.ndarray, n: int) -> bool:
    """Every chunk table's offsets run from 0 to n without decreasing, so no bucket can reach
    outside the position table (11 ms at 10M). Damage found here makes ``load`` raise and the
    matcher rebuild; positions are bounds-checked by the kernel as it reads them."""
    for j in range(len(widths)):
        o = offsets[int(base[j]) : int(base[j]) + (1 << int(widths[j])) + 1]
        if o[0] != 0 or o[-1] != n or not bool((o[1:] >= o[:-1]).all()):
            return False
    return True


def _write_npy(path: Path, arr: np.ndarray) -> None:
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(arr), allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --------------------------------------------------------------------------- reference
class BruteForcePdqIndex:
    """The reference: a linear scan in plain numpy. Same interface as PdqIndex."""

    def __init__(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._hashes = np.empty((0, HASH_BYTES), dtype=np.uint8)

    def add(self, ids: np.ndarray, hashes: np.ndarray) -> None:
        ids, hashes = _check_add(ids, hashes)
        keep = ~np.isin(self._ids, ids)
        self._ids = np.concatenate([self._ids[keep], ids])
        self._hashes = np.concatenate([self._hashes[keep], hashes])

    def remove(self, ids: Iterable[int]) -> None:
        ids = _as_ids(ids if isinstance(ids, np.ndarray) else list(ids))
        keep = ~np.isin(self._ids, ids)
        self._ids, self._hashes = self._ids[keep], self._hashes[keep]

    def __len__(self) -> int:
        return len(self._ids)

    def query(self, hash32: bytes | np.ndarray, threshold: int) -> list[tuple[int, int]]:
        q = _as_query(hash32).view("<u8")
        threshold = _check_threshold(threshold)
        words = self._hashes.view("<u8").reshape(-1, 4)
        d = np.bitwise_count(words ^ q).sum(axis=1, dtype=np.int32)
        idx = np.flatnonzero(d <= threshold)
        return _sorted_results(list(zip(self._ids[idx].tolist(), d[idx].tolist())))

    def query_many(self, hashes: np.ndarray, threshold: int) -> list[list[tuple[int, int]]]:
        hashes = _as_hashes(hashes, "queries")
        return [self.query(h, threshold) for h in hashes]

    def compact(self) -> None:
        pass

    def save(self, directory: Path) -> None:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / "brute.npz.tmp"
        with open(tmp, "wb") as f:
            np.savez(f, ids=self._ids, hashes=self._hashes)
        os.replace(tmp, directory / "brute.npz")

    @classmethod
    def load(cls, directory: Path) -> BruteForcePdqIndex:
        with np.load(Path(directory) / "brute.npz", allow_pickle=False) as z:
            idx = cls()
            idx._ids, idx._hashes = z["ids"], z["hashes"]
        return idx
