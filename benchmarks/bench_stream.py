"""Stream intake vs REST intake, and rows written per benign item and per finding.

Side by side on SQLite and PostgreSQL, in one run:
- REST: ``ingest.submit_item`` (what ``POST /v1/items`` calls, without HTTP) from 2 threads, one
  text item per call: items accepted per second, p50/p99 of one accept (call to commit).
- stream: the same items published to NATS JetStream (127.0.0.1:4222), then ``suraksha consume``'s
  loop (durable pull consumer, batches of 100, one transaction per batch, ack after commit): items
  accepted per second, p50/p99 from a message's fetch to its ack.
- findings-only (``SURAKSHA_FINDINGS_ONLY``) stream intake: net rows left in the database per
  benign item and per finding (every table counted before and after), scanned with the test
  doubles of tests/pipeline/fakes.py (a dictionary matcher: the scan itself is not measured here).
- with ``--before-ingest FILE``: the REST figure again with an older ``pipeline/ingest.py``
  (e.g. ``git show 3efb9d5~1:src/suraksha/pipeline/ingest.py > /tmp/ingest_before.py``) loaded
  in its place, so a change of the write path is measured on the same machine in the same run.

    python benchmarks/bench_stream.py [--items 2000] [--pg URL] [--backends sqlite,postgresql] [--before-ingest FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
NATS_URL = "nats://127.0.0.1:4222"


def p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


def use_database(url: str) -> None:
    from suraksha.config import reset_settings
    from suraksha.db.migrate import upgrade
    from suraksha.db.session import reset_engine

    upgrade(url)
    os.environ["SURAKSHA_DATABASE_URL"] = url
    reset_settings()
    reset_engine()


def rest(n: int, tag: str, submit) -> tuple[float, float, float]:
    from suraksha.pipeline.schemas import ItemIn

    payloads = [ItemIn(platform_id=f"{tag}-{k}", text=f"hello {k}", account={"id": f"u{k % 50}"}) for k in range(n)]
    lat: list[float] = []
    lock = threading.Lock()

    def run(part):
        mine = []
        for pl in part:
            t = time.perf_counter()
            submit(pl)
            mine.append(time.perf_counter() - t)
        with lock:
            lat.extend(mine)

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(payloads[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return n / (time.perf_counter() - start), p(lat, 0.5), p(lat, 0.99)


async def publish(subject: str, stream_name: str, bodies: list[bytes]) -> None:
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=stream_name, subjects=[subject]))
    acks = [await js.publish(subject, b) for b in bodies[:1]]
    futs = [js.publish(subject, b) for b in bodies[1:]]
    for k in range(0, len(futs), 500):
        acks += await asyncio.gather(*futs[k : k + 500])
    await nc.close()


async def drop(*streams: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    for s in streams:
        try:
            await nc.jetstream().delete_stream(s)
        except Exception:  # noqa: BLE001 - already gone
            pass
    await nc.close()


async def consume(subject: str, stream_name: str, n: int, **kw) -> tuple[float, float, float, object]:
    from suraksha.pipeline import stream
    from suraksha.pipeline.stream_nats import NatsSource

    source = await NatsSource.connect(
        NATS_URL, stream=stream_name, subject=subject, durable="bench", dead_letter_subject="bench.dead-letter"
    )
    lat: list[float] = []
    real_fetch, real_ack = source.fetch, source.ack
    fetched_at: dict[int, float] = {}

    async def fetch(batch, timeout):
        msgs = await real_fetch(batch, timeout)
        fetched_at[id(msgs[0]) if msgs else 0] = time.perf_counter()
        return msgs

    async def ack(msgs):
        await real_ack(msgs)
        t0 = fetched_at.pop(id(msgs[0]), None) if msgs else None
        if t0 is not None:
            lat.extend([time.perf_counter() - t0] * len(msgs))

    source.fetch, source.ack = fetch, ack  # type: ignore[method-assign]
    start = time.perf_counter()
    try:
        stats = await stream.consume(source, batch=100, fetch_timeout=1.0, max_messages=n, **kw)
    finally:
        await source.close()
    return n / (time.perf_counter() - start), p(lat, 0.5), p(lat, 0.99), stats


def table_rows() -> int:
    from sqlalchemy import func, select

    from suraksha.db import session_scope
    from suraksha.db.base import Base
    from suraksha.db.models import import_all_models

    import_all_models()
    with session_scope() as s:
        return sum(s.scalar(select(func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables)


def findings_rows(n_benign: int, n_findings: int, tag: str) -> tuple[float, float]:
    """Net rows per benign item and per finding with findings-only stream intake."""
    from pipeline import fakes  # tests/pipeline/fakes.py: the matcher and policy doubles
    from suraksha.pipeline import scan

    known = b"IMG known-bad test pattern #1"
    matcher = fakes.DictMatcher()
    matcher.add("sha256", hashlib.sha256(known).hexdigest(), "local-csam", "csam", 1)
    scanner = scan.Scanner(matcher=matcher, policy=fakes.FakePolicy(), classifiers=[], media_signals=fakes.media_signals)
    benign = [json.dumps({"platform_id": f"{tag}-b{k}", "text": f"lunch {k}"}).encode() for k in range(n_benign)]
    finding = [
        json.dumps(
            {
                "platform_id": f"{tag}-f{k}",
                "account": {"id": f"f{k}"},
                "media": [{"data_base64": base64.b64encode(known).decode()}],
            }
        ).encode()
        for k in range(n_findings)
    ]
    out = []
    for bodies in (benign, finding):
        sub, name = f"bench.fo.{uuid.uuid4().hex[:8]}", f"BENCH_FO_{uuid.uuid4().hex[:8]}"
        asyncio.run(publish(sub, name, bodies))
        before = table_rows()
        asyncio.run(consume(sub, name, len(bodies), findings_only=True, scanner=scanner))
        out.append((table_rows() - before) / len(bodies))
        asyncio.run(drop(name))
    return out[0], out[1]


def load_ingest(path: str):
    spec = importlib.util.spec_from_file_location("ingest_before", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules["ingest_before"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--items", type=int, default=2000)
    ap.add_argument("--pg", default=os.environ.get("SURAKSHA_TEST_DATABASE_URL"))
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--before-ingest", default=None)
    args = ap.parse_args()
    os.environ.setdefault("SURAKSHA_HOME", tempfile.mkdtemp(prefix="bench-stream-home-"))
    from sqlalchemy import create_engine, text

    from suraksha.pipeline import ingest

    rows = []
    for backend in args.backends.split(","):
        admin = None
        if backend == "sqlite":
            url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-stream-')}/bench.db"
        else:
            if not args.pg:
                print("postgresql: no URL (--pg or SURAKSHA_TEST_DATABASE_URL); skipped")
                continue
            name = f"bench_stream_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
            with admin.connect() as c:
                c.execute(text(f'CREATE DATABASE "{name}"'))
            url = args.pg.rsplit("/", 1)[0] + "/" + name
        use_database(url)
        n = args.items
        r_rate, r50, r99 = rest(n, "rest", ingest.submit_item)
        before = None
        if args.before_ingest:
            old = load_ingest(args.before_ingest)
            before = rest(n, "before", old.submit_item)
        sub, sname = f"bench.items.{uuid.uuid4().hex[:8]}", f"BENCH_{uuid.uuid4().hex[:8]}"
        bodies = [
            json.dumps({"platform_id": f"s-{k}", "text": f"hello {k}", "account": {"id": f"u{k % 50}"}}).encode()
            for k in range(n)
        ]
        asyncio.run(publish(sub, sname, bodies))
        s_rate, s50, s99, _ = asyncio.run(consume(sub, sname, n))
        asyncio.run(drop(sname))
        per_benign, per_finding = findings_rows(max(200, n // 4), 20, uuid.uuid4().hex[:6])
        rows.append((backend, r_rate, r50, r99, before, s_rate, s50, s99, per_benign, per_finding))
        if admin is not None:
            from suraksha.db.session import reset_engine

            reset_engine()
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    print(f"\n{args.items} text items per figure; {os.cpu_count()} CPUs; load {os.getloadavg()[0]:.1f}")
    head = f"{'backend':<11}{'REST items/s':>13}{'p50 ms':>8}{'p99 ms':>8}"
    if args.before_ingest:
        head += f"{'before items/s':>15}{'p99 ms':>8}"
    head += f"{'stream items/s':>15}{'p50 ms':>8}{'p99 ms':>8}{'rows/benign':>12}{'rows/finding':>13}"
    print(head)
    for backend, r_rate, r50, r99, before, s_rate, s50, s99, pb, pf in rows:
        line = f"{backend:<11}{r_rate:>13.0f}{r50:>8.2f}{r99:>8.2f}"
        if before is not None:
            line += f"{before[0]:>15.0f}{before[2]:>8.2f}"
        line += f"{s_rate:>15.0f}{s50:>8.1f}{s99:>8.1f}{pb:>12.3f}{pf:>13.1f}"
        print(line)
    print(
        "REST latency: one submit_item call (validate, one transaction, commit). Stream latency: fetch of a "
        "message's batch to its ack (batches of 100). rows/benign and rows/finding: rows left in all tables per "
        "item with SURAKSHA_FINDINGS_ONLY stream intake, before any worker scans the findings (benign: the "
        "item_counts row, one per day, platform and kind)."
    )


if __name__ == "__main__":
    main()
