"""GET /v1/accounts/{id}/network: the shape, both id forms, 404 and bad parameters."""

from __future__ import annotations

from .helpers import RING_LINK_CANONICAL


def test_network_shape_by_our_id_and_by_the_platform_id(api):
    client, ring = api
    r = client.get(f"/v1/accounts/{ring['ring'][0]}/network")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["size"] == 23 and body["truncated"] is False and body["window_hours"] == 24
    assert {m["account_id"] for m in body["members"]} == set(ring["ring"])
    assert ring["unrelated"] not in {m["account_id"] for m in body["members"]}
    link = next(x for x in body["links"] if x["kind"] == "link")
    assert link["value"] == RING_LINK_CANONICAL and link["account_count"] == 23 and len(link["examples"]) == 5
    assert set(body["linked_by"]) == {"media", "link"}
    by_platform = client.get("/v1/accounts/ring-07/network").json()
    assert by_platform["account_id"] == ring["ring"][7] and by_platform["size"] == 23
    small = client.get(f"/v1/accounts/{ring['ring'][0]}/network", params={"max_accounts": 3, "window_hours": 2}).json()
    assert small["size"] == 3 and small["truncated"] is True and small["window_hours"] == 2


def test_unknown_account_is_404_with_a_reason(api):
    client, _ = api
    r = client.get("/v1/accounts/no-such-account/network")
    assert r.status_code == 404
    assert r.json()["error"] == {"code": "not_found", "message": "account no-such-account not found"}
    assert client.get("/v1/accounts/987654/network").status_code == 404
    assert client.get("/v1/accounts/" + "9" * 20 + "/network").status_code == 404  # not a database overflow


def test_bad_parameters_and_no_key_are_refused(api):
    client, ring = api
    r = client.get(f"/v1/accounts/{ring['ring'][0]}/network", params={"window_hours": 0})
    assert r.status_code in (400, 422) and "window_hours" in r.json()["error"]["message"]
    del client.headers["Authorization"]
    assert client.get(f"/v1/accounts/{ring['ring'][0]}/network").status_code == 401
