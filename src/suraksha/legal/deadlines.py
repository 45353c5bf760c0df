"""Clocks: due dates, the due / at-risk / overdue dashboard and escalation before breach."""

from __future__ import annotations

import datetime as dt

from suraksha.legal.schemas import Dashboard, NotificationView


def dashboard(now: dt.datetime | None = None, *, agency_id: int | None = None) -> Dashboard:
    """Open requests grouped: overdue, at risk (past SURAKSHA_LEGAL_AT_RISK_FRACTION of the
    period), due (the rest), each sorted by due time."""
    raise NotImplementedError


def escalate_due(now: dt.datetime | None = None) -> list[NotificationView]:
    """Called periodically by the dispatcher: notify the nodal officer at the first threshold and
    the compliance officer at the second (of the period used) for each open request, once each."""
    raise NotImplementedError


def list_notifications(request_id: int | None = None) -> list[NotificationView]:
    raise NotImplementedError
