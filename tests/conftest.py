"""Shared fixtures.

``db_url`` (and everything built on it) runs each test on SQLite and, when
``SURAKSHA_TEST_DATABASE_URL`` is set, on PostgreSQL too. Migrations run once per backend per
test process; between tests every table is emptied.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from suraksha.config import reset_settings
from suraksha.db.session import reset_engine

REFERENCE = Path(os.environ.get("SURAKSHA_REFERENCE_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "reference")
PG_URL = os.environ.get("SURAKSHA_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The shared reference data (benign images with published hashes, videos, NCMEC XML).

    A clone with nothing beside it has none: the tests that need it skip and say where it was looked
    for (``SURAKSHA_REFERENCE_DIR`` overrides the default ``../shared/reference``).
    """
    if not REFERENCE.is_dir():
        pytest.skip(
            f"reference data not found at {REFERENCE} (set SURAKSHA_REFERENCE_DIR or put ../shared/reference beside the clone)"
        )
    return REFERENCE


def _backends() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if PG_URL:
        params.append(pytest.param("postgresql", id="pg", marks=pytest.mark.postgres))
    return params


@pytest.fixture(scope="session")
def _pg_database():
    """A private PostgreSQL database per test process (xdist workers run side by side)."""
    if not PG_URL:
        yield None
        return
    name = f"suraksha_t_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    from suraksha.db.migrate import upgrade

    upgrade(url)
    yield url
    reset_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    from suraksha.db.migrate import upgrade

    upgrade(f"sqlite:///{path}")
    return path


def _truncate_all(url: str) -> None:
    from suraksha.db.base import Base
    from suraksha.db.models import import_all_models

    import_all_models()
    engine = create_engine(url)
    names = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as conn:
        if names:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=_backends())
def db_url(request, tmp_path, monkeypatch) -> str:
    """A migrated, empty database; the app's settings point at it and at a fresh home folder."""
    home = tmp_path / "home"
    home.mkdir()
    if request.param == "sqlite":
        path = tmp_path / "suraksha.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("_pg_database")
        _truncate_all(url)
    monkeypatch.setenv("SURAKSHA_HOME", str(home))
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", url)
    reset_settings()
    reset_engine()
    from suraksha.auth.settings import reset_auth_settings

    reset_auth_settings()  # and the sign-in throttle: every test starts with full buckets
    yield url
    reset_engine()
    reset_settings()


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A fresh SURAKSHA_HOME for tests that need no database."""
    path = tmp_path / "home"
    path.mkdir(exist_ok=True)
    monkeypatch.setenv("SURAKSHA_HOME", str(path))
    reset_settings()
    yield path
    reset_settings()
