"""The Parquet signal archive: written after scans, purged by retention, rebuilt, and retro-hunted."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from PIL import Image
from sqlalchemy import select
from typer.testing import CliRunner

from suraksha.cli import app
from suraksha.db import session_scope
from suraksha.items.models import Item, ItemMatch
from suraksha.outbox.models import OutboxMessage
from suraksha.pipeline import archive as arch
from suraksha.pipeline import backfill as bf
from suraksha.pipeline import queue
from suraksha.pipeline import scan as scan_mod
from suraksha.pipeline.rescan import rescan
from suraksha.pipeline.worker import process_batch
from suraksha.settings import reset_settings

from .conftest import BENIGN_IMAGE, b64
from .test_backfill import row, write_jsonl

runner = CliRunner()
SINCE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
OLD_IMAGE = b"IMG a picture posted in 2022"
OTHER_IMAGE = b"IMG another old picture"


@pytest.fixture
def archive_dir(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "archive"
    monkeypatch.setenv("SURAKSHA_ARCHIVE_URL", str(folder))
    reset_settings()
    arch.reset_writer()
    yield folder
    arch.reset_writer()


def drain(scanner) -> None:
    while jobs := queue.claim_jobs("test-worker", 16, 60):
        process_batch("test-worker", jobs, scanner, max_attempts=3)


def history(tmp_path: Path, scanner) -> None:
    export = write_jsonl(
        tmp_path / "history.jsonl",
        [
            row(1, year=2022, media=[{"data_base64": b64(OLD_IMAGE)}]),
            row(2, year=2023, media=[{"data_base64": b64(OTHER_IMAGE)}, {"data_base64": b64(BENIGN_IMAGE)}]),
            row(
                3,
                year=2023,
                links=["https://later-bad.example/page"],
                context={"created_at": "2023-03-03T00:00:00Z", "country": "DE"},
            ),
            row(4, year=2019, media=[{"data_base64": b64(OLD_IMAGE)}]),  # before SINCE
        ],
    )
    bf.run_backfill(export)
    drain(scanner)


def state() -> tuple[dict[str, tuple], list[tuple], list[str]]:
    """What a user sees: verdicts per post, stored matches, outbox keys (ids replaced by platform ids)."""
    with session_scope() as s:
        items = {i.id: i for i in s.scalars(select(Item))}
        verdicts = {i.platform_id: (i.verdict, i.rule, i.retroactive) for i in items.values()}
        matches = sorted(
            (items[m.item_id].platform_id, m.media_position, m.bank, m.entry_id, m.signal_type, m.retroactive)
            for m in s.scalars(select(ItemMatch))
        )
        keys = sorted(
            k.replace(f"{i}:", f"{items[i].platform_id}:", 1)
            for k, i in s.execute(select(OutboxMessage.dedupe_key, OutboxMessage.item_id))
        )
    return verdicts, matches, keys


def test_scans_are_archived_in_day_partitions_after_commit(scanner, archive_dir, tmp_path):
    history(tmp_path, scanner)
    writer = arch.get_writer()
    assert writer is not None and writer.pending() > 0  # buffered, not one file per item
    assert not list(archive_dir.rglob("*.parquet"))
    assert arch.flush_archive() == writer.rows_written > 0
    days = sorted(str(p.parent.relative_to(archive_dir)) for p in archive_dir.rglob("*.parquet"))
    assert days == [
        "jurisdiction=eu/day=2023-03-03",
        "jurisdiction=in/day=2019-05-05",
        "jurisdiction=in/day=2022-02-02",
        "jurisdiction=in/day=2023-03-03",
    ]
    rows = pq.read_table(next((archive_dir / "jurisdiction=in/day=2022-02-02").glob("*.parquet"))).to_pylist()
    media = [r for r in rows if r["kind"] != "link"]
    links = [r for r in rows if r["kind"] == "link"]
    assert [m["sha256"] for m in media] == [hashlib.sha256(OLD_IMAGE).hexdigest()]
    assert media[0]["platform_id"] == "post-1" and media[0]["account"] == "acct-1" and media[0]["country"] == "IN"
    assert media[0]["created_at"] == dt.datetime(2022, 2, 2, 10, 30, tzinfo=dt.UTC)
    assert [lk["url"] for lk in links] == ["https://fine.example/1"]


def test_archive_retrohunt_stores_what_the_database_rescan_stores(scanner, matcher, archive_dir, tmp_path):
    history(tmp_path, scanner)
    arch.flush_archive()
    matcher.add("sha256", hashlib.sha256(OLD_IMAGE).hexdigest(), "late-csam", "csam", 77)
    matcher.add("domain", "later-bad.example", "late-links", "csam_url", 5)

    summary = rescan(SINCE, source="archive")
    assert (summary.source, summary.engine) == ("archive", "in-process")
    assert summary.signals_checked == 6  # 2019's partition is not read
    assert (summary.items_matched, summary.new_matches) == (2, 2)
    assert summary.verdict_changes == {"allow->remove": 1, "allow->review": 1}
    verdicts, matches, keys = state()
    assert verdicts["post-1"] == ("remove", "csam-match", True) and verdicts["post-4"][0] == "allow"
    assert matches == [("post-1", 0, "late-csam", 77, "sha256", True), ("post-3", None, "late-links", 5, "domain", True)]
    # The database path finds nothing more: the archive found exactly its findings.
    again = rescan(SINCE)
    assert (again.new_matches, again.messages_enqueued) == (0, 0)
    assert state() == (verdicts, matches, keys)
    assert rescan(SINCE, source="archive").new_matches == 0  # and a second retro-hunt adds nothing


def test_database_rescan_first_leaves_nothing_for_the_archive(scanner, matcher, archive_dir, tmp_path):
    history(tmp_path, scanner)
    arch.flush_archive()
    matcher.add("sha256", hashlib.sha256(OTHER_IMAGE).hexdigest(), "late-ncii", "ncii", 6)
    first = rescan(SINCE)
    assert (first.items_matched, first.new_matches) == (1, 1)
    before = state()
    assert rescan(SINCE, source="archive").new_matches == 0
    assert state() == before


def test_bank_filter_and_bad_options(scanner, matcher, archive_dir, tmp_path):
    from suraksha.matching import banks

    history(tmp_path, scanner)
    arch.flush_archive()
    banks.create_bank("late-links", label="csam_url")
    matcher.add("domain", "later-bad.example", "late-links", "csam_url", 5)
    matcher.add("sha256", hashlib.sha256(OLD_IMAGE).hexdigest(), "late-csam", "csam", 77)
    only = rescan(SINCE, source="archive", bank="late-links")
    assert (only.items_matched, only.new_matches) == (1, 1)
    assert state()[0]["post-1"][0] == "allow"
    with pytest.raises(ValueError, match="--from-archive"):
        rescan(SINCE, ray_address="local")
    result = runner.invoke(app, ["rescan", "--since", "2021-01-01", "--from-archive", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_matches"] == 1  # the other bank's match, now


def test_crash_loses_the_buffer_not_the_signals_rebuild_restores_them(scanner, matcher, archive_dir, tmp_path):
    history(tmp_path, scanner)
    writer = arch.get_writer()
    assert writer.pending() > 0
    writer._rows.clear()  # what kill -9 does to the buffer; the scans were committed before
    assert rescan(SINCE, source="archive").signals_checked == 0
    written = arch.rebuild(SINCE)
    assert written == 6
    assert arch.rebuild(SINCE) == 0  # only what is missing, by item id
    matcher.add("sha256", hashlib.sha256(OLD_IMAGE).hexdigest(), "late-csam", "csam", 77)
    assert rescan(SINCE, source="archive").new_matches == 1
    result = runner.invoke(app, ["archive", "rebuild", "--since", "2019-01-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"rows_written": 2}  # 2019's item only


def _rows(day: dt.date, country: str | None, n: int = 3) -> list[dict]:
    at = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC)
    return [
        {"item_id": i, "platform_id": f"p{i}", "country": country, "created_at": at, "kind": "image", "sha256": "0" * 64}
        for i in range(n)
    ]


def test_purge_keeps_each_jurisdiction_for_its_profiles_period(home, tmp_path):
    a = arch.open_archive(str(tmp_path / "a"))
    now = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    today = now.date()
    for days_ago, country in [(181, "IN"), (179, "IN"), (366, "FR"), (364, "FR"), (365, "US"), (400, "BR"), (10, "BR")]:
        a.write(_rows(today - dt.timedelta(days=days_ago), country))
    assert arch.retention_days("in") == 180 and arch.retention_days("eu") == 365
    dry = a.purge(now, dry_run=True)
    assert sorted(dry.deleted) == sorted(
        [
            f"in/{today - dt.timedelta(days=181)}",
            f"eu/{today - dt.timedelta(days=366)}",
            f"other/{today - dt.timedelta(days=400)}",
        ]
    )
    assert len(a.files()) == 7  # a dry run deletes nothing
    done = a.purge(now)
    assert (done.partitions_deleted, done.rows_deleted) == (3, 9)
    left = sorted((f.jurisdiction, (today - f.day).days) for f in a.files())
    # A day is kept whole days after it ends: 179 (in), 364 (eu) and 365 (us: 365 days) days ago stay.
    assert left == [("eu", 364), ("in", 179), ("other", 10), ("us", 365)]
    assert a.purge(now).partitions_deleted == 0


def test_cli_archive_list_and_purge_json(home, tmp_path, monkeypatch):
    folder = tmp_path / "a"
    a = arch.open_archive(str(folder))
    old = dt.date.today() - dt.timedelta(days=500)
    a.write(_rows(old, "IN") + _rows(dt.date.today(), "IN", 2))
    listed = runner.invoke(app, ["archive", "list", "--archive", str(folder), "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(p["day"], p["rows"], p["retention_days"]) for p in json.loads(listed.stdout)] == [
        (old.isoformat(), 3, 180),
        (dt.date.today().isoformat(), 2, 180),
    ]
    purged = runner.invoke(app, ["archive", "purge", "--archive", str(folder), "--json"])
    assert purged.exit_code == 0, purged.output
    assert json.loads(purged.stdout)["deleted"] == [f"in/{old.isoformat()}"]
    monkeypatch.delenv("SURAKSHA_ARCHIVE_URL", raising=False)
    reset_settings()
    none = runner.invoke(app, ["archive", "list"])
    assert none.exit_code == 1 and "SURAKSHA_ARCHIVE_URL" in none.stderr


def test_writer_flushes_by_size_and_age_and_keeps_rows_while_the_store_is_down(home, tmp_path):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the archive folder should be")
    w = arch.ArchiveWriter(arch.open_archive(str(blocked)), flush_rows=4, flush_seconds=0.3, max_buffered_rows=5)
    try:
        w.append(_rows(dt.date(2026, 1, 1), "IN", 4))  # full: a write is tried and fails
        assert (w.rows_written, w.pending()) == (0, 4)
        w.append(_rows(dt.date(2026, 1, 2), "IN", 3))
        assert w.pending() == 5 and w.rows_dropped == 2  # bounded; the database still holds them
        blocked.unlink()
        deadline = time.monotonic() + 5
        while w.rows_written < 5 and time.monotonic() < deadline:
            time.sleep(0.05)  # the age flush (0.3 s) writes without another append
        assert (w.pending(), w.rows_written) == (0, 5)
        assert sum(pq.read_metadata(p).num_rows for p in blocked.rglob("*.parquet")) == 5
    finally:
        w.close()


# ---------------------------------------------------------------- real signals: PDQ and its rotations
def _photo(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:256, 0:256]
    base = np.stack([(x + y) % 256, (x * 2) % 256, (255 - y) % 256], axis=-1).astype(np.float64)
    blobs = rng.normal(0, 40, (8, 8, 3)).repeat(32, 0).repeat(32, 1)
    return Image.fromarray(np.clip(base + blobs, 0, 255).astype(np.uint8))


def _jpeg(img: Image.Image, quality: int = 90) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_archived_rotations_find_a_rotated_copy_the_database_rescan_cannot(db_url, archive_dir, tmp_path):
    from suraksha.matching import banks
    from suraksha.matching.matcher import reset_matcher

    reset_matcher()
    scan_mod.set_scanner(None)
    export = write_jsonl(
        tmp_path / "h.jsonl",
        [
            row(1, year=2022, media=[{"data_base64": b64(_jpeg(_photo(1))), "mime": "image/jpeg"}]),
            row(2, year=2022, media=[{"data_base64": b64(_jpeg(_photo(2))), "mime": "image/jpeg"}]),
        ],
    )
    bf.run_backfill(export)
    drain(scan_mod.get_scanner())
    arch.flush_archive()
    rows = [r for f in archive_dir.rglob("*.parquet") for r in pq.read_table(f).to_pylist() if r["kind"] == "image"]
    assert len(rows) == 2 and all(len(r["pdq_transforms"]) == 7 for r in rows)

    banks.create_bank("exchange-csam", label="csam")  # matches rotations and mirrors (the default)
    banks.add_content("exchange-csam", _jpeg(_photo(1).transpose(Image.Transpose.ROTATE_90), 70))
    assert rescan(SINCE).new_matches == 0  # stored signals hold the hash only
    found = rescan(SINCE, source="archive")
    assert (found.items_matched, found.new_matches) == (1, 1)
    with session_scope() as s:
        match = s.scalars(select(ItemMatch)).one()
        item = s.get(Item, match.item_id)
    assert item.platform_id == "post-1" and item.verdict == "remove"
    assert match.signal_type == "pdq" and match.transform is not None


def test_a_row_that_can_never_be_written_is_dropped_not_retried_forever(home, tmp_path, caplog):
    w = arch.ArchiveWriter(arch.open_archive(str(tmp_path / "a")), flush_rows=100, flush_seconds=60, max_buffered_rows=1000)
    try:
        bad = _rows(dt.date(2026, 1, 1), "IN", 1)
        bad[0]["pdq_quality"] = "high"  # not a number: Arrow refuses it
        w.append(bad)
        assert w.flush() == 0 and (w.rows_dropped, w.pending()) == (1, 0)
        assert "cannot be written" in caplog.text
        w.append(_rows(dt.date(2026, 1, 1), "IN", 2))
        assert w.flush() == 2  # the archive goes on
    finally:
        w.close()
