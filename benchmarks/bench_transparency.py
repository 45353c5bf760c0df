"""How long transparency figures take over a large history, on SQLite and PostgreSQL.

Generates N items over four years (a third flagged; of those half with a hash match, a quarter
removed with an acknowledged action, a tenth reported), then times ``figures()`` for the four
years by month (all jurisdictions, UTC) and for India (IST), and the figures PDF.

    python benchmarks/bench_transparency.py [--items 100000] [--pg URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


#: The fact a csam-match verdict records for a pdq match (``policy.model.Fact.to_json``).
HASH_FACT = {
    "kind": "hash",
    "rule": "csam-match",
    "match": {"bank": "b", "label": "csam", "signal_type": "pdq", "distance": 0, "transform": None, "entry_id": None},
}


def _populate(n: int) -> None:
    from sqlalchemy import insert

    from suraksha.db import session_scope
    from suraksha.enforcement.models import Action
    from suraksha.items.models import Item, ItemMatch
    from suraksha.reporting.models import Report

    rnd = random.Random(7)
    start = dt.datetime(2022, 1, 1, tzinfo=dt.UTC)
    span = 4 * 365 * 86400
    batch = 5000
    for base in range(0, n, batch):
        items, matches, actions, reports = [], [], [], []
        for i in range(base, min(base + batch, n)):
            created = start + dt.timedelta(seconds=rnd.randrange(span))
            flagged = rnd.random() < 1 / 3
            country = rnd.choice(["IN", "IN", "US", "GB"])
            matched = flagged and rnd.random() < 0.5
            items.append(
                {
                    "id": i + 1,
                    "platform_id": f"p{i}",
                    "kind": "post",
                    "links": [],
                    "status": "done",
                    "context": {"country": country},
                    "created_at": created,
                    "received_at": created,
                    "retroactive": False,
                    "verdict": "remove" if flagged else "allow",
                    "reasons": [],
                    "actions": [],
                    "text_hits": [],
                    "priority": 0,
                    "facts": [HASH_FACT] if matched else [],  # what the verdict recorded (counted as hash)
                    "scanned_at": created + dt.timedelta(seconds=30),
                }
            )
            if matched:
                matches.append(
                    {
                        "item_id": i + 1,
                        "bank": "b",
                        "label": "csam",
                        "signal_type": "pdq",
                        "signal": "x",
                        "distance": 0,
                        "retroactive": False,
                    }
                )
            if flagged and rnd.random() < 0.25:
                ack = created + dt.timedelta(seconds=rnd.randrange(60, 86400))
                actions.append(
                    {
                        "kind": "remove_item",
                        "idempotency_key": f"r{i}",
                        "item_id": i + 1,
                        "reason": "",
                        "details": {},
                        "source": "outbox",
                        "requested_by": "b",
                        "status": "acknowledged",
                        "attempts": 1,
                        "next_attempt_at": created,
                        "alert": False,
                        "created_at": created,
                        "updated_at": ack,
                        "acknowledged_at": ack,
                    }
                )
            if flagged and rnd.random() < 0.1:
                reports.append(
                    {
                        "destination": "ncmec",
                        "subject": f"item:{i + 1}",
                        "item_id": i + 1,
                        "state": "finished",
                        "attempts": 1,
                        "next_attempt_at": created,
                        "gave_up": False,
                        "package": {},
                        "created_by": "b",
                        "created_at": created,
                        "updated_at": created,
                        "finished_at": created + dt.timedelta(hours=2),
                    }
                )
        with session_scope() as s:
            s.execute(insert(Item), items)
            for table, rows in ((ItemMatch, matches), (Action, actions), (Report, reports)):
                if rows:
                    s.execute(insert(table), rows)


def _time(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(url: str, n: int) -> list[tuple[str, str, float, str]]:
    from suraksha.config import reset_settings
    from suraksha.db.migrate import upgrade
    from suraksha.db.session import reset_engine

    os.environ["SURAKSHA_DATABASE_URL"] = url
    reset_settings()
    reset_engine()
    upgrade(url)
    t_pop, _ = _time(lambda: _populate(n))
    from suraksha.transparency import pdf
    from suraksha.transparency.figures import figures

    backend = url.split(":", 1)[0]
    rows = [(backend, f"insert {n} items", t_pop, "")]
    t, f = _time(lambda: figures("2022-01-01", "2025-12-31", by="month"))
    rows.append((backend, "figures 4 years by month (UTC)", t, f"{f.total.identified} identified"))
    t, fi = _time(lambda: figures("2022-01-01", "2025-12-31", by="month", jurisdiction="in"))
    rows.append((backend, "figures 4 years by month (in, IST)", t, f"{fi.total.identified} identified"))
    t, data = _time(lambda: pdf.figures_pdf(f))
    rows.append((backend, "figures PDF (48 months, 2 charts)", t, f"{len(data)} bytes"))
    reset_engine()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("SURAKSHA_TEST_DATABASE_URL"))
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="bench-transparency-"))
    os.environ["SURAKSHA_HOME"] = str(home)
    results = run(f"sqlite:///{home / 'bench.db'}", args.items)
    if args.pg:
        from sqlalchemy import create_engine, text

        name = f"bench_tr_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            results += run(args.pg.rsplit("/", 1)[0] + "/" + name, args.items)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"{'backend':<12} {'step':<38} {'seconds':>8}  result")
    for backend, step, secs, note in results:
        print(f"{backend:<12} {step:<38} {secs:8.2f}  {note}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
