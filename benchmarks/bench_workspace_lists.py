"""Workspace lists on a large audit log: how long a page of ``/audit`` takes to build (the query
behind it, ``audit.listing.list_events``: a filtered count plus one page) and how fast an export
streams (``iter_events`` + CSV), on SQLite and PostgreSQL side by side.

N audit events (default 200,000: 40 actors, 30 actions, objects spread over 10,000 items, one a
minute) are bulk-inserted directly (the listing reads the columns, not the chain), then timed:
page 1 unfiltered, page 1 by actor, by kind family (``item.``), by target (``item:42``), by period
(one day), a deep page (offset 100,000), and a CSV export of every event.

    python benchmarks/bench_workspace_lists.py [--events N] [--pg URL] [--sqlite-only]

There is no reference implementation to compare with (python-threatexchange and HMA keep no audit
log); the old page read the newest 200 events with no count, no filter and no paging.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path


def _load(n: int) -> None:
    from sqlalchemy import insert

    from suraksha.audit.models import AuditEvent
    from suraksha.db import session_scope

    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = []
    with session_scope() as s:
        for i in range(1, n + 1):
            rows.append(
                {
                    "seq": i,
                    "at": start + dt.timedelta(minutes=i),
                    "actor_type": "user",
                    "actor": f"staff{i % 40}",
                    "action": f"{('item', 'case', 'bank')[i % 3]}.{('view', 'open', 'change')[i % 10 % 3]}{i % 10}",
                    "object_type": "item",
                    "object_id": str(i % 10_000),
                    "details": {"n": i, "media_shown": i % 2 == 0},
                    "ip": "203.0.113.7",
                    "prev_hash": "0" * 64,
                    "hash": f"{i:064x}",
                }
            )
            if len(rows) == 10_000:
                s.execute(insert(AuditEvent), rows)
                rows = []
        if rows:
            s.execute(insert(AuditEvent), rows)


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best * 1000


def run(url: str, n: int) -> dict[str, float]:
    from suraksha.audit.listing import AuditFilter, format_lines, iter_events, list_events
    from suraksha.db import reset_engine
    from suraksha.db.migrate import upgrade
    from suraksha.settings import reset_settings

    os.environ["SURAKSHA_DATABASE_URL"] = url
    reset_settings()
    reset_engine()
    upgrade()
    _load(n)
    day = dt.datetime(2026, 2, 1, tzinfo=dt.UTC)
    out = {
        "page 1, no filter (ms)": _time(lambda: list_events(limit=50)),
        "page 1, actor (ms)": _time(lambda: list_events(AuditFilter(actor="staff7"), limit=50)),
        "page 1, kind item. (ms)": _time(lambda: list_events(AuditFilter(kind="item."), limit=50)),
        "page 1, target item:42 (ms)": _time(lambda: list_events(AuditFilter(target="item:42"), limit=50)),
        "page 1, one day (ms)": _time(lambda: list_events(AuditFilter(since=day, until=day + dt.timedelta(days=1)), limit=50)),
        "page 2001, no filter (ms)": _time(lambda: list_events(limit=50, offset=100_000)),
    }
    t = time.perf_counter()
    count = sum(1 for _ in format_lines(iter_events(), "csv")) - 1
    out["CSV export, every event (events/s)"] = count / (time.perf_counter() - t)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--pg", default=os.environ.get("SURAKSHA_TEST_DATABASE_URL"))
    ap.add_argument("--sqlite-only", action="store_true")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-lists-"))
    os.environ["SURAKSHA_HOME"] = str(home)
    results = {"SQLite": run(f"sqlite:///{home / 'bench.db'}", args.events)}
    if args.pg and not args.sqlite_only:
        from sqlalchemy import create_engine, make_url, text

        name = "suraksha_bench_workspace_lists"  # a database of its own: the test database is shared
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            c.execute(text(f"CREATE DATABASE {name}"))
        try:
            results["PostgreSQL"] = run(make_url(args.pg).set(database=name).render_as_string(hide_password=False), args.events)
        finally:
            from suraksha.db import reset_engine

            reset_engine()
            with admin.connect() as c:
                c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            admin.dispose()
    names = list(results)
    print(f"audit log of {args.events:,} events")
    print(f"{'':36}" + "".join(f"{n:>14}" for n in names))
    for key in results[names[0]]:
        print(f"{key:36}" + "".join(f"{results[n][key]:>14,.1f}" for n in names))


if __name__ == "__main__":
    main()
