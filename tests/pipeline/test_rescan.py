"""``suraksha rescan``: stored signals of past items against the banks as they are now."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import func, select
from typer.testing import CliRunner

from suraksha.cli import app
from suraksha.db import session_scope
from suraksha.items.models import Item, ItemMatch, PendingMedia
from suraksha.outbox.models import OutboxMessage
from suraksha.pipeline import backfill as bf
from suraksha.pipeline import queue
from suraksha.pipeline import scan as scan_mod
from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.rescan import rescan
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.worker import process_batch

from .conftest import BENIGN_IMAGE, b64
from .test_backfill import row, write_jsonl

runner = CliRunner()
SINCE = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
OLD_IMAGE = b"IMG a picture posted in 2022"  # benign bytes; the fake signals hash any b'IMG...'
OTHER_IMAGE = b"IMG another old picture"


def drain(scanner) -> None:
    while jobs := queue.claim_jobs("test-worker", 16, 60):
        process_batch("test-worker", jobs, scanner, max_attempts=3)


def outbox_keys() -> list[str]:
    with session_scope() as s:
        return sorted(s.scalars(select(OutboxMessage.dedupe_key)))


def items() -> dict[str, Item]:
    with session_scope() as s:
        found = {i.platform_id: i for i in s.scalars(select(Item))}
        s.expunge_all()
    return found


def backfill_history(tmp_path: Path, scanner) -> None:
    export = write_jsonl(
        tmp_path / "history.jsonl",
        [
            row(1, year=2022, media=[{"data_base64": b64(OLD_IMAGE)}]),
            row(2, year=2023, media=[{"data_base64": b64(OTHER_IMAGE)}, {"data_base64": b64(BENIGN_IMAGE)}]),
            row(3, year=2023, links=["https://later-bad.example/page"]),
            row(4, year=2019, media=[{"data_base64": b64(OLD_IMAGE)}]),  # before --since
        ],
    )
    bf.run_backfill(export)
    drain(scanner)
    assert {i.verdict for i in items().values()} == {"allow"}


def test_newly_banked_image_is_found_among_old_items_without_their_bytes(scanner, matcher, tmp_path):
    backfill_history(tmp_path, scanner)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(PendingMedia)) == 0  # the bytes are gone
    assert outbox_keys() == []
    matcher.add("sha256", hashlib.sha256(OLD_IMAGE).hexdigest(), "late-csam", "csam", 77)

    summary = rescan(SINCE)
    assert (summary.items_checked, summary.items_matched, summary.new_matches) == (3, 1, 1)
    assert summary.verdict_changes == {"allow->remove": 1}
    after = items()
    post1 = after["post-1"]
    assert (post1.verdict, post1.rule, post1.retroactive) == ("remove", "csam-match", True)
    assert after["post-4"].verdict == "allow"  # posted before --since: not looked at
    with session_scope() as s:
        match = s.scalars(select(ItemMatch)).one()
    assert (match.item_id, match.media_position, match.bank, match.entry_id) == (post1.id, 0, "late-csam", 77)
    assert match.retroactive is True and match.matched_at is not None
    keys = outbox_keys()
    i = post1.id
    expected = sorted(
        [f"{i}:action:remove_item", f"{i}:action:suspend_account", f"{i}:preserve", f"{i}:report:ncmec", f"{i}:report:in_police"]
    )  # the test policy's csam rule, as a scan would enqueue it
    assert keys == expected  # exactly what a scan with this match would have enqueued
    assert summary.messages_enqueued == len(keys)

    second = rescan(SINCE)
    assert (second.new_matches, second.items_matched, second.messages_enqueued) == (0, 0, 0)
    assert outbox_keys() == keys
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ItemMatch)) == 1


def test_new_link_entry_and_bank_filter(scanner, matcher, tmp_path):
    from suraksha.matching import banks

    backfill_history(tmp_path, scanner)
    banks.create_bank("late-links", label="csam_url")
    banks.create_bank("late-ncii", label="ncii")
    matcher.add("domain", "later-bad.example", "late-links", "csam_url", 5)
    matcher.add("sha256", hashlib.sha256(OTHER_IMAGE).hexdigest(), "late-ncii", "ncii", 6)

    only_links = rescan(SINCE, bank="late-links")
    assert (only_links.items_matched, only_links.new_matches) == (1, 1)
    assert only_links.verdict_changes == {"allow->review": 1}
    assert items()["post-2"].verdict == "allow"  # its match is in the other bank

    rest = rescan(SINCE)
    assert (rest.items_matched, rest.new_matches) == (1, 1)
    assert items()["post-2"].verdict == "remove"
    with pytest.raises(LookupError):
        rescan(SINCE, bank="no-such-bank")


def test_items_not_yet_scanned_are_left_to_the_worker(scanner, matcher, tmp_path):
    item, _ = submit_item(
        ItemIn(platform_id="queued", media=[{"data_base64": b64(OLD_IMAGE)}], context={"created_at": "2024-02-02T00:00:00Z"})
    )
    matcher.add("sha256", hashlib.sha256(OLD_IMAGE).hexdigest(), "late-csam", "csam", 77)
    assert rescan(SINCE).items_checked == 0
    drain(scanner)  # the scan itself sees the new entry
    assert items()["queued"].verdict == "remove"
    assert rescan(SINCE).new_matches == 0


def test_cli_rescan_json_and_one_line_errors(scanner, matcher, tmp_path):
    backfill_history(tmp_path, scanner)
    matcher.add("sha256", hashlib.sha256(OLD_IMAGE).hexdigest(), "late-csam", "csam", 77)
    result = runner.invoke(app, ["rescan", "--since", "2021-06-01", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new_matches"] == 1
    table = runner.invoke(app, ["rescan", "--since", "2021-06-01"])
    assert table.exit_code == 0 and "new matches" in table.stdout

    bad_date = runner.invoke(app, ["rescan", "--since", "last tuesday"])
    assert bad_date.exit_code == 1
    assert bad_date.stderr.strip() == "error: --since 'last tuesday' is not a date (YYYY-MM-DD) or an ISO time"
    no_bank = runner.invoke(app, ["rescan", "--since", "2021-06-01", "--bank", "nope"])
    assert no_bank.exit_code == 1 and no_bank.stderr.strip() == "error: no bank named 'nope'"


# ---------------------------------------------------------------- the real signals, matcher and policy
def _photo(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:256, 0:256]
    base = np.stack([(x + y) % 256, (x * 2) % 256, (255 - y) % 256], axis=-1).astype(np.float64)
    blobs = rng.normal(0, 40, (8, 8, 3)).repeat(32, 0).repeat(32, 1)
    return Image.fromarray(np.clip(base + blobs, 0, 255).astype(np.uint8))


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality)
    return out.getvalue()


def test_real_pdq_of_a_stored_item_matches_a_re_encoded_copy_banked_later(db_url, tmp_path):
    from suraksha.matching import banks
    from suraksha.matching.matcher import reset_matcher

    reset_matcher()
    scan_mod.set_scanner(None)
    posted = _jpeg(_photo(1), 90)
    banked_copy = _jpeg(_photo(1), 60)  # same picture, other bytes: only the PDQ can match
    assert hashlib.sha256(posted).digest() != hashlib.sha256(banked_copy).digest()
    export = write_jsonl(
        tmp_path / "h.jsonl",
        [
            row(1, year=2022, media=[{"data_base64": b64(posted), "mime": "image/jpeg"}]),
            row(2, year=2022, media=[{"data_base64": b64(_jpeg(_photo(2), 90)), "mime": "image/jpeg"}]),
        ],
    )
    bf.run_backfill(export)
    scanner = scan_mod.get_scanner()
    drain(scanner)
    assert {i.verdict for i in items().values()} == {"allow"}

    banks.create_bank("exchange-csam", label="csam")
    banks.add_content("exchange-csam", banked_copy)
    result = runner.invoke(app, ["rescan", "--since", "2022-01-01", "--bank", "exchange-csam", "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["items_matched"], summary["new_matches"]) == (1, 1)
    post1 = items()["post-1"]
    assert post1.verdict == "remove" and items()["post-2"].verdict == "allow"
    with session_scope() as s:
        match = s.scalars(select(ItemMatch)).one()
        topics = sorted(s.scalars(select(OutboxMessage.topic).where(OutboxMessage.item_id == post1.id)))
    assert match.signal_type == "pdq" and 0 < match.distance <= 31
    assert "report" in topics and "action" in topics and "review" in topics
    again = runner.invoke(app, ["rescan", "--since", "2022-01-01", "--json"])
    assert json.loads(again.stdout)["new_matches"] == 0
    reset_matcher()
