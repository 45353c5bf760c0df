"""Driving the officers' portal over HTTP in tests: an app client, register / confirm / enrol /
sign in as an officer, and staff sign-in for the nodal officer's side."""

from __future__ import annotations

import re
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

PASSWORD = "a long portal passphrase"


def hidden(html: str, name: str) -> str:
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no hidden field {name!r} in page"
    return m.group(1)


def wrong_code(totp: pyotp.TOTP) -> str:
    valid = {totp.at(time.time() + 30 * k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def authority_pdf() -> bytes:
    from tests.legal.conftest import make_pdf

    return make_pdf("Authorisation: the bearer may send notices to intermediaries")


def register(
    client,
    agency_id: int,
    email: str,
    *,
    name: str = "Test Officer",
    rank: str = "Deputy Inspector General",
    authority: bytes | None = None,
):
    page = client.get("/portal/register")
    assert page.status_code == 200, page.text
    return client.post(
        "/portal/register",
        data={
            "csrf_token": hidden(page.text, "csrf_token"),
            "agency_id": str(agency_id),
            "email": email,
            "name": name,
            "rank": rank,
        },
        files={"authority": ("authority.pdf", authority or authority_pdf(), "application/pdf")},
    )


def approve(email: str) -> None:
    """The platform's legal team approves the officer (rank and authorising document checked)."""
    from sqlalchemy import select

    from suraksha.db.session import session_scope
    from suraksha.legal import officers

    with session_scope() as s:
        officer_id = s.scalar(select(officers.Officer.id).where(officers.Officer.email == email.lower()))
    officers.approve_officer(officer_id, "user:lena", "legal", "rank and letter checked")


def confirmation_token(email: str) -> str:
    from suraksha.legal import officers

    return parse_qs(urlparse(officers.outbox(email)[-1].link).query)["token"][0]


def confirm_and_enrol(client, email: str) -> pyotp.TOTP:
    """Open the link from the outbox, set the password, add the key, finish with a code."""
    token = confirmation_token(email)
    page = client.get(f"/portal/confirm?token={token}")
    assert page.status_code == 200, page.text
    r = client.post(
        "/portal/confirm",
        data={"csrf_token": hidden(page.text, "csrf_token"), "token": token, "password": PASSWORD, "confirm": PASSWORD},
    )
    assert r.status_code == 200 and 'id="totp-secret"' in r.text, r.text
    totp = pyotp.TOTP(re.search(r'id="totp-secret">([A-Z2-7]+)<', r.text).group(1))
    done = client.post(
        "/portal/mfa",
        data={"csrf_token": hidden(r.text, "csrf_token"), "token": token, "code": totp.at(time.time() - 30)},
        follow_redirects=False,
    )
    assert done.status_code == 303 and done.headers["location"].startswith("/portal/login"), done.text
    return totp


def portal_sign_in(client, email: str, code: str, password: str = PASSWORD):
    page = client.get("/portal/login")
    return client.post(
        "/portal/login",
        data={"csrf_token": hidden(page.text, "csrf_token"), "email": email, "password": password, "code": code},
        follow_redirects=False,
    )


def officer_client(make_client, agency_id: int, email: str, *, approved: bool = True, **kw):
    """A client signed in as a new, fully set-up officer of ``agency_id``."""
    c = make_client()
    assert register(c, agency_id, email, **kw).status_code == 200
    totp = confirm_and_enrol(c, email)
    if approved:
        approve(email)
    r = portal_sign_in(c, email, totp.now())
    assert r.status_code == 303 and r.headers["location"] == "/portal/requests", r.text
    c.totp = totp
    return c


def portal_csrf(client) -> str:
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', client.get("/portal/requests").text).group(1)


@pytest.fixture
def make_client(db_url):
    """Clients of one app over the test database (each its own cookie jar)."""
    from fastapi.testclient import TestClient
    from tests.web.conftest import FakeMatcher

    from suraksha.api import create_app

    opened: list = []

    def make() -> TestClient:
        c = TestClient(create_app(matcher_loader=FakeMatcher), raise_server_exceptions=False)
        c.__enter__()
        opened.append(c)
        return c

    yield make
    for c in opened:
        c.__exit__(None, None, None)
