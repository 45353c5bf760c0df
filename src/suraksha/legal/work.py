"""Work on a request: execute orders through enforcement, preserve under a legal hold, answer.

Orders act through the enforcement outbox (``request_action``), never on the platform directly,
so the action is signed, retried until acknowledged and audited like any other. The request's
``answer`` records what was asked for each target, what was done, when, and which action
carries it; targets Suraksha does not know are listed as not done rather than dropped.
Data requests are gathered in ``gathering.py`` (re-exported here).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from suraksha import evidence
from suraksha.db.base import utcnow
from suraksha.db.session import session_scope
from suraksha.enforcement.actions import ActionError, request_action
from suraksha.enforcement.preservation import evidence_for_item, item_record, jurisdictions_for, media_ref
from suraksha.items.models import Item, PendingMedia
from suraksha.legal import store
from suraksha.legal.gathering import concerned, gather, mark_data_point
from suraksha.legal.intake import DATA_TYPES
from suraksha.legal.models import LegalRequest, LegalTarget
from suraksha.legal.schemas import LegalConflict, LegalError, RequestView
from suraksha.legal.targets import refresh

EXECUTABLE = ("takedown_order", "blocking_order", "ncii_complaint", "removal_request")
_COUNTRY = {"in": "IN", "us": "US", "uk": "GB"}
MAX_ITEMS_PER_ACCOUNT = 1000

__all__ = ["answer_request", "execute_order", "gather", "mark_data_point", "preserve_for_request"]


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
            if ok:
                t.action_id, t.action_kind, t.done_at = ok[0]["action_id"], ok[0]["kind"], now
                t.outcome = f"{len(ok)} {ok[0]['kind']} action(s) requested" + (f" in {where}" if ok[0].get("country") else "")
            else:
                errors = "; ".join(r["error"] for r in entry["results"] if "error" in r)
                t.outcome = errors or "not known to Suraksha: act on the platform directly and record it"
        req.answer = store.jsonable(
            {
                "kind": "order_executed",
                "executed_at": now,
                "executed_by": actor,
                "country": where if req.type == "blocking_order" else None,
                "targets": [{"kind": e["kind"], "value": e["value"], "actions": e["results"]} for e in plan],
                "not_done": [{"kind": e["kind"], "value": e["value"]} for e in not_done],
                "complete": not not_done,
            }
        )
        req.status, req.answered_at = "answered", now
        req.status_reason = None if not not_done else f"{len(not_done)} target(s) not known to Suraksha; see the answer"
        store.event(
            session,
            req,
            actor,
            "order.executed",
            {
                "done": len(done),
                "not_done": len(not_done),
                "actions": [r["action_id"] for e in done for r in e["results"] if "action_id" in r],
            },
            at=now,
        )
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
