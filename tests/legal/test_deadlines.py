"""Clocks per request type (India), near midnight IST, an order's own deadline; the dashboard's
due / at-risk / overdue groups and escalation to the nodal then the compliance officer."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.legal.conftest import IST

from suraksha import legal
from suraksha.legal import RequestIn

# (type, hours) as in jurisdictions/in.yaml, with the citations there.
INDIA = [
    ("takedown_order", 3),
    ("blocking_order", 3),
    ("ncii_complaint", 2),
    ("removal_request", 36),
    ("data_request", 72),
    ("production_order", 72),
    ("preservation_request", 24),
    ("emergency_request", 1),
    ("commission_summons", 72),
    ("grievance_acknowledgement", 24),
    ("grievance_resolution", 24 * 7),
]
NEAR_MIDNIGHT = dt.datetime(2026, 11, 30, 23, 40, tzinfo=IST)  # 18:10 UTC: the UTC date is still the 30th


def _request(type_: str, agency_id: int | None, **kw) -> RequestIn:
    complaint = type_ in ("ncii_complaint", "removal_request", "grievance_acknowledgement", "grievance_resolution")
    base = dict(
        type=type_,
        jurisdiction="in",
        channel="staff",
        agency_id=None if complaint else agency_id,
        issuer_kind="user" if complaint else "court",
        officer_name=None if complaint else "Registrar",
        legal_basis=None if complaint else "order of the court",
        received_at=NEAR_MIDNIGHT,
        targets=[{"kind": "url", "value": "https://platform.example/p/1"}],
        data_points=["subscriber_data"] if type_ in ("data_request", "production_order", "emergency_request") else [],
    )
    base.update(kw)
    return RequestIn(**base)


@pytest.mark.parametrize("type_, hours", INDIA)
def test_clock_per_type_near_midnight_ist(agencies, type_, hours):
    a, _ = agencies
    r = legal.file_request(_request(type_, a.id), "user:nodal", now=NEAR_MIDNIGHT + dt.timedelta(minutes=1))
    assert r.due_at == NEAR_MIDNIGHT + dt.timedelta(hours=hours)
    assert r.due_at.tzinfo is not None and r.due_at.utcoffset() == dt.timedelta(hours=5, minutes=30)
    if hours == 3:  # 23:40 IST + 3 h is 02:40 IST the next day, not the same calendar day
        assert (r.due_at.day, r.due_at.hour, r.due_at.minute) == (1, 2, 40)
    assert r.deadline_citation  # the clock names the rule it comes from


def test_order_deadline_wins_when_stricter_and_never_extends_a_statutory_clock(agencies):
    a, _ = agencies
    stricter = NEAR_MIDNIGHT + dt.timedelta(hours=1)
    r = legal.file_request(_request("takedown_order", a.id, order_deadline=stricter), "user:nodal")
    assert r.due_at == stricter
    later = NEAR_MIDNIGHT + dt.timedelta(hours=10)
    r = legal.file_request(_request("takedown_order", a.id, order_deadline=later), "user:nodal")
    assert r.due_at == NEAR_MIDNIGHT + dt.timedelta(hours=3)  # Rule 3(1)(d): 3 h regardless
    # BNSS s.94 leaves the time to the order: a later date in the order replaces the internal 72 h target.
    r = legal.file_request(_request("production_order", a.id, order_deadline=NEAR_MIDNIGHT + dt.timedelta(days=10)), "user:nodal")
    assert r.due_at == NEAR_MIDNIGHT + dt.timedelta(days=10)


def test_bad_times_refused(agencies):
    a, _ = agencies
    with pytest.raises(legal.LegalError, match="before the request was received"):
        legal.file_request(_request("takedown_order", a.id, order_deadline=NEAR_MIDNIGHT - dt.timedelta(hours=1)), "user:x")
    with pytest.raises(ValueError, match="time zone"):
        _request("takedown_order", a.id, received_at=dt.datetime(2026, 11, 30, 23, 40))
    with pytest.raises(legal.LegalError, match="no deadline for request type 'parking_ticket'"):
        legal.file_request(_request("parking_ticket", a.id), "user:x")
    assert legal.list_requests() == []


def test_dashboard_groups_and_escalation_before_breach(agencies, monkeypatch):
    monkeypatch.setenv("SURAKSHA_NODAL_OFFICER_EMAIL", "nodal@platform.example")
    monkeypatch.setenv("SURAKSHA_COMPLIANCE_OFFICER_EMAIL", "compliance@platform.example")
    a, _ = agencies
    t0 = NEAR_MIDNIGHT
    takedown = legal.file_request(_request("takedown_order", a.id), "user:nodal")  # due t0+3h
    data = legal.file_request(_request("data_request", a.id), "user:nodal")  # due t0+72h

    board = legal.dashboard(t0 + dt.timedelta(hours=1))
    assert [e.reference for e in board.due] == [takedown.reference, data.reference]
    assert board.counts() == {"overdue": 0, "at_risk": 0, "due": 2}
    assert legal.escalate_due(t0 + dt.timedelta(hours=1)) == []

    at_half = t0 + dt.timedelta(hours=1, minutes=40)  # 55% of the takedown's 3 h
    assert [e.reference for e in legal.dashboard(at_half).at_risk] == [takedown.reference]
    made = legal.escalate_due(at_half)
    assert [(n.reference, n.level, n.recipients) for n in made] == [(takedown.reference, "nodal", ["nodal@platform.example"])]
    assert "1 h 20 min left" in made[0].message
    assert legal.escalate_due(at_half) == []  # once per level

    made = legal.escalate_due(t0 + dt.timedelta(hours=2, minutes=30))  # 83%
    assert [(n.reference, n.level) for n in made] == [(takedown.reference, "compliance")]

    late = t0 + dt.timedelta(hours=4)
    board = legal.dashboard(late)
    assert [e.reference for e in board.overdue] == [takedown.reference] and board.overdue[0].remaining < dt.timedelta(0)
    assert [e.reference for e in board.due] == [data.reference]
    # Escalations are on the request's history and in the audit log.
    actions = [e.action for e in legal.request_history(takedown.id)]
    assert "escalation.nodal" in actions and "escalation.compliance" in actions
    # A request first seen when already overdue gets both levels at once.
    assert {n.level for n in legal.escalate_due(data.received_at + dt.timedelta(hours=80))} == {"nodal", "compliance"}


def test_escalation_falls_back_to_legal_staff(agencies):
    from suraksha.auth.service import create_user

    create_user("lena", "legal", display_name="Lena")
    a, _ = agencies
    r = legal.file_request(_request("emergency_request", a.id), "user:nodal")
    made = legal.escalate_due(r.received_at + dt.timedelta(minutes=50))  # 83% of 1 h
    assert {n.level: n.recipients for n in made} == {"nodal": ["user:lena"], "compliance": ["user:lena"]}
    assert [n.level for n in legal.list_notifications(r.id)] == ["nodal", "compliance"]


def test_escalation_also_sent_to_the_platform_when_enabled(agencies, monkeypatch):
    import json

    import httpx
    from tests.legal.helpers import SECRET

    from suraksha.enforcement.connector import verify_signature
    from suraksha.enforcement.settings import reset_enforcement_settings

    monkeypatch.setenv("SURAKSHA_CONNECTOR_URL", "https://platform.example/hooks")
    monkeypatch.setenv("SURAKSHA_CONNECTOR_SECRET", SECRET)
    monkeypatch.setenv("SURAKSHA_LEGAL_ESCALATION_WEBHOOK", "true")
    reset_enforcement_settings()
    got = []

    def platform(request: httpx.Request) -> httpx.Response:
        verify_signature(request.headers, request.content, SECRET)
        got.append(json.loads(request.content))
        return httpx.Response(200 if len(got) == 1 else 503)

    a, _ = agencies
    r = legal.file_request(_request("takedown_order", a.id), "user:nodal")
    made = legal.escalate_due(NEAR_MIDNIGHT + dt.timedelta(hours=2, minutes=40), transport=httpx.MockTransport(platform))
    reset_enforcement_settings()
    assert [(b["event"], b["reference"], b["level"]) for b in got] == [
        ("legal_escalation", r.reference, "nodal"),
        ("legal_escalation", r.reference, "compliance"),
    ]
    assert len(made) == 2
    actions = [e.action for e in legal.request_history(r.id)]
    assert actions.count("escalation.delivered") == 1 and actions.count("escalation.delivery_failed") == 1
