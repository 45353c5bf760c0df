"""The read side of the actions list (``/actions``): a filtered page with a total.

Filters: status, kind, account, item, dead letters only (``alert``), and a period on the time
the action was requested. The detail (every delivery attempt) is ``actions.get_action``; the retry of
a dead letter is ``actions.retry_action`` (audited there).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from suraksha.db import unit_of_work
from suraksha.db.sql import check_page, within_period
from suraksha.enforcement.actions import ActionError, ActionView, _view, action_kind
from suraksha.enforcement.models import ACTION_STATUSES, Action, ActionItem
from suraksha.errors import InvalidInput

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class ActionFilter:
    status: str | None = None
    kind: str | None = None
    account_id: int | None = None
    item_id: int | None = None
    dead_letters: bool = False
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in ACTION_STATUSES:
            raise ActionError(f"unknown status {self.status!r}; expected one of {', '.join(ACTION_STATUSES)}")
        if self.kind is not None:
            action_kind(self.kind)
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} must carry a time zone")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("the period's start must be before its end")


@dataclass(frozen=True)
class ActionPage:
    actions: list[ActionView]
    total: int
    limit: int
    offset: int
    counts: dict[str, int] = field(default_factory=dict)  # per status, whatever the filters


def _where(stmt: Select[Any], f: ActionFilter) -> Select[Any]:
    if f.status:
        stmt = stmt.where(Action.status == f.status)
    if f.kind:
        stmt = stmt.where(Action.kind == action_kind(f.kind).value)
    if f.account_id is not None:
        stmt = stmt.where(Action.account_id == f.account_id)
    if f.item_id is not None:
        stmt = stmt.where(
            or_(Action.item_id == f.item_id, Action.id.in_(select(ActionItem.action_id).where(ActionItem.item_id == f.item_id)))
        )
    if f.dead_letters:
        stmt = stmt.where(Action.alert.is_(True))
    return within_period(stmt, Action.created_at, f.since, f.until)


def action_page(
    filters: ActionFilter | None = None, *, limit: int = 50, offset: int = 0, session: Session | None = None
) -> ActionPage:
    """Newest first, with the total that match and the count per status of all actions."""
    f = filters or ActionFilter()
    check_page(limit, offset, MAX_PAGE_SIZE)
    with unit_of_work(session) as s:
        total = s.scalar(_where(select(func.count()).select_from(Action), f)) or 0
        rows = s.scalars(_where(select(Action), f).order_by(Action.id.desc()).limit(limit).offset(offset)).all()
        counts = {str(k): int(v) for k, v in s.execute(select(Action.status, func.count()).group_by(Action.status)).all()}
        return ActionPage([_view(a) for a in rows], int(total), limit, offset, counts)
