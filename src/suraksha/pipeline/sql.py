"""What differs between SQLite and PostgreSQL, behind one call each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from suraksha.db import get_engine


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


_autocommit: dict[str, Engine] = {}


def autocommit_engine() -> Engine:
    """The engine in autocommit mode, for a statement that is a whole transaction on its own
    (PostgreSQL: saves the BEGIN and COMMIT round trips; same pool, nothing else changes)."""
    engine = get_engine()
    if _autocommit.get("base") is not engine:
        _autocommit.clear()
        _autocommit.update(base=engine, autocommit=engine.execution_options(isolation_level="AUTOCOMMIT"))
    return _autocommit["autocommit"]


def insert_ignoring_conflicts(session: Session, table: Any, rows: list[dict[str, Any]], conflict_cols: list[str]) -> Any:
    """``INSERT ... ON CONFLICT (cols) DO NOTHING`` on both backends; returns the result."""
    if dialect_name(session) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return session.execute(insert(table).on_conflict_do_nothing(index_elements=conflict_cols), rows)


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive UTC datetimes; make every datetime we return timezone-aware."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.timezone.utc)
    return value
