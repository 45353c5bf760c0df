"""REST API for integrations: enter a request with its PDF, list, show, dashboard; bad input
gets a 4xx with {"error": {"code", "message"}} and stores nothing."""

from __future__ import annotations

import base64

import pytest
from tests.api.conftest import FakeMatcher, auth, key, make_client  # noqa: F401 - fixtures
from tests.legal.conftest import make_pdf


@pytest.fixture
def key_scopes() -> tuple[str, ...]:
    """The scopes of the ``key`` fixture here: an integration that enters and reads legal requests."""
    return ("legal:read", "legal:write")


def _body(**kw):
    base = {
        "type": "takedown_order",
        "jurisdiction": "in",
        "channel": "email",
        "issuer_kind": "court",
        "officer_name": "Registrar (Judicial)",
        "legal_basis": "Order of the High Court, W.P. 12/2026",
        "case_number": "WP 12/2026",
        "targets": [{"kind": "url", "value": "https://platform.example/p/5"}],
        "document_base64": base64.b64encode(make_pdf("Order")).decode(),
        "document_name": "order.pdf",
    }
    base.update(kw)
    return base


def test_create_list_show_dashboard(make_client, auth):  # noqa: F811
    c = make_client(matcher_loader=FakeMatcher)
    r = c.post("/v1/legal/requests", json=_body(), headers=auth)
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["reference"].startswith("LR-") and created["created_by"].startswith("api_key:")
    assert created["documents"][0]["filename"] == "order.pdf" and created["status"] == "received"
    assert created["status_reason"] == "checks failed: agency"  # the court is not registered yet

    listed = c.get("/v1/legal/requests", headers=auth).json()["requests"]
    assert [(x["reference"], x["failed_checks"]) for x in listed] == [(created["reference"], ["agency"])]
    shown = c.get(f"/v1/legal/requests/{created['reference']}", headers=auth).json()
    assert shown["id"] == created["id"] and shown["checks"][0]["key"] == "agency"
    board = c.get("/v1/legal/dashboard", headers=auth).json()
    assert board["counts"] == {"overdue": 0, "at_risk": 0, "due": 1}
    assert 0 < board["due"][0]["remaining_seconds"] <= 3 * 3600
    assert c.get("/v1/legal/requests", headers={}).status_code == 401


def test_bad_input_is_a_clear_4xx_and_stores_nothing(make_client, auth):  # noqa: F811
    c = make_client(matcher_loader=FakeMatcher)
    bad_pdf = _body(document_base64=base64.b64encode(b"GIF89a not a pdf").decode())
    r = c.post("/v1/legal/requests", json=bad_pdf, headers=auth)
    assert r.status_code == 400 and "not a PDF" in r.json()["error"]["message"]
    r = c.post("/v1/legal/requests", json=_body(type="parking_ticket"), headers=auth)
    assert r.status_code == 400 and "parking_ticket" in r.json()["error"]["message"]
    r = c.post("/v1/legal/requests", json=_body(received_at="2026-12-01T10:00:00"), headers=auth)
    assert r.status_code == 422 and r.json()["error"]["code"]
    r = c.post("/v1/legal/requests", json=_body(channel="portal"), headers=auth)
    assert r.status_code == 422
    assert c.get("/v1/legal/requests/LR-2026-999999", headers=auth).status_code == 404
    assert c.get("/v1/legal/requests", headers=auth).json()["requests"] == []
