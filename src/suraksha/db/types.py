"""Column types every area shares: one ``BigId`` and one timezone-aware datetime.

``UtcDateTime`` is the only datetime column type: PostgreSQL stores ``timestamptz``; SQLite has no
time zones and hands back naive values, which this type marks as UTC on the way out (they were
stored as UTC on the way in). Code that reads a datetime column therefore always gets an aware
value on both databases and never needs its own "make it aware" fix.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware datetime, stored in UTC.

    A naive value written is taken as UTC, which is what SQLite did with it before this type
    existed (PostgreSQL would have read it in the session's zone, which is UTC here).
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                return value.replace(tzinfo=dt.UTC)
            return value.astimezone(dt.UTC)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value
