"""PDQ index benchmark: Suraksha's PdqIndex vs python-threatexchange and faiss, side by side.

    .venv/bin/python benchmarks/bench_index.py                 # 1M and 10M (about 10 minutes)
    .venv/bin/python benchmarks/bench_index.py --sizes 1000000
    .venv/bin/python benchmarks/bench_index.py --quick         # 100k, a minute
    .venv/bin/python benchmarks/bench_index.py --sizes 1000000 --corpora uniform,biased,families

Corpora (``--corpora``; generated once into benchmarks/.data/, gitignored; entry ids are
non-contiguous, 3 * i + 7):
  mixed     (the default) half clusters of near-duplicates (a base hash and 9 variants with 1-20
            flipped bits each), half uniform random. Queries: half near-duplicates of stored
            hashes (0-20 more flipped bits), half random misses.
  uniform   every bit independent and fair. Queries as for mixed.
  biased    bit b is set with probability p_b: 96 bits fair, 160 bits (the first 160, so whole
            chunks) at 0.03 or 0.97 (drawn per bit), as pictures with little detail give. Queries:
            stored hashes with 0-20 flipped bits, half; fresh hashes from the same distribution, half.
  families  large near-duplicate families: n / 2000 centres, each with 1000 members 1-24 bits
            away (half the corpus), the other half uniform. Queries: half from the families
            (0-20 more flipped bits), half random misses. Each family query has ~1000 true matches.

Each engine runs in its own subprocess, which reads /proc/self/status: "index MiB" is VmRSS after
building (input arrays freed) minus VmRSS before the data were loaded; "peak MiB" likewise from
VmHWM; "loaded MiB" is VmRSS of a fresh process after loading the saved index and running the
queries (the serving footprint), minus its own baseline. Ground truth is faiss IndexBinaryFlat
(a linear scan) over all queries; recall = matches found / true matches at threshold 31, and
"exact" means the same (id, distance) sets for every query.

Engines:
  ours        suraksha PdqIndex: `query` per hash, one thread; also `query_many` (a thread per core)
  te          (faiss on one thread) threatexchange PDQIndex (what PdqSignal.get_index_cls() returns: faiss
              IndexBinaryMultiHash 16x16 bits, nflip 1), `query(hex)` per hash as HMA calls it
  te2         threatexchange PDQIndex2 (faiss IndexFlatL2 over 256 float32 per hash); only up to
              --te2-max (10M would need 10 GiB of floats)
  faiss_flat  faiss IndexBinaryFlat range_search, all queries in one batch (all cores)
  faiss_mih   faiss IndexBinaryMultiHash(256, 16, 16), nflip=1 (exact at <= 31), one batch
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / ".data"
THRESHOLD = 31
ENGINES = ["ours", "te", "te2", "faiss_flat", "faiss_mih"]
DEFAULT_ENGINES = ["ours", "te", "faiss_flat", "faiss_mih"]  # te2: --engines ...,te2 (slow: 2 min at 1M)


# --------------------------------------------------------------------------- data
def _flip_rows(rows: np.ndarray, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip up to `counts[i]` random bits of row i (positions drawn with replacement: a repeated
    position cancels, so a few rows get fewer flips). Vectorised: no per-row Python."""
    out = rows.copy()
    r = np.arange(len(rows))
    for c in range(int(counts.max(initial=0))):
        sel = r[counts > c]
        pos = rng.integers(0, 256, len(sel))
        np.bitwise_xor.at(out, (sel, pos >> 3), (1 << (pos & 7)).astype(np.uint8))
    return out


def _biased_rows(rng: np.random.Generator, p: np.ndarray, n: int) -> np.ndarray:
    out = np.empty((n, 32), dtype=np.uint8)
    for s in range(0, n, 1 << 18):  # 256 bytes of random floats per row: in blocks
        k = min(1 << 18, n - s)
        out[s : s + k] = np.packbits(rng.random((k, 256), dtype=np.float32) < p, axis=1)
    return out


def _corpus(corpus: str, n: int, rng: np.random.Generator) -> np.ndarray:
    if corpus == "uniform":
        return rng.integers(0, 256, (n, 32), dtype=np.uint8)
    if corpus == "biased":
        return _biased_rows(rng, _bias(n), n)
    if corpus == "families":
        per = 1000
        centres = rng.integers(0, 256, (max(1, n // 2 // per), 32), dtype=np.uint8)
        members = _flip_rows(np.repeat(centres, per, axis=0), rng.integers(1, 25, len(centres) * per), rng)
        return np.concatenate([members, rng.integers(0, 256, (n - len(members), 32), dtype=np.uint8)])
    # mixed
    n_clustered = n // 2 // 10 * 10
    base = rng.integers(0, 256, (n_clustered // 10, 32), dtype=np.uint8)
    variants = _flip_rows(np.repeat(base, 9, axis=0), rng.integers(1, 21, n_clustered // 10 * 9), rng)
    clustered = np.concatenate([base, variants])
    return np.concatenate([clustered, rng.integers(0, 256, (n - len(clustered), 32), dtype=np.uint8)])


def _bias(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 5)
    p = np.full(256, 0.5, dtype=np.float32)
    p[:160] = np.where(rng.random(160) < 0.5, 0.03, 0.97)
    return p


CORPORA = ["mixed", "uniform", "biased", "families"]


def make_data(n: int, n_queries: int, corpus: str = "mixed") -> tuple[Path, Path, Path]:
    DATA.mkdir(parents=True, exist_ok=True)
    tag = "v2" if corpus == "mixed" else f"{corpus}-v1"  # bump when a generator changes
    hp, ip = DATA / f"pdq-{tag}-{n}.npy", DATA / f"pdq-{tag}-{n}-ids.npy"
    qp = DATA / f"pdq-{tag}-{n}-q{n_queries}.npy"
    if not hp.exists():
        rng = np.random.default_rng(n)
        hashes = _corpus(corpus, n, rng)
        hashes = hashes[rng.permutation(n)]
        np.save(hp, hashes)
        np.save(ip, np.arange(n, dtype=np.int64) * 3 + 7)
    if not qp.exists():
        rng = np.random.default_rng(n + 1)
        hashes = np.load(hp, mmap_mode="r")
        half = n_queries // 2
        near = _flip_rows(np.asarray(hashes[np.sort(rng.integers(0, n, half))]), rng.integers(0, 21, half), rng)
        if corpus == "biased":
            miss = _biased_rows(rng, _bias(n), n_queries - half)
        else:
            miss = rng.integers(0, 256, (n_queries - half, 32), dtype=np.uint8)
        np.save(qp, np.concatenate([near, miss]))
    return hp, ip, qp


# --------------------------------------------------------------------------- measuring
def _status(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0  # kB -> MiB
    return float("nan")


def _results_payload(results: list[list[tuple[int, int]]]) -> list[list[list[int]]]:
    return [sorted([int(i), int(d)] for i, d in r) for r in results]


def worker(engine: str, n: int, hp: Path, ip: Path, qp: Path, workdir: Path, phase: str) -> dict:
    """Runs in a subprocess. phase 'build': build, query, save; phase 'load': load, query."""
    import faiss  # imported by every engine's process, so baselines are comparable

    if engine in ("te", "te2"):
        # one query per call, compared with ours on one thread; faiss's OpenMP threads only add
        # overhead to a single-query range_search (and spin badly when the machine is busy)
        faiss.omp_set_num_threads(1)

    out: dict = {"engine": engine, "n": n, "phase": phase}
    queries = np.load(qp)
    q_hex = [q.tobytes().hex() for q in queries]
    gc.collect()
    rss0 = _status("VmRSS")
    out["baseline_mib"] = rss0
    eng = ENGINE_IMPL[engine]
    if phase == "build":
        hashes, ids = np.load(hp), np.load(ip)
        t = time.perf_counter()
        index = eng.build(ids, hashes)
        out["build_s"] = time.perf_counter() - t
        del hashes
        gc.collect()
        out["index_mib"] = _status("VmRSS") - rss0
        out["peak_mib"] = _status("VmHWM") - rss0
    else:
        t = time.perf_counter()
        index = eng.load(workdir)
        out["load_s"] = time.perf_counter() - t
        t = time.perf_counter()
        first = eng.query_one(index, queries[0], q_hex[0])
        out["first_query_s"] = time.perf_counter() - t
        del first
    # timed queries
    k = len(queries) if not getattr(eng, "slow", False) else min(len(queries), eng.slow_queries(n))
    t, c = time.perf_counter(), time.process_time()
    results = eng.query_all(index, queries[:k], q_hex[:k])
    dt, dc = time.perf_counter() - t, time.process_time() - c
    out["queries"] = k
    out["qps"] = k / dt
    out["qps_cpu"] = k / dc  # per CPU-second of this process: robust to other load on the machine
    if hasattr(eng, "query_many"):
        t = time.perf_counter()
        many = eng.query_many(index, queries)
        out["qps_many"] = len(queries) / (time.perf_counter() - t)
        out["many_equal"] = _results_payload(many[:k]) == _results_payload(results)
    out["results"] = _results_payload(results)
    if phase == "load":
        out["loaded_mib"] = _status("VmRSS") - rss0
        out["loaded_abs_mib"] = _status("VmRSS")
        return out
    # one add, then the query that must see it
    rng = np.random.default_rng(99)
    lat = []
    for r in range(eng.add_trials(n)):
        h = rng.integers(0, 256, 32, dtype=np.uint8)
        new_id = 10 * n + 1000 + r
        t = time.perf_counter()
        eng.add_one(index, new_id, h)
        found = eng.query_one(index, h, h.tobytes().hex())
        lat.append(time.perf_counter() - t)
        assert any(int(i) == new_id for i, _ in found), f"{engine}: added hash not matched"
    out["add_to_match_s_median"] = statistics.median(lat)
    out["add_to_match_s_max"] = max(lat)
    out["add_trials"] = len(lat)
    t = time.perf_counter()
    eng.save(index, workdir)
    out["save_s"] = time.perf_counter() - t
    out["saved_mib"] = sum(f.stat().st_size for f in workdir.rglob("*") if f.is_file()) / 2**20
    return out


class Ours:
    @staticmethod
    def build(ids, hashes):
        from suraksha.matching.index.pdq import PdqIndex

        idx = PdqIndex()
        idx.add(ids, hashes)
        return idx

    @staticmethod
    def query_one(idx, q, qh):
        return idx.query(q.tobytes(), THRESHOLD)

    @staticmethod
    def query_all(idx, qs, qh):
        return [idx.query(q.tobytes(), THRESHOLD) for q in qs]

    @staticmethod
    def query_many(idx, qs):
        return idx.query_many(qs, THRESHOLD)

    @staticmethod
    def add_trials(n):
        return 20

    @staticmethod
    def add_one(idx, i, h):
        idx.add(np.array([i], dtype=np.int64), h[None])

    @staticmethod
    def save(idx, d):
        idx.save(d / "pdq")

    @staticmethod
    def load(d):
        from suraksha.matching.index.pdq import PdqIndex

        return PdqIndex.load(d / "pdq")


class _TeBase:
    slow = False

    @staticmethod
    def add_trials(n):
        return 1 if n > 2_000_000 else 3

    @classmethod
    def query_one(cls, idx, q, qh):
        return [(m.metadata, int(m.similarity_info.distance)) for m in idx.query(qh)]

    @classmethod
    def query_all(cls, idx, qs, qh):
        return [cls.query_one(idx, None, h) for h in qh]

    @staticmethod
    def add_one(idx, i, h):
        idx.add(h.tobytes().hex(), i)

    @staticmethod
    def save(idx, d):
        d.mkdir(parents=True, exist_ok=True)
        with open(d / "te.pickle", "wb") as f:
            idx.serialize(f)

    @classmethod
    def load(cls, d):
        with open(d / "te.pickle", "rb") as f:
            return cls.cls().deserialize(f)


class Te(_TeBase):
    slow = True

    @staticmethod
    def slow_queries(n):
        # on biased bits its 16-bit buckets hold most of the corpus (2 lookups/s at 100k): a sample
        cap = int(os.environ.get("BENCH_TE_QUERIES", "0") or 0)
        return cap or (2000 if n <= 2_000_000 else 500)

    @staticmethod
    def cls():
        from threatexchange.signal_type.pdq.signal import PdqSignal

        return PdqSignal.get_index_cls()

    @classmethod
    def build(cls, ids, hashes):
        entries = [(h.tobytes().hex(), int(i)) for h, i in zip(hashes, ids.tolist())]
        return cls.cls().build(entries)


class Te2(_TeBase):
    slow = True

    @staticmethod
    def slow_queries(n):
        return 200

    @staticmethod
    def cls():
        from threatexchange.signal_type.pdq.pdq_index2 import PDQIndex2

        return PDQIndex2

    @classmethod
    def build(cls, ids, hashes):
        idx = cls.cls()()
        idx.add_all((h.tobytes().hex(), int(i)) for h, i in zip(hashes, ids.tolist()))
        return idx

    @classmethod
    def load(cls, d):
        import pickle

        with open(d / "te.pickle", "rb") as f:
            return pickle.load(f)


class _Faiss:
    slow = True

    @staticmethod
    def slow_queries(n):
        return 2000 if n <= 2_000_000 else 500

    @staticmethod
    def add_trials(n):
        return 5

    @staticmethod
    def query_one(idx, q, qh):
        return _Faiss.query_all(idx, q[None], None)[0]

    @staticmethod
    def query_all(idx, qs, qh):
        lims, dist, labels = idx.range_search(np.ascontiguousarray(qs), THRESHOLD + 1)
        return [list(zip(labels[lims[i] : lims[i + 1]].tolist(), dist[lims[i] : lims[i + 1]].tolist())) for i in range(len(qs))]

    @staticmethod
    def add_one(idx, i, h):
        idx.add_with_ids(h[None], np.array([i], dtype=np.int64))

    @staticmethod
    def save(idx, d):
        import faiss

        d.mkdir(parents=True, exist_ok=True)
        faiss.write_index_binary(idx, str(d / "faiss.index"))

    @staticmethod
    def load(d):
        import faiss

        idx = faiss.read_index_binary(str(d / "faiss.index"))
        _Faiss._set_nflip(idx)
        return idx

    @staticmethod
    def _set_nflip(idx):
        import faiss

        inner = faiss.downcast_IndexBinary(idx.index) if hasattr(idx, "index") else idx
        if isinstance(inner, faiss.IndexBinaryMultiHash):
            inner.nflip = THRESHOLD // inner.nhash


class FaissFlat(_Faiss):
    @staticmethod
    def build(ids, hashes):
        import faiss

        idx = faiss.IndexBinaryIDMap2(faiss.IndexBinaryFlat(256))
        idx.add_with_ids(hashes, ids)
        return idx


class FaissMih(_Faiss):
    @staticmethod
    def build(ids, hashes):
        import faiss

        idx = faiss.IndexBinaryIDMap2(faiss.IndexBinaryMultiHash(256, 16, 16))
        idx.add_with_ids(hashes, ids)
        _Faiss._set_nflip(idx)
        return idx


ENGINE_IMPL = {"ours": Ours, "te": Te, "te2": Te2, "faiss_flat": FaissFlat, "faiss_mih": FaissMih}


# --------------------------------------------------------------------------- driver
def run_worker(engine: str, n: int, paths, workdir: Path, phase: str, timeout: float) -> dict:
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        engine,
        "--n",
        str(n),
        "--phase",
        phase,
        "--paths",
        *map(str, paths),
        "--workdir",
        str(workdir),
    ]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"engine": engine, "n": n, "phase": phase, "error": f"timed out after {timeout:.0f} s"}
    if p.returncode != 0:
        return {"engine": engine, "n": n, "phase": phase, "error": (p.stderr.strip().splitlines() or ["?"])[-1]}
    return json.loads(p.stdout.strip().splitlines()[-1])


def compare(results, truth) -> tuple[float, bool]:
    k = min(len(results), len(truth))
    true_pairs = sum(len(t) for t in truth[:k])
    found = sum(len({tuple(x) for x in r} & {tuple(x) for x in t}) for r, t in zip(results, truth[:k]))
    exact = all(r == t for r, t in zip(results, truth[:k]))
    return (found / true_pairs if true_pairs else 1.0), exact


def fmt(v, nd=1):
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "**no**"
    if isinstance(v, float):
        if v >= 100:
            return f"{v:,.0f}"
        return f"{v:.{nd}f}" if v >= 0.1 else f"{v:.2g}"
    return str(v)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1000000,10000000")
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help=f"any of {','.join(ENGINES)}")
    ap.add_argument("--te2-max", type=int, default=1_000_000, help="largest size to run PDQIndex2 at (10M: 10 GiB)")
    ap.add_argument("--mih-max", type=int, default=1_000_000, help="largest size to run faiss_mih at")
    ap.add_argument("--corpora", default="mixed", help=f"comma-separated, any of {','.join(CORPORA)}")
    ap.add_argument("--te-queries", type=int, default=0, help="queries timed for te (default 2000, 500 at 10M)")
    ap.add_argument("--quick", action="store_true", help="100k hashes, 500 queries")
    ap.add_argument("--timeout", type=float, default=420.0, help="per engine subprocess, seconds")
    ap.add_argument("--json", type=Path, help="also write all measurements here")
    ap.add_argument("--worker"), ap.add_argument("--n", type=int), ap.add_argument("--phase")
    ap.add_argument("--paths", nargs=3), ap.add_argument("--workdir", type=Path)
    a = ap.parse_args()
    if a.worker:
        res = worker(a.worker, a.n, *map(Path, a.paths), a.workdir, a.phase)
        print(json.dumps(res))
        return
    if a.te_queries:
        os.environ["BENCH_TE_QUERIES"] = str(a.te_queries)  # read by the te worker subprocesses
    sizes = [100_000] if a.quick else [int(s) for s in a.sizes.split(",")]
    n_queries = 500 if a.quick else a.queries
    engines = [e for e in a.engines.split(",") if e]
    all_rows = []
    t_start = time.time()
    corpora = [c for c in a.corpora.split(",") if c]
    for c in corpora:
        if c not in CORPORA:
            ap.error(f"unknown corpus {c!r}; expected any of {','.join(CORPORA)}")
    for n, corpus in [(n, c) for c in corpora for n in sizes]:
        t = time.time()
        paths = make_data(n, n_queries, corpus)
        print(f"# n={n:,} {corpus}: data ready in {time.time() - t:.1f} s", file=sys.stderr)
        rows = {}
        truth = None
        order = ["faiss_flat"] + [e for e in engines if e != "faiss_flat"]  # the truth first
        for e in order:
            if (e == "te2" and n > a.te2_max) or (e == "faiss_mih" and n > a.mih_max):
                continue
            workdir = Path(tempfile.mkdtemp(prefix=f"bench-{e}-", dir=DATA))
            try:
                t = time.time()
                b = run_worker(e, n, paths, workdir, "build", a.timeout)
                ld = run_worker(e, n, paths, workdir, "load", a.timeout) if "error" not in b else {}
                brief = {
                    k: (round(v, 3) if isinstance(v, float) else v)
                    for k, v in {**b, **{"load_" + k: v for k, v in ld.items()}}.items()
                    if k != "results" and not k.startswith("load_results")
                }
                print(f"# n={n:,} {e}: {time.time() - t:.1f} s {json.dumps(brief)}", file=sys.stderr)
            finally:
                shutil.rmtree(workdir, ignore_errors=True)
            if e == "faiss_flat" and "results" in b:
                truth = b["results"]
            rows[e] = (b, ld)
        for e in engines:
            if e not in rows:
                continue
            b, ld = rows[e]
            if truth is not None and "results" in b:
                b["recall"], b["exact"] = compare(b["results"], truth)
                if "results" in ld:
                    ld["recall"], ld["exact"] = compare(ld["results"], truth)
            b.pop("results", None)
            ld.pop("results", None)
            all_rows.append({"n": n, "corpus": corpus, "engine": e, "build": b, "load": ld})
        if a.json:  # after every size, so a long run that is stopped keeps what it measured
            a.json.write_text(json.dumps(all_rows, indent=1))
        print(f"# n={n:,} done at {time.time() - t_start:.0f} s", file=sys.stderr)
    print_table(all_rows)
    la = os.getloadavg()
    print(
        f"\nMachine: {os.cpu_count()} CPUs; load average at the end {la[0]:.1f} / {la[1]:.1f} / {la[2]:.1f} "
        f"(1/5/15 min); total {time.time() - t_start:.0f} s. Command: {' '.join(sys.argv)}"
    )


def print_table(rows) -> None:
    print(
        f"Threshold {THRESHOLD}. te = threatexchange PDQIndex (per-hash query, as HMA calls it). "
        "Ratios are vs te at the same size.\n"
    )
    head = [
        "n",
        "corpus",
        "engine",
        "lookups/s",
        "per CPU-s",
        "× te (CPU)",
        "batch lookups/s",
        "× scan (batch)",
        "recall",
        "exact",
        "build s",
        "index MiB",
        "peak MiB",
        "save s",
        "load s",
        "loaded MiB (process)",
        "add→match ms (median/max)",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    by_n: dict[tuple[int, str], dict] = {}
    for r in rows:
        by_n.setdefault((r["n"], r.get("corpus", "mixed")), {})[r["engine"]] = r
    for (n, corpus), engines in by_n.items():
        te_qps = engines.get("te", {}).get("build", {}).get("qps_cpu")
        flat_qps = engines.get("faiss_flat", {}).get("build", {}).get("qps")
        for e, r in engines.items():
            b, ld = r["build"], r["load"]
            if "error" in b:
                print(f"| {n:,} | {corpus} | {e} | error: {b['error']} |" + " |" * (len(head) - 4))
                continue
            single = b["qps"] if e in ("ours", "te", "te2") else None
            batch = b.get("qps_many") if e == "ours" else (b["qps"] if e.startswith("faiss") else None)
            cpu = b.get("qps_cpu") if e in ("ours", "te", "te2") else None
            ratio = (f"{cpu / te_qps:,.1f}×" if cpu / te_qps < 10 else f"{cpu / te_qps:,.0f}×") if cpu and te_qps else "–"
            loaded = f"{fmt(ld.get('loaded_mib'))} ({fmt(ld.get('loaded_abs_mib'))})" if ld and "error" not in ld else "–"
            add = (
                f"{b['add_to_match_s_median'] * 1e3:.2f} / {b['add_to_match_s_max'] * 1e3:.2f}"
                if "add_to_match_s_median" in b
                else "–"
            )
            cells = [
                f"{n:,}",
                corpus,
                e,
                fmt(single),
                fmt(cpu),
                ratio,
                fmt(batch),
                f"{batch / flat_qps:,.1f}×" if batch and flat_qps else "–",
                f"{b.get('recall', float('nan')) * 100:.2f}%",
                fmt(b.get("exact")),
                fmt(b["build_s"]),
                fmt(b["index_mib"]),
                fmt(b["peak_mib"]),
                fmt(b.get("save_s")),
                fmt(ld.get("load_s") if ld else None),
                loaded,
                add,
            ]
            print("| " + " | ".join(cells) + " |")
    print(
        "\nlookups/s: one query call per hash, one thread, wall clock; per CPU-s: the same per CPU-second "
        "of that process (what a quiet core gives; the wall figure drops when other work shares the CPUs). batch: ours query_many (a thread per core); "
        "faiss: one range_search over all queries (OpenMP, all cores). × scan: batch lookups/s over "
        "faiss_flat's (a linear scan of the same hashes, all cores, same run). load s: read the saved form "
        "in a fresh process; loaded MiB: that process's VmRSS growth after load and queries "
        "(absolute VmRSS in brackets)."
    )


if __name__ == "__main__":
    main()
