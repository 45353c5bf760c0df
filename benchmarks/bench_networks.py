"""Account networks on a platform-sized table: the first key index, an account page, all groups.

Stores N ordinary items (popular links, own links, IPs, devices; nothing flagged) and a ring of 10
accounts whose removed items share a rare link, directly in the database (the network reads stored
rows; scanning is measured by bench_ingest.py), then times:
- the first ``refresh_keys`` (indexing every item once) and a refresh with nothing new;
- ``network_for`` of a ring member and of an ordinary account (what the account page calls);
- ``groups()`` over the whole graph.

    python benchmarks/bench_networks.py [--items 100000] [--accounts 20000] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _timed(fn, repeat: int = 1):
    best, result = None, None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        took = time.perf_counter() - t
        best = took if best is None else min(best, took)
    return best, result


def run(url: str, items: int, accounts: int) -> dict[str, float]:
    os.environ["SURAKSHA_DATABASE_URL"] = url
    from tests.networks.helpers import bulk_platform

    from suraksha.config import reset_settings
    from suraksha.db import session_scope
    from suraksha.db.migrate import upgrade
    from suraksha.db.session import reset_engine
    from suraksha.networks.index import refresh_keys
    from suraksha.networks.service import groups, network_for

    reset_settings()
    reset_engine()
    upgrade(url)
    t = time.perf_counter()
    data = bulk_platform(accounts=accounts, items=items)
    stored = time.perf_counter() - t

    def refresh() -> int:
        with session_scope() as s:
            return refresh_keys(s)

    first, n = _timed(refresh)
    assert n == items + 10, n
    if url.startswith("postgresql"):  # what autovacuum does after a bulk load; plans need table statistics
        from sqlalchemy import text

        with session_scope() as s:
            s.execute(text("ANALYZE"))
    again, _ = _timed(refresh, 3)
    ring, net = _timed(lambda: network_for(data["ring"][0]), 5)
    assert net.size == 10, net.size
    user, net = _timed(lambda: network_for(data["user"]), 5)
    assert net.size == 1
    every, found = _timed(groups, 3)
    assert [g.size for g in found] == [10]
    reset_engine()
    return {"store": stored, "first": first, "again": again, "ring": ring, "user": user, "groups": every}


def _private_pg(url: str):
    """A fresh database next to ``url`` (dropped afterwards), so the benchmark touches nobody's data."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"suraksha_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        from suraksha.db.session import reset_engine

        reset_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.rsplit("/", 1)[0] + "/" + name, drop


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument(
        "--pg",
        default=os.environ.get("SURAKSHA_TEST_DATABASE_URL"),
        help="a PostgreSQL server URL; a private database is created there and dropped (default $SURAKSHA_TEST_DATABASE_URL)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as home:
        os.environ["SURAKSHA_HOME"] = home
        backends = [("sqlite", f"sqlite:///{home}/bench.db")]
        if args.pg:
            backends.append(("postgresql", args.pg))
        print(
            f"account networks: {args.items:,} stored items, {args.accounts:,} accounts + a 10-account ring; "
            f"{os.cpu_count()} CPUs; best of 5 (network_for) / 3 (others)"
        )
        print(
            f"{'backend':<11} {'store s':>8} {'index all s':>12} {'refresh ms':>11} {'ring page ms':>13} "
            f"{'plain page ms':>14} {'groups ms':>10}"
        )
        for name, url in backends:
            if name == "postgresql":
                url, drop = _private_pg(url)
                try:
                    r = run(url, args.items, args.accounts)
                finally:
                    drop()
            else:
                r = run(url, args.items, args.accounts)
            print(
                f"{name:<11} {r['store']:>8.1f} {r['first']:>12.1f} {r['again'] * 1000:>11.1f} {r['ring'] * 1000:>13.1f} "
                f"{r['user'] * 1000:>14.1f} {r['groups'] * 1000:>10.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
