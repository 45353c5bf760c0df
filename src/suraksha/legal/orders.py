"""Orders are answered when done: the platform's acknowledgements taken into an order's targets.

A target is done when the platform acknowledged every action requested for it (at the time it
did), or when legal staff recorded an action taken outside Suraksha (``work.record_outside_action``).
The order becomes ``answered`` when every target is done, at the time the last one was; until then
it stays open, so it stays on the deadline dashboard. Here (not in ``work``) because the request
views and the dashboard settle before they read, and ``work`` sits above them.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.db.session import session_scope
from suraksha.enforcement.models import Action
from suraksha.legal import store
from suraksha.legal.models import OPEN_STATUSES, LegalRequest, LegalTarget

EXECUTABLE = ("takedown_order", "blocking_order", "ncii_complaint", "removal_request")


ACTOR_SETTLE = "system:legal-orders"


def settle(session: Session, req: LegalRequest, actor: str = ACTOR_SETTLE) -> bool:
    """Take the platform's acknowledgements into the targets; answer the order when every target is
    done. Returns whether the request is answered now."""
    if req.type not in EXECUTABLE or req.status not in ("in_progress", "approved"):
        return False
    targets = list(session.scalars(select(LegalTarget).where(LegalTarget.request_id == req.id).order_by(LegalTarget.id)))
    if not targets or not isinstance(req.answer, dict) or req.answer.get("kind") != "order_in_progress":
        return False
    waiting = {a for t in targets if t.done_at is None for a in (t.action_ids or ([t.action_id] if t.action_id else []))}
    actions = {a.id: a for a in session.scalars(select(Action).where(Action.id.in_(waiting)))} if waiting else {}
    for t in targets:
        ids = t.action_ids or ([t.action_id] if t.action_id else [])
        if t.done_at is not None or not ids:
            continue
        mine = [actions.get(a) for a in ids]
        if all(a is not None and a.status == "acknowledged" and a.acknowledged_at for a in mine):
            t.done_at = max(a.acknowledged_at for a in mine if a is not None and a.acknowledged_at is not None)
            t.done_source, t.done_by = "platform", "platform connector"
            t.outcome = f"{len(ids)} {t.action_kind} action(s) acknowledged by the platform"
            store.event(session, req, actor, "order.target_done", {"target": t.value, "source": "platform", "actions": ids})
        elif any(a is not None and a.status == "dead" for a in mine):
            t.outcome = (
                f"delivery of {t.action_kind} failed (dead-lettered); retry it under Enforcement or record the action "
                "taken on the platform"
            )
    open_targets = [t for t in targets if t.done_at is None]
    if open_targets:
        unknown = sum(1 for t in open_targets if not (t.action_ids or t.action_id))
        req.status_reason = f"{len(open_targets)} of {len(targets)} target(s) not done yet" + (
            f" ({unknown} not known to Suraksha: record the action taken on the platform)" if unknown else ""
        )
        return False
    finished = max(t.done_at for t in targets if t.done_at is not None)
    answer = dict(req.answer)
    answer.update(
        {
            "kind": "order_executed",
            "executed_at": finished,
            "targets_done": [
                {"kind": t.kind, "value": t.value, "done_at": t.done_at, "source": t.done_source, "by": t.done_by}
                for t in targets
            ],
            "complete": True,
        }
    )
    req.answer = store.jsonable(answer)
    req.status, req.answered_at, req.status_reason = "answered", finished, None
    store.event(session, req, actor, "order.executed", {"targets": len(targets), "done_at": finished.isoformat()})
    return True


def settle_orders(*, session: Session | None = None) -> int:
    """Settle every open order waiting on the platform; returns how many became answered."""
    if session is None:
        with session_scope() as own:
            return settle_orders(session=own)
    reqs = session.scalars(
        select(LegalRequest).where(LegalRequest.status.in_(OPEN_STATUSES), LegalRequest.type.in_(EXECUTABLE))
    ).all()
    return sum(1 for req in reqs if settle(session, req))
