"""Review fixtures: demo items waiting in queues and staff actors of each role."""

from __future__ import annotations

import pytest


@pytest.fixture
def review_env(db_url, reference_dir, monkeypatch):
    """A migrated database with the review demo seeded and tasks synced; settings reset."""
    from suraksha.cases.demo import seed_review_demo
    from suraksha.cases.settings import reset_review_settings

    monkeypatch.setenv("SURAKSHA_REVIEW_SECOND_REVIEW", "csam")
    reset_review_settings()
    ids = seed_review_demo(reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg")
    yield ids
    reset_review_settings()


@pytest.fixture
def actors(db_url):
    from suraksha.auth.service import create_user, list_users
    from suraksha.cases.service import Actor

    for name, role in (("rita", "reviewer"), ("raj", "reviewer"), ("sana", "senior_reviewer"), ("ana", "analyst")):
        create_user(name, role, password="correct horse battery", must_change_password=False)
    return {u.username: Actor(u.id, u.username, u.role) for u in list_users()}
