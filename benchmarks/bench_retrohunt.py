"""Retro-hunt throughput: the Parquet signal archive against a PDQ bank, in process and on Ray.

Generated in a temporary folder: an archive of ``--signals`` media rows (random PDQ with quality
100, SHA-256, MD5; 10 days x 3 jurisdictions of partitions, 64k-row files) and a bank of
``--bank`` random PDQ hashes (plus as many SHA-256) in a SQLite database, so the matcher is the
real one (index built from the bank rows, as a worker's). 0.1% of the archive is within 8 bits of
a banked hash, so findings flow back too. Measured, side by side:

- in process, one core: ``hunt_in_process`` over every file (read, filter, ``lookup_media`` per row);
- Ray, a local cluster of ``--cpus`` CPUs with as many actors (each opens the matcher once).

Printed: signals/s, signals/s per core, the Ray overhead against ``cpus`` x the one-core rate,
and the workers a day of 500 million posts would need (arithmetic from the measured per-core rate,
shown), for a retro-hunt of one day's archive in one hour and of a year's in a day.

    python benchmarks/bench_retrohunt.py [--signals 10000000] [--bank 100000] [--cpus 2] [--no-ray]

There is no reference implementation to run beside it (python-threatexchange has no archive or
batch retro-hunt); the in-process column is the baseline the Ray column is compared with.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

POSTS_PER_DAY = 500_000_000
FILE_ROWS = 65_536


def _hex(raw: np.ndarray) -> pa.Array:
    """Rows of bytes -> hex strings, without a Python loop per character."""
    return pa.array([r.hex() for r in map(bytes, raw)], pa.string())


def make_archive(root: Path, n: int, banked: np.ndarray, rng: np.random.Generator) -> None:
    from suraksha.pipeline.archive.store import SCHEMA

    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    written = 0
    part = 0
    while written < n:
        m = min(FILE_ROWS, n - written)
        pdq = rng.integers(0, 256, (m, 32), np.uint8)
        near = rng.random(m) < 0.001
        if near.any():
            pdq[near] = banked[rng.integers(0, len(banked), near.sum())]
            flips = rng.integers(0, 256, (near.sum(), 8))
            for row, bits in zip(np.flatnonzero(near), flips, strict=True):
                for b in bits:
                    pdq[row, b // 8] ^= 1 << (b % 8)
        day = start + dt.timedelta(days=part % 10)
        jur, country = (("in", "IN"), ("eu", "FR"), ("us", "US"))[part % 3]
        ids = np.arange(written, written + m, dtype=np.int64)
        table = pa.table(
            {
                "item_id": ids,
                "platform_id": pa.array([f"p{i}" for i in ids]),
                "account": pa.nulls(m, pa.string()),
                "country": pa.array([country] * m),
                "created_at": pa.array([day] * m, pa.timestamp("us", tz="UTC")),
                "scanned_at": pa.array([day] * m, pa.timestamp("us", tz="UTC")),
                "media_position": pa.array(np.zeros(m, np.int32)),
                "kind": pa.array(["image"] * m),
                "sha256": _hex(rng.integers(0, 256, (m, 32), np.uint8)),
                "md5": _hex(rng.integers(0, 256, (m, 16), np.uint8)),
                "pdq": _hex(pdq),
                "pdq_quality": pa.array(np.full(m, 100, np.int16)),
                "pdq_transforms": pa.nulls(m, SCHEMA.field("pdq_transforms").type),
                "vpdq": pa.nulls(m, SCHEMA.field("vpdq").type),
                "url": pa.nulls(m, pa.string()),
            },
            schema=SCHEMA,
        )
        folder = root / f"jurisdiction={jur}" / f"day={day.date().isoformat()}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"part-{part:05d}.parquet", compression="zstd")
        written += m
        part += 1


def make_bank(n: int, rng: np.random.Generator) -> np.ndarray:
    from suraksha.db.migrate import upgrade
    from suraksha.matching import banks
    from suraksha.matching.banks import SignalRow

    upgrade()
    hashes = rng.integers(0, 256, (n, 32), np.uint8)
    banks.create_bank("bench-csam", label="csam", match_transforms=False)
    step = 20_000
    for i in range(0, n, step):
        chunk = hashes[i : i + step]
        banks.add_signals("bench-csam", [SignalRow("pdq", bytes(h).hex()) for h in chunk])
        banks.add_signals("bench-csam", [SignalRow("sha256", os.urandom(32).hex()) for _ in chunk])
    return hashes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--signals", type=int, default=10_000_000)
    ap.add_argument("--bank", type=int, default=100_000)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench-retrohunt-"))
    os.environ["SURAKSHA_HOME"] = str(tmp / "home")
    os.environ["SURAKSHA_DATABASE_URL"] = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["SURAKSHA_ARCHIVE_URL"] = str(tmp / "archive")
    (tmp / "home").mkdir()
    rng = np.random.default_rng(15)

    t = time.perf_counter()
    banked = make_bank(args.bank, rng)
    bank_s = time.perf_counter() - t
    t = time.perf_counter()
    make_archive(tmp / "archive", args.signals, banked, rng)
    gen_s = time.perf_counter() - t

    from suraksha.matching.matcher import Matcher
    from suraksha.pipeline.archive import open_archive
    from suraksha.pipeline.archive.hunt import hunt_in_process, hunt_on_ray

    archive = open_archive()
    files = archive.files()
    size = sum(f.size for f in files)
    t = time.perf_counter()
    matcher = Matcher.open()
    open_s = time.perf_counter() - t
    print(f"bank: {args.bank:,} PDQ + {args.bank:,} SHA-256 entries ({bank_s:.1f} s to store; matcher opened in {open_s:.2f} s)")
    print(f"archive: {args.signals:,} media rows, {len(files)} files, {size / 1e6:.1f} MB ({gen_s:.1f} s to generate)")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")

    t = time.perf_counter()
    found_local = sum(tb.num_rows for tb in hunt_in_process(archive, files, matcher))
    local_s = time.perf_counter() - t
    local_rate = args.signals / local_s
    results = [("in process, 1 core", 1, local_s, local_rate, found_local)]
    print(f"in process: {local_s:.1f} s, {local_rate:,.0f} signals/s, {found_local:,} findings", flush=True)

    if not args.no_ray:
        import ray

        ray.init(num_cpus=args.cpus, include_dashboard=False, log_to_driver=False)
        print(f"Ray started (load average {os.getloadavg()[0]:.1f})", flush=True)
        t = time.perf_counter()
        found_ray = sum(tb.num_rows for tb in hunt_on_ray("local", archive, files, workers=args.cpus))
        ray_s = time.perf_counter() - t
        results.append((f"Ray, {args.cpus} actors", args.cpus, ray_s, args.signals / ray_s, found_ray))
        ray.shutdown()

    print(f"{'engine':<22}{'cores':>6}{'seconds':>10}{'signals/s':>12}{'per core':>11}{'findings':>10}")
    for name, cores, secs, rate, found in results:
        print(f"{name:<22}{cores:>6}{secs:>10.1f}{rate:>12,.0f}{rate / cores:>11,.0f}{found:>10,}")
    if len(results) == 2:
        ideal = local_rate * args.cpus
        print(
            f"\nRay overhead: {results[1][3]:,.0f}/s against {args.cpus} x {local_rate:,.0f} = {ideal:,.0f}/s ideal "
            f"-> {100 * (1 - results[1][3] / ideal):.0f}% below (includes starting {args.cpus} actors that open the matcher)"
        )
        assert results[1][4] == found_local, "Ray and in-process findings differ"
    per_core = max(r[3] / r[1] for r in results)
    day_hour = POSTS_PER_DAY / (per_core * 3600)
    year_day = POSTS_PER_DAY * 365 / (per_core * 86400)
    print(f"\nprojection at {per_core:,.0f} signals/s per core, one signal row per post:")
    print(f"  one day's archive (500M) in 1 hour:  500,000,000 / ({per_core:,.0f} x 3,600) = {day_hour:,.1f} cores")
    print(f"  a year's archive (182.5G) in 1 day:  182,500,000,000 / ({per_core:,.0f} x 86,400) = {year_day:,.1f} cores")


if __name__ == "__main__":
    main()
