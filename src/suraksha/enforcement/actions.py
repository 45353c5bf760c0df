"""Actions: created from the outbox exactly once, claimed with a lease, delivered until acknowledged.

Exactly once, end to end:
* ``take_action_message`` turns an ``action`` outbox message into an ``Action`` row with
  ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING`` in the transaction that marks the
  message delivered (``outbox.consume``, wired by ``suraksha.dispatch``). The key is per item for
  item actions and per *account* for suspensions, so the
  23 ``suspend_account`` messages of one account's 23 items make one action (with 23
  ``action_items``).
* ``claim_actions`` leases due actions to one dispatcher: ``FOR UPDATE SKIP LOCKED`` on PostgreSQL,
  one conditional ``UPDATE ... WHERE id IN (SELECT ...)`` on SQLite. A dispatcher that dies leaves
  its actions ``delivering`` with a lease that expires; they are claimed again and re-sent with the
  same idempotency key, which the platform dedupes. So a kill can cause a repeat *delivery* but never
  a lost action or a repeated *effect*.
* Results are recorded conditionally (still leased to this dispatcher), and every attempt is an
  ``ActionDelivery`` row written before the request is sent.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, func, or_, select, true, update
from sqlalchemy.orm import Session

from suraksha.db import session_scope, utcnow
from suraksha.db.sql import aware, dialect_name, insert_ignoring_conflicts, insert_new
from suraksha.enforcement.connector import Connector, DeliveryResult, Webhook
from suraksha.enforcement.models import ACTION_KINDS, ACTION_STATUSES, Action, ActionDelivery, ActionItem
from suraksha.enforcement.settings import get_enforcement_settings
from suraksha.errors import InvalidInput, NotFound
from suraksha.outbox import Done, Message, Skip
from suraksha.outbox.service import backoff_seconds as outbox_backoff
from suraksha.policy.actions import ActionKind, ActionRequest, InvalidAction

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "suraksha_action_deliveries", "Action deliveries to the platform connector, by outcome.", ["kind", "outcome"]
)
DEAD_LETTERS = Counter(
    "suraksha_actions_dead_lettered", "Actions dead-lettered after failed deliveries (alert on any increase).", ["kind"]
)


class ActionError(InvalidInput):
    """An action request that cannot be carried out as asked (the message says why)."""


def action_kind(kind: ActionKind | str) -> ActionKind:
    """A platform action kind from an ``ActionKind`` or its name (CLI, API, forms); ActionError otherwise."""
    try:
        k = ActionKind(kind)
    except ValueError:
        k = None
    if k is None or not k.on_platform:
        raise ActionError(f"unknown action kind {str(kind)!r}; expected one of {', '.join(ACTION_KINDS)}")
    return k


def message_action(payload: dict[str, Any], account_id: int | None) -> ActionRequest:
    """The ``ActionRequest`` an ``action`` outbox message carries (``payload["action"]``, written by
    ``pipeline.scan.outbox_for`` as ``{"kind", "argument"}``); ActionError says why it cannot be one."""
    try:
        request = ActionRequest.from_json(payload.get("action"))
    except InvalidAction as exc:
        raise ActionError(str(exc)) from None
    if not request.kind.on_platform:
        raise ActionError(f"{str(request)!r} is not an action on the platform")
    if request.kind is ActionKind.SUSPEND_ACCOUNT and account_id is None:
        raise ActionError("suspend_account without an account (the item was submitted without one)")
    return request


class ActionNotFound(NotFound):
    pass


@dataclass(frozen=True)
class ClaimedAction:
    id: int
    attempt: int
    delivery_id: int
    webhook: Webhook


@dataclass
class DeliveryView:
    attempt: int
    dispatcher: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str
    http_status: int | None
    error: str | None


@dataclass
class ActionView:
    id: int
    kind: str
    status: str
    idempotency_key: str
    item_id: int | None
    account_id: int | None
    platform_item_id: str | None
    platform_account_id: str | None
    country: str | None
    reason: str
    source: str
    requested_by: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_error: str | None
    alert: bool
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None
    item_ids: list[int] = field(default_factory=list)
    deliveries: list[DeliveryView] = field(default_factory=list)


def _view(a: Action, items: list[int] | None = None, deliveries: list[ActionDelivery] | None = None) -> ActionView:
    return ActionView(
        id=a.id,
        kind=a.kind,
        status=a.status,
        idempotency_key=a.idempotency_key,
        item_id=a.item_id,
        account_id=a.account_id,
        platform_item_id=a.platform_item_id,
        platform_account_id=a.platform_account_id,
        country=a.country,
        reason=a.reason,
        source=a.source,
        requested_by=a.requested_by,
        attempts=a.attempts,
        next_attempt_at=aware(a.next_attempt_at),
        last_error=a.last_error,
        alert=a.alert,
        created_at=aware(a.created_at),
        acknowledged_at=aware(a.acknowledged_at),
        item_ids=list(items or []),
        deliveries=[
            DeliveryView(d.attempt, d.dispatcher, aware(d.started_at), aware(d.finished_at), d.outcome, d.http_status, d.error)
            for d in deliveries or []
        ],
    )


# --------------------------------------------------------------------------- keys
def _restores(session: Session, *, item_id: int | None = None, account_id: int | None = None) -> int:
    """How many restores the target has had: a new generation of keys starts after each, so an
    account suspended, restored and caught again is suspended again (not deduped into the old one)."""
    where = Action.account_id == account_id if account_id is not None else Action.item_id == item_id
    extra = Action.item_id.is_(None) if account_id is not None else true()
    return (
        session.scalar(select(func.count()).select_from(Action).where(Action.kind == ActionKind.RESTORE.value, where, extra)) or 0
    )


def action_key(
    session: Session, kind: ActionKind | str, *, item_id: int | None, account_id: int | None, country: str | None = None
) -> str:
    """The idempotency key of a platform action: per account for a suspension, per item (and country
    for a withholding) otherwise, with a new generation after each restore of the target."""
    kind = action_kind(kind)
    if kind is ActionKind.SUSPEND_ACCOUNT:
        base = f"suspend_account:account:{account_id}"
        gen = _restores(session, account_id=account_id)
    elif kind is ActionKind.WITHHOLD_IN_COUNTRY:
        base = f"withhold_in_country:item:{item_id}:{country}"
        gen = _restores(session, item_id=item_id)
    else:
        base = f"{kind.value}:item:{item_id}"
        gen = _restores(session, item_id=item_id)
    return base if gen == 0 else f"{base}:g{gen}"


def _insert_action(session: Session, row: dict[str, Any], item_ids: list[int], message_id: int | None = None) -> tuple[int, bool]:
    """Insert unless the key exists; returns (action id, created)."""
    now = utcnow()
    values = {
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        "alert": False,
        "details": {},
        "reason": "",
        "source": "outbox",
        "requested_by": "system:pipeline",
        **row,
    }
    action_id = insert_new(session, Action.__table__, values, ["idempotency_key"])
    created = action_id is not None
    if action_id is None:
        action_id = session.scalar(select(Action.id).where(Action.idempotency_key == values["idempotency_key"]))
    links = [
        {"action_id": action_id, "item_id": i, "outbox_message_id": message_id, "added_at": now}
        for i in item_ids
        if i is not None
    ]
    if links:
        insert_ignoring_conflicts(session, ActionItem.__table__, links, ["action_id", "item_id"])
    return action_id, created


# --------------------------------------------------------------------------- outbox intake
def take_action_message(session: Session, message: Message) -> Done:
    """An ``action`` outbox message -> an action row, in the caller's transaction (the outbox loop's,
    which marks the message delivered in it). ``INSERT ... ON CONFLICT (idempotency_key) DO NOTHING``:
    the key is per item for item actions and per *account* for suspensions, so the 23
    ``suspend_account`` messages of one account's 23 items make one action (with 23 ``action_items``).
    Raises ``Skip`` when the message cannot be an action. Returns the actions made (0 or 1).
    Wired to the topic by ``suraksha.dispatch``."""
    payload = message.payload
    account_id = message.account_id if message.account_id is not None else payload.get("account_id")
    try:
        request = message_action(payload, account_id)
    except ActionError as exc:
        raise Skip(str(exc)) from None
    kind = request.kind
    country = request.argument if kind is ActionKind.WITHHOLD_IN_COUNTRY else None
    # A suspension targets the account; so does a restore asked for the account (``target``).
    on_account = kind is ActionKind.SUSPEND_ACCOUNT or (kind is ActionKind.RESTORE and payload.get("target") == "account")
    item_id = None if on_account else message.item_id
    if kind is ActionKind.RESTORE:
        if on_account and account_id is None:
            raise Skip("restore of an account without an account")
        # One restore per message: a person's or a decision's, never merged into an earlier one.
        key = f"restore:{'account' if on_account else 'item'}:{account_id if on_account else item_id}:m{message.id}"
    elif kind is ActionKind.NOTIFY_USER:
        key = f"notify_user:item:{item_id}:m{message.id}"
    else:
        key = action_key(session, kind, item_id=item_id, account_id=account_id, country=country)
    reason = str(payload.get("reason") or "")[:2000] or (
        f"policy rule {payload.get('rule')}" if payload.get("rule") else "policy verdict"
    )
    details: dict[str, Any] = {
        "rule": payload.get("rule"),
        "labels": list(payload.get("labels") or []),
        "verdict": payload.get("verdict"),
    }
    if payload.get("decision_id") is not None:
        details["decision_id"] = payload.get("decision_id")
    if kind is ActionKind.NOTIFY_USER and payload.get("message"):
        details["message"] = str(payload["message"])[:2000]
    row: dict[str, Any] = {
        "kind": kind.value,
        "idempotency_key": key,
        "item_id": item_id,
        "account_id": account_id,
        "platform_item_id": payload.get("platform_id") if item_id is not None else None,
        "platform_account_id": payload.get("platform_account_id"),
        "country": country,
        "reason": reason,
        "details": details,
    }
    if payload.get("source") in ("review", "manual", "appeal"):
        row["source"] = payload["source"]
        row["requested_by"] = str(payload.get("requested_by") or "system:review")[:100]
    _, created = _insert_action(session, row, [message.item_id], message.id)
    return Done(made=int(created))


# --------------------------------------------------------------------------- claim / deliver / record
def _webhook(a: Action, attempt: int) -> Webhook:
    body: dict[str, Any] = {
        "id": a.idempotency_key,
        "type": a.kind,
        "action_id": a.id,
        "created_at": aware(a.created_at).isoformat(),
        "attempt": attempt,
        "item": {"platform_id": a.platform_item_id} if a.platform_item_id else None,
        "account": {"platform_account_id": a.platform_account_id} if a.platform_account_id else None,
        "country": a.country,
        "reason": a.reason,
        "labels": list((a.details or {}).get("labels") or []),
    }
    if a.kind == ActionKind.SUSPEND_ACCOUNT:
        body["item"] = None  # the account is the target; the items that led to it are in Suraksha
    if a.kind == ActionKind.NOTIFY_USER:
        body["message"] = (a.details or {}).get("message")
    return Webhook(event=a.kind, idempotency_key=a.idempotency_key, body=body)


def claim_actions(dispatcher: str, n: int = 20, lease_seconds: int | None = None) -> list[ClaimedAction]:
    """Lease up to ``n`` due actions (new, failed and due, or delivering with an expired lease)."""
    lease = lease_seconds or get_enforcement_settings().action_lease_s
    now = utcnow()
    runnable = or_(
        and_(Action.status.in_(("pending", "failed")), Action.next_attempt_at <= now),
        and_(Action.status == "delivering", Action.lease_expires_at < now),
    )
    with session_scope() as session:
        if dialect_name(session) == "postgresql":
            ids = session.scalars(
                select(Action.id).where(runnable).order_by(Action.id).limit(n).with_for_update(skip_locked=True)
            ).all()
            if not ids:
                return []
            target = Action.id.in_(ids)
        else:
            target = Action.id.in_(select(Action.id).where(runnable).order_by(Action.id).limit(n).scalar_subquery())
        got = (
            session.execute(
                update(Action)
                .where(target, runnable)
                .values(
                    status="delivering",
                    lease_owner=dispatcher,
                    lease_expires_at=now + dt.timedelta(seconds=lease),
                    attempts=Action.attempts + 1,
                    updated_at=now,
                )
                .returning(Action.id)
                .execution_options(synchronize_session=False)
            )
            .scalars()
            .all()
        )
        if not got:
            return []
        # An attempt left in flight by a dispatcher that died: its outcome is unknown.
        session.execute(
            update(ActionDelivery)
            .where(ActionDelivery.action_id.in_(got), ActionDelivery.outcome == "in_flight")
            .values(outcome="abandoned", finished_at=now, error="dispatcher stopped before recording the outcome (lease expired)")
            .execution_options(synchronize_session=False)
        )
        rows = session.scalars(
            select(Action).where(Action.id.in_(got)).order_by(Action.id).execution_options(populate_existing=True)
        ).all()
        out = []
        for a in rows:
            d = ActionDelivery(action_id=a.id, attempt=a.attempts, dispatcher=dispatcher, started_at=now, outcome="in_flight")
            session.add(d)
            session.flush()
            out.append(ClaimedAction(a.id, a.attempts, d.id, _webhook(a, a.attempts)))
        return out


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, then a random 50-100 % of it."""
    es = get_enforcement_settings()
    return outbox_backoff(attempt, es.action_backoff_base_s, es.action_backoff_max_s)


def record_delivery(dispatcher: str, claimed: ClaimedAction, result: DeliveryResult) -> str:
    """Store one attempt's outcome; returns the action's new status ('lost' if no longer ours)."""
    es = get_enforcement_settings()
    now = utcnow()
    outcome = "acknowledged" if result.acknowledged else "error"
    kind = claimed.webhook.event
    DELIVERIES.labels(kind, outcome).inc()
    with session_scope() as session:
        session.execute(
            update(ActionDelivery)
            .where(ActionDelivery.id == claimed.delivery_id)
            .values(
                outcome=outcome,
                finished_at=now,
                http_status=result.http_status,
                error=result.error,
                response=(result.response or None) and result.response[:500],
            )
            .execution_options(synchronize_session=False)
        )
        mine = and_(Action.id == claimed.id, Action.lease_owner == dispatcher, Action.status == "delivering")
        if result.acknowledged:
            values: dict[str, Any] = {"status": "acknowledged", "acknowledged_at": now, "last_error": None, "alert": False}
            status = "acknowledged"
        elif not result.retryable or claimed.attempt >= es.action_max_attempts:
            why = "not retryable" if not result.retryable else f"{claimed.attempt} attempts"
            values = {"status": "dead", "alert": True, "last_error": f"{result.error} ({why})"}
            status = "dead"
        else:
            values = {
                "status": "failed",
                "last_error": result.error,
                "next_attempt_at": now + dt.timedelta(seconds=backoff_seconds(claimed.attempt)),
            }
            status = "failed"
        r = session.execute(
            update(Action)
            .where(mine)
            .values(lease_owner=None, lease_expires_at=None, updated_at=now, **values)
            .execution_options(synchronize_session=False)
        )
        if r.rowcount != 1:
            return "lost"
    if status == "dead":
        DEAD_LETTERS.labels(kind).inc()
        log.error(
            "ALERT action %s (%s, key %s) dead-lettered: %s; retry with 'suraksha actions retry %s'",
            claimed.id,
            kind,
            claimed.webhook.idempotency_key,
            values["last_error"],
            claimed.id,
        )
    return status


def deliver_due(connector: Connector, dispatcher: str, n: int | None = None) -> dict[str, int]:
    """Claim due actions and deliver each once; returns counts by resulting status."""
    counts: dict[str, int] = {}
    for claimed in claim_actions(dispatcher, n or get_enforcement_settings().dispatch_batch):
        try:
            result = connector.deliver(claimed.webhook)
        except Exception as exc:  # noqa: BLE001 - a connector bug must not stop the others
            log.exception("connector raised on action %s", claimed.id)
            result = DeliveryResult(False, True, None, f"connector error: {type(exc).__name__}: {exc}"[:500])
        status = record_delivery(dispatcher, claimed, result)
        counts[status] = counts.get(status, 0) + 1
    return counts


# --------------------------------------------------------------------------- people's actions
def _audit(session: Session, actor: str, action: str, object_id: Any, details: dict[str, Any]) -> None:
    from suraksha.audit import record

    record(session, actor, action, "action", object_id, details)


def retry_action(action_id: int, actor: str) -> ActionView:
    """Send a dead or failed action again now (attempt counter restarts; history is kept)."""
    with session_scope() as session:
        a = session.get(Action, action_id)
        if a is None:
            raise ActionNotFound(f"action {action_id} not found")
        if a.status not in ("dead", "failed"):
            raise ActionError(f"action {action_id} is {a.status}; only dead or failed actions can be retried")
        previous = a.status
        a.status, a.attempts, a.alert, a.next_attempt_at, a.updated_at = "pending", 0, False, utcnow(), utcnow()
        _audit(session, actor, "action.retry", a.id, {"previous_status": previous, "last_error": a.last_error})
        session.flush()
        return _view(a)


def request_action(
    kind: ActionKind | str,
    actor: str,
    *,
    item_id: int | None = None,
    account_id: int | None = None,
    country: str | None = None,
    reason: str = "",
    message: str | None = None,
) -> tuple[ActionView, bool]:
    """Ask for an action by hand (restore, notify, withhold, remove, suspend); returns (action, created).

    Repeating the same request while the first is still on record returns it (created False).
    """
    from suraksha.items.models import Account, Item

    kind = action_kind(kind)
    if not reason or not reason.strip():
        raise ActionError("a reason is required (it is sent to the platform and kept in the audit log)")
    if kind is ActionKind.WITHHOLD_IN_COUNTRY:
        try:
            country = ActionRequest(kind, country).argument
        except InvalidAction:
            raise ActionError("withhold_in_country needs a two-letter country code") from None
    if kind is ActionKind.NOTIFY_USER and not (message and message.strip()):
        raise ActionError("notify_user needs the message to show the user")
    with session_scope() as session:
        item = session.get(Item, item_id) if item_id is not None else None
        if item_id is not None and item is None:
            raise ActionNotFound(f"item {item_id} not found")
        if kind is ActionKind.SUSPEND_ACCOUNT or (kind is ActionKind.RESTORE and item_id is None):
            account_id = account_id if account_id is not None else (item.account_id if item else None)
            if account_id is None:
                raise ActionError(f"{kind} needs an account (or an item that has one)")
        elif item is None:
            raise ActionError(f"{kind} needs an item")
        account = (
            session.get(Account, account_id)
            if account_id is not None
            else (session.get(Account, item.account_id) if item is not None and item.account_id else None)
        )
        if account_id is not None and account is None:
            raise ActionNotFound(f"account {account_id} not found")
        country = country.upper() if country else None
        if kind is ActionKind.RESTORE:
            target = f"account:{account_id}" if item is None else f"item:{item.id}"
            n = _restores(session, item_id=item.id if item else None, account_id=None if item else account_id) + 1
            key = f"restore:{target}:{n}"
        elif kind is ActionKind.NOTIFY_USER:
            key = f"notify_user:item:{item.id}:{uuid.uuid4().hex[:12]}"
        else:
            key = action_key(session, kind, item_id=item.id if item else None, account_id=account_id, country=country)
        target_item = None if (kind is ActionKind.SUSPEND_ACCOUNT or (kind is ActionKind.RESTORE and item is None)) else item
        action_id, created = _insert_action(
            session,
            {
                "kind": kind.value,
                "idempotency_key": key,
                "item_id": target_item.id if target_item else None,
                "account_id": account.id if account else None,
                "platform_item_id": target_item.platform_id if target_item else None,
                "platform_account_id": account.platform_account_id if account else None,
                "country": country,
                "reason": reason.strip()[:2000],
                "source": "manual",
                "requested_by": actor,
                "details": {"message": message.strip()[:2000]} if message else {},
            },
            [item.id] if item else [],
        )
        _audit(
            session,
            actor,
            f"action.request.{kind.value}",
            action_id,
            {"created": created, "item_id": item_id, "account_id": account_id, "reason": reason[:500]},
        )
        return _view(session.get(Action, action_id)), created


# --------------------------------------------------------------------------- suspensions
def enqueue_suspension(
    session: Session, account_id: int, platform_account_id: str, *, reason: str, actor: str, source: str, details: dict[str, Any]
) -> tuple[int, bool]:
    """Ask for the suspension of one account in the caller's transaction; returns (action id, created).
    One action per account: created is False when its suspension is on record since its last restore
    (``networks.suspend`` suspends a whole network this way, in one transaction)."""
    key = action_key(session, ActionKind.SUSPEND_ACCOUNT, item_id=None, account_id=account_id)
    return _insert_action(
        session,
        {
            "kind": ActionKind.SUSPEND_ACCOUNT.value,
            "idempotency_key": key,
            "account_id": account_id,
            "platform_account_id": platform_account_id,
            "reason": reason.strip()[:2000],
            "source": source,
            "requested_by": actor,
            "details": details,
        },
        [],
    )


# --------------------------------------------------------------------------- reading
def list_actions(
    *,
    status: str | None = None,
    kind: ActionKind | str | None = None,
    item_id: int | None = None,
    account_id: int | None = None,
    alert: bool | None = None,
    limit: int = 100,
) -> list[ActionView]:
    if status is not None and status not in ACTION_STATUSES:
        raise ActionError(f"unknown status {status!r}; expected one of {', '.join(ACTION_STATUSES)}")
    if kind is not None:
        kind = action_kind(kind)
    stmt = select(Action).order_by(Action.id.desc()).limit(max(1, min(limit, 10_000)))
    if status:
        stmt = stmt.where(Action.status == status)
    if kind:
        stmt = stmt.where(Action.kind == kind.value)
    if account_id is not None:
        stmt = stmt.where(Action.account_id == account_id)
    if alert is not None:
        stmt = stmt.where(Action.alert.is_(alert))
    if item_id is not None:
        stmt = stmt.where(
            or_(Action.item_id == item_id, Action.id.in_(select(ActionItem.action_id).where(ActionItem.item_id == item_id)))
        )
    with session_scope() as session:
        return [_view(a) for a in session.scalars(stmt).all()]


def get_action(action_id: int) -> ActionView:
    with session_scope() as session:
        a = session.get(Action, action_id)
        if a is None:
            raise ActionNotFound(f"action {action_id} not found")
        items = list(
            session.scalars(select(ActionItem.item_id).where(ActionItem.action_id == a.id).order_by(ActionItem.item_id)).all()
        )
        deliveries = list(
            session.scalars(select(ActionDelivery).where(ActionDelivery.action_id == a.id).order_by(ActionDelivery.id)).all()
        )
        return _view(a, items, deliveries)


def action_counts() -> dict[str, int]:
    """Actions per status (for /metrics and the CLI)."""
    with session_scope() as session:
        return dict(session.execute(select(Action.status, func.count()).group_by(Action.status)).all())
