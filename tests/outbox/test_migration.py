"""The outbox table changed owner (pipeline's p0001 -> the outbox's own branch, o0001) without being
recreated: a database migrated before the change upgrades with its messages intact, a new one gets
the table from o0001. Both databases."""

from __future__ import annotations

import uuid

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text
from tests.conftest import PG_URL
from typer.testing import CliRunner

from suraksha.config import reset_settings
from suraksha.db.session import reset_engine

BACKENDS = [pytest.param("sqlite", id="sqlite")]
if PG_URL:
    BACKENDS.append(pytest.param("postgresql", id="pg", marks=pytest.mark.postgres))


@pytest.fixture(params=BACKENDS)
def empty_db(request, tmp_path, monkeypatch):
    """A never migrated database (a SQLite file to be, or a new PostgreSQL database); the settings
    point at it."""
    monkeypatch.setenv("SURAKSHA_HOME", str(tmp_path / "home"))
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
        monkeypatch.setenv("SURAKSHA_DATABASE_URL", url)
        reset_settings()
        reset_engine()
        yield url
        reset_engine()
        reset_settings()
        return
    name = f"suraksha_outbox_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    monkeypatch.setenv("SURAKSHA_DATABASE_URL", url)
    reset_settings()
    reset_engine()
    yield url
    reset_engine()
    reset_settings()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migrate_as_before_the_outbox_branch(url: str) -> None:
    """The state of a database migrated by the release before o0001: every other head applied, and
    the outbox table as p0001 created it then (the same DDL as the model and o0001)."""
    from suraksha.db.migrate import alembic_config, upgrade
    from suraksha.outbox.models import OutboxMessage

    script = ScriptDirectory.from_config(alembic_config(url))
    heads = [h for h in script.get_heads() if h != "o0001"]
    assert len(heads) == len(script.get_heads()) - 1, "o0001 is a head of its own branch"
    for head in heads:
        upgrade(url, head)
    engine = create_engine(url)
    with engine.begin() as conn:
        OutboxMessage.__table__.create(conn)
        conn.execute(
            text(
                "INSERT INTO outbox_messages (topic, dedupe_key, item_id, payload, status, attempts, "
                "next_attempt_at, created_at) VALUES ('action', '7:action:remove', 7, :p, 'pending', 0, "
                "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            ),
            {"p": '{"action": "remove"}'},
        )
    engine.dispose()


def _versions(url: str) -> set[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    return found


def test_db_upgrade_on_a_database_at_the_old_heads_keeps_the_outbox_and_its_messages(empty_db):
    from suraksha.cli import app
    from suraksha.db.migrate import schema_state

    url = empty_db
    _migrate_as_before_the_outbox_branch(url)
    assert "o0001" not in _versions(url)
    assert schema_state(url).missing == {"o0001"}  # the start-up check asks for `db upgrade`

    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "o0001" in _versions(url)
    assert schema_state(url).up_to_date
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT dedupe_key, status, item_id FROM outbox_messages")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("7:action:remove", "pending", 7)]


def test_a_new_database_gets_the_outbox_table_from_the_outbox_branch_and_loses_it_on_downgrade(empty_db):
    from alembic import command

    from suraksha.db.migrate import alembic_config, upgrade

    url = empty_db
    upgrade(url)
    engine = create_engine(url)
    assert "outbox_messages" in inspect(engine).get_table_names()
    indexes = {i["name"] for i in inspect(engine).get_indexes("outbox_messages")}
    assert {"ix_outbox_messages_dispatch", "ix_outbox_messages_item_id", "ix_outbox_messages_account_id"} <= indexes
    engine.dispose()

    command.downgrade(alembic_config(url), "outbox@base")
    engine = create_engine(url)
    names = inspect(engine).get_table_names()
    engine.dispose()
    assert "outbox_messages" not in names and "items" in names  # the pipeline's tables stay
