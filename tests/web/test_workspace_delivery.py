"""Actions and reports pages: lists with filters, totals and paging; details with every delivery
attempt; retry of a dead letter; an India package downloaded, recorded as sent, then acknowledged
with an FIR number. Each change is in the audit log."""

from __future__ import annotations

import datetime as dt

from .conftest import csrf_of, sign_in

T0 = dt.datetime(2026, 11, 20, 14, 45, tzinfo=dt.UTC)  # 20:15 IST


def make_actions(seeded, n_acknowledged: int = 55) -> int:
    """``n_acknowledged`` delivered removals and one dead suspension with three failed attempts."""
    from suraksha.db import session_scope
    from suraksha.enforcement.models import Action, ActionDelivery

    account = seeded["accounts"]["sunrise_42"]
    with session_scope() as s:
        for i in range(n_acknowledged):
            s.add(
                Action(
                    kind="remove_item",
                    idempotency_key=f"t-remove-{i}",
                    item_id=seeded["items"][0],
                    status="acknowledged",
                    attempts=1,
                    reason="matched csam bank",
                    created_at=T0,
                    updated_at=T0,
                    acknowledged_at=T0,
                )
            )
        dead = Action(
            kind="suspend_account",
            idempotency_key="t-suspend-1",
            account_id=account,
            platform_account_id="sunrise_42",
            status="dead",
            alert=True,
            attempts=3,
            reason="network suspension",
            last_error="HTTP 503 from the connector",
            created_at=T0,
            updated_at=T0,
        )
        s.add(dead)
        s.flush()
        for attempt in (1, 2, 3):
            at = T0 + dt.timedelta(minutes=attempt)
            s.add(
                ActionDelivery(
                    action_id=dead.id,
                    attempt=attempt,
                    dispatcher="d1",
                    started_at=at,
                    finished_at=at,
                    outcome="error",
                    http_status=503,
                    error="HTTP 503 from the connector",
                )
            )
        return dead.id


def make_india_report(seeded) -> int:
    from suraksha.db import session_scope
    from suraksha.reporting.models import Report, ReportEvent, ReportItem

    item = seeded["items"][0]
    with session_scope() as s:
        r = Report(
            destination="in_police",
            subject=f"item:{item}",
            item_id=item,
            state="queued",
            state_reason="ready: send it to the police",
            created_at=T0,
            updated_at=T0,
            next_attempt_at=T0,
            package={},
        )
        s.add(r)
        s.flush()
        s.add(ReportItem(report_id=r.id, destination="in_police", item_id=item))
        s.add(ReportEvent(report_id=r.id, at=T0, from_state=None, to_state="queued", actor="system:pipeline", reason="ready"))
        return r.id


def test_legal_retries_a_dead_letter_and_sees_every_attempt(app_client, seeded):
    from suraksha.audit.listing import AuditFilter, list_events
    from suraksha.enforcement.actions import get_action

    dead_id = make_actions(seeded)
    c = app_client()
    sign_in(c, seeded["staff"]["legal"])
    token = csrf_of(c)
    listing = c.get("/actions")
    assert listing.status_code == 200 and "1–50 of 56 actions" in listing.text
    assert "20 Nov 2026, 20:15" in listing.text  # absolute, display zone
    dead_only = c.get("/actions?dead=1")
    assert "1–1 of 1 actions" in dead_only.text and "dead letter" in dead_only.text
    assert "1–1 of 1 actions" in c.get("/actions?kind=suspend_account").text
    assert "0 actions" in c.get("/actions?since=2026-11-21").text
    assert c.get("/actions?status=bogus").status_code == 400

    detail = c.get(f"/actions/{dead_id}")
    assert detail.text.count("HTTP 503 from the connector") >= 3 and detail.text.count("<td>503</td>") == 3
    r = c.post(f"/actions/{dead_id}/retry", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert get_action(dead_id).status == "pending" and get_action(dead_id).alert is False
    again = c.post(f"/actions/{dead_id}/retry", data={"csrf_token": token})
    assert again.status_code == 400 and "only dead or failed" in again.text
    assert list_events(AuditFilter(kind="action.retry"), limit=5).total == 1


def test_legal_sends_an_india_package_and_records_the_fir(app_client, seeded):
    from suraksha.audit.listing import AuditFilter, list_events
    from suraksha.reporting.service import get_report

    report_id = make_india_report(seeded)
    c = app_client()
    sign_in(c, seeded["staff"]["legal"])
    token = csrf_of(c)
    page = c.get("/reports?authority=in_police&state=queued")
    assert "1–1 of 1 reports" in page.text and f'href="/reports/{report_id}"' in page.text
    assert "0 reports" in c.get("/reports?authority=ncmec").text
    assert c.get("/reports?authority=mars").status_code == 400

    detail = c.get(f"/reports/{report_id}")
    assert "Record that it was sent" in detail.text
    pdf = c.get(f"/reports/{report_id}/package.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    r = c.post(
        f"/reports/{report_id}/sent",
        data={"csrf_token": token, "method": "portal", "reference": "CCP-123", "police_unit": "SJPU Mumbai", "sent_at": ""},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert get_report(report_id).state == "submitted"
    # Sending twice is refused with the reason; nothing changes.
    twice = c.post(f"/reports/{report_id}/sent", data={"csrf_token": token, "method": "portal"})
    assert twice.status_code == 400 and "only a queued package" in twice.text
    r = c.post(
        f"/reports/{report_id}/acknowledged",
        data={"csrf_token": token, "reference": "ACK-9", "fir_number": "FIR 221/2026", "at": "2026-11-21T10:30"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    done = get_report(report_id)
    assert done.state == "finished" and done.fir_number == "FIR 221/2026"
    # 10:30 typed in IST is 05:00 UTC.
    assert done.finished_at == dt.datetime(2026, 11, 21, 5, 0, tzinfo=dt.UTC)
    detail = c.get(f"/reports/{report_id}")
    assert "FIR 221/2026" in detail.text and "21 Nov 2026, 10:30 IST" in detail.text
    kinds = {e.action for e in list_events(AuditFilter(target=f"report:{report_id}"), limit=20).events}
    assert kinds == {"report.package.download", "report.sent", "report.acknowledged"}


def test_analyst_reads_lists_but_cannot_act(app_client, seeded):
    dead_id = make_actions(seeded, 1)
    report_id = make_india_report(seeded)
    c = app_client()
    sign_in(c, seeded["staff"]["analyst"])
    token = csrf_of(c)
    assert c.get("/actions").status_code == 200 and c.get("/reports").status_code == 200
    assert "Retry now" not in c.get(f"/actions/{dead_id}").text
    assert c.post(f"/actions/{dead_id}/retry", data={"csrf_token": token}).status_code == 403
    assert "Record that it was sent" not in c.get(f"/reports/{report_id}").text
    assert c.get(f"/reports/{report_id}/package.pdf").status_code == 403
