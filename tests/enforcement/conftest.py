from __future__ import annotations

import pytest

from .helpers import REPORTER_ENV, SECRET, FakePlatform, reset_area_settings


@pytest.fixture
def env(db_url, monkeypatch):
    """A migrated database, connector and reporter settings, fresh settings caches."""
    monkeypatch.setenv("SURAKSHA_CONNECTOR_URL", "https://platform.example/suraksha/webhook")
    monkeypatch.setenv("SURAKSHA_CONNECTOR_SECRET", SECRET)
    for k, v in REPORTER_ENV.items():
        monkeypatch.setenv(k, v)
    reset_area_settings()
    from suraksha.matching.matcher import reset_matcher

    reset_matcher()
    yield db_url
    reset_matcher()
    reset_area_settings()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def dispatcher(env, platform):
    from suraksha.dispatch import Dispatcher
    from suraksha.enforcement.connector import HttpConnector

    connector = HttpConnector("https://platform.example/suraksha/webhook", SECRET, transport=platform.transport())
    return Dispatcher(connector=connector, dispatcher_id="test-dispatcher")
