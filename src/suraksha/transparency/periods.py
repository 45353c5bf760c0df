"""Reporting periods: parse the asked range, check it, and cut it into months, quarters or years.

Periods are calendar periods in one time zone (the jurisdiction's when one is asked for, so an
Indian monthly report runs from midnight IST on the 1st; UTC otherwise). They are computed here,
in Python, and handed to SQL as UTC instants: ``date_trunc`` exists on PostgreSQL but not on
SQLite, and neither would truncate in the jurisdiction's zone the same way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from suraksha.errors import InvalidInput

Granularity = Literal["month", "quarter", "year"]
GRANULARITIES: tuple[str, ...] = ("month", "quarter", "year")

#: The earliest day accepted: nothing in a child-safety system predates the web at large.
EARLIEST = dt.date(1990, 1, 1)
#: The longest range a report may cover (a commission asks about years, not centuries).
MAX_YEARS = 30


class PeriodError(InvalidInput):
    """The range or granularity asked for cannot be used (the message says why)."""


@dataclass(frozen=True)
class Period:
    """One calendar period ``[start, end)``; ``label`` is ``2024-03``, ``2024-Q1`` or ``2024``."""

    label: str
    start: dt.datetime  # aware, in the report's zone
    end: dt.datetime

    @property
    def start_utc(self) -> dt.datetime:
        return self.start.astimezone(dt.UTC)

    @property
    def end_utc(self) -> dt.datetime:
        return self.end.astimezone(dt.UTC)


def parse_day(value: str | dt.date, name: str) -> dt.date:
    """A calendar day from ``YYYY-MM-DD`` (or a date); a clear error otherwise."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = (value or "").strip()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise PeriodError(f"{name} {value!r} is not a date; use YYYY-MM-DD (e.g. 2022-01-01)") from None


def check_range(start: dt.date, end: dt.date, *, today: dt.date | None = None) -> None:
    """Refuse ranges that cannot be meant: reversed, before 1990, in the future, longer than 30 years."""
    today = today or dt.date.today()
    if end < start:
        raise PeriodError(f"'to' ({end.isoformat()}) is before 'from' ({start.isoformat()})")
    if start < EARLIEST:
        raise PeriodError(f"'from' ({start.isoformat()}) is before {EARLIEST.isoformat()}; no records go back that far")
    if start > today:
        raise PeriodError(f"'from' ({start.isoformat()}) is in the future (today is {today.isoformat()})")
    if end.year - start.year > MAX_YEARS:
        raise PeriodError(f"the range {start.isoformat()}..{end.isoformat()} is longer than {MAX_YEARS} years")
    if end > dt.date(today.year + 1, 12, 31):
        raise PeriodError(f"'to' ({end.isoformat()}) is too far in the future")


def check_granularity(by: str) -> Granularity:
    if by not in GRANULARITIES:
        raise PeriodError(f"'by' must be one of {', '.join(GRANULARITIES)}, not {by!r}")
    return by  # type: ignore[return-value]


def _period_start(day: dt.date, by: Granularity) -> dt.date:
    if by == "year":
        return dt.date(day.year, 1, 1)
    if by == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, day.month, 1)


def _next_start(day: dt.date, by: Granularity) -> dt.date:
    months = {"month": 1, "quarter": 3, "year": 12}[by]
    n = day.year * 12 + (day.month - 1) + months
    return dt.date(n // 12, n % 12 + 1, 1)


def _label(day: dt.date, by: Granularity) -> str:
    if by == "year":
        return f"{day.year}"
    if by == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def _midnight(day: dt.date, zone: ZoneInfo) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=zone)


def split(start: dt.date, end: dt.date, by: Granularity, zone: ZoneInfo) -> list[Period]:
    """The periods covering ``start`` .. ``end`` (both days included).

    The first and last period are clipped to the range, so ``2022-01-15 .. 2022-03-10`` by month
    gives ``2022-01`` (from the 15th), ``2022-02`` and ``2022-03`` (to the end of the 10th).
    """
    out: list[Period] = []
    stop = end + dt.timedelta(days=1)
    cursor = start
    while cursor < stop:
        nxt = min(_next_start(_period_start(cursor, by), by), stop)
        out.append(Period(_label(cursor, by), _midnight(cursor, zone), _midnight(nxt, zone)))
        cursor = nxt
    return out
