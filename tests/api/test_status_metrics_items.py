"""/status, /metrics, the landing page, /docs, and items/accounts through the API."""

from __future__ import annotations

import base64
import threading

from sqlalchemy import func, select
from tests.api.conftest import FakeMatcher, error_of, wait_ready

from suraksha.db import session_scope


def _count(model) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_status_is_503_while_index_loads_then_200(make_client, auth):
    release = threading.Event()

    def slow_loader():
        release.wait(10)
        return FakeMatcher()

    client = make_client(matcher_loader=slow_loader)
    r = client.get("/status")
    assert r.status_code == 503
    assert r.json()["status"] == "loading"
    assert r.headers["retry-after"]
    # Lookups say so too, with the common error body.
    r = client.get("/v1/lookup", params={"signal_type": "md5", "signal": "0" * 32}, headers=auth)
    assert r.status_code == 503 and error_of(r)["code"] == "index_loading"
    r = client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "0" * 64}, headers=auth)
    assert r.status_code == 503 and r.json()["message"] == "index not yet ready"
    release.set()
    wait_ready(client)
    r = client.get("/status")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["index"]["pdq"] == 0 and "change_floor" in body["index"]
    assert body["scan_queue"] == {}


def test_status_reports_a_failed_index_load(make_client):
    def broken():
        raise RuntimeError("snapshot unreadable")

    client = make_client(matcher_loader=broken)
    state = client.app.state.matcher_state
    for _ in range(500):
        if state.error:
            break
        threading.Event().wait(0.01)
    r = client.get("/status")
    assert r.status_code == 503
    assert r.json()["status"] == "failed" and "snapshot unreadable" in r.json()["error"]


def test_metrics_exposes_prometheus_series(fake_client, auth):
    fake_client.post("/v1/items", json={"platform_id": "m1", "text": "hello"}, headers=auth)
    fake_client.post("/v1/items", json={"platform_id": "m2", "text": "hello"}, headers=auth)
    r = fake_client.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert 'suraksha_items_ingested_total{created="true"}' in text
    assert "suraksha_http_request_duration_seconds_bucket" in text
    assert 'route="/v1/items"' in text
    # Two items wait in the queue (no workers in this app).
    assert 'suraksha_scan_queue_jobs{state="queued"} 2.0' in text
    assert "suraksha_matches_total" in text or "# TYPE suraksha_matches counter" in text


def test_landing_page_and_docs(fake_client):
    r = fake_client.get("/")
    assert r.status_code == 200 and "text/html" in r.headers["content-type"]
    assert 'href="/docs"' in r.text and 'href="/status"' in r.text and "Banks" in r.text
    r = fake_client.get("/docs")
    assert r.status_code == 200 and "swagger" in r.text.lower()
    spec = fake_client.get("/openapi.json").json()
    for path in (
        "/v1/items",
        "/v1/items/{item_id}",
        "/v1/accounts/{account_id}",
        "/v1/banks",
        "/v1/banks/{name}/signals",
        "/v1/banks/{name}/media",
        "/v1/banks/{name}/entries/{entry_id}",
        "/v1/hash",
        "/v1/lookup",
        "/h/hash",
        "/m/raw_lookup",
        "/m/lookup",
        "/c/banks",
        "/c/bank/{bank_name}/content",
        "/status",
        "/metrics",
    ):
        assert path in spec["paths"], path
    assert "HTTPBearer" in spec["components"]["securitySchemes"]


# ------------------------------------------------------------------------------------------- items
def test_submit_item_returns_202_and_can_be_read_back(fake_client, auth):
    payload = {
        "platform_id": "post-1",
        "account": {"id": "acct-9", "handle": "someone"},
        "text": "hello",
        "links": ["https://example.com/a"],
        "context": {"ip": "203.0.113.5", "country": "in"},
        "idempotency_key": "k-1",
    }
    r = fake_client.post("/v1/items", json=payload, headers=auth)
    assert r.status_code == 202, r.text
    body = r.json()
    assert set(body) == {"id", "status"} and body["status"] == "queued"
    again = fake_client.post("/v1/items", json=payload, headers=auth)
    assert again.status_code == 202 and again.json()["id"] == body["id"]
    from suraksha.items.models import Item
    from suraksha.pipeline.models import ScanJob

    assert _count(Item) == 1 and _count(ScanJob) == 1
    r = fake_client.get(f"/v1/items/{body['id']}", headers=auth)
    assert r.status_code == 200
    item = r.json()
    assert item["platform_id"] == "post-1" and item["status"] == "queued" and item["verdict"] is None
    assert item["context"]["country"] == "IN"
    r = fake_client.get("/v1/accounts/acct-9", headers=auth)
    assert r.status_code == 200
    assert r.json()["platform_account_id"] == "acct-9" and r.json()["items_total"] == 1


def test_wait_without_workers_times_out_to_202(fake_client, auth):
    fake_client.app.state.wait_timeout = 0.2
    r = fake_client.post("/v1/items?wait=true", json={"platform_id": "w1", "text": "x"}, headers=auth)
    assert r.status_code == 202
    assert r.json()["status"] == "queued"


def test_unknown_item_and_account_are_404(fake_client, auth):
    assert error_of(fake_client.get("/v1/items/999999", headers=auth))["code"] == "not_found"
    r = fake_client.get("/v1/items/not-a-number", headers=auth)
    assert r.status_code == 422 and "item_id" in error_of(r)["message"]
    assert fake_client.get("/v1/accounts/nobody", headers=auth).status_code == 404


def test_bad_item_input_is_4xx_and_stores_nothing(fake_client, auth):
    from suraksha.items.models import Item

    cases = [
        (b'{"platform_id": "x", ', 400, "invalid_json"),
        (b"not json at all", 400, "invalid_json"),
        (b'{"platform_id": ["list"]}', 422, "invalid_request"),
        (b'{"platform_id": "x", "links": "not-a-list"}', 422, "invalid_request"),
        (b'{"platform_id": "x", "unexpected": 1}', 422, "invalid_request"),
        (b'{"text": "no platform id"}', 422, "invalid_request"),
        (b'{"platform_id": "x", "media": [{"data_base64": "@@@not base64@@@"}]}', 422, None),
        (b'{"platform_id": "x", "media": [{"url": "file:///etc/passwd"}]}', 422, "invalid_request"),
        (b'{"platform_id": "x", "context": {"ip": "999.1.1.1"}}', 422, "invalid_request"),
        (b"[1, 2, 3]", 422, "invalid_request"),
    ]
    for body, status, code in cases:
        r = fake_client.post("/v1/items", content=body, headers={**auth, "Content-Type": "application/json"})
        assert r.status_code == status, (body, r.text)
        err = error_of(r)
        if code:
            assert err["code"] == code, (body, err)
    r = fake_client.post(
        "/v1/items",
        content=b'{"platform_id": "x", "media": [{"data_base64": "@@@"}]}',
        headers={**auth, "Content-Type": "application/json"},
    )
    assert "base64" in error_of(r)["message"]
    r = fake_client.post("/v1/items", content=b'{"platform_id": ["list"]}', headers={**auth, "Content-Type": "application/json"})
    assert "platform_id" in error_of(r)["message"]
    assert _count(Item) == 0


def test_item_with_too_large_inline_media_is_413(make_client, auth, monkeypatch):
    monkeypatch.setenv("SURAKSHA_MAX_MEDIA_BYTES", "1000")
    from suraksha.config import reset_settings

    reset_settings()
    client = make_client(matcher_loader=FakeMatcher)
    data = base64.b64encode(b"\x00" * 5000).decode()
    r = client.post("/v1/items", json={"platform_id": "big", "media": [{"data_base64": data, "mime": "image/png"}]}, headers=auth)
    assert r.status_code == 413
    from suraksha.items.models import Item

    assert _count(Item) == 0


def test_media_urls_to_internal_addresses_are_refused(fake_client, auth):
    from suraksha.items.models import Item

    for url in (
        "http://127.0.0.1/x.jpg",
        "http://localhost:8080/a.png",
        "http://10.1.2.3/a.jpg",
        "http://[::1]/a.jpg",
        "http://169.254.169.254/latest/meta-data",
        "http://192.168.0.1/a.jpg",
        "http://[::ffff:127.0.0.1]/a",
    ):
        r = fake_client.post("/v1/items", json={"platform_id": "ssrf", "media": [{"url": url}]}, headers=auth)
        assert r.status_code == 422, (url, r.text)
        assert error_of(r)["code"] == "media_url_refused", url
    assert _count(Item) == 0
    r = fake_client.post(
        "/v1/items", json={"platform_id": "ok", "media": [{"url": "https://cdn.example.com/a.jpg"}]}, headers=auth
    )
    assert r.status_code == 202
