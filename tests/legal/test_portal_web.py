"""The officers' portal over HTTP: registration on an official domain, confirmation, TOTP
enrolment, sign-in refusals and lock-out, CSRF, bad uploads, and the wall between agencies and
between officers and staff."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select
from tests.legal.conftest import make_pdf
from tests.legal.portal_client import (  # noqa: F401
    PASSWORD,
    confirm_and_enrol,
    hidden,
    make_client,
    officer_client,
    portal_csrf,
    portal_sign_in,
    register,
    wrong_code,
)

from suraksha.db import session_scope

EMAIL_A = "si.test@cybercrime.gov.in"  # fictional officers; agency B uses a reserved .example domain
EMAIL_B = "insp.test@police.example"


@pytest.fixture
def two_agencies(db_url):
    from suraksha import legal
    from suraksha.auth.service import create_user

    create_user("t-admin", "admin", password="correct horse battery staple", must_change_password=False)  # no demo bootstrap
    a = legal.register_agency("Test Cyber Crime Unit", "police", "in", ["cybercrime.gov.in"], "user:t-admin")
    b = legal.register_agency("Test District Police", "police", "in", ["police.example"], "user:t-admin")
    return a, b


def _counts() -> dict[str, int]:
    from suraksha.evidence import Evidence
    from suraksha.legal.models import LegalDocument, LegalRequest

    with session_scope() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in (LegalRequest, LegalDocument, Evidence)}


def _file_form(**kw) -> dict:
    data = {
        "type": "data_request",
        "case_number": "FIR 77/2026",
        "legal_basis": "BNSS s.94; IT Rules 2021 Rule 3(1)(j)",
        "accounts": "acct-portal-1\n",
        "urls": "https://example.org/post/1",
        "data_points": ["subscriber_data", "ip_logs"],
        "period_from": "2026-11-01",
        "period_to": "2026-11-30",
        "summary": "Subscriber and IP details, FIR 77/2026",
    }
    data.update(kw)
    return data


def test_register_confirm_enrol_and_sign_in(two_agencies, make_client):
    a, _ = two_agencies
    c = make_client()
    r = register(c, a.id, "someone@gmail.com")
    assert r.status_code == 400 and "gmail.com is not an official email domain of an agency registered here" in r.text
    r = register(c, a.id, EMAIL_A)
    assert r.status_code == 200 and "Check your mailbox" in r.text
    link = re.search(r'id="demo-link">([^<]+)<', r.text).group(1)  # demo mode shows the "sent" link
    assert "/portal/confirm?token=" in link

    # Before confirming, signing in fails like any wrong credentials.
    r = portal_sign_in(c, EMAIL_A, "123456")
    assert r.status_code == 401 and "invalid email, password or authentication code" in r.text

    totp = confirm_and_enrol(c, EMAIL_A)
    # The link is used up.
    assert c.get(link.replace("http://testserver", "")).status_code == 400

    r = portal_sign_in(c, EMAIL_A, wrong_code(totp))
    assert r.status_code == 401 and "invalid" in r.text
    r = portal_sign_in(c, EMAIL_A, totp.now())
    assert r.status_code == 303 and r.headers["location"] == "/portal/requests"
    cookie = next(x for x in c.cookies.jar if x.name == "suraksha_portal")
    assert cookie.path == "/portal" and "httponly" in {k.lower() for k in cookie._rest}
    page = c.get("/portal/requests")
    assert page.status_code == 200 and "Requests of Test Cyber Crime Unit" in page.text
    assert page.headers["cache-control"] == "no-store" and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Sign out ends the session.
    assert c.post("/portal/logout", data={"csrf_token": portal_csrf(c)}).status_code == 200
    assert c.get("/portal/requests", follow_redirects=False).headers["location"].startswith("/portal/login")


def test_confirmed_but_not_enrolled_cannot_sign_in_and_bad_enrolment_code_is_refused(two_agencies, make_client):
    from tests.legal.portal_client import confirmation_token

    a, _ = two_agencies
    c = make_client()
    register(c, a.id, EMAIL_A)
    token = confirmation_token(EMAIL_A)
    page = c.get(f"/portal/confirm?token={token}")
    r = c.post(
        "/portal/confirm",
        data={"csrf_token": hidden(page.text, "csrf_token"), "token": token, "password": PASSWORD, "confirm": "something else!"},
    )
    assert r.status_code == 400 and "differ" in r.text
    r = c.post(
        "/portal/confirm",
        data={"csrf_token": hidden(r.text, "csrf_token"), "token": token, "password": PASSWORD, "confirm": PASSWORD},
    )
    import pyotp

    totp = pyotp.TOTP(re.search(r'id="totp-secret">([A-Z2-7]+)<', r.text).group(1))
    bad = c.post("/portal/mfa", data={"csrf_token": hidden(r.text, "csrf_token"), "token": token, "code": wrong_code(totp)})
    assert bad.status_code == 400 and "code is not right" in bad.text
    r = portal_sign_in(c, EMAIL_A, totp.now())
    assert r.status_code == 401 and "authenticator is not set up" in r.text


def test_lock_out_after_repeated_bad_codes(two_agencies, make_client):
    a, _ = two_agencies
    c = make_client()
    register(c, a.id, EMAIL_A)
    totp = confirm_and_enrol(c, EMAIL_A)
    for _ in range(5):
        assert portal_sign_in(c, EMAIL_A, wrong_code(totp)).status_code == 401
    r = portal_sign_in(c, EMAIL_A, totp.now())
    assert r.status_code == 401 and "locked" in r.text
    assert "suraksha_portal" not in c.cookies


def test_csrf_is_enforced_and_a_refused_post_changes_nothing(two_agencies, make_client):
    a, _ = two_agencies
    c = officer_client(make_client, a.id, EMAIL_A)
    blank = c.get("/portal/requests/new")
    assert blank.status_code == 200 and all(
        re.search(rf'name="{f}"[^>]*></textarea>', blank.text) for f in ("accounts", "urls", "items", "summary")
    )
    files = {"document": ("order.pdf", make_pdf(), "application/pdf")}
    r = c.post("/portal/requests/new", data=_file_form(), files=files)
    assert r.status_code == 403 and "security token" in r.text
    r = c.post("/portal/requests/new", data={**_file_form(), "csrf_token": "forged"}, files=files)
    assert r.status_code == 403
    assert _counts() == {"LegalRequest": 0, "LegalDocument": 0, "Evidence": 1}  # only the officer's authorising letter
    # Anonymous forms need their own token too.
    assert make_client().post("/portal/login", data={"email": EMAIL_A, "password": PASSWORD, "code": "123456"}).status_code == 400


@pytest.mark.parametrize(
    "upload, message",
    [
        (("order.pdf", b"GIF89a" + b"\0" * 64, "application/pdf"), "not a PDF"),
        (("order.pdf", make_pdf()[:-200], "application/pdf"), "truncated"),
        (
            ("big.pdf", make_pdf(" ".join(str(i * 7919 % 10007) for i in range(3000))), "application/pdf"),
            "more than the 3000-byte limit",
        ),
    ],
)
def test_bad_upload_gets_a_clear_error_and_stores_nothing(two_agencies, make_client, monkeypatch, upload, message):
    from suraksha.legal.settings import reset_legal_settings

    monkeypatch.setenv("SURAKSHA_LEGAL_MAX_DOCUMENT_BYTES", "3000")
    reset_legal_settings()
    assert len(make_pdf()) < 3000 < len(upload[1]) or message != "more than the 3000-byte limit"
    a, _ = two_agencies
    c = officer_client(make_client, a.id, EMAIL_A)
    r = c.post("/portal/requests/new", data={**_file_form(), "csrf_token": portal_csrf(c)}, files={"document": upload})
    assert r.status_code == 400 and message in r.text
    assert 'value="FIR 77/2026"' in r.text and ">acct-portal-1</textarea>" in r.text  # the form keeps what was typed
    assert re.search(r'name="items"[^>]*></textarea>', r.text)  # and nothing that was not
    assert _counts() == {"LegalRequest": 0, "LegalDocument": 0, "Evidence": 1}  # only the officer's authorising letter


def test_filing_and_the_wall_between_agencies(two_agencies, make_client):
    from suraksha import legal

    a, b = two_agencies
    ca = officer_client(make_client, a.id, EMAIL_A)
    r = ca.post(
        "/portal/requests/new",
        data={**_file_form(order_deadline="2026-12-02T18:00"), "csrf_token": portal_csrf(ca)},
        files={"document": ("FIR-77 notice.pdf", make_pdf(), "application/pdf")},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    rid = int(re.search(r"/portal/requests/(\d+)", r.headers["location"]).group(1))
    view = legal.get_request(rid)
    assert view.channel == "portal" and view.agency_id == a.id and view.officer_email == EMAIL_A
    assert view.officer_rank == "deputy_inspector_general" and view.issuer_kind == "police"
    assert [t.value for t in view.targets] == ["acct-portal-1", "https://example.org/post/1"]
    assert [p.key for p in view.data_points] == ["subscriber_data", "ip_logs"]
    assert view.period_from.isoformat().startswith("2026-10-31T18:30") and view.documents[0].filename == "FIR-77 notice.pdf"
    page = ca.get(r.headers["location"])
    assert page.status_code == 200 and view.reference in page.text and f"Filed as {view.reference}." in page.text
    assert "Filed as" not in ca.get(r.headers["location"]).text  # shown once
    # Words in a crafted link are never shown as a message from the platform.
    assert "call this number" not in ca.get(f"/portal/requests/{rid}?msg=Account+suspended:+call+this+number").text
    assert "left" in page.text  # the clock is shown
    assert "1 Nov 2026, 00:00 IST – 30 Nov 2026, 23:59 IST" in page.text  # the period as the officer wrote it

    # A reminder is logged against the request.
    r = ca.post(
        f"/portal/requests/{rid}/reminder", data={"note": "Second reminder: reply awaited", "csrf_token": portal_csrf(ca)}
    )
    assert r.status_code == 200 and "Second reminder: reply awaited" in r.text
    assert [m.note for m in legal.get_request(rid).reminders] == ["Second reminder: reply awaited"]

    # Agency B's officer sees nothing of it: 404 everywhere, exactly like a missing request.
    cb = officer_client(make_client, b.id, EMAIL_B)
    assert view.reference not in cb.get("/portal/requests").text
    missing = cb.get("/portal/requests/999999")
    assert cb.get("/portal/requests/99999999999999999999").status_code == 422  # beyond any row id: 4xx, not a DB overflow
    theirs = cb.get(f"/portal/requests/{rid}")
    assert theirs.status_code == missing.status_code == 404 and view.reference not in theirs.text
    token = portal_csrf(cb)
    assert cb.post(f"/portal/requests/{rid}/reminder", data={"note": "probe", "csrf_token": token}).status_code == 404
    assert cb.post(f"/portal/requests/{rid}/checks/rank", data={"note": "probe", "csrf_token": token}).status_code == 404
    assert (
        cb.post(
            f"/portal/requests/{rid}/documents",
            data={"csrf_token": token},
            files={"document": ("x.pdf", make_pdf(), "application/pdf")},
        ).status_code
        == 404
    )
    assert len(legal.get_request(rid).reminders) == 1 and len(legal.get_request(rid).documents) == 1


def test_officer_answers_a_failed_check(two_agencies, make_client):
    """A takedown order from an Inspector fails the Rule 3(1)(d) rank check; the officer sees why
    and answers it; the answer is on the record for the legal team."""
    from suraksha import legal

    a, _ = two_agencies
    ca = officer_client(make_client, a.id, EMAIL_A, rank="Inspector")
    r = ca.post(
        "/portal/requests/new",
        data={**_file_form(type="takedown_order", data_points=[]), "csrf_token": portal_csrf(ca)},
        files={"document": ("order.pdf", make_pdf(), "application/pdf")},
    )
    assert r.status_code == 200
    assert "Checks to answer before work can start" in r.text and "below the minimum" in r.text
    rid = int(re.search(r"/portal/requests/(\d+)/checks/rank", r.text).group(1))
    r = ca.post(
        f"/portal/requests/{rid}/checks/rank",
        data={"note": "Issued on behalf of DIG Cyber, authorisation 12/2026", "csrf_token": portal_csrf(ca)},
    )
    assert r.status_code == 200 and "authorisation 12/2026" in r.text
    check = next(c for c in legal.get_request(rid).checks if c.key == "rank")
    assert check.answer_note.endswith("authorisation 12/2026") and not check.ok  # only the legal team can override


def test_officer_and_staff_sessions_are_separate_principals(two_agencies, make_client, db_url):
    import pyotp
    from tests.web.conftest import Staff, sign_in
    from tests.web.test_authorization_matrix import ANON, all_routes, concrete, denied, expected

    from suraksha.auth.service import create_user

    a, _ = two_agencies
    officer = officer_client(make_client, a.id, EMAIL_A)
    # Every staff-only route of the app refuses an officer session (it is anonymous there).
    ids = {
        "items": [1],
        "task_id": 1,
        "accounts": {"sunrise_42": 1},
        "case_id": 1,
        "staff": {"analyst": Staff("x", "analyst", "", 1)},
    }
    token = portal_csrf(officer)
    staff_only = [(m, p) for m, p in all_routes(officer.app) if ANON not in expected(m, p) and not p.startswith("/portal")]
    assert ("GET", "/legal") in staff_only and len(staff_only) > 30
    for method, path in staff_only:
        url = concrete(path, ids, None)
        r = officer.request(
            method,
            url,
            data={"csrf_token": token} if method == "POST" else None,
            headers={"X-CSRF-Token": token},
            follow_redirects=False,
        )
        assert denied(r.status_code, r.headers.get("location"), ANON), (method, url, r.status_code)
    assert officer.get("/portal/requests").status_code == 200  # and the officer is still signed in

    creds = create_user(
        "t-legal", "legal", password="correct horse battery staple", totp_secret=pyotp.random_base32(), must_change_password=False
    )
    staff = make_client()
    assert sign_in(staff, Staff("t-legal", "legal", creds.totp_secret, 0)).status_code == 303
    assert staff.get("/legal").status_code == 200
    for path in ("/portal/requests", "/portal/requests/new", "/portal/requests/1"):
        r = staff.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/portal/login"), path
    assert staff.get("/portal/disclosures/1", follow_redirects=False).headers["location"].startswith("/portal/login")


def test_staff_manage_officers_unlock_deactivate_reset(two_agencies, make_client):
    import pyotp
    from tests.web.conftest import Staff, csrf_of, sign_in

    from suraksha import legal
    from suraksha.auth.service import create_user
    from suraksha.legal import officers

    a, _ = two_agencies
    officer = officer_client(make_client, a.id, EMAIL_A)
    creds = create_user(
        "t-legal", "legal", password="correct horse battery staple", totp_secret=pyotp.random_base32(), must_change_password=False
    )
    staff = make_client()
    assert sign_in(staff, Staff("t-legal", "legal", creds.totp_secret, 0)).status_code == 303
    page = staff.get("/legal/agencies")
    assert page.status_code == 200 and EMAIL_A in page.text and "Test District Police" in page.text
    oid = officers.list_officers()[0].id
    csrf = csrf_of(staff)
    r = staff.post(f"/legal/officers/{oid}/deactivate", data={"csrf_token": csrf})
    assert r.status_code == 200 and "Officer deactivated." in r.text and "deactivated" in r.text
    assert officer.get("/portal/requests", follow_redirects=False).status_code == 303  # their session ended
    staff.post(f"/legal/officers/{oid}/activate", data={"csrf_token": csrf})
    r = staff.post(f"/legal/officers/{oid}/reset", data={"csrf_token": csrf})
    assert r.status_code == 200 and "new confirmation link" in r.text and "authenticator not set up" in r.text
    assert portal_sign_in(officer, EMAIL_A, officer.totp.now()).status_code == 401
    assert staff.post(f"/legal/officers/{oid}/promote", data={"csrf_token": csrf}).status_code == 404
    assert staff.post("/legal/officers/999999/unlock", data={"csrf_token": csrf}).status_code == 404
    # An agency with a bad domain is refused with the reason, nothing registered.
    r = staff.post("/legal/agencies", data={"csrf_token": csrf, "name": "Bad", "kind": "police", "email_domains": "not a domain"})
    assert r.status_code == 400 and "is not an email domain" in r.text
    assert [x.name for x in legal.list_agencies()] == ["Test Cyber Crime Unit", "Test District Police"]


def test_production_never_shows_the_confirmation_link(two_agencies, monkeypatch):
    import base64
    import os

    from fastapi.testclient import TestClient
    from tests.web.conftest import FakeMatcher

    from suraksha.api import create_app
    from suraksha.config import reset_settings
    from suraksha.legal import officers

    monkeypatch.setenv("SURAKSHA_MODE", "production")
    # Production keeps the officer's authorising letter in the vault, which needs its master key.
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", base64.b64encode(os.urandom(32)).decode())
    reset_settings()
    a, _ = two_agencies
    with TestClient(create_app(matcher_loader=FakeMatcher), base_url="https://testserver") as c:
        r = register(c, a.id, EMAIL_A)
        assert r.status_code == 200 and "Check your mailbox" in r.text
        assert "demo-link" not in r.text and "/portal/confirm?token=" not in r.text
        form_cookie = next(x for x in c.cookies.jar if x.name == "suraksha_portal_form")
        assert form_cookie.secure  # cookies are Secure in production
    link = officers.outbox(EMAIL_A)[-1].link
    assert link.startswith("https://testserver/portal/confirm?token=")  # waiting for the mail relay
    reset_settings()
