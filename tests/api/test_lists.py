"""Lists with one cursor style (issue 14.2): GET /v1/items, /v1/actions, /v1/reports, /v1/appeals
take ``limit`` and ``cursor`` and answer ``{<things>: [...], next_cursor}``, newest first; a page
after the first is not shifted by rows added meanwhile; a cursor belongs to its filters. One item
per platform and platform item id: a repeat answers with the stored item."""

from __future__ import annotations

import pytest
from tests.api.conftest import error_of


@pytest.fixture
def key_scopes() -> tuple[str, ...]:
    return ("scan", "items:read", "actions:read", "reports:read", "appeals")


def _submit(client, auth, platform_id: str, platform: str = "default", text: str = "hello") -> dict:
    r = client.post("/v1/items", json={"platform": platform, "platform_id": platform_id, "text": text}, headers=auth)
    assert r.status_code == 202, r.text
    return r.json()


def _all(client, auth, path: str, key: str, **params) -> list[dict]:
    out, cursor, pages = [], None, 0
    while True:
        r = client.get(path, params={**params, **({"cursor": cursor} if cursor else {})}, headers=auth)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {key, "next_cursor"}
        out += body[key]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            return out
        assert pages < 100


def test_items_list_pages_newest_first_and_filters(fake_client, auth):
    ids = [_submit(fake_client, auth, f"post-{n}")["id"] for n in range(5)]
    other = _submit(fake_client, auth, "post-0", platform="other-app")["id"]

    first = fake_client.get("/v1/items", params={"limit": 2, "platform": "default"}, headers=auth).json()
    assert [i["id"] for i in first["items"]] == ids[::-1][:2] and first["next_cursor"]
    late = _submit(fake_client, auth, "post-late")["id"]  # a new item does not shift the next page
    rest = fake_client.get("/v1/items", params={"limit": 2, "platform": "default", "cursor": first["next_cursor"]}, headers=auth)
    assert [i["id"] for i in rest.json()["items"]] == ids[::-1][2:4]

    everything = _all(fake_client, auth, "/v1/items", "items", limit=2, platform="default")
    assert [i["id"] for i in everything] == [late, *ids[::-1]]
    item = everything[-1]
    assert item["platform"] == "default" and item["platform_id"] == "post-0" and item["status"] in ("queued", "scanning", "done")
    assert item["received_at"].endswith("+00:00")

    by_id = fake_client.get("/v1/items", params={"platform_id": "post-0"}, headers=auth).json()["items"]
    assert sorted(i["id"] for i in by_id) == sorted([ids[0], other])

    # a cursor belongs to its filters; garbage is refused with the reason
    r = fake_client.get("/v1/items", params={"cursor": first["next_cursor"], "platform": "other-app"}, headers=auth)
    assert r.status_code == 400 and "other filters" in error_of(r)["message"]
    r = fake_client.get("/v1/items", params={"cursor": "not-a-cursor"}, headers=auth)
    assert r.status_code == 400 and "cursor" in error_of(r)["message"]
    assert fake_client.get("/v1/items", params={"status": "sleeping"}, headers=auth).status_code == 400
    assert fake_client.get("/v1/items", params={"since": "2026-01-01T00:00:00"}, headers=auth).status_code == 400
    assert fake_client.get("/v1/items", params={"limit": 0}, headers=auth).status_code == 422


def test_same_platform_item_twice_is_one_item(fake_client, auth):
    first = _submit(fake_client, auth, "dup-1", text="first")
    again = _submit(fake_client, auth, "dup-1", text="first")
    assert again["id"] == first["id"]
    listed = fake_client.get("/v1/items", params={"platform_id": "dup-1"}, headers=auth).json()["items"]
    assert [i["id"] for i in listed] == [first["id"]]
    elsewhere = _submit(fake_client, auth, "dup-1", platform="other-app")
    assert elsewhere["id"] != first["id"]


def test_actions_reports_appeals_lists_share_the_style(fake_client, auth):
    for path, key in (("/v1/actions", "actions"), ("/v1/reports", "reports"), ("/v1/appeals", "appeals")):
        r = fake_client.get(path, params={"limit": 5}, headers=auth)
        assert r.status_code == 200, r.text
        assert r.json() == {key: [], "next_cursor": None}
        assert fake_client.get(path, params={"cursor": "zz"}, headers=auth).status_code == 400
    assert fake_client.get("/v1/actions", params={"status": "sleeping"}, headers=auth).status_code == 400
    assert fake_client.get("/v1/reports", params={"destination": "moon"}, headers=auth).status_code == 400


def test_actions_list_pages(fake_client, auth):
    from suraksha.enforcement.actions import request_action

    items = [_submit(fake_client, auth, f"act-{n}")["id"] for n in range(3)]
    made = [request_action("remove_item", "tests", item_id=i, reason="test")[0] for i in items]
    got = _all(fake_client, auth, "/v1/actions", "actions", limit=2)
    assert [a["id"] for a in got] == sorted((m.id for m in made), reverse=True)
    only = fake_client.get("/v1/actions", params={"item_id": items[1]}, headers=auth).json()["actions"]
    assert [a["id"] for a in only] == [made[1].id]
    assert got[0]["kind"] == "remove_item" and got[0]["created_at"].endswith("+00:00")


def test_banks_list_pages_by_name(fake_client, auth):
    from suraksha.matching.banks import create_bank

    for name in ("b-3", "b-1", "b-2"):
        create_bank(name, "csam")
    r = fake_client.get("/v1/banks", params={"limit": 2}, headers=auth)
    assert r.status_code == 403  # the list needs banks:read, which these keys do not hold


@pytest.fixture
def bank_key():
    from suraksha.api.keys import create_key

    _info, secret = create_key("bank-lists", scopes=("banks:read",))
    return {"Authorization": f"Bearer {secret}"}


def test_banks_list_cursor(fake_client, bank_key):
    from suraksha.matching.banks import create_bank

    for name in ("b-3", "b-1", "b-2"):
        create_bank(name, "csam")
    got = _all(fake_client, bank_key, "/v1/banks", "banks", limit=2)
    assert [b["name"] for b in got] == ["b-1", "b-2", "b-3"]
    assert fake_client.get("/v1/banks", params={"cursor": "zz"}, headers=bank_key).status_code == 400
