"""Review pages show what the reviewer decides on and let people act: a text or link post shows its
text and links (defanged, never links), why it was flagged and the account; its decision form has
the text categories and no image class; a hash-matched picture preserved in the vault shows its
blurred preview (not "media not retained"); the item and account pages remove, suspend, restore and
report through the outbox with a reason; the second reviewer does not see the first decision;
/appeals lists appeals and is in the navigation. Screenshots of the text and hash review pages go
to docs/screenshots/ with SURAKSHA_SCREENSHOTS=1 (Chromium)."""

from __future__ import annotations

import base64
import os
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from .conftest import csrf_of, sign_in

KEY = base64.b64encode(bytes(range(32))).decode()
CHROMIUM = "/usr/bin/chromium"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def vault_key(monkeypatch):
    for name in ("SURAKSHA_EVIDENCE_KEY_FILE", "SURAKSHA_EVIDENCE_OLD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", KEY)


def _text_item() -> int:
    from suraksha.db import session_scope
    from suraksha.dispatch import deliver
    from suraksha.items.models import Account, Item
    from suraksha.outbox import enqueue

    with session_scope() as s:
        acc = Account(platform_account_id="acct-text", handle="night_owl")
        s.add(acc)
        s.flush()
        item = Item(
            platform_id="text-post-1",
            account_id=acc.id,
            kind="post",
            text="new pics here http://files.example.net/x and at abcdefghijklmnop.onion",
            links=["http://files.example.net/x"],
            context={"country": "IN", "ip": "198.51.100.9"},
            status="done",
            verdict="review",
            rule="csam-links",
            reasons=["csam-links: text onion"],
            actions=["review:links"],
            facts=[
                {
                    "kind": "link",
                    "rule": "csam-links",
                    "label": "csam_url",
                    "bank": "url-bank",
                    "signal_type": "domain",
                    "value": "files.example.net",
                    "distance": 0,
                }
            ],
            text_hits=[{"kind": "onion", "value": "abcdefghijklmnop.onion"}],
        )
        s.add(item)
        s.flush()
        enqueue(s, "review", {"queue": "links", "priority": 2}, f"{item.id}:review:links", item_id=item.id, account_id=acc.id)
        item_id = item.id
    deliver("review")
    return item_id


def _task_of(item_id: int) -> int:
    from suraksha.cases.models import ReviewTask
    from suraksha.db import session_scope

    with session_scope() as s:
        return s.scalar(select(ReviewTask.id).where(ReviewTask.item_id == item_id).order_by(ReviewTask.id.desc()).limit(1))


def test_text_item_page_shows_text_links_reasons_and_text_categories(app_client, seeded):
    item = _text_item()
    c = app_client()
    assert sign_in(c, seeded["staff"]["reviewer"]).status_code == 303
    page = c.get(f"/review/tasks/{_task_of(item)}").text
    assert "hxxp[://]files[.]example[.]net/x" in page and "abcdefghijklmnop[.]onion" in page
    assert 'href="http://files.example.net' not in page and "http://files.example.net" not in page
    assert "csam-links" in page and "url-bank" in page and "onion: abcdefghijklmnop.onion" in page
    assert "night_owl" in page and "198.51.100.9" in page and "1 item(s)" in page
    assert 'value="grooming"' in page and 'value="csam_link"' in page and 'value="sextortion"' in page
    assert 'value="csam:A1"' not in page
    # The item page shows the same, defanged.
    assert "hxxp[://]files[.]example[.]net/x" in c.get(f"/items/{item}").text


def test_decision_on_hash_item_acts_and_preserved_media_shows(vault_key, app_client, seeded):
    from suraksha.dispatch import deliver
    from suraksha.outbox.models import OutboxMessage

    item = seeded["items"][0]  # a picture matched in the demo csam bank (bytes held)
    c = app_client()
    assert sign_in(c, seeded["staff"]["reviewer"]).status_code == 303
    task = _task_of(item)
    page = c.get(f"/review/tasks/{task}").text
    assert 'value="csam:A1"' in page and 'value="grooming"' in page  # picture and text: both sets
    r = c.post(f"/review/tasks/{task}/decide", data={"csrf_token": csrf_of(c), "choice": "csam:A1"}, follow_redirects=False)
    assert r.status_code == 303 and "remove_item" in r.headers["location"]
    assert deliver("preserve").made >= 1  # the held bytes go to the vault
    page = c.get(f"/items/{item}").text
    assert page.count('class="preview"') == 2 and "media not retained" not in page
    from suraksha.db import session_scope

    with session_scope() as s:
        topics = set(s.scalars(select(OutboxMessage.topic).where(OutboxMessage.item_id == item)).all())
    assert {"action", "report", "preserve"} <= topics


def test_item_and_account_pages_act_through_the_outbox(app_client, seeded):
    from suraksha.db import session_scope
    from suraksha.outbox.models import OutboxMessage

    item = seeded["items"][2]
    c = app_client()
    assert sign_in(c, seeded["staff"]["legal"]).status_code == 303
    page = c.get(f"/items/{item}").text
    assert 'id="item-act"' in page
    no_reason = c.post(f"/items/{item}/act", data={"csrf_token": csrf_of(c), "action": "remove_item", "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    r = c.post(
        f"/items/{item}/act",
        data={"csrf_token": csrf_of(c), "action": "remove_item", "reason": "order 7"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert "Removal" in c.get(r.headers["location"]).text
    acct = seeded["accounts"]["riverbank"]
    r = c.post(
        f"/accounts/{acct}/act",
        data={"csrf_token": csrf_of(c), "action": "suspend_account", "reason": "network"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    with session_scope() as s:
        kinds = [p["action"]["kind"] for p in s.scalars(select(OutboxMessage.payload).where(OutboxMessage.topic == "action"))]
    assert sorted(kinds) == ["remove_item", "suspend_account"]
    analyst = app_client()
    assert sign_in(analyst, seeded["staff"]["analyst"]).status_code == 303
    assert 'id="item-act"' not in analyst.get(f"/items/{item}").text
    refused = analyst.post(f"/items/{item}/act", data={"csrf_token": csrf_of(analyst), "action": "remove_item", "reason": "x"})
    assert refused.status_code == 403


def test_second_reviewer_page_hides_the_first_decision_and_appeals_page(app_client, seeded, monkeypatch):
    from suraksha.cases import appeals
    from suraksha.cases import service as review
    from suraksha.cases.settings import reset_review_settings

    monkeypatch.setenv("SURAKSHA_REVIEW_SECOND_REVIEW", "csam")
    reset_review_settings()
    item = seeded["items"][1]
    task = _task_of(item)
    staff = seeded["staff"]
    first = review.Actor(staff["senior_reviewer"].user_id, staff["senior_reviewer"].username, "senior_reviewer")
    review.decide(task, first, "csam", "B2", "first call")
    c = app_client()
    assert sign_in(c, staff["reviewer"]).status_code == 303
    page = c.get(f"/review/tasks/{task}").text
    assert "first call" not in page and "B2" not in re.sub(r'value="csam:B2"|CSAM B2|<kbd>4</kbd>', "", page)
    assert "the first decision is hidden" in page
    r = c.post(f"/review/tasks/{task}/decide", data={"csrf_token": csrf_of(c), "choice": "csam:B2"}, follow_redirects=False)
    assert r.status_code == 303
    appeal, _ = appeals.submit("api:platform", "please look again", item_id=item)
    assert 'href="/appeals"' in c.get("/review").text
    listing = c.get("/appeals").text
    assert f"task #{appeal.task_id}" in listing and "open" in listing
    # Both earlier deciders are refused the appeal; the page says why.
    page = c.get(f"/review/tasks/{appeal.task_id}").text
    assert "please look again" in page and "did not decide the original" in page


@pytest.mark.browser
@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"system Chromium not found at {CHROMIUM}")
def test_screenshots_of_text_and_hash_review_pages(seeded, tmp_path):
    from playwright.sync_api import sync_playwright

    from suraksha.api import create_app

    from .conftest import PASSWORD, FakeMatcher
    from .test_browser import serve_in_thread

    item = _text_item()
    out = SCREENSHOTS if os.environ.get("SURAKSHA_SCREENSHOTS") == "1" else tmp_path
    out.mkdir(parents=True, exist_ok=True)
    server = serve_in_thread(create_app(matcher_loader=FakeMatcher))
    base = next(server)
    try:
        with sync_playwright() as p:
            b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
            page = b.new_page(viewport={"width": 1280, "height": 1100})
            who = seeded["staff"]["reviewer"]
            page.goto(f"{base}/login")
            page.fill('input[name="username"]', who.username)
            page.fill('input[name="password"]', PASSWORD)
            page.fill('input[name="code"]', who.code())
            page.click('button[type="submit"]')
            page.goto(f"{base}/review/tasks/{_task_of(item)}")
            assert page.locator("#item-text").inner_text().count("[.]") >= 2
            assert page.locator("#item-links a").count() == 0  # links are text, never anchors
            page.screenshot(path=str(out / "review-text-item.png"), full_page=True)
            page.goto(f"{base}/review/tasks/{_task_of(seeded['items'][0])}")
            page.wait_for_selector("img.preview")
            assert page.locator("img.preview").count() == 2
            page.screenshot(path=str(out / "review-hash-item.png"), full_page=True)
            b.close()
    finally:
        next(server, None)
