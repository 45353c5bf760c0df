"""What people's calls do on the platform: a final decision's actions, and a person's own remove,
suspend, restore and report from the item and account pages.

Everything goes through the outbox, the same path a scan's verdict takes (``pipeline.scan``):
``action`` messages become actions to the platform (``enforcement.actions.take_action_message``),
``preserve`` messages evidence copies, ``report`` messages draft reports
(``reporting.service.take_report_message``), all written in the deciding transaction, so a decision
on record always has its actions on record, and a crash loses neither.

A final decision takes the policy's actions for its category (``policy.decisions``): remove,
suspend, preserve, and a report to each authority the item's country requires. A final "not
violating" on an item that was actioned automatically (its verdict removed it, or an action removed
it or suspended its account) restores it and notifies its user; the account is restored only when
every item its suspension stands on is now decided not violating.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.auth import audit
from suraksha.auth.roles import can
from suraksha.db import session_scope
from suraksha.errors import Forbidden, InvalidInput, NotFound
from suraksha.items.models import Account, Item
from suraksha.outbox import OutboxMessage, enqueue
from suraksha.policy.actions import REPORT_DESTINATIONS, ActionKind, ActionRequest

#: The permission that lets a person remove, suspend, restore and report from the pages.
ACT_PERMISSION = "items.act"
MANUAL_KINDS = (ActionKind.REMOVE_ITEM, ActionKind.SUSPEND_ACCOUNT, ActionKind.RESTORE, ActionKind.REPORT)
NOTICE_RESTORED = "After review, your content was found not to break the rules and has been restored."
MAX_REASON = 2000


def decision_policy() -> Any:
    """The policy in force (``SURAKSHA_POLICY_PATH`` or the shipped default)."""
    from suraksha.pipeline.settings import get_pipeline_settings
    from suraksha.policy import default_policy, load_policy

    path = get_pipeline_settings().policy_path
    return load_policy(path) if path else default_policy()


def _base(item: Item, account: Account | None, why: str, actor: str, source: str) -> dict[str, Any]:
    return {
        "item_id": item.id,
        "platform_id": item.platform_id,
        "account_id": account.id if account else None,
        "platform_account_id": account.platform_account_id if account else None,
        "rule": None,
        "labels": [],
        "reason": why,
        "requested_by": actor,
        "source": source,
    }


def _enqueue(session: Session, request: ActionRequest, base: dict[str, Any], key: str, item: Item, extra: dict[str, Any]) -> bool:
    payload = {**base, "action": request.to_json(), **extra}
    kind = request.kind
    if kind.on_platform:
        topic = "action"
    elif kind is ActionKind.REPORT:
        topic = "report"
        payload["destination"] = request.argument
    elif kind is ActionKind.PRESERVE:
        topic = "preserve"
    else:  # pragma: no cover - the policy refuses any other kind in ``decisions``
        raise InvalidInput(f"{request} is not an action a person's call takes")
    return enqueue(session, topic, payload, key, item_id=item.id, account_id=base["account_id"]) is not None


# ------------------------------------------------------------------------------- final decisions
def _was_actioned(session: Session, item: Item) -> tuple[bool, int | None]:
    """(the item was removed automatically or by a person, id of the account suspension it stands on)."""
    from suraksha.enforcement.models import Action, ActionItem

    removed = ActionKind.REMOVE_ITEM.value in (item.actions or [])
    linked = session.execute(
        select(Action.id, Action.kind)
        .join(ActionItem, ActionItem.action_id == Action.id)
        .where(ActionItem.item_id == item.id, Action.kind.in_([ActionKind.REMOVE_ITEM.value, ActionKind.SUSPEND_ACCOUNT.value]))
        .order_by(Action.id)
    ).all()
    removed = removed or any(k == ActionKind.REMOVE_ITEM.value for _, k in linked)
    suspension = next((i for i, k in reversed(linked) if k == ActionKind.SUSPEND_ACCOUNT.value), None)
    if not removed:  # a removal asked for but not yet turned into an action (still in the outbox)
        payloads = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.topic == "action", OutboxMessage.item_id == item.id)
        ).all()
        removed = any(((p or {}).get("action") or {}).get("kind") == ActionKind.REMOVE_ITEM.value for p in payloads)
    return removed, suspension


def _suspension_cleared(session: Session, suspension_id: int, item_id: int) -> bool:
    """Every item a suspension stands on (other than ``item_id``) has a final not-violating decision."""
    from suraksha.cases.models import ReviewDecision
    from suraksha.enforcement.models import ActionItem

    others = set(session.scalars(select(ActionItem.item_id).where(ActionItem.action_id == suspension_id)).all()) - {item_id}
    for other in others:
        last = session.scalar(
            select(ReviewDecision.category)
            .where(ReviewDecision.item_id == other, ReviewDecision.final.is_(True))
            .order_by(ReviewDecision.id.desc())
            .limit(1)
        )
        if last != "not_violating":
            return False
    return True


def enqueue_decision_actions(session: Session, item_id: int, decision_id: int, category: str, actor: str) -> list[str]:
    """The policy's actions for a final decision, enqueued in the caller's transaction (the one that
    records the decision); returns their names (``remove_item``, ``report:ncmec``...) as done."""
    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} not found")
    account = session.get(Account, item.account_id) if item.account_id else None
    country = (item.context or {}).get("country")
    requests = decision_policy().decisions.for_decision(category, country if isinstance(country, str) else None)
    base = _base(item, account, f"review decision {decision_id}: {category}", actor, "review")
    base["decision_id"] = decision_id
    base["rule"] = f"decision:{category}"
    done: list[str] = []
    if category == "not_violating":
        removed, suspension = _was_actioned(session, item)
        for request in requests:
            if request.kind is ActionKind.RESTORE:
                if removed:
                    key = f"{item.id}:decision:{decision_id}:restore:item"
                    if _enqueue(session, request, base, key, item, {"target": "item"}):
                        done.append("restore")
                if suspension is not None and account is not None and _suspension_cleared(session, suspension, item.id):
                    key = f"{item.id}:decision:{decision_id}:restore:account"
                    if _enqueue(session, request, base, key, item, {"target": "account"}):
                        done.append("restore:account")
            elif request.kind is ActionKind.NOTIFY_USER and removed:
                key = f"{item.id}:decision:{decision_id}:notify_user"
                if _enqueue(session, request, base, key, item, {"message": NOTICE_RESTORED}):
                    done.append("notify_user")
        return done
    for request in requests:
        if request.kind is ActionKind.SUSPEND_ACCOUNT and account is None:
            continue  # submitted without an account: nothing to suspend
        key = f"{item.id}:decision:{decision_id}:{request}"
        if _enqueue(session, request, base, key, item, {}):
            done.append(str(request))
    return done


# ------------------------------------------------------------------------------ people's actions
@dataclass(frozen=True)
class Requested:
    """What a person asked for, as enqueued: the action's name and the outbox message's key."""

    action: str
    dedupe_key: str
    message: str


def request(
    actor: Any,
    kind: str,
    reason: str,
    *,
    item_id: int | None = None,
    account_id: int | None = None,
    destination: str | None = None,
    session: Session | None = None,
) -> Requested:
    """A person removes an item, suspends an account, restores either or reports an item, with a
    reason, audited (``item.action_requested``), through the outbox. ``actor`` is a ``cases.service.Actor``."""
    if not can(actor.role, ACT_PERMISSION):
        raise Forbidden(f"the {actor.role} role may not act on items or accounts")
    try:
        action = ActionKind(kind)
    except ValueError:
        action = None
    if action not in MANUAL_KINDS:
        raise InvalidInput(f"unknown action {kind!r}; choose one of {', '.join(k.value for k in MANUAL_KINDS)}")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("a reason is required: it is sent to the platform and kept in the audit log")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"the reason is longer than {MAX_REASON} characters")
    if action is ActionKind.REPORT:
        if destination not in REPORT_DESTINATIONS:
            raise InvalidInput(f"choose where to report: {', '.join(REPORT_DESTINATIONS)}")
        act = ActionRequest(action, destination)
    else:
        act = ActionRequest(action)
    if session is None:
        with session_scope() as own:
            return _request(own, actor, act, reason, item_id, account_id)
    return _request(session, actor, act, reason, item_id, account_id)


def _request(
    session: Session, actor: Any, act: ActionRequest, reason: str, item_id: int | None, account_id: int | None
) -> Requested:
    kind = act.kind
    if item_id is not None:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id} not found")
        account = session.get(Account, item.account_id) if item.account_id else None
        target = "item"
        if kind is ActionKind.SUSPEND_ACCOUNT:
            if account is None:
                raise InvalidInput("this item was submitted without an account: there is no one to suspend")
            target = "account"
    elif account_id is not None:
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound(f"account {account_id} not found")
        if kind not in (ActionKind.SUSPEND_ACCOUNT, ActionKind.RESTORE):
            raise InvalidInput(f"{kind.value} acts on an item: open the item's page")
        item = session.scalar(select(Item).where(Item.account_id == account.id).order_by(Item.id.desc()).limit(1))
        if item is None:
            raise InvalidInput("this account has no items on record; an action needs one to travel with")
        target = "account"
    else:
        raise InvalidInput("give an item or an account")
    base = _base(item, account, reason, actor.name, "manual")
    key = f"manual:{uuid.uuid4().hex}"
    extra: dict[str, Any] = {"target": target}
    if kind is ActionKind.SUSPEND_ACCOUNT:
        extra = {}
    _enqueue(session, act, base, key, item, extra)
    audit.record(
        session,
        actor.name,
        "item.action_requested" if target == "item" else "account.action_requested",
        target,
        item.id if target == "item" else account.id if account else None,
        {
            "action": str(act),
            "target": target,
            "item_id": item.id,
            "account_id": account.id if account else None,
            "reason": reason[:500],
            "dedupe_key": key,
        },
    )
    what = {"item": f"item {item.id}", "account": f"account {account.handle or account.platform_account_id}" if account else ""}[
        target
    ]
    return Requested(str(act), key, f"{_VERB[kind]} {what} requested; it goes to the platform through the outbox.")


_VERB = {
    ActionKind.REMOVE_ITEM: "Removal of",
    ActionKind.SUSPEND_ACCOUNT: "Suspension of",
    ActionKind.RESTORE: "Restore of",
    ActionKind.REPORT: "Report of",
}
