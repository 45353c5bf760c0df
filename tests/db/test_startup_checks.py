"""Start-up checks of the CLI: the home folder, the schema, the permissions of what it creates.

Every command that uses the database checks, before its own code runs, that a home folder was
chosen, that the database is migrated to this version (demo mode migrates its embedded SQLite file
instead, and says so), and creates the home 0700 and the SQLite file 0600.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import PG_URL
from typer.testing import CliRunner

from suraksha.config import reset_settings
from suraksha.db.session import reset_engine

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if PG_URL:
    BACKENDS.append(pytest.param("postgresql", id="pg", marks=pytest.mark.postgres))


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=BACKENDS)
def fresh_db(request, tmp_path, monkeypatch):
    """An empty, never migrated database on each backend: a SQLite file that does not exist yet, or
    a new PostgreSQL database. Yields (url, how to name it in messages)."""
    monkeypatch.setenv("SURAKSHA_HOME", str(tmp_path / "home"))
    reset_settings()
    if request.param == "sqlite":
        path = tmp_path / "fresh.db"
        yield f"sqlite:///{path}", str(path)
        return
    name = f"suraksha_fresh_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    yield url, name
    reset_engine()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _invoke(args: list[str], monkeypatch, **env: str):
    from suraksha.cli import app

    for key, value in env.items():
        monkeypatch.setenv(key, value)
    reset_settings()
    reset_engine()
    try:
        return CliRunner().invoke(app, args)
    finally:
        reset_engine()
        reset_settings()


@pytest.mark.parametrize(
    "args", [["serve", "--port", "1"], ["worker"], ["bank", "list"], ["apikey", "list"], ["user", "list"], ["demo", "purge"]]
)
def test_a_database_never_migrated_stops_every_command_with_one_line(fresh_db, monkeypatch, args):
    """serve, worker and any other command: exit 2 with the path and what to run; nothing created.
    (Demo mode with an explicit SURAKSHA_DATABASE_URL is not the embedded default: not migrated either.)"""
    url, where = fresh_db
    r = _invoke(args, monkeypatch, SURAKSHA_DATABASE_URL=url, SURAKSHA_MODE="demo")
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert "\n" not in line and "Traceback" not in r.output
    assert line.startswith("error: database at ") and line.endswith("is not migrated: run suraksha db upgrade")
    assert where in line
    if url.startswith("sqlite"):
        assert not Path(where).exists()  # never created by a check


def test_an_outdated_database_is_refused_until_upgraded(fresh_db, monkeypatch):
    """Migrated by an older release (here: the pipeline branch stopped at p0002): exit 2, then
    `db upgrade` and the same command runs."""
    from suraksha.db.migrate import upgrade

    url, where = fresh_db
    upgrade(url, "p0002")
    r = _invoke(["bank", "list"], monkeypatch, SURAKSHA_DATABASE_URL=url, SURAKSHA_MODE="production")
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert line.startswith("error: database at ") and where in line and "\n" not in line
    assert "is not migrated to this version" in line and line.endswith(": run suraksha db upgrade")
    up = _invoke(["db", "upgrade"], monkeypatch, SURAKSHA_DATABASE_URL=url)
    assert up.exit_code == 0, up.output
    r = _invoke(["bank", "list"], monkeypatch, SURAKSHA_DATABASE_URL=url, SURAKSHA_MODE="production")
    assert r.exit_code == 0, r.output


def test_demo_mode_migrates_its_embedded_sqlite_file_and_says_so(tmp_path, monkeypatch):
    from suraksha.db.migrate import schema_state

    home = tmp_path / "home"
    monkeypatch.delenv("SURAKSHA_DATABASE_URL", raising=False)
    r = _invoke(["bank", "list"], monkeypatch, SURAKSHA_HOME=str(home), SURAKSHA_MODE="demo")
    assert r.exit_code == 0, r.output
    db = home / "suraksha.db"
    assert f"database at {db.resolve()} was not migrated: created and migrated it now (demo mode, embedded SQLite)" in r.stderr
    assert schema_state(f"sqlite:///{db}").up_to_date
    assert _mode(home) == 0o700 and _mode(db) == 0o600
    again = _invoke(["bank", "list"], monkeypatch, SURAKSHA_HOME=str(home), SURAKSHA_MODE="demo")
    assert again.exit_code == 0 and "migrated" not in again.stderr


def test_production_never_migrates_by_itself(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.delenv("SURAKSHA_DATABASE_URL", raising=False)
    r = _invoke(["serve", "--port", "1"], monkeypatch, SURAKSHA_HOME=str(home), SURAKSHA_MODE="production")
    assert r.exit_code == 2
    assert r.stderr.strip() == f"error: database at {(home / 'suraksha.db').resolve()} is not migrated: run suraksha db upgrade"
    assert not (home / "suraksha.db").exists()


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURAKSHA_")}
    env.update(extra)
    return env


def _cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "suraksha.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_command_run_from_another_folder_says_which_folder_and_creates_nothing(tmp_path, backend):
    """SURAKSHA_HOME unset and no ./var here: exit 2 naming ./var of this folder and SURAKSHA_HOME,
    no traceback, and the folder stays empty (before: an empty database appeared in ./var)."""
    here = tmp_path / "elsewhere"
    here.mkdir()
    env = _clean_env()
    if backend == "postgresql":
        env["SURAKSHA_DATABASE_URL"] = PG_URL  # the home (keys, evidence, index) would still land in ./var
    for args in (["serve", "--port", "1"], ["worker"], ["bank", "list"], ["demo", "seed"]):
        r = _cli(args, here, env)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert f"{here / 'var'} would be used" in r.stderr and "SURAKSHA_HOME" in r.stderr, r.stderr
        assert list(here.iterdir()) == []
    assert _cli(["--help"], here, env).returncode == 0 and _cli(["bank", "list", "--help"], here, env).returncode == 0
    assert list(here.iterdir()) == []


def test_db_upgrade_creates_a_private_home_here_and_then_commands_run(tmp_path):
    """What `make run` relies on from the repository root: `db upgrade` creates ./var (0700) and the
    database (0600); later commands from the same folder find them."""
    here = tmp_path / "repo"
    here.mkdir()
    env = _clean_env()
    up = _cli(["db", "upgrade"], here, env)
    assert up.returncode == 0, up.stderr
    assert "creating the home folder" in up.stderr and "SURAKSHA_HOME is not set" in up.stderr
    var = here / "var"
    assert _mode(var) == 0o700 and _mode(var / "index") == 0o700 and _mode(var / "suraksha.db") == 0o600
    r = _cli(["bank", "list"], here, env)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    for wal in (var / "suraksha.db-wal", var / "suraksha.db-shm"):
        if wal.exists():
            assert _mode(wal) == 0o600


def test_an_existing_home_and_database_readable_by_others_are_tightened_with_a_warning(tmp_path):
    here = tmp_path / "repo"
    here.mkdir()
    env = _clean_env()
    assert _cli(["db", "upgrade"], here, env).returncode == 0
    var = here / "var"
    os.chmod(var, 0o755)
    os.chmod(var / "suraksha.db", 0o644)
    r = _cli(["bank", "list"], here, env)
    assert r.returncode == 0, r.stderr
    assert _mode(var) == 0o700 and _mode(var / "suraksha.db") == 0o600
    assert f"tightened the permissions of {var}" in r.stderr and "from 0755 to 0700" in r.stderr
    assert "suraksha.db from 0644 to 0600" in r.stderr
    again = _cli(["bank", "list"], here, env)
    assert again.returncode == 0 and "tightened" not in again.stderr


def test_the_home_folder_is_private_on_both_databases(tmp_path, monkeypatch, db_url):
    """The home holds keys, evidence and the index with PostgreSQL too: a command creates it 0700."""
    home = tmp_path / "new-home"
    r = _invoke(["bank", "list"], monkeypatch, SURAKSHA_HOME=str(home), SURAKSHA_DATABASE_URL=db_url)
    assert r.exit_code == 0, r.output
    assert _mode(home) == 0o700
