"""Bank import benchmark: `bank import` of a PDQ hash list at its real size, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_import.py                       # 900,000 hashes, SQLite
    .venv/bin/python benchmarks/bench_import.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres
    .venv/bin/python benchmarks/bench_import.py --n 100000 --before   # also the per-batch ORM path

Data: N uniform random PDQ hashes written once as a bank CSV (``signal_type,signal,label,metadata``,
upper-case hex so every row is normalised) into benchmarks/.data/ (gitignored).

Per database (a fresh SQLite file / a fresh PostgreSQL database created on the server given):
  import      the CLI's path in-process: LineCounter + formats.read_rows + banks.import_rows, one
              transaction (rows/s = rows / wall seconds, parse and validation included)
  reimport    the same file again: every row already present (idempotent, nothing written)
  catch-up    a running matcher (built before the import) applies the imported change log and
              answers its first lookup of an imported hash (what `serve` does after an import)
  lookups     a separate process looks up hashes through its own Matcher (refresh every 0.5 s,
              as `serve`) the whole time: latency median / p99 / max before and while the import
              runs, and while its matcher applies the import's change log (the commit)
  index       PdqIndex alone: lookups from one thread while another adds the same hashes in 20k
              batches (the matcher's add path): median / p99 while adding vs idle
  before      (--before) the previous path: banks._insert_entries' per-batch SQLAlchemy insert
              with RETURNING and the ORM change-log insert, same rows

Reference point (issue 15, measured by the reporter, not rerun here): HMA 2.0 on PostgreSQL,
`bank import` of 900,000 PDQ hashes 268 s (3,400/s), first lookup after it 6.2 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / ".data"


def make_csv(n: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"bank-pdq-{n}.csv"
    if not path.exists():
        rng = np.random.default_rng(n)
        raw = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        tmp = path.with_suffix(".tmp")
        with tmp.open("w") as f:
            f.write("signal_type,signal,label,metadata\n")
            for s in range(0, n, 100_000):
                f.write("".join(f"pdq,{bytes(r).hex().upper()},csam,\n" for r in raw[s : s + 100_000]))
        tmp.rename(path)
    return path


def hashes_of(path: Path, k: int) -> list[str]:
    out = []
    with path.open() as f:
        next(f)
        for line, _ in zip(f, range(k)):
            out.append(line.split(",")[1].lower())
    return out


def use_database(url: str) -> None:
    from suraksha.db.migrate import upgrade
    from suraksha.db.session import reset_engine
    from suraksha.settings import reset_settings

    os.environ["SURAKSHA_DATABASE_URL"] = url
    reset_settings()
    reset_engine()
    upgrade(url)


def fresh_url(kind: str, pg: str | None, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}"
    from sqlalchemy import create_engine, text

    assert pg
    name = f"suraksha_bench_{uuid.uuid4().hex[:8]}"
    eng = create_engine(pg, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    eng.dispose()
    return pg.rsplit("/", 1)[0] + "/" + name


def drop_pg(pg: str, url: str) -> None:
    from sqlalchemy import create_engine, text

    from suraksha.db.session import reset_engine

    reset_engine()
    eng = create_engine(pg, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)"))
    eng.dispose()


def lookup_process(url: str, probe: list[str], conn, stop) -> None:
    """A serving process: its own matcher, lookups back to back, latency per lookup with a timestamp."""
    os.environ["SURAKSHA_DATABASE_URL"] = url
    from suraksha.matching.matcher import Matcher

    m = Matcher()
    m.refresh(force=True)
    rng = np.random.default_rng(5)
    misses = [bytes(r).hex() for r in rng.integers(0, 256, (1000, 32), dtype=np.uint8)]
    conn.send("ready")
    samples = []
    i = 0
    while not stop.is_set():
        q = probe[i % len(probe)] if i % 4 == 0 else misses[i % len(misses)]
        t = time.perf_counter()
        m.lookup("pdq", q)
        samples.append((time.time(), time.perf_counter() - t))
        i += 1
        time.sleep(0.002)  # ~400 lookups/s offered, not a saturating loop
    conn.send(samples)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    v = sorted(values)
    return v[min(len(v) - 1, int(p / 100 * len(v)))]


def lat(samples, t0: float, t1: float) -> str:
    xs = [d * 1e3 for t, d in samples if t0 <= t < t1]
    if not xs:
        return "– (no lookups)"
    return f"{statistics.median(xs):.2f} / {pct(xs, 99):.2f} / {max(xs):.0f} ms ({len(xs)})"


def bench_db(kind: str, url: str, path: Path, n: int, before: bool) -> dict:
    from suraksha.matching import banks
    from suraksha.matching.banks import LineCounter, SignalRow
    from suraksha.matching.formats import read_rows
    from suraksha.matching.matcher import Matcher

    use_database(url)
    banks.create_bank("list", "csam")
    probe = hashes_of(path, 2000)
    running = Matcher()
    running.refresh(force=True)
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    stop = ctx.Event()
    proc = ctx.Process(target=lookup_process, args=(url, probe, child, stop))
    proc.start()
    assert parent.recv() == "ready"
    time.sleep(3.0)
    out: dict = {"db": kind, "n": n}
    t_imp0 = time.time()
    t, c = time.perf_counter(), time.process_time()
    with path.open(encoding="utf-8", newline="") as fh:
        lines = LineCounter(fh)
        res = banks.import_rows("list", read_rows(lines, "csv"), lines=lines)
    out["import_s"] = time.perf_counter() - t
    out["import_cpu_s"] = time.process_time() - c  # this process only (not the PostgreSQL server)
    t_imp1 = time.time()
    out["added"] = res.added
    out["rate"] = n / out["import_s"]
    time.sleep(4.0)  # the lookup process's matcher applies the committed change log meanwhile
    t_after = time.time()
    time.sleep(2.0)
    stop.set()
    samples = parent.recv()
    proc.join()
    out["lat_before"] = lat(samples, 0, t_imp0)
    out["lat_during"] = lat(samples, t_imp0, t_imp1)
    out["lat_catchup"] = lat(samples, t_imp1, t_after)
    out["lat_after"] = lat(samples, t_after, float("inf"))
    t = time.perf_counter()
    found = running.lookup("pdq", probe[-1])
    out["catchup_s"] = time.perf_counter() - t
    assert [m.distance for m in found] == [0]
    t = time.perf_counter()
    with path.open(encoding="utf-8", newline="") as fh:
        again = banks.import_rows("list", read_rows(fh, "csv"))
    out["reimport_s"] = time.perf_counter() - t
    assert again.added == 0 and again.duplicates == n
    if before:
        banks.create_bank("before", "csam")
        rows = [SignalRow("pdq", h) for h in hashes_of(path, n)]
        old = banks.BULK_MIN
        banks.BULK_MIN = 1 << 62  # the per-batch SQLAlchemy path
        try:
            t = time.perf_counter()
            from suraksha.db import session_scope

            with session_scope() as s:
                bank = banks._bank(s, "before")
                for start in range(0, n, 20_000):
                    banks._insert_entries(s, bank, banks.normalize_rows(rows[start : start + 20_000]))
            out["before_s"] = time.perf_counter() - t
        finally:
            banks.BULK_MIN = old
    return out


def bench_index_adds(path: Path, n: int) -> dict:
    """Index level: lookups on one thread while another adds the list in 20k batches."""
    from suraksha.matching.index.pdq import PdqIndex

    rng = np.random.default_rng(3)
    hashes = np.frombuffer(b"".join(bytes.fromhex(h) for h in hashes_of(path, n)), dtype=np.uint8).reshape(-1, 32)
    idx = PdqIndex()
    base = rng.integers(0, 256, (200_000, 32), dtype=np.uint8)
    idx.add(np.arange(len(base), dtype=np.int64) + 10 * n, base)
    qs = rng.integers(0, 256, (4000, 32), dtype=np.uint8)
    done = threading.Event()
    samples: list[tuple[bool, float]] = []

    def look() -> None:
        i = 0
        while not done.is_set():
            t = time.perf_counter()
            idx.query(qs[i % len(qs)], 31)
            samples.append((adding.is_set(), time.perf_counter() - t))
            i += 1
            time.sleep(0.001)

    adding = threading.Event()
    th = threading.Thread(target=look)
    th.start()
    time.sleep(2.0)
    adding.set()
    t = time.perf_counter()
    for s in range(0, n, 20_000):
        idx.add(np.arange(s, min(n, s + 20_000), dtype=np.int64), hashes[s : s + 20_000])
    add_s = time.perf_counter() - t
    adding.clear()
    time.sleep(2.0)
    done.set()
    th.join()
    idle = [d * 1e3 for a, d in samples if not a]
    busy = [d * 1e3 for a, d in samples if a]
    idx.wait_for_merges()
    return {
        "add_s": add_s,
        "idle": f"{statistics.median(idle):.3f} / {pct(idle, 99):.3f} ms ({len(idle)})",
        "busy": f"{statistics.median(busy):.3f} / {pct(busy, 99):.3f} ms ({len(busy)})" if busy else "–",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=900_000)
    ap.add_argument("--pg", help="PostgreSQL server URL (a database is created and dropped there)")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--before", action="store_true", help="also time the previous per-batch insert path")
    ap.add_argument("--no-index", action="store_true", help="skip the index-level lookups-while-adding run")
    a = ap.parse_args()
    path = make_csv(a.n)
    rows = []
    kinds = ([] if a.no_sqlite else ["sqlite"]) + (["postgresql"] if a.pg else [])
    for kind in kinds:
        with tempfile.TemporaryDirectory(dir=DATA) as work:
            os.environ["SURAKSHA_HOME"] = work
            url = fresh_url(kind, a.pg, Path(work))
            try:
                r = bench_db(kind, url, path, a.n, a.before)
            finally:
                if kind == "postgresql":
                    drop_pg(a.pg, url)
            print(f"# {kind}: {r}", file=sys.stderr)
            rows.append(r)
    print(f"Bank import of {a.n:,} PDQ hashes (CSV, one transaction). Lookup latency: median / p99 / max (count).\n")
    head = [
        "database",
        "import s",
        "rows/s",
        "rows per importer CPU-s",
        "re-import s",
        "catch-up + first lookup s",
        "before s (rows/s)",
    ]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for r in rows:
        before = f"{r['before_s']:.1f} ({a.n / r['before_s']:,.0f})" if "before_s" in r else "–"
        print(
            f"| {r['db']} | {r['import_s']:.1f} | {r['rate']:,.0f} | {a.n / r['import_cpu_s']:,.0f} | {r['reimport_s']:.1f} |"
            f" {r['catchup_s']:.2f} | {before} |"
        )
    print(
        "\n| database | lookups before | while importing | while its matcher applies the commit | after |\n|---|---|---|---|---|"
    )
    for r in rows:
        print(f"| {r['db']} | {r['lat_before']} | {r['lat_during']} | {r['lat_catchup']} | {r['lat_after']} |")
    if not a.no_index:
        ix = bench_index_adds(path, a.n)
        print(
            f"\nPdqIndex alone (200k entries, then {a.n:,} added in 20k batches in {ix['add_s']:.1f} s): "
            f"lookup median / p99 idle {ix['idle']}; while adding {ix['busy']}"
        )
    la = os.getloadavg()
    print(
        f"\nMachine: {os.cpu_count()} CPUs; load average at the end {la[0]:.1f} / {la[1]:.1f} / {la[2]:.1f}. Command: {' '.join(sys.argv)}"
    )


if __name__ == "__main__":
    main()
