"""How long the legal desk's routine steps take with many open requests, on SQLite and PostgreSQL.

Files N data requests (each with a one-page PDF into the vault), then times the dashboard and an
escalation pass over all of them (the dispatcher's periodic call: first pass notifies, the next
finds nothing), and one request's gather -> approve -> package -> verify with 200 items on file.

    python benchmarks/bench_legal.py [--requests 1000] [--quick] [--pg URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _time(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def _pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, "Notice under Rule 3(1)(j)")
    return bytes(pdf.output())


def run(url: str, n: int) -> list[tuple[str, str, float, str]]:
    from suraksha.config import reset_settings
    from suraksha.db.migrate import upgrade
    from suraksha.db.session import reset_engine

    os.environ["SURAKSHA_DATABASE_URL"] = url
    reset_settings()
    reset_engine()
    upgrade(url)
    from suraksha import legal
    from suraksha.pipeline.ingest import submit_item
    from suraksha.pipeline.schemas import ItemIn

    backend = url.split(":", 1)[0]
    rows = []
    agency = legal.register_agency(f"Cyber Police {uuid.uuid4().hex[:6]}", "police", "in", ["police.gov.in"], "system:bench")
    pdf = _pdf()
    t0 = dt.datetime.now(dt.UTC) - dt.timedelta(hours=60)

    def file_all():
        for i in range(n):
            legal.file_request(
                legal.RequestIn(
                    type="data_request",
                    channel="portal",
                    agency_id=agency.id,
                    officer_id=1,
                    officer_name="Insp. X",
                    officer_rank="inspector",
                    officer_email="x@police.gov.in",
                    issuer_kind="police",
                    case_number=f"FIR {i}",
                    legal_basis="BNSS s.94",
                    received_at=t0 + dt.timedelta(seconds=i),
                    targets=[{"kind": "account", "value": "acct-0"}],
                    data_points=["subscriber_data", "ip_logs", "content_urls", "linked_accounts"],
                ),
                "officer:1",
                document=pdf,
                document_name="n.pdf",
            )

    t, _ = _time(file_all)
    rows.append((backend, f"file {n} data requests with PDF", t, f"{t / n * 1000:.1f} ms each"))
    t, listed = _time(lambda: legal.list_requests(limit=200))
    rows.append((backend, "list_requests (200 newest)", t, f"{len(listed)} requests"))
    t, board = _time(lambda: legal.dashboard())
    rows.append((backend, f"dashboard over {n} open", t, str(board.counts())))
    t, made = _time(lambda: legal.escalate_due())
    rows.append((backend, "escalate: first pass", t, f"{len(made)} notifications"))
    t, made = _time(lambda: legal.escalate_due())
    rows.append((backend, "escalate: idle pass", t, f"{len(made)} notifications"))

    for i in range(200):
        submit_item(
            ItemIn.model_validate(
                {
                    "platform_id": f"b{uuid.uuid4().hex[:8]}",
                    "account": {"id": "acct-0"},
                    "links": [f"https://example.org/{i}"],
                    "context": {"ip": "203.0.113.9", "port": 40000 + i, "server": "ap-south-1"},
                }
            )
        )
    ref = legal.list_requests(limit=1)[0].reference
    t, points = _time(lambda: legal.gather(ref, "user:bench"))
    rows.append((backend, "gather (200 items, no connector)", t, ", ".join(f"{p.key}={len(p.rows)}" for p in points)))
    legal.mark_data_point(ref, "linked_accounts", "unavailable", "none found in the network", "user:bench")
    legal.approve(ref, "user:bench", "legal")
    t, d = _time(lambda: legal.build_package(ref, "user:bench", "legal"))
    rows.append((backend, "build signed package", t, f"{d.size} bytes"))
    data = legal.download_disclosure(d.id, "user:bench", None).content
    t, v = _time(lambda: legal.verify_package(data))
    rows.append((backend, "verify package", t, "ok" if v.ok else "; ".join(v.errors)))
    reset_engine()
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--pg", default=os.environ.get("SURAKSHA_TEST_DATABASE_URL"))
    args = ap.parse_args()
    n = 100 if args.quick else args.requests
    home = Path(tempfile.mkdtemp(prefix="bench-legal-"))
    os.environ["SURAKSHA_HOME"] = str(home)
    results = run(f"sqlite:///{home / 'bench.db'}", n)
    if args.pg:
        from sqlalchemy import create_engine, text

        name = f"bench_legal_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            results += run(args.pg.rsplit("/", 1)[0] + "/" + name, n)
        finally:
            with admin.connect() as c:
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"{'backend':<12} {'step':<36} {'seconds':>8}  result")
    for backend, step, secs, note in results:
        print(f"{backend:<12} {step:<36} {secs:8.2f}  {note}")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
