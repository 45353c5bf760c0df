"""The web area's fixtures (a seeded workspace, one signed-in user per role) for the page tests."""

from web.conftest import app_client, seeded  # noqa: F401  (pytest fixtures, re-exported)
