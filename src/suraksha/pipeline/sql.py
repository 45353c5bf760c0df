"""The two statements that differ between SQLite and PostgreSQL, behind one call each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


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
