"""One cursor pagination style for every list the API answers (issue 14.2).

A list takes ``?limit=`` (1-500, default 50) and ``?cursor=`` and answers
``{"<things>": [...], "next_cursor": "..." | null}``, newest first. ``next_cursor`` is opaque: it
holds the last row's key and a digest of the filters, so a page after the first comes from the
same query, rows added meanwhile never shift a page (keyset, not offset), and a cursor sent with
other filters is refused (400) rather than silently answering another list.

The read queries of items, actions, reports and appeals are here, on the areas' own filters,
models and views; each is a keyset page on the table's id.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from suraksha.db import session_scope
from suraksha.errors import InvalidInput

MAX_LIMIT = 500
DEFAULT_LIMIT = 50
T = TypeVar("T")


class BadCursor(InvalidInput):
    """A cursor that is not one of ours, or was made for other filters."""


def _digest(filters: dict[str, Any]) -> str:
    text = json.dumps(filters, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(key: Any, filters: dict[str, Any]) -> str:
    raw = json.dumps({"k": key, "f": _digest(filters)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, filters: dict[str, Any]) -> Any:
    """The key a cursor holds (None without one); BadCursor when it is not ours or the filters changed."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        key, digest = data["k"], data["f"]
    except (ValueError, KeyError, TypeError):
        raise BadCursor("cursor is not valid: pass back next_cursor exactly as it was given") from None
    if digest != _digest(filters):
        raise BadCursor("cursor was made for other filters: start again without a cursor")
    return key


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be from 1 to {MAX_LIMIT}")
    return limit


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next_cursor: str | None


def keyset_page(
    session: Session,
    stmt: Select[Any],
    id_column: Any,
    *,
    limit: int,
    cursor: str | None,
    filters: dict[str, Any],
    view: Callable[[Sequence[Any]], list[T]],
) -> Page[T]:
    """Newest first by ``id_column``; one row more than asked tells whether there is a next page."""
    check_limit(limit)
    before = decode_cursor(cursor, filters)
    if before is not None:
        if not isinstance(before, int) or isinstance(before, bool):
            raise BadCursor("cursor is not valid: pass back next_cursor exactly as it was given")
        stmt = stmt.where(id_column < before)
    rows = list(session.scalars(stmt.order_by(id_column.desc()).limit(limit + 1)).all())
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = encode_cursor(int(rows[-1].id), filters) if more and rows else None
    return Page(view(rows), nxt)


def _aware(name: str, value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        raise InvalidInput(f"{name} must carry a time zone (e.g. 2026-12-01T00:00:00Z)")
    return value


# ------------------------------------------------------------------------------------ items
ITEM_STATUSES = ("queued", "scanning", "done", "failed")


def item_summary(i: Any) -> dict[str, Any]:
    return {
        "id": i.id,
        "platform": i.platform,
        "platform_id": i.platform_id,
        "account_id": i.account_id,
        "kind": i.kind,
        "status": i.status,
        "verdict": i.verdict,
        "rule": i.rule,
        "created_at": i.created_at.isoformat() if i.created_at else None,
        "received_at": i.received_at.isoformat() if i.received_at else None,
        "scanned_at": i.scanned_at.isoformat() if i.scanned_at else None,
    }


def item_page(
    *,
    status: str | None = None,
    verdict: str | None = None,
    platform: str | None = None,
    platform_id: str | None = None,
    account_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    session: Session | None = None,
) -> Page[dict[str, Any]]:
    """Items newest first (by id), filtered; ``since``/``until`` bound the time received."""
    from suraksha.items.models import Item

    if status is not None and status not in ITEM_STATUSES:
        raise InvalidInput(f"unknown status {status!r}; expected one of {', '.join(ITEM_STATUSES)}")
    _aware("since", since)
    _aware("until", until)
    filters = {
        "status": status,
        "verdict": verdict,
        "platform": platform,
        "platform_id": platform_id,
        "account_id": account_id,
        "since": since.isoformat() if since else None,
        "until": until.isoformat() if until else None,
    }
    stmt = select(Item)
    if status:
        stmt = stmt.where(Item.status == status)
    if verdict:
        stmt = stmt.where(Item.verdict == verdict)
    if platform:
        stmt = stmt.where(Item.platform == platform)
    if platform_id:
        stmt = stmt.where(Item.platform_id == platform_id)
    if account_id is not None:
        stmt = stmt.where(Item.account_id == account_id)
    if since is not None:
        stmt = stmt.where(Item.received_at >= since.astimezone(dt.UTC))
    if until is not None:
        stmt = stmt.where(Item.received_at < until.astimezone(dt.UTC))
    with _unit(session) as s:
        return keyset_page(
            s, stmt, Item.id, limit=limit, cursor=cursor, filters=filters, view=lambda rows: [item_summary(i) for i in rows]
        )


# ------------------------------------------------------------------------------------ actions
def action_page(filters: Any, *, limit: int, cursor: str | None, session: Session | None = None) -> Page[Any]:
    """Actions newest first, on enforcement's own filter (``ActionFilter``) and view."""
    from suraksha.enforcement import listing
    from suraksha.enforcement.actions import _view
    from suraksha.enforcement.models import Action

    stmt = listing._where(select(Action), filters)
    with _unit(session) as s:
        return keyset_page(
            s, stmt, Action.id, limit=limit, cursor=cursor, filters=_fields(filters), view=lambda rows: [_view(a) for a in rows]
        )


# ------------------------------------------------------------------------------------ reports
def report_page(filters: Any, *, limit: int, cursor: str | None, session: Session | None = None) -> Page[Any]:
    """Reports newest first, on reporting's own filter (``ReportFilter``) and view."""
    from suraksha.reporting import listing, service
    from suraksha.reporting.models import Report

    stmt = listing._where(select(Report), filters)
    with _unit(session) as s:

        def views(rows: Sequence[Any]) -> list[Any]:
            ids = service._item_ids(s, list(rows))
            return [service._view(r, item_ids=ids[r.id]) for r in rows]

        return keyset_page(s, stmt, Report.id, limit=limit, cursor=cursor, filters=_fields(filters), view=views)


# ------------------------------------------------------------------------------------ appeals
APPEAL_STATUSES = ("open", "upheld", "restored")


def appeal_page(
    *,
    status: str | None = None,
    item_id: int | None = None,
    account_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    cursor: str | None = None,
    session: Session | None = None,
) -> Page[dict[str, Any]]:
    from suraksha.cases.appeals import _view
    from suraksha.cases.models import Appeal

    if status is not None and status not in APPEAL_STATUSES:
        raise InvalidInput(f"unknown appeal status {status!r}; use open, upheld or restored")
    stmt = select(Appeal)
    if status:
        stmt = stmt.where(Appeal.status == status)
    if item_id is not None:
        stmt = stmt.where(Appeal.item_id == item_id)
    if account_id is not None:
        stmt = stmt.where(Appeal.account_id == account_id)
    filters = {"status": status, "item_id": item_id, "account_id": account_id}
    with _unit(session) as s:
        return keyset_page(
            s,
            stmt,
            Appeal.id,
            limit=limit,
            cursor=cursor,
            filters=filters,
            view=lambda rows: [_view(s, a).to_dict() for a in rows],
        )


# ------------------------------------------------------------------------------------ helpers
def offset_cursor(cursor: str | None, filters: dict[str, Any]) -> int:
    """For lists computed on each call (network groups), the cursor holds the position."""
    key = decode_cursor(cursor, filters)
    if key is None:
        return 0
    if not isinstance(key, int) or isinstance(key, bool) or key < 0:
        raise BadCursor("cursor is not valid: pass back next_cursor exactly as it was given")
    return key


def _fields(filters: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in asdict(filters).items()}


class _unit:
    """Join the caller's unit of work, or open (and commit) one."""

    def __init__(self, session: Session | None) -> None:
        self.session = session
        self._cm: Any = None

    def __enter__(self) -> Session:
        if self.session is not None:
            return self.session
        self._cm = session_scope()
        return cast(Session, self._cm.__enter__())

    def __exit__(self, *exc: Any) -> None:
        if self._cm is not None:
            self._cm.__exit__(*exc)
