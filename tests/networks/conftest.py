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
    from fastapi.testclient import TestClient
    from tests.web.conftest import FakeMatcher, create_staff, sign_in

    from suraksha.api import create_app

    people = create_staff("n", STAFF_ROLES)
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
    _info, secret = create_key("network-tests", scopes=["networks:read"])
    with TestClient(create_app(matcher_loader=_NoMatcher), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {secret}"
        yield client, ring
    clear_key_cache()
