"""The legal demo (`suraksha demo seed`): a fictional agency, its officer, requests in every state.

What a person trying `make run` meets: the demo officer's credentials on /portal/login work, the
officer sees only the demo agency's requests, the staff dashboard has something in each group,
and seeding again changes nothing.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlparse

import pytest
from sqlalchemy import func, select
from tests.legal.portal_client import hidden, make_client  # noqa: F401 - fixture

from suraksha.db import session_scope
from suraksha.errors import Forbidden


def _counts() -> dict[str, int]:
    from suraksha.audit.models import AuditEvent
    from suraksha.evidence import Evidence
    from suraksha.legal.models import Agency, LegalCheck, LegalDocument, LegalEvent, LegalRequest, LegalTarget
    from suraksha.legal.officers import Officer, OfficerNotification, OfficerToken

    models = (
        Agency,
        Officer,
        OfficerToken,
        OfficerNotification,
        LegalRequest,
        LegalTarget,
        LegalCheck,
        LegalDocument,
        LegalEvent,
        Evidence,
        AuditEvent,
    )
    with session_scope() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in models}


def _reserved(value: str) -> bool:
    """A demo target must be a reserved example host (RFC 2606 / 6761) or documentation address (RFC 5737)."""
    host = urlparse(value).hostname or ""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host == "example.com" or host.endswith(".example") or host.endswith(".example.com")
    return any(ip in ipaddress.ip_network(n) for n in ("203.0.113.0/24", "198.51.100.0/24", "192.0.2.0/24"))


def test_seed_fills_every_dashboard_group_and_seeding_again_changes_nothing(db_url):
    from suraksha import legal
    from suraksha.legal.demo import DEMO_AGENCY_DOMAIN, seed_legal_demo

    assert seed_legal_demo()
    before = _counts()
    assert seed_legal_demo() == []
    assert _counts() == before

    board = legal.dashboard()
    assert {e.type for e in board.overdue} == {"removal_request"}
    assert {e.type for e in board.at_risk} == {"takedown_order"}
    assert {e.type for e in board.due} == {"data_request"}
    requests = legal.list_requests()
    assert sorted(r.status for r in requests) == ["answered", "in_progress", "in_progress", "in_progress"]
    portal = [r for r in requests if r.channel == "portal"]
    assert [r.type for r in portal] == ["data_request"] and portal[0].officer_id is not None
    for r in requests:
        assert all(c.ok for c in r.checks), (r.reference, [(c.key, c.reason) for c in r.checks if not c.ok])
        assert len(r.documents) == 1 and r.documents[0].filename.endswith(".pdf")
        assert r.targets and all(_reserved(t.value) for t in r.targets), [t.value for t in r.targets]
    (agency,) = legal.list_agencies()
    assert agency.email_domains == [DEMO_AGENCY_DOMAIN]


def test_seed_is_refused_in_production(db_url, monkeypatch):
    from suraksha.config import reset_settings
    from suraksha.legal.demo import seed_legal_demo

    monkeypatch.setenv("SURAKSHA_MODE", "production")
    reset_settings()
    with pytest.raises(Forbidden, match="production"):
        seed_legal_demo()
    reset_settings()
    assert _counts()["Agency"] == 0


def _shown(html: str, field: str) -> str:
    m = re.search(rf'id="demo-officer-{field}">([^<]+)<', html)
    assert m, f"the demo sign-in page does not show the demo officer's {field}"
    return m.group(1)


def test_demo_officer_signs_in_with_the_shown_credentials_and_sees_only_the_demo_agency(db_url, make_client):
    from suraksha import legal
    from suraksha.legal.demo import seed_legal_demo

    seed_legal_demo()
    other = legal.register_agency("Another Police Unit (test)", "police", "in", ["other-police.example"], "user:t")
    elsewhere = legal.file_request(
        legal.RequestIn(
            type="removal_request",
            channel="email",
            agency_id=other.id,
            issuer_kind="police",
            officer_name="Other Officer",
            officer_rank="Deputy Inspector General",
            legal_basis="Rule 3(1)(b)",
            targets=[legal.TargetIn(kind="url", value="https://platform.example/p/elsewhere")],
        ),
        "user:t",
    )

    client = make_client()
    page = client.get("/portal/login")
    assert page.status_code == 200 and "Demo officer (demo mode only)" in page.text
    r = client.post(
        "/portal/login",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "email": _shown(page.text, "email"),
            "password": _shown(page.text, "password"),
            "code": _shown(page.text, "code"),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/portal/requests", r.text
    listing = client.get("/portal/requests").text
    demo_refs = {v.reference for v in legal.list_requests() if v.agency_id != other.id}
    assert len(demo_refs) == 4 and all(ref in listing for ref in demo_refs)
    assert elsewhere.reference not in listing
    assert client.get(f"/portal/requests/{elsewhere.id}").status_code == 404


def test_staff_dashboard_shows_each_group(db_url, make_client):
    """Signed in as the demo legal user (created at start-up in demo mode), /legal lists the demo
    requests under overdue, at risk and due."""
    import pyotp
    from tests.web.conftest import login_csrf

    from suraksha import legal
    from suraksha.auth.bootstrap import DEMO_USERS
    from suraksha.legal.demo import seed_legal_demo

    seed_legal_demo()
    client = make_client()  # the app's start-up seeds the demo staff users (no staff user yet)
    who = next(u for u in DEMO_USERS if u.role == "legal")
    r = client.post(
        "/login",
        data={
            "csrf_token": login_csrf(client),
            "username": who.username,
            "password": who.password,
            "code": pyotp.TOTP(who.totp_secret).now(),
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    html = client.get("/legal").text
    board = legal.dashboard()
    for key, rows in (("overdue", board.overdue), ("at-risk", board.at_risk), ("due", board.due)):
        section = html.split(f'id="dash-{key}"', 1)[1].split("</section>", 1)[0]
        assert rows and all(e.reference in section for e in rows), key


def test_production_sign_in_page_shows_no_demo_officer(db_url, monkeypatch):
    from fastapi.testclient import TestClient
    from tests.web.conftest import FakeMatcher

    from suraksha.api import create_app
    from suraksha.config import reset_settings
    from suraksha.legal.demo import DEMO_OFFICER

    monkeypatch.setenv("SURAKSHA_MODE", "production")
    reset_settings()
    with TestClient(create_app(matcher_loader=FakeMatcher), base_url="https://testserver") as c:
        page = c.get("/portal/login")
    reset_settings()
    assert page.status_code == 200
    assert DEMO_OFFICER.email not in page.text and DEMO_OFFICER.password not in page.text and "Demo officer" not in page.text
