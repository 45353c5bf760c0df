"""Appeals: a user asks, through the platform, for a decision on their content to be looked at again.

The platform submits the appeal through the API (``POST /v1/appeals``). It becomes a review task in
the ``appeals`` queue that only a reviewer who did not decide the original may take; it ends
**upheld** (the original stands) or **restored** (the item, and the account when its suspension
stood on this item alone, are restored and the user notified, through the outbox like every other
action). One appeal per item. Every step is an audit event that transparency counts
(``appeal.submit``, ``appeal.decide``; see docs/decisions.md "Appeals").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.auth import audit
from suraksha.auth.roles import can
from suraksha.cases.actions import enqueue_decision_actions
from suraksha.cases.models import Appeal, ReviewDecision, ReviewTask
from suraksha.cases.service import APPEAL_QUEUE, Actor, ReviewError, _why_not
from suraksha.cases.settings import get_review_settings
from suraksha.db import session_scope
from suraksha.db.base import utcnow
from suraksha.db.sql import insert_new
from suraksha.errors import Conflict, Forbidden, InvalidInput, NotFound
from suraksha.items.models import Item

OUTCOMES = ("upheld", "restored")
MAX_STATEMENT = 4000
MAX_NOTE = 4000


class AppealNotFound(NotFound):
    pass


@dataclass(frozen=True)
class AppealView:
    id: int
    item_id: int
    platform_item_id: str
    account_id: int | None
    platform_appeal_id: str | None
    statement: str
    submitted_by: str
    submitted_at: dt.datetime
    status: str  # open | upheld | restored
    original_category: str | None
    original_class: str | None
    task_id: int | None
    decided_at: dt.datetime | None
    note: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "item_id": self.item_id,
            "platform_item_id": self.platform_item_id,
            "account_id": self.account_id,
            "platform_appeal_id": self.platform_appeal_id,
            "status": self.status,
            "original_decision": self.original_category,
            "submitted_at": self.submitted_at.isoformat(),
            "decided_at": self.decided_at.isoformat() if self.decided_at else None,
        }


def _view(session: Session, a: Appeal) -> AppealView:
    item = session.get(Item, a.item_id)
    original = session.get(ReviewDecision, a.original_decision_id) if a.original_decision_id else None
    return AppealView(
        id=a.id,
        item_id=a.item_id,
        platform_item_id=item.platform_id if item else "",
        account_id=a.account_id,
        platform_appeal_id=a.platform_appeal_id,
        statement=a.statement,
        submitted_by=a.submitted_by,
        submitted_at=a.submitted_at,
        status=a.status,
        original_category=original.category if original else None,
        original_class=original.industry_class if original else None,
        task_id=a.task_id,
        decided_at=a.decided_at,
        note=a.note,
    )


def _find_item(session: Session, item_id: int | None, platform_item_id: str | None) -> Item:
    if item_id is not None:
        item = session.get(Item, item_id)
    elif platform_item_id:
        item = session.scalar(select(Item).where(Item.platform_id == platform_item_id).order_by(Item.id.desc()).limit(1))
    else:
        raise InvalidInput("give the item: item_id or platform_item_id")
    if item is None:
        raise NotFound(f"item {item_id if item_id is not None else platform_item_id!r} not found")
    return item


def _last_final(session: Session, item_id: int) -> ReviewDecision | None:
    return session.scalar(
        select(ReviewDecision)
        .where(ReviewDecision.item_id == item_id, ReviewDecision.final.is_(True))
        .order_by(ReviewDecision.id.desc())
        .limit(1)
    )


def submit(
    submitted_by: str,
    statement: str,
    *,
    item_id: int | None = None,
    platform_item_id: str | None = None,
    platform_appeal_id: str | None = None,
    session: Session | None = None,
) -> tuple[AppealView, bool]:
    """Record a user's appeal and open its review task; returns (appeal, created). The same
    ``platform_appeal_id`` again returns the first (created False); another appeal of an item that
    has one is refused (``Conflict``): one appeal per item. An item nobody acted on has nothing to
    appeal (``InvalidInput``)."""
    statement = (statement or "").strip()
    if len(statement) > MAX_STATEMENT:
        raise InvalidInput(f"the user's statement is longer than {MAX_STATEMENT} characters")
    if platform_appeal_id is not None and not 0 < len(platform_appeal_id) <= 200:
        raise InvalidInput("platform_appeal_id must be 1-200 characters")
    if session is None:
        with session_scope() as own:
            return _submit(own, submitted_by, statement, item_id, platform_item_id, platform_appeal_id)
    return _submit(session, submitted_by, statement, item_id, platform_item_id, platform_appeal_id)


def _submit(
    session: Session,
    submitted_by: str,
    statement: str,
    item_id: int | None,
    platform_item_id: str | None,
    platform_appeal_id: str | None,
) -> tuple[AppealView, bool]:
    item = _find_item(session, item_id, platform_item_id)
    existing = session.scalar(select(Appeal).where(Appeal.item_id == item.id))
    if existing is not None:
        if platform_appeal_id is not None and existing.platform_appeal_id == platform_appeal_id:
            return _view(session, existing), False
        raise Conflict(f"item {item.id} already has an appeal ({existing.status}); one appeal per item")
    original = _last_final(session, item.id)
    removed_automatically = "remove_item" in (item.actions or [])
    if (original is None or original.category == "not_violating") and not removed_automatically:
        raise InvalidInput(f"nothing to appeal: no decision or action against item {item.id} is on record")
    now = utcnow()
    appeal = Appeal(
        item_id=item.id,
        account_id=item.account_id,
        platform_appeal_id=platform_appeal_id,
        statement=statement,
        submitted_by=submitted_by[:200],
        submitted_at=now,
        status="open",
        original_decision_id=original.id if original else None,
        note="",
    )
    session.add(appeal)
    session.flush()
    task_id = insert_new(
        session,
        ReviewTask.__table__,
        {
            "item_id": item.id,
            "account_id": item.account_id,
            "queue": APPEAL_QUEUE,
            "priority": 0,
            "status": "open",
            "reasons": [f"appeal #{appeal.id}" + (f": {statement[:300]}" if statement else "")],
            "created_at": now,
            "due_at": now + dt.timedelta(minutes=get_review_settings().sla_for(APPEAL_QUEUE)),
        },
        ["item_id", "queue"],
    )
    if task_id is None:  # an appeal task of an earlier, deleted appeal: reuse it
        task = session.scalar(select(ReviewTask).where(ReviewTask.item_id == item.id, ReviewTask.queue == APPEAL_QUEUE))
        if task is None:  # pragma: no cover - the insert only skips when the row exists
            raise Conflict("the appeal's review task could not be opened")
        task.status, task.final_decision_id, task.decided_at = "open", None, None
        task_id = task.id
    appeal.task_id = task_id
    audit.record(
        session,
        submitted_by,
        "appeal.submit",
        "item",
        item.id,
        {
            "appeal_id": appeal.id,
            "task_id": task_id,
            "platform_appeal_id": platform_appeal_id,
            "original_decision_id": appeal.original_decision_id,
            "original_category": original.category if original else None,
        },
    )
    return _view(session, appeal), True


def list_appeals(status: str | None = None, limit: int = 500) -> list[AppealView]:
    if status is not None and status not in ("open", *OUTCOMES):
        raise InvalidInput(f"unknown appeal status {status!r}; use open, upheld or restored")
    with session_scope() as session:
        q = select(Appeal).order_by(Appeal.submitted_at.desc(), Appeal.id.desc()).limit(limit)
        if status:
            q = q.where(Appeal.status == status)
        return [_view(session, a) for a in session.scalars(q).all()]


def get_appeal(appeal_id: int) -> AppealView:
    with session_scope() as session:
        a = session.get(Appeal, appeal_id)
        if a is None:
            raise AppealNotFound(f"appeal {appeal_id} not found")
        return _view(session, a)


def appeal_for_task(task_id: int) -> AppealView | None:
    with session_scope() as session:
        a = session.scalar(select(Appeal).where(Appeal.task_id == task_id))
        return _view(session, a) if a is not None else None


def decide(appeal_id: int, actor: Actor, outcome: str, note: str = "") -> tuple[AppealView, list[str]]:
    """Uphold the original decision or restore the item, by a reviewer who did not decide the
    original; returns the appeal and the actions enqueued (restore, notify_user)."""
    if outcome not in OUTCOMES:
        raise InvalidInput(f"an appeal is upheld or restored, not {outcome!r}")
    note = (note or "").strip()
    if not note:
        raise InvalidInput("say why: the reason is kept with the appeal and in the audit log")
    if len(note) > MAX_NOTE:
        raise InvalidInput(f"the reason is longer than {MAX_NOTE} characters")
    if not can(actor.role, "review.work"):
        raise Forbidden(f"the {actor.role} role does not review appeals")
    with session_scope() as session:
        appeal = session.scalars(select(Appeal).where(Appeal.id == appeal_id).with_for_update()).first()
        if appeal is None:
            raise AppealNotFound(f"appeal {appeal_id} not found")
        if appeal.status != "open":
            raise ReviewError(f"appeal {appeal_id} is already {appeal.status}")
        task = session.get(ReviewTask, appeal.task_id) if appeal.task_id else None
        if task is None:
            raise ReviewError(f"appeal {appeal_id} has no review task")
        why = _why_not(session, task, actor)
        if why:
            raise ReviewError(why)
        original = session.get(ReviewDecision, appeal.original_decision_id) if appeal.original_decision_id else None
        category = "not_violating" if outcome == "restored" else (original.category if original else "other")
        d = ReviewDecision(
            task_id=task.id,
            item_id=appeal.item_id,
            reviewer_id=actor.user_id,
            stage="appeal",
            category=category,
            industry_class=original.industry_class if original is not None and outcome == "upheld" else None,
            annotation=note,
            final=True,
            bank=None,
            bank_result={},
        )
        session.add(d)
        session.flush()
        now = utcnow()
        task.status, task.final_decision_id, task.decided_at = "done", d.id, now
        appeal.status, appeal.decided_by, appeal.decided_at, appeal.note = outcome, actor.user_id, now, note
        acted = (
            enqueue_decision_actions(session, appeal.item_id, d.id, "not_violating", actor.name) if outcome == "restored" else []
        )
        audit.record(
            session,
            actor.name,
            "appeal.decide",
            "item",
            appeal.item_id,
            {
                "appeal_id": appeal.id,
                "outcome": outcome,
                "task_id": task.id,
                "decision_id": d.id,
                "original_decision_id": appeal.original_decision_id,
                "actions": acted,
                "note": note[:200],
            },
        )
        return _view(session, appeal), acted
