"""Playwright in the system Chromium: a reviewer signs in with TOTP, opens the queue, sees blurred
previews (blurred by the server, then by CSS), reveals one (its original fetched once through the
reveal's one-time link), decides CSAM A1 with a key and adds the hashes to a bank; an analyst sees
hashes and metadata but no media. Screenshots of the queue and the account page go to
docs/screenshots/ when SURAKSHA_SCREENSHOTS=1 (otherwise to a temporary folder)."""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM), reason=f"system Chromium not found at {CHROMIUM} (apt-get install chromium)"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(seeded):
    """The app served by uvicorn on a free port in a thread, against the seeded test database."""
    from suraksha.api import create_app

    from .conftest import FakeMatcher

    yield from serve_in_thread(create_app(matcher_loader=FakeMatcher))


def serve_in_thread(app):
    """Serve ``app`` with uvicorn on a free port in a daemon thread; yields its base URL (fixtures)."""
    import uvicorn

    port = _free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--headless",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    if os.environ.get("SURAKSHA_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


def _sign_in(page, base: str, who) -> None:
    from .conftest import PASSWORD

    page.goto(f"{base}/login")
    page.fill('input[name="username"]', who.username)
    page.fill('input[name="password"]', PASSWORD)
    page.fill('input[name="code"]', who.code())
    page.click('button[type="submit"]')


def test_reviewer_signs_in_reveals_one_and_decides_a1_into_a_bank(server, browser, seeded, shots):
    from suraksha.cases.service import get_decision
    from suraksha.matching.banks import get_bank

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    reviewer = seeded["staff"]["reviewer"]

    # A wrong code is refused with a clear message.
    page.goto(f"{server}/login")
    page.fill('input[name="username"]', reviewer.username)
    page.fill('input[name="password"]', "correct horse battery staple")
    page.fill('input[name="code"]', "000000" if reviewer.code() != "000000" else "111111")
    page.click('button[type="submit"]')
    assert "invalid username, password or authentication code" in page.locator(".error").inner_text()

    _sign_in(page, server, reviewer)
    page.wait_for_url(f"{server}/review")
    assert page.locator("table.queues").is_visible()
    page.screenshot(path=str(shots / "queues.png"), full_page=True)
    page.click('a[href="/review/queues/csam?stage=open"]')
    page.wait_for_url("**/review/queues/csam?stage=open")
    page.screenshot(path=str(shots / "queue.png"), full_page=True)
    page.click("#start")
    page.wait_for_url("**/review/tasks/*")
    item_id = seeded["items"][0]  # priority 10: first in the queue
    assert f"/items/{item_id}" in page.content()

    images = page.locator(".media img.preview")
    assert images.count() == 2
    for i in range(2):
        style = images.nth(i).evaluate("el => getComputedStyle(el).filter")
        assert "blur(24px)" in style and "grayscale(1)" in style, style
        box = images.nth(i).bounding_box()
        assert box["width"] <= 160 and box["height"] <= 160  # small thumbnails
        # The browser holds only the server's blurred preview: 160 px, never the 1600 px original.
        natural = images.nth(i).evaluate("el => [el.naturalWidth, el.naturalHeight]")
        assert max(natural) == 160, natural
    assert page.locator(".media .original").count() == 0
    page.screenshot(path=str(shots / "task-blurred.png"), full_page=True)

    # Reveal the first: its original is fetched once (one-time link) and shown unfiltered, the
    # other stays a blurred preview, the counter counts it.
    page.locator(".media").nth(0).locator("button.reveal").click()
    page.wait_for_selector(".media.revealed .original")
    original = page.locator(".media.revealed .original")
    assert original.evaluate("el => getComputedStyle(el).filter") == "none"
    assert original.evaluate("el => el.src").startswith("blob:")
    page.wait_for_function("() => document.querySelector('.media.revealed .original').naturalWidth > 0")
    assert original.evaluate("el => el.naturalWidth") == 1600  # the reference photo itself
    assert not images.nth(0).is_visible()
    assert "blur" in images.nth(1).evaluate("el => getComputedStyle(el).filter")
    assert page.locator("#exposure-count").inner_text() == "1"
    # Revealing the second blurs the first again: one at a time, its original dropped.
    page.locator(".media").nth(1).locator("button.reveal").click()
    page.wait_for_selector(".media-grid > .media:nth-child(2).revealed .original")
    assert page.locator(".media.revealed").count() == 1 and page.locator(".media .original").count() == 1
    assert images.nth(0).is_visible() and "blur" in images.nth(0).evaluate("el => getComputedStyle(el).filter")
    assert page.locator("#exposure-count").inner_text() == "2"

    page.select_option("#bank", "review-demo-csam")
    page.locator("h1").click()  # leave the select so the key goes to the page
    page.keyboard.press("1")
    page.wait_for_url("**/review/tasks/*")
    flash = page.locator(".flash").inner_text()
    assert "Decided: CSAM A1." in flash and "Added 6 hash(es) to review-demo-csam" in flash, flash

    decision = get_decision(item_id)
    assert decision is not None and decision.category == "csam" and decision.industry_class == "A1"
    assert decision.reviewer_ids == (reviewer.user_id,)
    assert get_bank("review-demo-csam").entries == 6


def test_analyst_sees_hashes_and_metadata_but_never_media(server, browser, seeded, shots):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    _sign_in(page, server, seeded["staff"]["analyst"])
    page.wait_for_url(f"{server}/cases")
    account = seeded["accounts"]["sunrise_42"]
    page.goto(f"{server}/accounts/{account}")
    assert page.locator("h1").inner_text().startswith("Account sunrise_42")
    members = page.locator("table.network-members").inner_text()  # the one "Network" section
    assert "moonlight_7" in members and "riverbank" in members
    assert "203.0.113.7" in page.locator("table.network-links").inner_text()
    page.screenshot(path=str(shots / "account.png"), full_page=True)

    item = seeded["items"][0]
    page.goto(f"{server}/items/{item}")
    assert page.locator("img, video").count() == 0
    assert page.locator("#no-media").is_visible()
    assert "sha256" in page.locator("table.signals").inner_text()
    assert page.request.get(f"{server}/media/{item}/0").status == 403
    assert page.request.get(f"{server}/review").status == 403
