"""Web fixtures: a seeded review database, one staff user per role, and signed-in clients."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import pyotp
import pytest

ROLES = ("admin", "reviewer", "senior_reviewer", "legal", "analyst", "auditor")
PASSWORD = "correct horse battery staple"


class FakeMatcher:
    """The web pages do not match anything; this stands in for the index so /status answers."""

    def stats(self) -> dict[str, int]:
        return {"pdq": 0, "md5": 0, "sha256": 0, "url": 0, "domain": 0, "vpdq_frames": 0, "text": 0, "change_floor": 0}

    def save(self) -> None:
        pass


@dataclass
class Staff:
    username: str
    role: str
    secret: str
    user_id: int

    def code(self, offset_steps: int = 0) -> str:
        return pyotp.TOTP(self.secret).at(time.time() + 30 * offset_steps)


def create_staff(prefix: str, roles) -> dict[str, Staff]:
    """One staff user per role (``<prefix>-<role>``, MFA enrolled), as ``Staff`` by role."""
    from suraksha.auth.service import create_user, list_users

    creds = {
        role: create_user(
            f"{prefix}-{role.replace('_', '-')}",
            role,
            password=PASSWORD,
            totp_secret=pyotp.random_base32(),
            must_change_password=False,
        )
        for role in roles
    }
    ids = {u.username: u.id for u in list_users()}
    return {role: Staff(c.username, role, c.totp_secret, ids[c.username]) for role, c in creds.items()}


@pytest.fixture
def seeded(db_url, reference_dir, monkeypatch):
    """Review demo items (benign pictures), tasks synced, one user per role. Second review off."""
    from suraksha.cases.demo import seed_review_demo
    from suraksha.cases.settings import reset_review_settings
    from suraksha.dispatch import deliver

    monkeypatch.setenv("SURAKSHA_REVIEW_SECOND_REVIEW", "")
    reset_review_settings()
    ids = seed_review_demo(reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg")
    deliver("review")
    ids["staff"] = create_staff("t", ROLES)
    yield ids
    reset_review_settings()


def login_csrf(client) -> str:
    r = client.get("/login")
    assert r.status_code == 200, r.text
    return re.search(r'name="csrf_token" value="([^"]+)"', r.text).group(1)


def sign_in(client, who: Staff, *, code: str | None = None, password: str = PASSWORD):
    token = login_csrf(client)
    return client.post(
        "/login",
        data={"csrf_token": token, "username": who.username, "password": password, "code": code or who.code()},
        follow_redirects=False,
    )


def csrf_of(client) -> str:
    r = client.get("/me/settings")
    assert r.status_code == 200, r.text
    return re.search(r'<meta name="csrf-token" content="([^"]+)"', r.text).group(1)


@pytest.fixture
def app_client(seeded):
    from fastapi.testclient import TestClient

    from suraksha.api import create_app

    def make() -> TestClient:
        c = TestClient(create_app(matcher_loader=FakeMatcher), raise_server_exceptions=False)
        c.__enter__()
        opened.append(c)
        return c

    opened: list = []
    yield make
    for c in opened:
        c.__exit__(None, None, None)
