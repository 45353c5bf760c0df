"""Integrity checks' cost: the review page's end-to-end evidence check, and audit-chain verification
and anchor publishing (issue 11: damaged evidence is reported; anchors published outside the database).

Printed:
- ``vault.check`` per preserved media of 1, 10 and 64 MiB (decrypt + SHA-256 + MD5 + custody/audit
  rows): what a review page adds per media kept in the vault (the preview fetch then reads it again);
- ``verify_chain`` over N audit events (events/s): what ``suraksha audit verify`` costs;
- ``publish_anchor`` the first time (a full walk), after 3,600 new events (an hour at 1 event/s:
  what the dispatcher's hourly run costs), and with nothing new (its once-a-minute look at the file).

    python benchmarks/bench_integrity.py [--events 100000] [--pg URL] [--sqlite-only]

SQLite always; PostgreSQL with --pg or $SURAKSHA_TEST_DATABASE_URL (a scratch database is created
and dropped). Nothing to compare side by side: python-threatexchange keeps no evidence or audit log.
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path


def run(backend: str, base_url: str | None, events: int) -> None:
    from sqlalchemy import create_engine, text

    tmp = Path(tempfile.mkdtemp(prefix="suraksha-bench-integrity-"))
    (tmp / "home").mkdir()
    os.environ["SURAKSHA_HOME"] = str(tmp / "home")
    os.environ["SURAKSHA_EVIDENCE_KEY"] = base64.b64encode(os.urandom(32)).decode()
    os.environ["SURAKSHA_AUDIT_ANCHOR_FILE"] = str(tmp / "anchors.jsonl")
    name = admin = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp}/bench.db"
    else:
        assert base_url
        name = f"suraksha_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = base_url.rsplit("/", 1)[0] + "/" + name
    os.environ["SURAKSHA_DATABASE_URL"] = url
    from suraksha.config import reset_settings
    from suraksha.db import reset_engine, session_scope
    from suraksha.db.migrate import upgrade

    reset_settings()
    reset_engine()
    upgrade(url)
    from suraksha import evidence
    from suraksha.audit import record, verify_chain
    from suraksha.audit.anchors import publish_anchor

    print(f"[{backend}]")
    try:
        for size in (1 << 20, 10 << 20, 64 << 20):
            ev = evidence.preserve("item:1:media:0", os.urandom(size), {}, ["in"], "system:bench")
            evidence.check(ev.id, "user:bench", "bench")
            reps = 5
            t = time.perf_counter()
            for _ in range(reps):
                evidence.check(ev.id, "user:bench", "bench")
            print(f"  vault.check {size >> 20:>2} MiB: {(time.perf_counter() - t) / reps * 1000:8.1f} ms")
        done = 0
        while done < events:
            with session_scope() as s:
                for i in range(min(1000, events - done)):
                    record(s, "bench", "review.view", "item", done + i, {"n": done + i})
            done += min(1000, events - done)
        t = time.perf_counter()
        r = verify_chain()
        took = time.perf_counter() - t
        print(f"  verify_chain: {r.checked:,} events in {took:.2f} s = {r.checked / took:,.0f} events/s (ok={r.ok})")
        t = time.perf_counter()
        publish_anchor()
        print(f"  publish_anchor, first (full walk): {time.perf_counter() - t:.2f} s")
        with session_scope() as s:
            for i in range(3600):
                record(s, "bench", "review.view", "item", i, {"n": i})
        t = time.perf_counter()
        publish_anchor()
        print(f"  publish_anchor after 3,600 new events: {time.perf_counter() - t:.3f} s")
        t = time.perf_counter()
        publish_anchor()
        print(f"  publish_anchor, nothing new: {(time.perf_counter() - t) * 1000:.1f} ms")
    finally:
        reset_engine()
        if admin is not None:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("SURAKSHA_TEST_DATABASE_URL"))
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    run("sqlite", None, args.events)
    if args.pg and not args.sqlite_only:
        run("postgresql", args.pg, args.events)
    return 0


if __name__ == "__main__":
    sys.exit(main())
