"""Pooled PostgreSQL connections: pinged only after sitting idle, and a dead one is replaced unseen."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from suraksha.db import get_engine, session

pytestmark = pytest.mark.postgres


def _backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar()


def _terminate(pid: int) -> None:
    from sqlalchemy import create_engine
    from tests.conftest import PG_URL

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def _pings(engine, monkeypatch) -> list:
    calls = []
    real = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda conn: calls.append(1) or real(conn))
    return calls


def test_a_connection_used_a_moment_ago_is_not_pinged(db_url, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL pool")
    engine = get_engine()
    _backend_pid(engine)
    pings = _pings(engine, monkeypatch)
    for _ in range(5):
        _backend_pid(engine)
    assert pings == []  # no extra round trip per statement


def test_a_connection_killed_while_idle_is_replaced_without_an_error(db_url, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("PostgreSQL pool")
    engine = get_engine()
    pid = _backend_pid(engine)
    _terminate(pid)  # the server (or a proxy's idle timeout) closes the pooled connection
    monkeypatch.setattr(session, "PING_AFTER_IDLE_SECONDS", 0.0)
    pings = _pings(engine, monkeypatch)
    new_pid = _backend_pid(engine)  # checked out after "idling": pinged, found dead, reconnected
    assert new_pid != pid and pings
