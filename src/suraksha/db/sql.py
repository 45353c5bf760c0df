"""What differs between SQLite and PostgreSQL, behind one call each.

In ``db`` because every area writes rows that may already exist (outbox messages, actions, reports,
notifications) and the outbox, which sits above the pipeline, needs them too.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, Engine, Select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suraksha.db.session import get_engine
from suraksha.errors import InvalidInput


def dialect_name(session: Session | Connection) -> str:
    """The backend of an ORM session or of a Core connection."""
    return session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name


_autocommit: dict[str, Engine] = {}


def autocommit_engine() -> Engine:
    """The engine in autocommit mode, for a statement that is a whole transaction on its own
    (PostgreSQL: saves the BEGIN and COMMIT round trips; same pool, nothing else changes)."""
    engine = get_engine()
    if _autocommit.get("base") is not engine:
        _autocommit.clear()
        _autocommit.update(base=engine, autocommit=engine.execution_options(isolation_level="AUTOCOMMIT"))
    return _autocommit["autocommit"]


_ignoring: dict[tuple[str, str, tuple[str, ...]], Any] = {}


def insert_ignoring_conflicts(
    session: Session | Connection, table: Any, rows: list[dict[str, Any]], conflict_cols: list[str]
) -> Any:
    """``INSERT ... ON CONFLICT (cols) DO NOTHING`` on both backends; returns the result.
    The statement is built once per dialect, table and columns (building it cost more than running it)."""
    key = (dialect_name(session), table.name, tuple(conflict_cols))
    if key not in _ignoring:
        insert = postgresql.insert if key[0] == "postgresql" else sqlite.insert
        _ignoring[key] = insert(table).on_conflict_do_nothing(index_elements=conflict_cols)
    return session.execute(_ignoring[key], rows)


def insert_new(session: Session, table: Any, row: dict[str, Any], conflict_cols: list[str]) -> int | None:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id``: the new id, or None when the row existed.
    (RETURNING, not rowcount: psycopg reports -1 for a conflicting insert that did nothing.)"""
    dialect_insert = postgresql.insert if dialect_name(session) == "postgresql" else sqlite.insert
    stmt = dialect_insert(table).values(**row).on_conflict_do_nothing(index_elements=conflict_cols).returning(table.c.id)
    return session.execute(stmt).scalar_one_or_none()


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive UTC datetimes; make every datetime we return timezone-aware."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


def check_page(limit: int, offset: int, max_size: int) -> None:
    """The one check of an offset page's bounds (the workspace's audit, action and report lists)."""
    if not 1 <= limit <= max_size:
        raise InvalidInput(f"page size must be from 1 to {max_size}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")


def within_period(stmt: Select[Any], column: Any, since: dt.datetime | None, until: dt.datetime | None) -> Select[Any]:
    """``stmt`` limited to rows whose ``column`` lies in ``[since, until)`` (either end open)."""
    if since is not None:
        stmt = stmt.where(column >= since.astimezone(dt.UTC))
    if until is not None:
        stmt = stmt.where(column < until.astimezone(dt.UTC))
    return stmt
