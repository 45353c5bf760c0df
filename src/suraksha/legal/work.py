"""Work on a request: execute orders through enforcement, preserve under a legal hold, answer.

Orders act through the enforcement outbox (``request_action``), never on the platform directly,
so the action is signed, retried until acknowledged and audited like any other. A target is
*done* only when the platform acknowledged every action requested for it (at the time it did), or
when legal staff record an action taken outside Suraksha (what, when, by whom, evidence:
``record_outside_action``). The order is answered when every target is done, at the time the last
one was; until then it stays open (and on the deadline dashboard), targets Suraksha does not know
included. ``settle_orders`` takes acknowledgements in; views and the dashboard call it.
Data requests are gathered in ``gathering.py`` (re-exported here).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha import evidence
from suraksha.db.base import utcnow
from suraksha.db.session import session_scope
from suraksha.db.sql import aware
from suraksha.enforcement.actions import ActionError, request_action
from suraksha.enforcement.preservation import evidence_for_item, item_record, jurisdictions_for, media_ref
from suraksha.items.models import Item, PendingMedia
from suraksha.legal import store
from suraksha.legal.gathering import concerned, gather, mark_data_point
from suraksha.legal.intake import DATA_TYPES
from suraksha.legal.models import LegalRequest, LegalTarget
from suraksha.legal.orders import EXECUTABLE, settle, settle_orders
from suraksha.legal.schemas import LegalConflict, LegalError, RequestView
from suraksha.legal.targets import refresh

_COUNTRY = {"in": "IN", "us": "US", "uk": "GB"}
MAX_ITEMS_PER_ACCOUNT = 1000

__all__ = [
    "answer_request",
    "execute_order",
    "gather",
    "mark_data_point",
    "preserve_for_request",
    "record_outside_action",
    "settle_orders",
]


def _workable(req: LegalRequest) -> None:
    if req.status == "received":
        raise LegalConflict(f"{req.reference} has failed checks ({req.status_reason}); answer or override them first")
    if req.status not in ("in_progress", "approved"):
        raise LegalConflict(f"{req.reference} is {req.status}; there is nothing more to do on it")


def _plan(session: Any, req: LegalRequest, country: str | None) -> list[dict[str, Any]]:
    """One entry per target: the actions to request (kind, item, account)."""
    plan = []
    for t in refresh(session, req):
        steps: list[dict[str, Any]] = []
        if req.type == "blocking_order":
            item_ids = (
                [t.item_id]
                if t.item_id
                else (
                    list(
                        session.scalars(
                            select(Item.id).where(Item.account_id == t.account_id).order_by(Item.id).limit(MAX_ITEMS_PER_ACCOUNT)
                        ).all()
                    )
                    if t.account_id
                    else []
                )
            )
            steps = [{"kind": "withhold_in_country", "item_id": i, "country": country} for i in item_ids]
        elif t.item_id:
            steps = [{"kind": "remove_item", "item_id": t.item_id}]
        elif t.account_id:
            steps = [{"kind": "suspend_account", "account_id": t.account_id}]
        plan.append({"target_id": t.id, "kind": t.kind, "value": t.value, "steps": steps})
    return plan


def execute_order(request_id: int | str, actor: str, role: str, *, country: str | None = None) -> RequestView:
    """Takedown / blocking / NCII / removal: request enforcement actions for every target
    (blocking_order: withhold_in_country in ``country``, default the jurisdiction's, for the item
    or each of the account's items; otherwise remove_item for items, suspend_account for
    accounts) and record in the answer what was done and when. Role ``legal`` only."""
    store.require_legal(role, "executing an order")
    with session_scope() as session:
        req = store.load(session, request_id)
        if req.type not in EXECUTABLE:
            raise LegalError(f"a {req.type} is not executed as an order (types: {', '.join(EXECUTABLE)})")
        _workable(req)
        where = (country or _COUNTRY.get(req.jurisdiction, req.jurisdiction)).upper()
        plan = _plan(session, req, where)
        reference, legal_basis = req.reference, req.legal_basis or req.type
    done, not_done = [], []
    for entry in plan:
        results = []
        for step in entry["steps"]:
            try:
                view, created = request_action(
                    step["kind"],
                    actor,
                    item_id=step.get("item_id"),
                    account_id=step.get("account_id"),
                    country=step.get("country"),
                    reason=f"{reference}: {legal_basis}"[:2000],
                )
                results.append(
                    {
                        "action_id": view.id,
                        "kind": step["kind"],
                        "item_id": step.get("item_id"),
                        "account_id": step.get("account_id"),
                        "country": step.get("country"),
                        "status": view.status,
                        "new": created,
                    }
                )
            except (ActionError, LookupError) as exc:
                results.append({"kind": step["kind"], "error": str(exc)})
        entry["results"] = results
        ok = [r for r in results if "action_id" in r]
        (done if ok else not_done).append(entry)
    now = utcnow()
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        for entry in plan:
            t = session.get(LegalTarget, entry["target_id"])
            ok = [r for r in entry["results"] if "action_id" in r]
            if t.done_at is not None:
                continue  # done already (acknowledged or recorded): a second run changes nothing
            if ok:
                t.action_id, t.action_kind = ok[0]["action_id"], ok[0]["kind"]
                t.action_ids = sorted({r["action_id"] for r in ok} | set(t.action_ids or []))
                t.outcome = f"{len(ok)} {ok[0]['kind']} action(s) requested" + (f" in {where}" if ok[0].get("country") else "")
                t.outcome += "; waiting for the platform to confirm"
            else:
                errors = "; ".join(r["error"] for r in entry["results"] if "error" in r)
                t.outcome = errors or "not known to Suraksha: act on the platform directly and record it"
        req.answer = store.jsonable(
            {
                "kind": "order_in_progress",
                "actions_requested_at": now,
                "actions_requested_by": actor,
                "country": where if req.type == "blocking_order" else None,
                "targets": [{"kind": e["kind"], "value": e["value"], "actions": e["results"]} for e in plan],
                "not_known": [{"kind": e["kind"], "value": e["value"]} for e in not_done],
                "complete": False,
            }
        )
        store.event(
            session,
            req,
            actor,
            "order.actions_requested",
            {
                "requested": len(done),
                "not_known": len(not_done),
                "actions": [r["action_id"] for e in done for r in e["results"] if "action_id" in r],
            },
            at=now,
        )
        settle(session, req, actor)
        return store.request_view(session, req)


MAX_EVIDENCE = 2000


def record_outside_action(
    request_id: int | str,
    target_id: int,
    what: str,
    when: dt.datetime,
    evidence_note: str,
    actor: str,
    role: str,
    *,
    session: Session | None = None,
) -> RequestView:
    """Legal staff record that a target was acted on outside Suraksha (e.g. removed by the platform's
    own tools): what was done, when (not in the future), the evidence (a ticket, a screenshot's
    evidence id, a confirmation reference), by ``actor``. The target is then done at ``when``."""
    store.require_legal(role, "recording an action taken outside Suraksha")
    what, evidence_note = (what or "").strip(), (evidence_note or "").strip()
    if not what:
        raise LegalError("say what was done (e.g. 'post removed by the platform's moderation tool')")
    if not evidence_note:
        raise LegalError("give the evidence of the action (a ticket number, a confirmation, an evidence id)")
    if len(what) > MAX_EVIDENCE or len(evidence_note) > MAX_EVIDENCE:
        raise LegalError(f"what was done and the evidence are limited to {MAX_EVIDENCE} characters each")
    at = store.utc(when, "when")
    if at is None:
        raise LegalError("say when the action was taken")
    if at > utcnow() + dt.timedelta(minutes=1):
        raise LegalError("the time of the action is in the future; record it after it happened")
    if session is None:
        with session_scope() as own:
            return record_outside_action(request_id, target_id, what, at, evidence_note, actor, role, session=own)
    req = store.load(session, request_id, lock=True)
    _workable(req)
    if req.type not in EXECUTABLE:
        raise LegalError(f"a {req.type} has no targets to act on")
    target = session.get(LegalTarget, target_id)
    if target is None or target.request_id != req.id:
        raise LegalError(f"target {target_id} is not part of {req.reference}")
    if target.done_at is not None:
        raise LegalConflict(f"target {target.value} is already done ({target.done_source}, {aware(target.done_at).isoformat()})")
    if at < aware(req.received_at) - dt.timedelta(days=1):
        raise LegalError("the action was taken before the order was received; check the date")
    target.done_at, target.done_source, target.done_by = at, "manual", actor
    target.done_what, target.done_evidence = what, evidence_note
    target.outcome = f"done outside Suraksha: {what}"
    if not isinstance(req.answer, dict) or req.answer.get("kind") != "order_in_progress":
        req.answer = store.jsonable({"kind": "order_in_progress", "targets": [], "complete": False})
    store.event(
        session,
        req,
        actor,
        "order.target_recorded",
        {"target": target.value, "what": what[:500], "when": at.isoformat(), "evidence": evidence_note[:500]},
    )
    settle(session, req, actor)
    return store.request_view(session, req)


def preserve_for_request(request_id: int | str, actor: str) -> list[str]:
    """Put a legal hold (for this request's reference) on the evidence of everything the request
    concerns, preserving first the media still held as pending bytes. Returns the evidence ids held.
    A ``preservation_request`` is then answered with what was held and what could not be."""
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        _workable(req)
        refresh(session, req)
        _accounts, items = concerned(session, req)
        held: list[str] = []
        missing: list[str] = []
        for item in items:
            have = evidence_for_item(session, item.id)
            pending = session.scalars(
                select(PendingMedia).where(PendingMedia.item_id == item.id).order_by(PendingMedia.position, PendingMedia.id)
            ).all()
            record = None
            for p in pending:
                if p.position in have:
                    continue
                record = record or item_record(session, item.id)
                ev = evidence.preserve(
                    media_ref(item.id, p.position),
                    p.data,
                    {**record, "media_position": p.position},
                    jurisdictions_for((item.context or {}).get("country")),
                    actor,
                    session=session,
                )
                have[p.position] = ev.id
            if have:
                held.extend(have.values())
            else:
                missing.append(item.platform_id)
        if held:
            evidence.place_hold(
                held, f"{req.type} {req.reference} ({req.case_number or 'no case number'})", req.reference, actor, session=session
            )
        now = utcnow()
        store.event(session, req, actor, "evidence.held", {"evidence_ids": held, "items_without_media": missing}, at=now)
        if req.type == "preservation_request":
            req.answer = {
                "kind": "preserved",
                "at": now.isoformat(),
                "by": actor,
                "evidence_ids": held,
                "items_without_preserved_media": missing,
                "targets_unknown": [
                    t.value
                    for t in session.scalars(
                        select(LegalTarget).where(
                            LegalTarget.request_id == req.id, LegalTarget.account_id.is_(None), LegalTarget.item_id.is_(None)
                        )
                    )
                ],
            }
            req.status, req.answered_at = "answered", now
        return held


def answer_request(
    request_id: int | str, note: str, actor: str, role: str, *, details: dict[str, Any] | None = None
) -> RequestView:
    """Record the answer to a request that needs no package (a summons reply, a complaint's
    resolution) and mark it answered. Role ``legal`` only."""
    store.require_legal(role, "answering a request")
    note = (note or "").strip()
    if not note:
        raise LegalError("an answer needs its text")
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        _workable(req)
        if req.type in DATA_TYPES:
            raise LegalConflict(
                f"a {req.type} is answered with a disclosure package (gather, approve, package), "
                "so that every data point asked for is given or says why not"
            )
        now = utcnow()
        req.answer = store.jsonable({"kind": "reply", "note": note[:20000], "at": now, "by": actor, **(details or {})})
        req.status, req.answered_at, req.status_reason = "answered", now, None
        store.event(session, req, actor, "request.answered", {"note": note[:2000]}, at=now)
        return store.request_view(session, req)
