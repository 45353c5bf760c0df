"""Network fixtures: a migrated database (both backends) with fresh area settings and matcher."""

from __future__ import annotations

import pytest


def _reset() -> None:
    from suraksha.enforcement.settings import reset_enforcement_settings
    from suraksha.matching.matcher import reset_matcher
    from suraksha.networks.settings import reset_network_settings
    from suraksha.pipeline.settings import reset_pipeline_settings

    reset_matcher()
    reset_network_settings()
    reset_pipeline_settings()
    reset_enforcement_settings()


@pytest.fixture
def env(db_url):
    _reset()
    yield db_url
    _reset()


@pytest.fixture
def ring(env):
    from .helpers import build_ring

    return build_ring()


STAFF_ROLES = ("reviewer", "senior_reviewer", "legal", "analyst", "auditor", "admin")


@pytest.fixture
def web(ring):
    """(signed_in(role) -> a TestClient signed in as that role, the ring's ids)."""
    import pyotp
    from fastapi.testclient import TestClient

    from suraksha.api import create_app
    from suraksha.auth.service import create_user, list_users
    from tests.web.conftest import PASSWORD, FakeMatcher, Staff, sign_in

    staff = {}
    for role in STAFF_ROLES:
        creds = create_user(f"n-{role.replace('_', '-')}", role, password=PASSWORD, totp_secret=pyotp.random_base32(),
                            must_change_password=False)
        staff[role] = creds
    ids = {u.username: u.id for u in list_users()}
    people = {role: Staff(c.username, role, c.totp_secret, ids[c.username]) for role, c in staff.items()}
    clients: list[TestClient] = []

    def signed_in(role: str) -> TestClient:
        c = TestClient(create_app(matcher_loader=FakeMatcher), raise_server_exceptions=False)
        c.__enter__()
        clients.append(c)
        assert sign_in(c, people[role]).status_code == 303
        return c

    yield signed_in, ring
    for c in clients:
        c.__exit__(None, None, None)


class _NoMatcher:
    """The API tests ask for stored networks; no lookups happen."""

    def stats(self) -> dict[str, int]:
        return {"pdq": 0, "md5": 0, "sha256": 0, "url": 0, "domain": 0, "vpdq_frames": 0, "text": 0, "change_floor": 0}

    def save(self) -> None:
        pass


@pytest.fixture
def api(ring):
    """(a TestClient with a valid API key, the ring's ids)."""
    from fastapi.testclient import TestClient

    from suraksha.api import create_app
    from suraksha.api.keys import clear_key_cache, create_key

    clear_key_cache()
    _info, secret = create_key("network-tests")
    with TestClient(create_app(matcher_loader=_NoMatcher), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client, ring
    clear_key_cache()
