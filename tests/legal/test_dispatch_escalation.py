"""The dispatcher loop escalates legal requests near their deadline, without anyone running
`suraksha legal escalate` by hand, and at most once a minute per dispatcher."""

from __future__ import annotations

import datetime as dt

from tests.legal.test_deadlines import _request

from suraksha import legal
from suraksha.db import utcnow
from suraksha.dispatch import Dispatcher


class _NoPlatform:
    def deliver(self, webhook):  # pragma: no cover - no actions are due in these tests
        raise AssertionError("no action should be delivered")


def test_a_dispatch_pass_escalates_a_request_close_to_its_deadline(agencies):
    a, _ = agencies
    # An emergency request (1 h clock) received 50 minutes ago: past both thresholds (50% and 80%).
    r = legal.file_request(_request("emergency_request", a.id, received_at=utcnow() - dt.timedelta(minutes=50)), "user:nodal")
    d = Dispatcher(connector=_NoPlatform(), sync_reviews=False)
    first = d.run_once()
    assert first["legal_escalations"] == 2
    assert [n.level for n in legal.list_notifications(r.id)] == ["nodal", "compliance"]
    # The next pass inside the minute does not query again; a later pass finds nothing new.
    assert d.run_once()["legal_escalations"] == 0
    d._escalated_at = None
    assert d.run_once()["legal_escalations"] == 0
    assert len(legal.list_notifications(r.id)) == 2


def test_a_fresh_request_is_not_escalated(agencies):
    a, _ = agencies
    r = legal.file_request(_request("data_request", a.id, received_at=utcnow()), "user:nodal")
    assert Dispatcher(connector=_NoPlatform(), sync_reviews=False).run_once()["legal_escalations"] == 0
    assert legal.list_notifications(r.id) == []
