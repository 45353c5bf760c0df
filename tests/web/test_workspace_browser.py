"""Playwright in the system Chromium: each workspace page driven as its role, from the navigation.

A senior reviewer creates a bank, adds a hash, finds it and removes it with a reason; the legal
team retries a dead letter, downloads an India package, records it as sent and records the FIR
number; an analyst searches a PDQ hash and finds the bank entry with its distance; an auditor
filters the audit log and downloads it as CSV. Screenshots of each page go to docs/screenshots/
when SURAKSHA_SCREENSHOTS=1 (otherwise to a temporary folder).
"""

from __future__ import annotations

import pytest

from .test_browser import _sign_in, browser, serve_in_thread, shots  # noqa: F401 - fixtures
from .test_workspace_delivery import make_actions, make_india_report

pytestmark = [pytest.mark.browser]


@pytest.fixture
def live(seeded):
    """The app with a real match index (search shows distances), served on a free port."""
    from suraksha.api import create_app
    from suraksha.matching.matcher import Matcher

    yield from serve_in_thread(create_app(matcher_loader=lambda: Matcher.open()))


def _page(browser, base, who):  # noqa: F811 - browser is the fixture's value
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, base, who)
    page.wait_for_load_state()
    return page


def test_senior_reviewer_curates_a_bank_in_the_browser(live, browser, seeded, shots):  # noqa: F811
    from suraksha.matching.banks import get_bank

    page = _page(browser, live, seeded["staff"]["senior_reviewer"])
    page.click("header nav >> text=Banks")
    page.wait_for_url(f"{live}/banks")
    page.fill('#create-bank input[name="name"]', "browser-bank")
    page.fill('#create-bank input[name="label"]', "csam")
    page.fill('#create-bank input[name="pdq_threshold"]', "24")
    page.click("#create-bank button[type=submit]")
    page.wait_for_url(f"{live}/banks/browser-bank?msg=*")
    assert "Bank browser-bank created." in page.locator(".flash").inner_text()

    page.select_option('#add-hash select[name="signal_type"]', "md5")
    page.fill('#add-hash input[name="signal"]', "D41D8CD98F00B204E9800998ECF8427E")
    page.fill('#add-hash input[name="note"]', "known file")
    page.click("#add-hash button[type=submit]")
    page.wait_for_selector(".flash")
    assert "Added 1 entry" in page.locator(".flash").inner_text()
    page.fill('#entry-search input[name="q"]', "d41d8")
    page.click("#entry-search button[type=submit]")
    assert "1–1 of 1 entries" in page.locator(".totals").first.inner_text()
    page.screenshot(path=str(shots / "bank.png"), full_page=True)

    page.fill("form.remove input[name=reason]", "false positive: empty file")
    page.click("form.remove button[type=submit]")
    page.wait_for_selector(".flash")
    assert "Removed entry" in page.locator(".flash").inner_text()
    assert get_bank("browser-bank").entries == 0 and get_bank("browser-bank").pdq_threshold == 24
    page.goto(f"{live}/banks")
    assert page.locator("table.banks").inner_text().count("browser-bank") == 1
    page.screenshot(path=str(shots / "banks.png"), full_page=True)


def test_legal_retries_a_dead_letter_and_records_an_india_package(live, browser, seeded, shots):  # noqa: F811
    from suraksha.reporting.service import get_report

    dead = make_actions(seeded, 12)
    report_id = make_india_report(seeded)
    page = _page(browser, live, seeded["staff"]["legal"])

    page.click("header nav >> text=Actions")
    page.wait_for_url(f"{live}/actions")
    page.check('#action-filters input[name="dead"]')
    page.click("#action-filters button[type=submit]")
    assert "1–1 of 1 actions" in page.locator(".totals").first.inner_text()
    page.goto(f"{live}/actions")
    page.screenshot(path=str(shots / "actions.png"), full_page=True)
    page.goto(f"{live}/actions/{dead}")
    assert page.locator("table.deliveries tbody tr").count() == 3
    page.screenshot(path=str(shots / "action.png"), full_page=True)
    page.click("#retry button")
    page.wait_for_selector(".flash")
    assert page.locator("#action-status").inner_text() == "pending"

    page.click("header nav >> text=Reports")
    page.wait_for_url(f"{live}/reports")
    page.select_option('#report-filters select[name="authority"]', "in_police")
    page.click("#report-filters button[type=submit]")
    page.click(f'a[href="/reports/{report_id}"]')
    with page.expect_download() as dl:
        page.click("#package-pdf")
    assert dl.value.suggested_filename == f"report-{report_id}.pdf"
    page.select_option('#record-sent select[name="method"]', "portal")
    page.fill('#record-sent input[name="reference"]', "NCRP-2026-55")
    page.fill('#record-sent input[name="police_unit"]', "SJPU Mumbai")
    page.click("#record-sent button[type=submit]")
    page.wait_for_selector("#record-ack")
    assert page.locator("#report-state").inner_text() == "submitted"
    page.fill('#record-ack input[name="reference"]', "ACK-77")
    page.fill('#record-ack input[name="fir_number"]', "FIR 0412/2026")
    page.click("#record-ack button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.locator("#fir").inner_text() == "FIR 0412/2026"
    assert "IST" in page.locator("#ack").inner_text()
    page.screenshot(path=str(shots / "report.png"), full_page=True)
    assert get_report(report_id).state == "finished"
    page.goto(f"{live}/reports")
    page.screenshot(path=str(shots / "reports.png"), full_page=True)


def test_analyst_searches_a_hash_and_opens_the_bank_entry(live, browser, seeded, shots):  # noqa: F811
    from suraksha.db import session_scope
    from suraksha.items.models import ItemMedia
    from suraksha.matching.banks import SignalRow, add_signals

    with session_scope() as s:
        pdq = s.query(ItemMedia.pdq).filter(ItemMedia.item_id == seeded["items"][0], ItemMedia.position == 0).scalar()
    entry = add_signals("review-demo-csam", [SignalRow("pdq", pdq)]).entry_ids[0]
    near = f"{int(pdq[-1], 16) ^ 1:x}"
    page = _page(browser, live, seeded["staff"]["analyst"])
    page.click("header nav >> text=Search")
    page.wait_for_url(f"{live}/search")
    page.fill('#search-form input[name="q"]', pdq[:-1] + near)
    page.click("#search-form button[type=submit]")
    page.wait_for_selector("table.results-entries", timeout=5000)
    assert page.locator("table.results-entries td.distance").first.inner_text().startswith("1")
    page.screenshot(path=str(shots / "search.png"), full_page=True)
    page.click(f'a[href="/banks/review-demo-csam?q={entry}"]')
    assert page.locator(f"#entry-{entry}").is_visible()

    page.goto(f"{live}/search")
    page.fill('#search-form input[name="q"]', "@sunrise_42")
    page.click("#search-form button[type=submit]")
    page.click("table.results-accounts a")
    assert page.locator("h1").inner_text().startswith("Account sunrise_42")


def test_auditor_filters_and_exports_the_audit_log(live, browser, seeded, shots):  # noqa: F811
    page = _page(browser, live, seeded["staff"]["auditor"])
    page.click("header nav >> text=Audit log")
    page.wait_for_url(f"{live}/audit")
    page.fill('#audit-filters input[name="kind"]', "user.")
    page.click("#audit-filters button[type=submit]")
    text = page.locator("table.audit").inner_text()
    assert "user.create" in text and "IST" in text
    assert "6 events" in page.locator(".totals").first.inner_text()
    with page.expect_download() as dl:
        page.click("#export-csv")
    lines = open(dl.value.path(), encoding="utf-8").read().splitlines()
    assert lines[0].startswith("seq,at,actor,action") and len(lines) == 7
    page.goto(f"{live}/audit")
    assert "audit.export" in page.locator("table.audit").inner_text()
    assert "127.0.0.1" in page.locator("table.audit").inner_text()  # the exporter's address
    page.screenshot(path=str(shots / "audit.png"), full_page=True)
