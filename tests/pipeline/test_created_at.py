"""An item's original time keeps its instant whatever offset the platform sends it with."""

from __future__ import annotations

import datetime as dt

from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.views import get_item

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def _submit(created_at: str, n: int) -> int:
    item = ItemIn.model_validate(
        {"platform_id": f"post-{n}", "account": {"id": "acct-1"}, "text": "hello", "context": {"created_at": created_at}}
    )
    return submit_item(item)[0].id


def test_offset_times_are_stored_as_the_same_instant(db_url):
    # 00:30 IST on 1 Jan 2026 is 19:00 UTC on 31 Dec 2025: the item belongs to December's figures.
    item_id = _submit("2026-01-01T00:30:00+05:30", 1)
    created = get_item(item_id).created_at
    if created.tzinfo is None:  # SQLite returns naive UTC
        created = created.replace(tzinfo=dt.UTC)
    assert created == dt.datetime(2025, 12, 31, 19, 0, tzinfo=dt.UTC)
    assert created.astimezone(IST).hour == 0


def test_naive_times_are_read_as_utc(db_url):
    item_id = _submit("2026-03-01T08:00:00", 2)
    created = get_item(item_id).created_at
    assert created.replace(tzinfo=None) == dt.datetime(2026, 3, 1, 8, 0) and created.utcoffset() in (None, dt.timedelta(0))
