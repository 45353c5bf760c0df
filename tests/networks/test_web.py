"""The account page's network group, and "Suspend whole group" (one action, permitted roles only)."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from tests.web.conftest import FakeMatcher, csrf_of


def _suspensions() -> dict[int, int]:
    from suraksha.db import session_scope
    from suraksha.enforcement.models import Action

    with session_scope() as s:
        return dict(
            s.execute(
                select(Action.account_id, func.count()).where(Action.kind == "suspend_account").group_by(Action.account_id)
            ).all()
        )


@pytest.mark.parametrize("role", ["reviewer", "analyst"])
def test_readers_see_the_group_without_the_suspend_button(web, role):
    signed_in, ring = web
    c = signed_in(role)
    page = c.get(f"/accounts/{ring['ring'][0]}")
    assert page.status_code == 200, page.text
    # One answer to "who is this account connected to": the Network section, no older list beside it.
    assert page.text.count('<h2 id="network">Network</h2>') == 1 and "Linked accounts" not in page.text
    section = page.text[page.text.index('id="network"') :]
    assert "23 accounts" in section and "linked by media (2), link (1)" in section
    members = set(int(x) for x in re.findall(r'<a href="/accounts/(\d+)">', section))
    assert members == set(ring["ring"])  # every member links to its page, the unrelated account is not there
    assert "https://files.example/share/ab12" in section
    assert section.count("<td>media, link</td>") == 23  # what links each member
    assert "Suspend whole group" not in page.text and "/network/suspend" not in page.text
    r = c.post(f"/accounts/{ring['ring'][0]}/network/suspend", data={"csrf_token": csrf_of(c), "reason": "x", "confirm": "yes"})
    assert r.status_code == 403
    assert _suspensions() == {}


def test_an_unlinked_account_shows_no_group(web):
    signed_in, ring = web
    page = signed_in("senior_reviewer").get(f"/accounts/{ring['unrelated']}")
    assert page.status_code == 200
    assert "is not linked to a group" in page.text and "Suspend whole group" not in page.text


@pytest.mark.parametrize("role", ["senior_reviewer", "legal"])
def test_suspend_whole_group_enqueues_one_suspension_per_member_once(web, role):
    from suraksha.dispatch import deliver

    signed_in, ring = web
    c = signed_in(role)
    url = f"/accounts/{ring['ring'][4]}"
    page = c.get(url)
    assert "Suspend whole group (23 accounts)" in page.text
    token = csrf_of(c)

    # Refused, nothing enqueued: no CSRF token, no reason, not confirmed.
    assert c.post(url + "/network/suspend", data={"reason": "ring", "confirm": "yes"}).status_code == 403
    r = c.post(url + "/network/suspend", data={"csrf_token": token, "reason": "  ", "confirm": "yes"})
    assert r.status_code == 400 and "reason is required" in r.text
    r = c.post(url + "/network/suspend", data={"csrf_token": token, "reason": "ring"})
    assert r.status_code == 400 and "confirm" in r.text
    assert _suspensions() == {}

    r = c.post(
        url + "/network/suspend",
        data={"csrf_token": token, "reason": "ring sharing known material", "confirm": "yes"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith(url + "?msg=")
    assert _suspensions() == {a: 1 for a in ring["ring"]}
    assert "Suspension requested for 23 account(s); 0 already on record." in c.get(r.headers["location"]).text

    # Pressed again, and the pipeline's own suspensions (the outbox) taken in: still one each.
    r = c.post(url + "/network/suspend", data={"csrf_token": token, "reason": "again", "confirm": "yes"})
    assert r.status_code == 200 and "Suspension requested for 0 account(s); 23 already on record." in r.text
    deliver("action")
    assert _suspensions() == {a: 1 for a in ring["ring"]}
    assert "yes (pending)" in c.get(url).text  # members show as suspended
    from suraksha.audit.models import AuditEvent
    from suraksha.db import session_scope

    with session_scope() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "action.suspend_network").order_by(AuditEvent.seq)).all()
        assert [e.actor for e in events] == [f"n-{role.replace('_', '-')}"] * 2
        assert sorted(events[0].details["enqueued"]) == sorted(ring["ring"]) and events[1].details["enqueued"] == []


def test_suspending_an_unknown_account_is_404(web):
    signed_in, _ = web
    c = signed_in("legal")
    r = c.post("/accounts/999999/network/suspend", data={"csrf_token": csrf_of(c), "reason": "x", "confirm": "yes"})
    assert r.status_code == 404 and "account 999999 not found" in r.text
    huge = "9" * 20  # beyond BIGINT: refused with a reason, not a database overflow
    r = c.post(f"/accounts/{huge}/network/suspend", data={"csrf_token": csrf_of(c), "reason": "x", "confirm": "yes"})
    assert r.status_code == 422
    assert c.get(f"/accounts/{huge}").status_code == 422


@pytest.mark.parametrize("role", ["auditor", "admin", None])
def test_other_roles_and_anonymous_cannot_suspend_or_see(web, role):
    from suraksha.api import create_app

    signed_in, ring = web
    url = f"/accounts/{ring['ring'][0]}"
    if role is None:
        with TestClient(create_app(matcher_loader=FakeMatcher), raise_server_exceptions=False) as c:
            assert c.post(url + "/network/suspend", data={"reason": "x", "confirm": "yes"}).status_code == 401
    else:
        c = signed_in(role)
        assert c.get(url).status_code == 403
        r = c.post(url + "/network/suspend", data={"csrf_token": csrf_of(c), "reason": "x", "confirm": "yes"})
        assert r.status_code == 403
    assert _suspensions() == {}
