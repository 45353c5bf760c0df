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
