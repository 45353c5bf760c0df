"""Other areas' fixtures, re-exported: the web area's seeded workspace and signed-in users (page
tests) and the enforcement area's connector, fake platform and dispatcher (end-to-end test)."""

from enforcement.conftest import dispatcher, env, platform  # noqa: F401  (pytest fixtures)
from web.conftest import app_client, seeded  # noqa: F401
