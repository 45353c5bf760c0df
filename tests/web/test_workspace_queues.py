"""Queues with totals and paging, times absolute in the display zone with the zone shown."""

from __future__ import annotations

import datetime as dt

from .conftest import sign_in


def _fill_queue(seeded, n: int) -> None:
    from suraksha.cases.models import ReviewTask
    from suraksha.db import session_scope
    from suraksha.items.models import Item

    start = dt.datetime(2026, 11, 20, 14, 45, tzinfo=dt.UTC)
    with session_scope() as s:
        for i in range(n):
            item = Item(platform_id=f"queue-post-{i}", kind="post", text="a link", status="done", verdict="review")
            s.add(item)
            s.flush()
            s.add(
                ReviewTask(
                    item_id=item.id,
                    queue="links",
                    status="open",
                    priority=0,
                    created_at=start + dt.timedelta(minutes=i),
                    due_at=start + dt.timedelta(days=1, minutes=i),
                    reasons=["link in csam_url bank"],
                )
            )


def test_a_long_queue_has_a_total_pages_and_absolute_times(app_client, seeded, monkeypatch):
    _fill_queue(seeded, 120)
    c = app_client()
    sign_in(c, seeded["staff"]["reviewer"])
    queues = c.get("/review")
    assert queues.status_code == 200 and "links" in queues.text
    first = c.get("/review/queues/links?stage=open")
    assert first.status_code == 200
    assert "<b>120</b> waiting" in first.text and "120 past their SLA" in first.text
    assert "1–50 of 120 tasks" in first.text and "page 1 of 3" in first.text
    assert first.text.count('<a href="/review/tasks/') == 50
    assert "20 Nov 2026, 20:15 IST" in first.text  # the oldest, first among equal priority
    last = c.get("/review/queues/links?stage=open&page=3")
    assert "101–120 of 120 tasks" in last.text and last.text.count('<a href="/review/tasks/') == 20
    assert c.get("/review/queues/links?stage=open&page=x").status_code == 400
    assert "No tasks on this page" in c.get("/review/queues/links?stage=open&page=9").text

    # Another display zone: the same tasks in UTC, with the zone shown.
    from suraksha.settings import reset_settings

    monkeypatch.setenv("SURAKSHA_WEB_DISPLAY_TIME_ZONE", "UTC")
    reset_settings()
    assert "20 Nov 2026, 14:45 UTC" in c.get("/review/queues/links?stage=open").text


def test_local_time_filter_formats_with_the_zone(monkeypatch):
    from suraksha.settings import reset_settings
    from suraksha.web.render import local_time

    reset_settings()
    assert local_time(dt.datetime(2026, 12, 1, 14, 45, tzinfo=dt.UTC)) == "1 Dec 2026, 20:15 IST"
    assert local_time(dt.datetime(2026, 12, 1, 14, 45, 9, 123456, tzinfo=dt.UTC), seconds=True) == "1 Dec 2026, 20:15:09 IST"
    assert local_time(None) == "-"
    monkeypatch.setenv("SURAKSHA_WEB_DISPLAY_TIME_ZONE", "Europe/London")
    reset_settings()
    assert local_time(dt.datetime(2026, 7, 1, 14, 45, tzinfo=dt.UTC)) == "1 Jul 2026, 15:45 BST"
    monkeypatch.setenv("SURAKSHA_WEB_DISPLAY_TIME_ZONE", "Mars/Olympus")
    reset_settings()
    import pytest
    from pydantic import ValidationError

    from suraksha.settings import get_settings

    with pytest.raises(ValidationError, match="unknown time zone"):
        _ = get_settings().web
    reset_settings()
