"""The /transparency page in a real browser (system Chromium): an analyst picks a period and sees
the table, the charts and working download links."""

from __future__ import annotations

import pytest

from web.test_browser import CHROMIUM, _sign_in, browser, server, shots  # noqa: F401  (fixtures)

from .history import build_history

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not __import__("os").path.exists(CHROMIUM), reason=f"system Chromium not found at {CHROMIUM}"),
]


def test_analyst_reads_four_years_by_year_and_downloads_the_summary(server, browser, seeded, shots):
    build_history()
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    _sign_in(page, server, seeded["staff"]["analyst"])
    page.wait_for_url("**/cases")
    page.click('nav a[href="/transparency"]')
    page.wait_for_url("**/transparency")
    page.fill('input[name="from"]', "2022-01-01")
    page.fill('input[name="to"]', "2025-12-31")
    page.select_option('select[name="by"]', "year")
    page.click('#period-form button[type="submit"]')
    page.wait_for_url("**/transparency?*by=year*")
    rows = page.locator("#figures-table tbody tr")
    assert rows.count() == 5
    assert rows.nth(4).locator("td").nth(1).inner_text() == "6"
    assert "3 posts depicting child sexual abuse or rape were identified" in page.locator("#summary-answer").inner_text()
    widths = page.eval_on_selector_all("main img", "imgs => imgs.map(i => i.naturalWidth)")
    assert len(widths) == 2 and all(w > 100 for w in widths)
    page.screenshot(path=str(shots / "transparency.png"), full_page=True)
    with page.expect_download() as download:
        page.click("text=commission summary PDF")
    path = download.value.path()
    assert open(path, "rb").read(5) == b"%PDF-"
