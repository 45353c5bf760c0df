"""Through the real areas: an item posted in 2025 is ingested, scanned with the shipped policy and
a csam bank, its removal and its account's suspension are delivered to the platform and
acknowledged, and the figures show exactly that (no row written by this test)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from enforcement.helpers import csam_bank, jpeg_bytes, scan_all, submit


def test_a_scanned_and_removed_item_appears_in_the_figures(dispatcher, platform, reference_dir):
    from suraksha.enforcement.actions import list_actions
    from suraksha.transparency.figures import figures

    image = csam_bank(reference_dir)
    item_id = submit("post-e2e", "acct-e2e", [image], country="IN", created_at="2025-06-10T06:00:00+00:00")
    submit("post-harmless", "acct-other", [jpeg_bytes(3)], country="IN", created_at="2025-06-11T06:00:00+00:00")
    scan_all()
    dispatcher.run_once()
    [removal] = list_actions(kind="remove_item")
    assert removal.status == "acknowledged" and removal.item_id == item_id

    # "Today" in the jurisdiction's zone (IST): from 18:30 UTC the UTC date is a day behind, and a
    # range ending at the UTC date would stop before the suspension was acknowledged.
    today = dt.datetime.now(ZoneInfo("Asia/Kolkata")).date()
    f = figures("2025-01-01", today.isoformat(), by="year", jurisdiction="in")
    y2025 = next(p for p in f.periods if p.label == "2025")
    this_year = next(p for p in f.periods if p.label == str(today.year))
    # Booked when it happened: posted in 2025, found, removed and suspended now.
    assert (y2025.posted, y2025.identified, y2025.removed) == (1, 0, 0)
    assert (this_year.identified, this_year.proactive, this_year.removed) == (1, 1, 1)
    assert this_year.by_signal == {"hash": 1, "classifier": 0, "link": 0, "text": 0, "human": 0}
    assert this_year.automated_share == 1.0 and this_year.abuse.identified == 1 and this_year.abuse.removed == 1
    expected = (removal.acknowledged_at - dt.datetime(2025, 6, 10, 6, tzinfo=dt.UTC)).total_seconds()
    assert this_year.upload_to_removal.count == 1 and this_year.upload_to_removal.median_seconds == expected
    assert (y2025.accounts_suspended, this_year.accounts_suspended, f.total.accounts_suspended) == (0, 1, 1)
    # The NCMEC report waits for a reviewer (shipped policy): counted, not filed.
    assert (f.total.reports["ncmec"].reports, f.total.reports["ncmec"].filed) == (1, 0)
    assert f.total.reports["ncmec"].states["draft"] == 1
