"""The issue's "done means", end to end over HTTP: staff register the agencies; an officer of
agency A registers, confirms, enrols TOTP, signs in and files a data request with a PDF through
the portal; the nodal officer (a staff ``legal`` user) gathers on /legal, marks one data point
unavailable with a reason, approves and builds the disclosure; the officer downloads it (audited)
and its manifest verifies; agency B's officer gets 404 for the request and the download."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from zoneinfo import ZoneInfo

from sqlalchemy import select
from tests.legal.conftest import make_pdf
from tests.legal.helpers import post
from tests.legal.portal_client import officer_client, portal_csrf

from suraksha import legal
from suraksha.db import session_scope

from .conftest import csrf_of, sign_in

EMAIL_A = "si.test@cybercrime.gov.in"  # fictional officers
EMAIL_B = "insp.test@police.example"


def _register_agency(staff, csrf: str, name: str, domain: str) -> int:
    r = staff.post(
        "/legal/agencies",
        data={"name": name, "kind": "police", "jurisdiction": "in", "email_domains": domain, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return next(a.id for a in legal.list_agencies() if a.name == name)


def test_officer_files_nodal_officer_discloses_officer_downloads_and_it_verifies(app_client, seeded, tmp_path):
    staff = app_client()
    assert sign_in(staff, seeded["staff"]["legal"]).status_code == 303
    csrf = csrf_of(staff)
    a = _register_agency(staff, csrf, "Test Cyber Crime Unit", "cybercrime.gov.in")
    b = _register_agency(staff, csrf, "Test District Police", "police.example")
    assert "cybercrime.gov.in" in staff.get("/legal/agencies").text

    post("lr-p-1", "acct-lr-1", links=["https://example.org/shared-link"])
    post("lr-p-2", "acct-lr-1", ip="2001:db8::5", port=443)

    # The officer of A files through the portal.
    officer = officer_client(app_client, a, EMAIL_A)
    r = officer.post(
        "/portal/requests/new",
        data={
            "csrf_token": portal_csrf(officer),
            "type": "data_request",
            "case_number": "FIR 123/2026",
            "legal_basis": "BNSS s.94; IT Rules 2021 Rule 3(1)(j)",
            "accounts": "acct-lr-1",
            "data_points": ["subscriber_data", "ip_logs", "content_urls", "linked_accounts"],
            "period_from": "2026-11-01",
            "period_to": "2026-11-30",
        },
        files={"document": ("notice.pdf", make_pdf(), "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    rid = int(re.search(r"/portal/requests/(\d+)", r.headers["location"]).group(1))
    ref = legal.get_request(rid).reference

    # The nodal officer sees it on the dashboard with its clock, and works it.
    home = staff.get("/legal")
    assert home.status_code == 200 and ref in home.text and "left" in home.text
    page = staff.get(f"/legal/requests/{rid}")
    assert page.status_code == 200 and "passed: rank" not in page.text and "failed:" not in page.text
    r = staff.post(f"/legal/requests/{rid}/gather", data={"csrf_token": csrf})
    assert r.status_code == 200 and "Gathered: 3 of 4 data point(s) found." in r.text
    assert "no platform connector is configured" in r.text  # why the rest is still pending
    r = staff.post(f"/legal/requests/{rid}/approve", data={"csrf_token": csrf})
    assert r.status_code == 409 and "linked_accounts" in r.text
    r = staff.post(
        f"/legal/requests/{rid}/data/linked_accounts",
        data={
            "csrf_token": csrf,
            "status": "unavailable",
            "reason": "no linked accounts: no shared media, links or IP addresses",
        },
    )
    assert r.status_code == 200 and "Linked accounts marked unavailable." in r.text
    r = staff.post(f"/legal/requests/{rid}/approve", data={"csrf_token": csrf, "note": "complete except linked accounts"})
    assert r.status_code == 200 and "Approved." in r.text
    r = staff.post(f"/legal/requests/{rid}/disclosure", data={"csrf_token": csrf})
    assert r.status_code == 200 and "built, signed and delivered" in r.text
    view = legal.get_request(rid)
    assert view.status == "answered" and len(view.disclosures) == 1
    did = view.disclosures[0].id

    # The officer sees the answer and downloads it; the manifest verifies.
    page = officer.get(f"/portal/requests/{rid}")
    assert "Answer delivered" in page.text and f"/portal/disclosures/{did}" in page.text
    assert "no linked accounts: no shared media" in page.text  # the reason is shown to the requester
    got = officer.get(f"/portal/disclosures/{did}")
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert got.headers["cache-control"] == "no-store" and "attachment" in got.headers["content-disposition"]
    check = legal.verify_package(got.content, legal.public_key_b64())
    assert check.ok, check.errors
    body = json.loads(zipfile.ZipFile(io.BytesIO(got.content)).read("data/request.json"))
    points = {p["key"]: p for p in body["data_points"]}
    assert points["linked_accounts"]["status"] == "unavailable" and "no shared media" in points["linked_accounts"]["reason"]
    assert {row["ip"] for row in points["ip_logs"]["rows"]} == {"203.0.113.7", "2001:db8::5"}
    (tmp_path / "d.zip").write_bytes(got.content)

    # The download is audited, with the officer as the actor.
    from suraksha.audit.models import AuditEvent

    officer_id = legal.get_request(rid).officer_id
    with session_scope() as s:
        events = [(e.actor_type, e.actor, e.action) for e in s.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()]
    assert ("user", f"officer:{officer_id}", "legal.disclosure.downloaded") in events

    # Agency B's officer: 404 for the request and for the download, and the refusal is audited.
    other = officer_client(app_client, b, EMAIL_B)
    assert other.get(f"/portal/requests/{rid}").status_code == 404
    refused = other.get(f"/portal/disclosures/{did}")
    assert refused.status_code == 404 and refused.content[:2] != b"PK"
    assert other.get("/portal/disclosures/999999").status_code == 404
    with session_scope() as s:
        actions = s.scalars(select(AuditEvent.action)).all()
    assert "legal.disclosure.download_refused" in actions
    assert legal.get_request(rid).disclosures[0].downloads == 1


def test_staff_entry_from_email_with_a_failed_check_answered_and_overridden(app_client, seeded):
    """A takedown order that came by email from an Inspector: the rank check fails (Rule 3(1)(d)
    needs DIG or above); the legal user overrides it with a note and executes the order."""
    staff = app_client()
    assert sign_in(staff, seeded["staff"]["legal"]).status_code == 303
    csrf = csrf_of(staff)
    a = _register_agency(staff, csrf, "Test Cyber Crime Unit", "cybercrime.gov.in")
    post("lr-t-1", "acct-lr-9")

    bad = staff.post(
        "/legal/requests/new",
        data={
            "csrf_token": csrf,
            "type": "takedown_order",
            "channel": "email",
            "agency_id": str(a),
            "issuer_kind": "police",
            "officer_name": "Insp. Test",
        },
    )
    assert bad.status_code == 400 and "must name the accounts, URLs or items concerned" in bad.text
    bad = staff.post(
        "/legal/requests/new",
        data={
            "csrf_token": csrf,
            "type": "takedown_order",
            "channel": "email",
            "agency_id": str(a),
            "issuer_kind": "police",
            "officer_name": "Insp. Test",
            "items": "lr-t-1",
        },
        files={"document": ("order.pdf", b"not a pdf", "application/pdf")},
    )
    assert bad.status_code == 400 and "not a PDF" in bad.text and 'value="Insp. Test"' in bad.text
    assert legal.list_requests() == []

    r = staff.post(
        "/legal/requests/new",
        data={
            "csrf_token": csrf,
            "type": "takedown_order",
            "channel": "email",
            "agency_id": str(a),
            "issuer_kind": "police",
            "officer_name": "Insp. Test",
            "officer_rank": "Inspector",
            "officer_email": "insp.test@cybercrime.gov.in",
            "case_number": "FIR 9/2026",
            "legal_basis": "IT Rules 2021 Rule 3(1)(d)",
            "received_at": "2026-12-01T10:00",
            "items": "lr-t-1",
        },
        files={"document": ("order.pdf", make_pdf(), "application/pdf")},
    )
    assert r.status_code == 200 and "Entered as LR-2026-" in r.text
    assert "failed: rank Inspector is below the minimum" in r.text
    rid = legal.list_requests()[0].id
    view = legal.get_request(rid)
    assert view.channel == "email" and view.received_at.isoformat().startswith("2026-12-01T10:00:00+05:30")

    r = staff.post(f"/legal/requests/{rid}/execute", data={"csrf_token": csrf})
    assert r.status_code == 409 and "failed checks" in r.text
    r = staff.post(
        f"/legal/requests/{rid}/checks/rank",
        data={"csrf_token": csrf, "override": "on", "note": "authorised by DIG Cyber by letter 14/2026, confirmed by phone"},
    )
    assert r.status_code == 200 and "overridden" in r.text
    r = staff.post(
        f"/legal/requests/{rid}/reminders",
        data={"csrf_token": csrf, "channel": "email", "note": "Reminder by email: compliance awaited"},
    )
    assert r.status_code == 200 and "Reminder by email: compliance awaited" in r.text
    r = staff.post(f"/legal/requests/{rid}/execute", data={"csrf_token": csrf})
    # Requesting the removal is not doing it: the order stays open until the target is done.
    assert r.status_code == 200 and "Actions requested: the order is answered when the platform confirms" in r.text
    view = legal.get_request(rid)
    assert view.status != "answered" and view.targets[0].action_kind == "remove_item"
    # The legal team records the removal the platform carried out outside Suraksha, with evidence.
    r = staff.post(
        f"/legal/requests/{rid}/targets/{view.targets[0].id}/done",
        data={
            "csrf_token": csrf,
            "what": "post removed by the platform's moderators",
            "when": (dt.datetime.now(ZoneInfo("Asia/Kolkata")) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "evidence": "ticket 4411",
        },
    )
    assert r.status_code == 200, r.text
    view = legal.get_request(rid)
    assert view.status == "answered" and view.targets[0].done_at is not None

    # Filters on the list.
    assert "LR-2026-" in staff.get("/legal/requests?status=answered").text
    assert "no request matches" in staff.get("/legal/requests?status=received").text


def test_bad_input_on_every_form_gets_a_4xx_with_a_reason_and_stores_nothing(app_client, seeded):
    from tests.legal.portal_client import register

    staff = app_client()
    assert sign_in(staff, seeded["staff"]["legal"]).status_code == 303
    csrf = csrf_of(staff)
    a = _register_agency(staff, csrf, "Test Cyber Crime Unit", "cybercrime.gov.in")
    officer = officer_client(app_client, a, EMAIL_A)
    huge = "9" * 25
    base = {
        "type": "data_request",
        "accounts": "acct-x",
        "data_points": ["ip_logs"],
        "issuer_kind": "police",
        "officer_name": "Insp. Test",
        "channel": "email",
    }
    staff_cases = [
        {**base, "type": "no_such_type"},
        {**base, "issuer_kind": "pirate"},
        {**base, "channel": "portal"},
        {**base, "received_at": "2026-13-01T10:00"},
        {**base, "order_deadline": "tomorrow"},
        {**base, "data_points": ["passwords"]},
        {**base, "agency_id": huge},
        {**base, "period_from": "2026-12-01", "period_to": "2026-11-01"},
        {**base, "urls": "x" * 2001},
        {**base, "received_at": "2030-01-01T00:00"},
    ]
    for data in staff_cases:
        r = staff.post("/legal/requests/new", data={**data, "csrf_token": csrf})
        assert r.status_code == 400 and 'class="error"' in r.text, (
            {k: data[k] for k in data if data[k] != base.get(k)},
            r.status_code,
        )
    portal_cases = [
        {k: v for k, v in d.items() if k not in ("issuer_kind", "officer_name", "channel", "agency_id")}
        for d in staff_cases
        if d.get("channel") != "portal" and "agency_id" not in d and "received_at" not in d and d.get("issuer_kind") != "pirate"
    ]
    token = portal_csrf(officer)
    for data in portal_cases:
        r = officer.post("/portal/requests/new", data={**data, "csrf_token": token})
        assert r.status_code == 400 and 'class="error"' in r.text, (
            {k: data[k] for k in data if data[k] != base.get(k)},
            r.status_code,
        )
    assert legal.list_requests() == []
    for url in (f"/legal/requests?agency={huge}", f"/legal/requests/{huge}"):
        assert staff.get(url).status_code < 500
    for op, data in (
        ("agencies", {"name": "", "kind": "police"}),
        ("agencies", {"name": "X", "kind": "army"}),
        ("agencies", {"name": "X", "kind": "police", "jurisdiction": "zz"}),
    ):
        assert staff.post(f"/legal/{op}", data={**data, "csrf_token": csrf}).status_code == 400
    # The agency comes from the email's domain; a stray (huge) agency id in the form is never used.
    assert register(app_client(), int(huge[:18]), "someone@cybercrime.gov.in").status_code < 500
    assert [x.name for x in legal.list_agencies()] == ["Test Cyber Crime Unit"]
