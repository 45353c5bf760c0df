"""Groups for analysts: ``GET /v1/networks`` and the ``/networks`` page list every connected group,
largest first, a page at a time; bad parameters are refused with the reason; only account readers
see the page, and it shows no media."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import FakeMatcher

from .helpers import RING_LINK_CANONICAL, T0, account_id, submit

PAIRS = 3  # small groups beside the ring: two accounts each, joined by one banked link


def _pairs() -> list[set[int]]:
    """Three groups of two: each pair posted one link that is in a bank (banked links always link)."""
    from suraksha.matching import banks

    banks.create_bank("pair-links", label="csam_url")
    banks.add_signals("pair-links", [banks.SignalRow("url", f"https://pair{n}.example/x") for n in range(PAIRS)])
    for n in range(PAIRS):
        for side in "ab":
            submit(
                f"pair-{n}-{side}", f"pair-{n}-{side}", links=[f"https://pair{n}.example/x"], at=T0 - dt.timedelta(days=10 - n)
            )
    return [{account_id(f"pair-{n}-a"), account_id(f"pair-{n}-b")} for n in range(PAIRS)]


def _members(group: dict) -> set[int]:
    return {m["account_id"] for m in group["members"]}


# ------------------------------------------------------------------------------------------- API
def test_api_lists_the_ring_as_one_group_largest_first(api):
    client, ring = api
    r = client.get("/v1/networks")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["total"], body["offset"], body["min_size"]) == (1, 0, 2)
    [group] = body["groups"]
    assert group["size"] == group["accounts_total"] == 23 and group["truncated"] is False
    assert _members(group) == set(ring["ring"]) and ring["unrelated"] not in _members(group)
    assert not set(ring["readers"]) & _members(group)  # the popular news link links nobody
    assert set(group["linked_by"]) == {"media", "link"}
    assert RING_LINK_CANONICAL in {x["value"] for x in group["links"]}
    assert group["first_activity"].startswith("2026-11-20T12:00:00")


def test_api_pages_through_groups_in_a_stable_order(api):
    client, ring = api
    pairs = _pairs()
    first = client.get("/v1/networks", params={"limit": 2}).json()
    second = client.get("/v1/networks", params={"limit": 2, "offset": 2}).json()
    assert first["total"] == second["total"] == 1 + PAIRS
    listed = [_members(g) for g in first["groups"] + second["groups"]]
    assert listed == [set(ring["ring"]), *pairs]  # largest first, then the earliest active
    assert client.get("/v1/networks", params={"offset": 4}).json()["groups"] == []
    assert [g["size"] for g in client.get("/v1/networks", params={"min_size": 3}).json()["groups"]] == [23]
    big = client.get("/v1/networks", params={"max_accounts": 5, "limit": 1}).json()["groups"][0]
    assert (big["size"], big["accounts_total"], big["truncated"]) == (5, 23, True)


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"min_size": 1}, "min_size"),
        ({"min_size": "two"}, "min_size"),
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"offset": -1}, "offset"),
        ({"window_hours": 0}, "window_hours"),
        ({"max_accounts": 0}, "max_accounts"),
        ({"offset": "9" * 20}, "offset"),
    ],
)
def test_api_refuses_bad_parameters_with_the_reason(api, params, name):
    client, _ = api
    r = client.get("/v1/networks", params=params)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["code"] and name in error["message"]


def test_api_needs_a_key(api):
    client, _ = api
    del client.headers["Authorization"]
    r = client.get("/v1/networks")
    assert r.status_code == 401 and "groups" not in r.text


# ------------------------------------------------------------------------------------------- page
@pytest.mark.parametrize("role", ["reviewer", "senior_reviewer", "legal", "analyst"])
def test_page_lists_the_ring_with_members_linking_to_their_accounts(web, role):
    signed_in, ring = web
    c = signed_in(role)
    page = c.get("/networks")
    assert page.status_code == 200, page.text
    assert '<a href="/networks">Networks</a>' in page.text  # the nav link
    assert "1 group(s)" in page.text
    group = page.text[page.text.index('id="group-1"') :]
    assert "#1 · 23 accounts" in group and "linked by media (2), link (1)" in group
    assert set(int(x) for x in re.findall(r'<a href="/accounts/(\d+)">', group)) == set(ring["ring"])
    assert RING_LINK_CANONICAL in group and "entry:" in group
    # No media on this page for anyone: ids and hashes only.
    assert "<img" not in page.text and "<video" not in page.text and "/media/" not in page.text


def test_page_paginates_and_filters_by_size(web, monkeypatch):
    from suraksha.web import network_pages

    signed_in, ring = web
    pairs = _pairs()
    monkeypatch.setattr(network_pages, "PER_PAGE", 3)
    c = signed_in("analyst")
    one = c.get("/networks")
    assert "4 group(s) · page 1 of 2" in one.text and 'href="/networks?min_size=2&amp;page=2" rel="next"' in one.text
    assert "#1 · 23 accounts" in one.text and "#3 · 2 accounts" in one.text and "#4" not in one.text
    two = c.get("/networks?page=2")
    assert two.status_code == 200 and "#4 · 2 accounts" in two.text and 'rel="prev"' in two.text
    assert set(int(x) for x in re.findall(r'<a href="/accounts/(\d+)">', two.text.split('id="group-4"')[1])) == pairs[2]
    assert "No groups on this page" in c.get("/networks?page=9").text
    big_only = c.get("/networks?min_size=3")
    assert "1 group(s)" in big_only.text and "#2" not in big_only.text
    assert "No group of 24 or more" in c.get("/networks?min_size=24").text


@pytest.mark.parametrize("query", ["min_size=1", "min_size=abc", "page=0", "page=-2", "page=" + "9" * 20, "min_size=2.5"])
def test_page_refuses_bad_parameters_with_the_reason(web, query):
    signed_in, _ = web
    r = signed_in("analyst").get(f"/networks?{query}")
    assert r.status_code == 400
    name = query.split("=")[0]
    assert f"{name} must be a whole number" in r.text


def test_page_views_are_audited(web):
    from sqlalchemy import select

    from suraksha.audit.models import AuditEvent
    from suraksha.db import session_scope

    signed_in, ring = web
    assert signed_in("analyst").get("/networks").status_code == 200
    with session_scope() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "network.groups_view")).all()
        assert event.actor == "n-analyst" and sorted(event.details["accounts"]) == sorted(ring["ring"])


@pytest.mark.parametrize("role", ["auditor", "admin", None])
def test_other_roles_and_anonymous_do_not_see_the_page(web, role):
    from suraksha.api import create_app

    signed_in, ring = web
    if role is None:
        with TestClient(create_app(matcher_loader=FakeMatcher), raise_server_exceptions=False) as c:
            r = c.get("/networks", follow_redirects=False)
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
        return
    c = signed_in(role)
    r = c.get("/networks")
    assert r.status_code == 403 and "/accounts/" not in r.text and "group(s)" not in r.text
    assert '<a href="/networks">' not in c.get("/me/settings").text  # no nav link either
