"""Playwright in the system Chromium: an officer registers on the portal, opens the (demo-mode)
confirmation link, sets a password, enrols an authenticator, signs in with a TOTP code and files
a data request with a PDF; the nodal officer sees it on the /legal dashboard, gathers, marks one
point unavailable, approves and delivers; the officer downloads the package and it verifies. Screenshots go to
docs/screenshots/portal-*.png and legal-*.png when SURAKSHA_SCREENSHOTS=1 (else a temporary folder)."""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import pyotp
import pytest
from tests.legal.conftest import make_pdf
from tests.web.test_browser import CHROMIUM, browser, serve_in_thread, shots  # noqa: F401  (fixtures)

STAFF_PASSWORD = "correct horse battery staple"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"system Chromium not found at {CHROMIUM} (apt-get install chromium)"
    ),
]


@pytest.fixture
def nodal(db_url):
    from suraksha import legal
    from suraksha.auth.service import create_user

    secret = pyotp.random_base32()
    create_user(
        "t-nodal", "legal", display_name="Nodal Officer", password=STAFF_PASSWORD, totp_secret=secret, must_change_password=False
    )
    agency = legal.register_agency("Test Cyber Crime Unit", "police", "in", ["cybercrime.gov.in"], "user:t-nodal")
    return pyotp.TOTP(secret), agency


@pytest.fixture
def server(nodal):
    from tests.web.conftest import FakeMatcher

    from suraksha.api import create_app

    yield from serve_in_thread(create_app(matcher_loader=FakeMatcher))


def test_officer_registers_enrols_signs_in_and_files_a_request(server, browser, nodal, shots):
    from suraksha import legal

    staff_totp, agency = nodal
    page = browser.new_page(viewport={"width": 1180, "height": 900})
    email = "si.test@cybercrime.gov.in"  # a fictional officer

    page.goto(f"{server}/portal/register")
    page.fill('input[name="email"]', "si.test@gmail.com")
    page.fill('input[name="name"]', "S. I. Test")
    page.select_option('select[name="rank"]', "deputy_inspector_general")
    page.set_input_files(
        'input[name="authority"]',
        files=[{"name": "authority.pdf", "mimeType": "application/pdf", "buffer": make_pdf("Authorisation of the DIG")}],
    )
    page.click('button[type="submit"]')
    assert "gmail.com is not an official email domain" in page.locator(".error").inner_text()
    page.fill('input[name="email"]', email)
    page.select_option('select[name="rank"]', "deputy_inspector_general")
    page.set_input_files(
        'input[name="authority"]',
        files=[{"name": "authority.pdf", "mimeType": "application/pdf", "buffer": make_pdf("Authorisation of the DIG")}],
    )
    page.screenshot(path=str(shots / "portal-register.png"), full_page=True)
    page.click('button[type="submit"]')
    page.click("#demo-link")  # demo mode: the link that was "mailed"

    page.wait_for_url("**/portal/confirm?token=*")
    page.fill('input[name="password"]', "a long portal passphrase")
    page.fill('input[name="confirm"]', "a long portal passphrase")
    page.click('button[type="submit"]')
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().strip())
    page.screenshot(path=str(shots / "portal-enrol.png"), full_page=True)
    page.fill('input[name="code"]', totp.at(time.time() - 30))
    page.click('button[type="submit"]')

    page.wait_for_url("**/portal/login*")
    assert "Your account is ready" in page.locator(".flash").inner_text()
    # The platform's legal team approves the officer (rank and authorising document) before filing.
    [officer] = [o for o in legal.officers.list_officers(agency.id) if o.email == email]
    legal.officers.approve_officer(officer.id, "user:t-nodal", "legal")
    page.fill('input[name="email"]', email)
    page.fill('input[name="password"]', "a long portal passphrase")
    page.fill('input[name="code"]', totp.now())
    page.click('button[type="submit"]')
    page.wait_for_url(f"{server}/portal/requests")

    from tests.legal.helpers import post

    post("p-demo-1", "acct-demo-1", links=["https://example.org/shared-link"])  # what the platform holds
    page.click('a[href="/portal/requests/new"] >> nth=0')
    page.select_option('select[name="type"]', "data_request")
    page.fill('input[name="case_number"]', "FIR 123/2026")
    page.fill('input[name="legal_basis"]', "BNSS s.94; IT Rules 2021 Rule 3(1)(j)")
    page.set_input_files(
        'input[name="document"]', files=[{"name": "notice.pdf", "mimeType": "application/pdf", "buffer": make_pdf()}]
    )
    page.fill('textarea[name="accounts"]', "acct-demo-1\nacct-demo-2")
    page.fill('textarea[name="urls"]', "https://example.org/shared-link")
    for key in ("subscriber_data", "ip_logs", "content_urls", "server_details", "linked_accounts"):
        page.check(f'input[name="data_points"][value="{key}"]')
    page.fill('input[name="period_from"]', "2026-11-01")
    page.fill('input[name="period_to"]', "2026-11-30")
    page.fill('textarea[name="summary"]', "Accounts that shared the link; subscriber details and IP logs with ports.")
    page.screenshot(path=str(shots / "portal-file.png"), full_page=True)
    page.click('form.legal-form button[type="submit"]')

    page.wait_for_url(re.compile(r".*/portal/requests/\d+$"))
    flash = page.locator(".flash").inner_text()
    assert flash.startswith("Filed as LR-2026-")
    reference = flash.removeprefix("Filed as ").rstrip(".")
    facts = page.locator("dl.facts").inner_text()
    assert "left" in facts and "IST" in facts and "in progress" in facts
    page.screenshot(path=str(shots / "portal-request.png"), full_page=True)
    view = legal.get_request(reference)
    assert view.documents[0].filename == "notice.pdf" and len(view.targets) == 3

    # Two older requests entered by staff: one overdue, one at risk.
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    common = dict(
        jurisdiction="in",
        channel="email",
        agency_id=agency.id,
        issuer_kind="police",
        officer_name="DIG Test",
        officer_rank="deputy inspector general",
        case_number="FIR 45/2026",
    )
    late = legal.file_request(
        legal.RequestIn(type="data_request", data_points=["subscriber_data"], received_at=now - dt.timedelta(hours=80), **common),
        "user:t-nodal",
    )
    risky = legal.file_request(
        legal.RequestIn(
            type="takedown_order",
            targets=[{"kind": "url", "value": "https://example.org/p/9"}],
            legal_basis="IT Rules 2021 Rule 3(1)(d)",
            received_at=now - dt.timedelta(hours=2, minutes=10),
            **common,
        ),
        "user:t-nodal",
    )

    # The nodal officer lands on the legal dashboard: one overdue, one at risk, the new one due.
    staff = browser.new_page(viewport={"width": 1180, "height": 800})
    staff.goto(f"{server}/login")
    staff.fill('input[name="username"]', "t-nodal")
    staff.fill('input[name="password"]', STAFF_PASSWORD)
    staff.fill('input[name="code"]', staff_totp.now())
    staff.click('button[type="submit"]')
    staff.wait_for_url(f"{server}/legal")
    assert reference in staff.locator("#dash-due").inner_text()
    assert (
        late.reference in staff.locator("#dash-overdue").inner_text()
        and "overdue by" in staff.locator("#dash-overdue").inner_text()
    )
    assert risky.reference in staff.locator("#dash-at-risk").inner_text()
    staff.screenshot(path=str(shots / "legal-dashboard.png"), full_page=True)
    staff.click(f"text={reference}")
    staff.wait_for_url(f"**/legal/requests/{view.id}")
    assert staff.locator("table.checklist").is_visible()

    # Gather, mark what is not there with the reason, approve, build and deliver.
    staff.click("text=Gather (what Suraksha holds + ask the platform)")
    assert "Gathered: 4 of 5 data point(s) found." in staff.locator(".flash").inner_text()
    row = staff.locator("#dp-linked_accounts")
    row.locator('select[name="status"]').select_option("unavailable")
    row.locator('input[name="reason"]').fill("no linked accounts: no shared media, links or IP addresses")
    row.locator("button").click()
    assert "unavailable: no linked accounts" in staff.locator("#dp-linked_accounts").inner_text()
    staff.screenshot(path=str(shots / "legal-request.png"), full_page=True)
    staff.click("text=Approve the answer")
    staff.click("text=Build, sign and deliver the disclosure")
    assert "built, signed and delivered" in staff.locator(".flash").inner_text()

    # The officer sees the delivered answer and downloads it; it verifies.
    page.reload()
    assert "Answer delivered" in page.content()
    page.screenshot(path=str(shots / "portal-delivered.png"), full_page=True)
    with page.expect_download() as download:
        page.click("section.delivered a.button")
    data = Path(download.value.path()).read_bytes()
    assert legal.verify_package(data, legal.public_key_b64()).ok
