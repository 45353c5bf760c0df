"""Ids beyond BIGINT in a path (or an id form field) are refused with a 4xx, never a database
overflow (a 500 on PostgreSQL, an OverflowError on SQLite), on the staff pages and the REST API."""

from __future__ import annotations

import pytest
from tests.web.conftest import csrf_of, sign_in

HUGE = "9" * 20  # > 2**63 - 1


@pytest.fixture
def staff_client(app_client, seeded):
    def make(role: str):
        c = app_client()
        assert sign_in(c, seeded["staff"][role]).status_code == 303
        return c

    return make


@pytest.mark.parametrize(
    ("role", "method", "path"),
    [
        ("reviewer", "GET", f"/items/{HUGE}"),
        ("reviewer", "GET", f"/cases/{HUGE}"),
        ("senior_reviewer", "POST", f"/cases/{HUGE}/add"),
        ("senior_reviewer", "POST", f"/cases/{HUGE}/status"),
        ("reviewer", "GET", f"/review/tasks/{HUGE}"),
        ("reviewer", "POST", f"/review/tasks/{HUGE}/decide"),
        ("reviewer", "POST", f"/review/tasks/{HUGE}/escalate"),
        ("admin", "POST", f"/admin/users/{HUGE}/unlock"),
    ],
)
def test_staff_pages_refuse_ids_beyond_bigint(staff_client, role, method, path):
    c = staff_client(role)
    token = csrf_of(c)
    r = c.request(
        method,
        path,
        data={"csrf_token": token, "status": "closed", "item_id": "1"} if method == "POST" else None,
        follow_redirects=False,
    )
    assert r.status_code == 422, (path, r.status_code, r.text[:300])
    # The largest id that fits is an ordinary "not found".
    assert c.request(
        method,
        path.replace(HUGE, str(2**63 - 1)),
        data={"csrf_token": token, "status": "closed"} if method == "POST" else None,
        follow_redirects=False,
    ).status_code in (400, 404)


def _case_members() -> tuple[int, int]:
    from sqlalchemy import func, select

    from suraksha.cases.models import CaseAccount, CaseItem
    from suraksha.db import session_scope

    with session_scope() as s:
        return tuple(s.scalar(select(func.count()).select_from(m)) for m in (CaseItem, CaseAccount))


def test_adding_a_huge_item_id_to_a_case_is_a_clear_error_and_changes_nothing(staff_client, seeded):
    c = staff_client("senior_reviewer")
    r = c.post("/cases", data={"csrf_token": csrf_of(c), "title": "Path id test"}, follow_redirects=False)
    assert r.status_code == 303
    case_id = int(r.headers["location"].rsplit("/", 1)[1])
    before = _case_members()
    for field in ("item_id", "account_id"):
        r = c.post(f"/cases/{case_id}/add", data={"csrf_token": csrf_of(c), field: HUGE}, follow_redirects=False)
        assert r.status_code == 400 and "must be a number from 1 to" in r.text, r.text[:300]
    assert _case_members() == before


def test_rest_api_refuses_ids_beyond_bigint(db_url):
    from fastapi.testclient import TestClient
    from tests.web.conftest import FakeMatcher

    from suraksha.api import create_app
    from suraksha.api.keys import create_key

    _info, key = create_key("path-ids", scopes=["items:read", "legal:read"])
    auth = {"Authorization": f"Bearer {key}"}
    with TestClient(create_app(matcher_loader=FakeMatcher), raise_server_exceptions=False) as c:
        r = c.get(f"/v1/items/{HUGE}", headers=auth)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_request", r.text
        assert c.get(f"/v1/items/{2**63 - 1}", headers=auth).status_code == 404
        r = c.get(f"/v1/legal/requests/{HUGE}", headers=auth)
        assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", r.text
