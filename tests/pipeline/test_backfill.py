"""``suraksha backfill``: a platform's history from an export file, streamed, resumable, retroactive."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from suraksha.cli import app
from suraksha.db import session_scope
from suraksha.db.sql import aware
from suraksha.items.models import Item, ItemMedia, PendingMedia
from suraksha.outbox.models import OutboxMessage
from suraksha.pipeline import backfill as bf
from suraksha.pipeline import exports, queue
from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.models import BackfillRun, ScanJob
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.worker import process_batch

from .conftest import BENIGN_IMAGE, CSAM_IMAGE, NCII_IMAGE, b64

ENTRY = Path(__file__).with_name("backfill_entry.py")
runner = CliRunner()


def row(n: int, *, year: int = 2022, **kw) -> dict:
    created = dt.datetime(year, 1 + n % 12, 1 + n % 28, 10, 30, tzinfo=dt.UTC)
    out = {
        "platform_id": f"post-{n}",
        "account": {"id": f"acct-{n % 7}"},
        "text": f"old post {n}",
        "links": [f"https://fine.example/{n}"],
        "context": {"created_at": created.isoformat(), "country": "IN"},
    }
    out.update(kw)
    return out


def write_jsonl(path: Path, rows: list) -> Path:
    with path.open("w") as f:
        for r in rows:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


def drain(scanner) -> None:
    while jobs := queue.claim_jobs("test-worker", 16, 60):
        process_batch("test-worker", jobs, scanner, max_attempts=3)


def item_count() -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Item))


def the_run() -> BackfillRun:
    with session_scope() as s:
        run = s.scalars(select(BackfillRun)).one()
        s.expunge(run)
    return run


# ---------------------------------------------------------------- what gets stored
def test_items_keep_their_original_time_are_retroactive_and_scanned(scanner, tmp_path):
    (tmp_path / "media").mkdir()
    (tmp_path / "media" / "ncii.jpg").write_bytes(NCII_IMAGE)
    export = write_jsonl(
        tmp_path / "export.jsonl",
        [
            row(1, year=2022, media=[{"data_base64": b64(CSAM_IMAGE), "mime": "image/jpeg"}]),
            row(2, year=2023, media=[{"path": "media/ncii.jpg", "mime": "image/jpeg"}]),
            row(3, year=2024, media=[{"data_base64": b64(BENIGN_IMAGE)}]),
        ],
    )

    summary = bf.run_backfill(export)
    assert (summary.status, summary.rows_read, summary.ingested, summary.bad_rows) == ("finished", 3, 3, 0)
    assert summary.pending_scans == 3  # queued for the worker pool, not scanned in the reader
    drain(scanner)

    with session_scope() as s:
        items = {i.platform_id: i for i in s.scalars(select(Item))}
        media = {m.item_id: m for m in s.scalars(select(ItemMedia))}
        assert s.scalar(select(func.count()).select_from(PendingMedia).where(PendingMedia.held_for_evidence.is_(False))) == 0
        outbox = s.scalar(select(func.count()).select_from(OutboxMessage))
    for n, year in [(1, 2022), (2, 2023), (3, 2024)]:
        item = items[f"post-{n}"]
        assert item.created_at.year == year and item.created_at.month == 1 + n % 12
        assert item.retroactive is True
        assert item.idempotency_key == f"backfill:post-{n}"
    assert media[items["post-2"].id].sha256 == hashlib.sha256(NCII_IMAGE).hexdigest()  # read from the path
    assert items["post-1"].verdict == "remove" and items["post-2"].verdict == "remove"
    assert items["post-3"].verdict == "allow"
    assert outbox > 0

    done = bf.summarize(summary.run_id)
    assert done.matched == 2 and done.pending_scans == 0
    assert done.verdicts == {"remove": 2, "allow": 1}


def test_live_items_are_not_counted_as_the_runs(scanner, tmp_path):
    submit_item(ItemIn(platform_id="live-1", text="posted today"))
    summary = bf.run_backfill(write_jsonl(tmp_path / "e.jsonl", [row(1), row(2)]))
    drain(scanner)
    done = bf.summarize(summary.run_id)
    assert done.verdicts == {"allow": 2}
    with session_scope() as s:
        live = s.scalars(select(Item).where(Item.platform_id == "live-1")).one()
    assert live.retroactive is False


def test_accounts_first_and_last_seen_come_from_the_posts(db_url, tmp_path):
    from suraksha.items.models import Account

    submit_item(ItemIn(platform_id="live", account={"id": "acct-0"}, text="today"))
    bf.run_backfill(write_jsonl(tmp_path / "e.jsonl", [row(0, year=2023), row(7, year=2021), row(14, year=2022)]), batch_size=2)
    with session_scope() as s:
        acct = s.scalars(select(Account).where(Account.platform_account_id == "acct-0")).one()
    assert acct.first_seen.year == 2021  # the oldest post, over two batches
    assert acct.last_seen.year == dt.datetime.now().year  # the live item stays the latest


# ---------------------------------------------------------------- streaming
def test_jsonl_is_read_a_line_at_a_time(tmp_path):
    filler = "x" * 4000
    export = write_jsonl(tmp_path / "big.jsonl", [row(n, text=filler) for n in range(5000)])  # ~20 MB
    assert export.stat().st_size > 15_000_000
    tracemalloc.start()
    try:
        n = 0
        for r in exports.iter_jsonl(export, max_line_bytes=1 << 20):
            n += 1
            assert r.data["platform_id"] == f"post-{r.line - 1}"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert n == 5000
    assert peak < 2_000_000, f"reading held {peak} bytes at once"


def test_a_line_longer_than_the_limit_is_a_bad_row_not_a_buffer(db_url, tmp_path):
    export = write_jsonl(tmp_path / "e.jsonl", [row(1), row(2, text="y" * 50_000), row(3)])
    bad: list[bf.BadRowReport] = []
    summary = bf.run_backfill(export, max_line_bytes=10_000, on_bad_row=bad.append)
    assert [(b.line, b.reason) for b in bad] == [(2, "line is longer than 10000 bytes")]
    assert (summary.ingested, summary.bad_rows, summary.rows_read) == (2, 1, 3)


def test_parquet_is_read_by_batches_of_row_groups(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    filler = "z" * 2000
    table = pa.Table.from_pylist([{"platform_id": f"p{n}", "text": filler} for n in range(20_000)])  # ~40 MB of text
    pq.write_table(table, tmp_path / "big.parquet", row_group_size=1000, compression="snappy")
    del table
    base = pa.total_allocated_bytes()
    peak, n = 0, 0
    for _batch in exports.iter_parquet(tmp_path / "big.parquet", batch_rows=500):
        n += 1
        if n % 100 == 0:
            peak = max(peak, pa.total_allocated_bytes() - base)
    assert n == 20_000
    assert peak < 10_000_000, f"Arrow held {peak} bytes at once"


def test_checkpoint_moves_with_every_batch(db_url, tmp_path):
    export = write_jsonl(tmp_path / "e.jsonl", [row(n) for n in range(100)])
    seen: list[int] = []
    positions: list[int] = []

    real = bf._commit_batch

    def spy(run_id, expected, batch, **kw):
        positions.append(batch.position)
        out = real(run_id, expected, batch, **kw)
        seen.append(item_count())
        return out

    bf._commit_batch = spy
    try:
        bf.run_backfill(export, batch_size=7)
    finally:
        bf._commit_batch = real
    assert positions == [*range(7, 100, 7), 100]
    assert seen == positions  # each batch's items were committed with its checkpoint


def test_reading_pauses_while_the_scan_queue_is_full(scanner, tmp_path):
    from suraksha.pipeline.worker import start_background_workers

    export = write_jsonl(tmp_path / "e.jsonl", [row(n) for n in range(120)])
    queued_at_commit: list[int] = []
    real = bf._commit_batch

    def spy(run_id, expected, batch, **kw):
        if batch.items:
            queued_at_commit.append(bf.queued_jobs())
        return real(run_id, expected, batch, **kw)

    bf._commit_batch = spy
    pool = start_background_workers(1)
    try:
        summary = bf.run_backfill(export, batch_size=10, max_queued=25)
        bf.wait_for_scans(summary.run_id)
    finally:
        pool.stop()
        bf._commit_batch = real
    assert summary.ingested == 120
    assert max(queued_at_commit) <= 15  # room for the batch: 25 - 10
    assert bf.summarize(summary.run_id).verdicts == {"allow": 120}


# ---------------------------------------------------------------- bad rows
def test_bad_rows_are_reported_with_line_numbers_and_skipped(db_url, tmp_path):
    export = write_jsonl(
        tmp_path / "e.jsonl",
        [
            row(1),
            "{not json",
            "",
            {"platform_id": "no-date", "text": "when?"},
            row(5, kind="tweet"),
            row(6, media=[{"path": "missing.jpg"}]),
            "[1, 2]",
            row(8, media=[{"data_base64": "***"}]),
            row(9),
        ],
    )
    bad: list[bf.BadRowReport] = []
    summary = bf.run_backfill(export, on_bad_row=bad.append)
    lines = {b.line: b.reason for b in bad}
    assert sorted(lines) == [2, 4, 5, 6, 7, 8]
    assert lines[2].startswith("not valid JSON")
    assert "context.created_at is required" in lines[4]
    assert lines[5].startswith("kind: kind must be one of")
    assert lines[6] == "media[0].path 'missing.jpg': no such file"
    assert lines[7] == "expected a JSON object, got list"
    assert "not valid base64" in lines[8]
    assert (summary.status, summary.ingested, summary.bad_rows, summary.rows_read) == ("finished", 2, 6, 8)
    assert [e["line"] for e in summary.errors] == [2, 4, 5, 6, 7, 8]
    assert item_count() == 2


def test_media_paths_must_stay_inside_the_media_folder(scanner, tmp_path):
    (tmp_path / "outside.jpg").write_bytes(CSAM_IMAGE)
    (tmp_path / "export").mkdir()
    (tmp_path / "export" / "link.jpg").symlink_to(tmp_path / "outside.jpg")
    rows = [
        row(1, media=[{"path": "../outside.jpg"}]),
        row(2, media=[{"path": str(tmp_path / "outside.jpg")}]),
        row(3, media=[{"path": "link.jpg"}]),
    ]
    bad: list[bf.BadRowReport] = []
    summary = bf.run_backfill(write_jsonl(tmp_path / "export" / "e.jsonl", rows), on_bad_row=bad.append)
    assert [b.line for b in bad] == [1, 2, 3] and summary.ingested == 0
    assert all("is outside the media folder" in b.reason for b in bad)

    allowed = bf.run_backfill(write_jsonl(tmp_path / "export" / "f.jsonl", rows[:1]), media_root=tmp_path)
    assert (allowed.ingested, allowed.bad_rows) == (1, 0)


def test_too_many_bad_rows_stop_the_run_and_a_rerun_continues_after_them(db_url, tmp_path):
    rows = [row(n) for n in range(1, 11)]
    rows[2] = rows[5] = "garbage"  # lines 3 and 6
    export = write_jsonl(tmp_path / "e.jsonl", rows)

    result = runner.invoke(app, ["backfill", str(export), "--max-errors", "1", "--no-wait", "--workers", "0", "--json"])
    assert result.exit_code == 1
    assert "error: stopped after 2 bad rows (--max-errors 1)" in result.stderr
    assert "continue after line 6" in result.stderr
    assert json.loads(result.stdout)["status"] == "stopped"
    assert item_count() == 4  # lines 1, 2, 4, 5
    assert (the_run().status, the_run().position) == ("stopped", 6)

    again = bf.run_backfill(export, max_errors=1)  # no new bad row after line 6
    assert (again.status, again.rows_read, again.ingested, again.bad_rows) == ("finished", 10, 8, 2)
    assert again.resumed_from_line == 6
    assert item_count() == 8


# ---------------------------------------------------------------- resume
@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_a_failure_mid_run_resumes_from_the_checkpoint(db_url, tmp_path, fmt):
    rows = [row(n) for n in range(50)]
    if fmt == "jsonl":
        export = write_jsonl(tmp_path / "e.jsonl", rows)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        export = tmp_path / "e.parquet"
        pq.write_table(pa.Table.from_pylist(rows), export, row_group_size=8)
    real, calls = bf._commit_batch, [0]

    def dies_on_the_fourth(*a, **kw):
        calls[0] += 1
        if calls[0] == 4:
            raise OSError("disk on fire")
        return real(*a, **kw)

    bf._commit_batch = dies_on_the_fourth
    try:
        with pytest.raises(OSError):
            bf.run_backfill(export, batch_size=5)
    finally:
        bf._commit_batch = real
    run = the_run()
    assert (run.status, run.position, run.ingested, item_count()) == ("failed", 15, 15, 15)
    assert "disk on fire" in run.last_error

    summary = bf.run_backfill(export, batch_size=5)
    assert summary.resumed_from_line == 15
    assert (summary.status, summary.rows_read, summary.ingested, summary.already_present) == ("finished", 50, 50, 0)
    with session_scope() as s:
        assert s.scalar(select(func.count(func.distinct(Item.platform_id)))) == 50
        assert s.scalar(select(func.count()).select_from(ScanJob)) == 50


def test_kill_dash_nine_then_rerun_stores_every_item_exactly_once(db_url, tmp_path):
    n_items = 600
    export = write_jsonl(tmp_path / "e.jsonl", [row(n) for n in range(n_items)])
    env = {
        **os.environ,
        "SURAKSHA_DATABASE_URL": db_url,
        "SURAKSHA_HOME": str(tmp_path / "home"),
        "SURAKSHA_TEST_STORE_DELAY": "0.003",
    }
    cmd = [sys.executable, str(ENTRY), "backfill", str(export), "--batch-size", "20", "--no-wait", "--workers", "0", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with session_scope() as s:
                position = s.scalar(select(BackfillRun.position)) or 0
            if position >= 200:
                break
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(30)
    run = the_run()
    assert run.status == "running" and 200 <= run.position < n_items, "the kill did not land mid-run"
    # What the checkpoint says is exactly what is stored: the killed batch left nothing behind.
    assert item_count() == run.ingested == run.position == run.rows_read

    env.pop("SURAKSHA_TEST_STORE_DELAY")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["resumed_from_line"] == run.position
    assert (summary["status"], summary["rows_read"], summary["ingested"], summary["already_present"], summary["bad_rows"]) == (
        "finished",
        n_items,
        n_items,
        0,
        0,
    )
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Item)) == n_items
        assert s.scalar(select(func.count(func.distinct(Item.platform_id)))) == n_items
        assert s.scalar(select(func.count()).select_from(ScanJob)) == n_items


def test_a_finished_export_and_overlapping_exports_store_nothing_twice(db_url, tmp_path):
    first = bf.run_backfill(write_jsonl(tmp_path / "a.jsonl", [row(n) for n in range(5)]))
    assert first.ingested == 5
    again = bf.run_backfill(tmp_path / "a.jsonl")
    assert (again.run_id, again.ingested, again.rows_read, again.rows_read_now) == (first.run_id, 5, 5, 0)

    submit_item(ItemIn(platform_id="post-7", text="ingested live before the backfill"))
    other = bf.run_backfill(write_jsonl(tmp_path / "b.jsonl", [row(n) for n in range(3, 9)] + [row(4)]))
    assert other.run_id != first.run_id
    assert (other.rows_read, other.ingested, other.already_present) == (7, 3, 4)  # 3, 4, 7 and the repeated 4
    assert item_count() == 5 + 1 + 3


# ---------------------------------------------------------------- Parquet and media
def test_parquet_export_with_nested_fields_binary_media_and_paths(scanner, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "ncii.jpg").write_bytes(NCII_IMAGE)
    when = dt.datetime(2021, 6, 5, 4, 3, 2, tzinfo=dt.UTC)
    rows = [
        {
            "platform_id": "pq-1",
            "account": {"id": "a1", "handle": "someone"},
            "text": "t1",
            "links": [],
            "media": [{"data": CSAM_IMAGE, "mime": "image/jpeg", "path": None, "url": None}],
            "context": {"created_at": when, "country": "IN", "ip": "203.0.113.9"},
        },
        {
            "platform_id": "pq-2",
            "account": None,
            "text": None,
            "links": ["https://fine.example/x"],
            "media": [{"data": None, "mime": None, "path": str(tmp_path / "ncii.jpg"), "url": None}],
            "context": {"created_at": when.replace(year=2020), "country": None, "ip": None},
        },
        {
            "platform_id": "pq-3",
            "account": None,
            "text": "no time",
            "links": [],
            "media": [],
            "context": {"created_at": None, "country": None, "ip": None},
        },
    ]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "export.parquet", row_group_size=2)
    bad: list[bf.BadRowReport] = []
    summary = bf.run_backfill(tmp_path / "export.parquet", on_bad_row=bad.append)
    assert summary.format == "parquet"
    assert (summary.rows_read, summary.ingested, summary.bad_rows) == (3, 2, 1)
    assert bad[0].line == 3 and "created_at is required" in bad[0].reason
    drain(scanner)
    with session_scope() as s:
        items = {i.platform_id: i for i in s.scalars(select(Item))}
    assert aware(items["pq-1"].created_at) == when and items["pq-1"].context["ip"] == "203.0.113.9"
    assert items["pq-2"].created_at.year == 2020
    assert items["pq-1"].verdict == items["pq-2"].verdict == "remove"


def test_media_by_url_is_kept_for_the_worker_to_fetch(scanner, fetched, tmp_path):
    fetched["https://cdn.example/old.jpg"] = CSAM_IMAGE
    bf.run_backfill(write_jsonl(tmp_path / "e.jsonl", [row(1, media=[{"url": "https://cdn.example/old.jpg"}])]))
    drain(scanner)
    with session_scope() as s:
        item = s.scalars(select(Item)).one()
        media = s.scalars(select(ItemMedia)).one()
    assert media.source_url == "https://cdn.example/old.jpg"
    assert item.verdict == "remove"


# ---------------------------------------------------------------- the command
def test_cli_scans_with_its_own_workers_waits_and_prints_the_summary(scanner, tmp_path):
    export = write_jsonl(tmp_path / "e.jsonl", [row(1, media=[{"data_base64": b64(CSAM_IMAGE)}]), row(2), row(3)])
    result = runner.invoke(app, ["backfill", str(export), "--workers", "2", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["ingested"], summary["pending_scans"], summary["matched"]) == (3, 0, 1)
    assert summary["verdicts"] == {"remove": 1, "allow": 2}
    assert summary["items_per_s"] > 0

    table = runner.invoke(app, ["backfill", str(export), "--workers", "0"])
    assert table.exit_code == 0
    assert "items ingested" in table.stdout and "verdict remove" in table.stdout


def test_cli_bad_input_is_one_line(db_url, tmp_path):
    missing = runner.invoke(app, ["backfill", str(tmp_path / "nope.jsonl"), "--workers", "0"])
    assert missing.exit_code == 1
    assert missing.stderr.strip().startswith("error: ") and "nope.jsonl" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    (tmp_path / "e.jsonl").write_text("{}\n")
    wrong = runner.invoke(app, ["backfill", str(tmp_path / "e.jsonl"), "--format", "csv", "--workers", "0"])
    assert wrong.exit_code == 1 and "unknown export format 'csv'" in wrong.stderr
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(BackfillRun)) == 0
