"""HMA 2.0-compatible routes: the request and response shapes of OpenMediaMatch's blueprints."""

from __future__ import annotations

import re

import pytest
from tests.api.conftest import FakeMatcher, needs_signals, settle

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def test_hma_routes_need_a_key_by_default(fake_client, auth):
    r = fake_client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "0" * 64})
    assert r.status_code == 401
    assert r.json()["message"] and r.json()["error"]["code"] == "missing_api_key"
    r = fake_client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "0" * 64}, headers=auth)
    assert r.status_code == 200 and r.json() == {"matches": []}


def test_hma_key_can_be_turned_off(make_client, monkeypatch):
    monkeypatch.setenv("SURAKSHA_HMA_REQUIRE_KEY", "false")
    client = make_client(matcher_loader=FakeMatcher)
    from tests.api.conftest import wait_ready

    wait_ready(client)
    r = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "0" * 64})
    assert r.status_code == 200 and r.json() == {"matches": []}
    # /v1 still needs one.
    assert client.get("/v1/accounts/a").status_code == 401


def test_hma_parameter_errors_use_hma_message(fake_client, auth):
    r = fake_client.get("/m/raw_lookup", params={"signal_type": "pdq"}, headers=auth)
    assert r.status_code == 400 and r.json()["message"] == "signal is required"
    r = fake_client.get("/m/raw_lookup", params={"signal": "x", "signal_type": "shoe"}, headers=auth)
    assert r.status_code == 400 and r.json()["message"] == "No such SignalType 'shoe'"
    r = fake_client.get(
        "/m/raw_lookup", params={"signal": "0" * 64, "signal_type": "pdq", "include_distance": "maybe"}, headers=auth
    )
    assert r.status_code == 400 and "boolean" in r.json()["message"]
    r = fake_client.get("/m/lookup", headers=auth)
    assert r.status_code == 400 and r.json()["message"] == "Either url or both signal and signal_type are required"
    r = fake_client.get("/h/hash", headers=auth)
    assert r.status_code == 400 and r.json()["message"] == "url is required"
    r = fake_client.post("/h/hash", headers=auth)
    assert r.status_code == 400 and r.json()["message"] == "Missing multipart/form-data file upload"
    r = fake_client.post("/h/hash", files={"document": ("a.bin", b"abc", "application/octet-stream")}, headers=auth)
    assert r.status_code == 400 and r.json()["message"] == "no such content_type: 'document'"
    r = fake_client.post(
        "/h/hash", files=[("photo", ("a.jpg", b"a", "image/jpeg")), ("photo", ("b.jpg", b"b", "image/jpeg"))], headers=auth
    )
    assert r.status_code == 400 and r.json()["message"] == "Only one file allowed per request"


def test_hash_by_url_refuses_loopback(fake_client, auth):
    r = fake_client.get("/h/hash", params={"url": "http://127.0.0.1:9/secret.jpg"}, headers=auth)
    assert r.status_code == 400
    assert "127.0.0.1" in r.json()["message"] and r.json()["error"]["code"] == "fetch_failed"
    r = fake_client.get("/m/lookup", params={"url": "http://10.0.0.1/x.jpg"}, headers=auth)
    assert r.status_code == 400


@pytest.fixture
def hma(client, auth, bridge):
    """A bank named like HMA's (upper case) holding the reference photo, added through /c."""
    needs_signals()
    original, _ = bridge
    assert client.post("/v1/banks", json={"name": "TEST_BANK", "label": "csam"}, headers=auth).status_code == 201
    r = client.post("/c/bank/TEST_BANK/content", files={"photo": ("aaa-orig.jpg", original, "image/jpeg")}, headers=auth)
    assert r.status_code == 200, r.text
    settle()
    return r.json()


def test_curation_shapes(client, auth, hma):
    assert set(hma) == {"id", "signals"}
    assert isinstance(hma["id"], int)
    assert list(hma["signals"]) == ["pdq"] and HEX64.match(hma["signals"]["pdq"])
    r = client.get("/c/banks", headers=auth)
    assert r.status_code == 200
    assert r.json() == [{"name": "TEST_BANK", "matching_enabled_ratio": 1.0}]
    client.patch("/v1/banks/TEST_BANK", json={"enabled": False}, headers=auth)
    assert client.get("/c/banks", headers=auth).json() == [{"name": "TEST_BANK", "matching_enabled_ratio": 0.0}]
    r = client.post("/c/bank/NOPE/content", files={"photo": ("a.jpg", b"x", "image/jpeg")}, headers=auth)
    assert r.status_code == 404 and r.json()["message"] == "bank 'NOPE' not found"
    r = client.post("/c/bank/TEST_BANK/content", headers=auth)
    assert r.status_code == 400 and r.json()["message"] == "Neither `url` nor multipart file upload was received"


def test_hash_post_shape(client, auth, hma, bridge):
    original, _ = bridge
    r = client.post("/h/hash", files={"photo": ("aaa-orig.jpg", original, "image/jpeg")}, headers=auth)
    assert r.status_code == 200
    assert r.json() == hma["signals"]
    r = client.post("/h/hash?types=pdq", files={"photo": ("aaa-orig.jpg", original, "image/jpeg")}, headers=auth)
    assert r.json() == hma["signals"]
    r = client.post("/h/hash?types=video_md5", files={"photo": ("aaa-orig.jpg", original, "image/jpeg")}, headers=auth)
    assert r.status_code == 400


def test_raw_lookup_shapes(client, auth, hma):
    pdq = hma["signals"]["pdq"]
    r = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": pdq}, headers=auth)
    assert r.status_code == 200 and r.json() == {"matches": [hma["id"]]}
    r = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": pdq, "include_distance": "true"}, headers=auth)
    assert r.json() == {"matches": [{"bank_content_id": hma["id"], "distance": "0"}]}
    r = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": pdq, "banks": "OTHER"}, headers=auth)
    assert r.json() == {"matches": []}
    r = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "not-a-hash"}, headers=auth)
    assert r.status_code == 400 and r.json()["message"].startswith("invalid signal")


def test_lookup_get_shape(client, auth, hma):
    pdq = hma["signals"]["pdq"]
    r = client.get("/m/lookup", params={"signal_type": "pdq", "signal": pdq}, headers=auth)
    assert r.status_code == 200
    assert r.json() == {"TEST_BANK": [{"bank_content_id": hma["id"], "distance": "0"}]}
    flipped = ("0" if pdq[0] != "0" else "1") + pdq[1:]
    near = client.get("/m/lookup", params={"signal_type": "pdq", "signal": flipped}, headers=auth).json()
    assert list(near) == ["TEST_BANK"] and 1 <= int(near["TEST_BANK"][0]["distance"]) <= 4
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": "0" * 64}, headers=auth).json() == {}


def test_lookup_post_shape(client, auth, hma, bridge):
    _, blurred = bridge
    r = client.post("/m/lookup", files={"photo": ("blur.jpg", blurred, "image/jpeg")}, headers=auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["pdq"] and list(body["pdq"]) == ["TEST_BANK"]
    (match,) = body["pdq"]["TEST_BANK"]
    assert set(match) == {"bank_content_id", "distance"} and match["bank_content_id"] == hma["id"]
    assert isinstance(match["distance"], str) and 0 < int(match["distance"]) <= 31


def test_add_signal_directly(client, auth, hma):
    md5 = "d41d8cd98f00b204e9800998ecf8427e"
    r = client.post("/c/bank/TEST_BANK/signal", json={"video_md5": md5}, headers=auth)
    assert r.status_code == 200 and r.json()["signals"] == {"video_md5": md5} and isinstance(r.json()["id"], int)
    settle()
    got = client.get("/m/lookup", params={"signal_type": "video_md5", "signal": md5}, headers=auth).json()
    assert got == {"TEST_BANK": [{"bank_content_id": r.json()["id"], "distance": "0"}]}
    r = client.post("/c/bank/TEST_BANK/signal", json={"pdq": "zz"}, headers=auth)
    assert r.status_code == 400
