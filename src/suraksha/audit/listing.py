"""Read the audit log: filter, page and export events (the web page ``/audit`` and ``suraksha audit
list|export`` both call this; neither writes its own query).

Filters, all optional and combined with AND:

- ``actor``: ``user:asha``, ``api_key:12``, ``system:purge`` or a bare user name (``asha``);
- ``kind``: an action (``item.view``) or a family ending in a dot or star (``item.`` / ``item.*``);
- ``target``: an object type (``item``) or a type and id (``item:42``);
- ``since`` / ``until``: an aware period, ``since`` inclusive, ``until`` exclusive.

Pages are newest first with a total, so a reader knows how many there are. An export streams the
matching events oldest first (the chain's order) in batches, as CSV or JSON Lines, and is itself
an audit event (``audit.export``) booked before the first line is produced.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from suraksha.audit.log import ACTOR_TYPES, Actor, record
from suraksha.audit.models import AuditEvent
from suraksha.db import session_scope, unit_of_work
from suraksha.db.sql import check_page, within_period
from suraksha.errors import InvalidInput

MAX_PAGE_SIZE = 500
EXPORT_BATCH = 1000
ExportFormat = Literal["csv", "jsonl"]
EXPORT_FORMATS: tuple[str, ...] = ("csv", "jsonl")
CSV_COLUMNS = ("seq", "at", "actor", "action", "object_type", "object_id", "ip", "details", "hash")


@dataclass(frozen=True)
class AuditFilter:
    """Which events: each field narrows the set; empty fields match everything."""

    actor: str | None = None
    kind: str | None = None
    target: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        for name in ("actor", "kind", "target"):
            value = getattr(self, name)
            if value is not None and len(value) > 250:
                raise InvalidInput(f"{name} filter is too long (at most 250 characters)")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} must carry a time zone")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("the period's start must be before its end")

    def describe(self) -> dict[str, str]:
        """The filters in use, for an export's own audit event and for page links."""
        out: dict[str, str] = {}
        for name in ("actor", "kind", "target"):
            value = getattr(self, name)
            if value:
                out[name] = value
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.astimezone(dt.UTC).isoformat()
        return out


@dataclass(frozen=True)
class EventRow:
    """One event as readers see it (no ORM object leaves the unit of work)."""

    seq: int
    at: dt.datetime
    actor_type: str
    actor: str
    action: str
    object_type: str | None
    object_id: str | None
    details: dict[str, Any]
    ip: str | None
    hash: str

    @property
    def who(self) -> str:
        return f"{self.actor_type}:{self.actor}"

    @property
    def target(self) -> str:
        if self.object_type is None:
            return ""
        return f"{self.object_type}:{self.object_id}" if self.object_id is not None else self.object_type

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.astimezone(dt.UTC).isoformat(),
            "actor": self.who,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "ip": self.ip,
            "details": self.details,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class EventPage:
    events: list[EventRow]
    total: int
    limit: int
    offset: int
    filters: AuditFilter = field(default_factory=AuditFilter)

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.events) < self.total


# Columns, not ORM objects: an export of 200,000 events spent most of its time building and
# reading mapped instances (benchmarks/bench_workspace_lists.py).
_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.at,
    AuditEvent.actor_type,
    AuditEvent.actor,
    AuditEvent.action,
    AuditEvent.object_type,
    AuditEvent.object_id,
    AuditEvent.details,
    AuditEvent.ip,
    AuditEvent.hash,
)


def _row(r: Any) -> EventRow:
    seq, at, actor_type, actor, action, object_type, object_id, details, ip, digest = r
    return EventRow(
        seq=seq,
        at=at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC),
        actor_type=actor_type,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=dict(details or {}),
        ip=ip,
        hash=digest,
    )


def _where(stmt: Select[Any], f: AuditFilter) -> Select[Any]:
    if f.actor:
        kind, sep, rest = f.actor.partition(":")
        if sep and kind in ACTOR_TYPES:
            stmt = stmt.where(AuditEvent.actor_type == kind, AuditEvent.actor == rest)
        else:
            stmt = stmt.where(AuditEvent.actor == f.actor)
    if f.kind:
        kind = f.kind.strip()
        if kind.endswith("*"):
            kind = kind[:-1]
        if kind.endswith("."):
            escaped = kind.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(AuditEvent.action.like(escaped + "%", escape="\\"))
        else:
            stmt = stmt.where(AuditEvent.action == kind)
    if f.target:
        otype, sep, oid = f.target.strip().partition(":")
        stmt = stmt.where(AuditEvent.object_type == otype)
        if sep and oid:
            stmt = stmt.where(AuditEvent.object_id == oid)
    return within_period(stmt, AuditEvent.at, f.since, f.until)


def list_events(
    filters: AuditFilter | None = None, *, limit: int = 50, offset: int = 0, session: Session | None = None
) -> EventPage:
    """One page of matching events, newest first, with the total that match."""
    f = filters or AuditFilter()
    check_page(limit, offset, MAX_PAGE_SIZE)
    with unit_of_work(session) as s:
        total = s.scalar(_where(select(func.count()).select_from(AuditEvent), f)) or 0
        rows = s.execute(_where(select(*_COLUMNS), f).order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)).all()
        return EventPage(events=[_row(r) for r in rows], total=int(total), limit=limit, offset=offset, filters=f)


def iter_events(filters: AuditFilter | None = None, *, session: Session | None = None) -> Iterator[EventRow]:
    """Every matching event, oldest first, read in batches by ``seq`` (constant memory)."""
    f = filters or AuditFilter()
    after = 0
    while True:
        with unit_of_work(session) as s:
            stmt = _where(select(*_COLUMNS), f).where(AuditEvent.seq > after).order_by(AuditEvent.seq).limit(EXPORT_BATCH)
            batch = [_row(r) for r in s.execute(stmt).all()]
        if not batch:
            return
        yield from batch
        after = batch[-1].seq
        if len(batch) < EXPORT_BATCH:
            return


def _csv_line(values: list[Any]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue()


def _neutralise(value: str) -> str:
    """A cell a spreadsheet would run as a formula is prefixed with a quote (CSV injection)."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def format_lines(events: Iterator[EventRow], fmt: ExportFormat) -> Iterator[str]:
    """CSV (with a header) or JSON Lines, one event per line."""
    if fmt == "jsonl":
        for e in events:
            yield json.dumps(e.as_dict(), sort_keys=True, ensure_ascii=False) + "\n"
        return
    yield _csv_line(list(CSV_COLUMNS))
    for e in events:
        d = e.as_dict()
        d["details"] = json.dumps(e.details, sort_keys=True, ensure_ascii=False)
        yield _csv_line([_neutralise("" if d[c] is None else str(d[c])) for c in CSV_COLUMNS])


def export_events(
    filters: AuditFilter | None, fmt: str, actor: Actor | str, *, ip: str | None = None, via: str = "web"
) -> Iterator[str]:
    """Book the export (``audit.export``, with its filters and format) and return its lines.

    The event is committed before any line is produced, so an export the reader abandons is still
    on record; the export includes its own event when the filters match it."""
    if fmt not in EXPORT_FORMATS:
        raise InvalidInput(f"export format must be one of {', '.join(EXPORT_FORMATS)}, not {fmt!r}")
    f = filters or AuditFilter()
    with session_scope() as s:
        record(s, actor, "audit.export", "audit_log", None, {"format": fmt, "filters": f.describe(), "via": via}, ip=ip)
    return format_lines(iter_events(f), fmt)  # type: ignore[arg-type]


def summarise(details: dict[str, Any], width: int = 160) -> list[tuple[str, str]]:
    """Details as readable ``(key, value)`` pairs (nested values as compact JSON, long ones cut)."""
    out: list[tuple[str, str]] = []
    for key in sorted(details):
        value = details[key]
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
        out.append((str(key), text if len(text) <= width else text[: width - 1] + "…"))
    return out


def parse_moment(text: str | None, zone: dt.tzinfo, *, end: bool = False) -> dt.datetime | None:
    """``2026-12-01`` (a whole day in ``zone``: its start, or with ``end`` the next day's start),
    ``2026-12-01T20:15`` (in ``zone``) or an ISO time with its own offset; None for empty text."""
    if text is None or not text.strip():
        return None
    raw = text.strip()
    if len(raw) > 40:
        raise InvalidInput("a time must be a date (2026-12-01) or an ISO time (2026-12-01T20:15)")
    try:
        if len(raw) == 10:
            day = dt.date.fromisoformat(raw)
            if end:
                day = day + dt.timedelta(days=1)
            return dt.datetime.combine(day, dt.time(), tzinfo=zone)
        moment = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(f"not a date or time: {raw!r} (use 2026-12-01 or 2026-12-01T20:15)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)
