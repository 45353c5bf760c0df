"""``GET /v1/transparency`` (API key) and the ``/transparency`` page (analyst and legal only)."""

from __future__ import annotations

import csv
import io

import pytest

from web.conftest import FakeMatcher, sign_in

from .history import build_history


@pytest.fixture
def api(db_url):
    from fastapi.testclient import TestClient

    from suraksha.api import create_app
    from suraksha.api.keys import clear_key_cache, create_key

    clear_key_cache()
    build_history()
    _, secret = create_key("transparency-test", scopes=["transparency:read"])
    with TestClient(create_app(matcher_loader=FakeMatcher), raise_server_exceptions=False) as client:
        yield client, {"Authorization": f"Bearer {secret}"}
    clear_key_cache()


def test_api_answers_each_format_and_needs_a_key(api):
    client, auth = api
    q = {"from": "2022-01-01", "to": "2025-12-31", "by": "year"}
    r = client.get("/v1/transparency", params=q, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["total"]["identified"] == 6 and [p["label"] for p in body["periods"]] == ["2022", "2023", "2024", "2025"]
    r = client.get("/v1/transparency", params={**q, "format": "csv"}, headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert list(csv.DictReader(io.StringIO(r.text)))[-1]["removed"] == "4"
    assert 'filename="suraksha-figures-2022-01-01-2025-12-31.csv"' in r.headers["content-disposition"]
    r = client.get("/v1/transparency", params={**q, "format": "pdf", "kind": "summary"}, headers=auth)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-") and r.headers["content-type"] == "application/pdf"
    r = client.get("/v1/transparency", params={**q, "kind": "compliance", "from": "2025-03-01", "to": "2025-03-31"}, headers=auth)
    assert r.status_code == 200 and r.json()["months"][0]["month"] == "2025-03"
    assert client.get("/v1/transparency", params=q).status_code == 401


@pytest.mark.parametrize(
    ("params", "status", "reason"),
    [
        ({"from": "2025-12-31", "to": "2022-01-01"}, 400, "is before 'from'"),
        ({"from": "not-a-date", "to": "2022-01-01"}, 400, "is not a date"),
        ({"from": "1800-01-01", "to": "1801-01-01"}, 400, "before 1990"),
        ({"from": "2022-01-01", "to": "2022-12-31", "by": "day"}, 400, "'by' must be one of"),
        ({"from": "2022-01-01", "to": "2022-12-31", "format": "xml"}, 400, "format must be one of"),
        ({"to": "2022-12-31"}, 422, "from"),
    ],
)
def test_api_bad_input_is_a_clear_4xx(api, params, status, reason):
    client, auth = api
    r = client.get("/v1/transparency", params=params, headers=auth)
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert set(err) == {"code", "message"} and reason in err["message"]


def test_page_for_analyst_and_legal_only(app_client, seeded):
    from suraksha.transparency.figures import figures

    expected = figures("2022-01-01", "2026-12-31", by="year").total
    for role in ("analyst", "legal"):
        c = app_client()
        assert sign_in(c, seeded["staff"][role]).status_code == 303
        home = c.get("/cases")
        assert 'href="/transparency"' in home.text
        r = c.get("/transparency", params={"from": "2022-01-01", "to": "2026-12-31", "by": "year"})
        assert r.status_code == 200, r.text
        assert 'id="figures-table"' in r.text and "<td>2026</td>" in r.text
        assert f"<td>total</td><td>{expected.identified}</td>" in r.text
        assert r.text.count('src="data:image/png;base64,') == 2
        assert "/transparency/download?" in r.text and "format=pdf" in r.text and "kind=compliance" in r.text
        pdf = c.get("/transparency/download", params={"from": "2022-01-01", "to": "2026-12-31", "format": "pdf"})
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
        assert "attachment" in pdf.headers["content-disposition"]
        bad = c.get("/transparency", params={"from": "2026-12-31", "to": "2022-01-01"})
        assert bad.status_code == 400 and "is before &#39;from&#39;" in bad.text
        bad = c.get("/transparency/download", params={"from": "2022-01-01", "to": "2022-02-30", "format": "csv"})
        assert bad.status_code == 400 and "is not a date" in bad.text
    for role in ("reviewer", "senior_reviewer", "auditor", "admin"):
        c = app_client()
        assert sign_in(c, seeded["staff"][role]).status_code == 303
        assert c.get("/transparency").status_code == 403
        assert c.get("/transparency/download", params={"format": "csv"}).status_code == 403
        assert 'href="/transparency"' not in c.get("/me/settings").text
    anon = app_client().get("/transparency", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"].startswith("/login")


def test_download_is_an_audit_event(app_client, seeded):
    from sqlalchemy import select

    from suraksha.audit.models import AuditEvent
    from suraksha.db import session_scope

    c = app_client()
    assert sign_in(c, seeded["staff"]["legal"]).status_code == 303
    r = c.get(
        "/transparency/download",
        params={"from": "2025-01-01", "to": "2025-03-31", "kind": "compliance", "format": "csv", "jurisdiction": "in"},
    )
    assert r.status_code == 200 and r.text.startswith("month,section,measure,value")
    with session_scope() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "transparency.export")).all()
        assert len(events) == 1 and events[0].actor.endswith(seeded["staff"]["legal"].username)
