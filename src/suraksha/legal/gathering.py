"""Data requests: gather each data point asked for from what Suraksha holds and from the platform.

Suraksha holds the items it scanned (context: IP, port, device, country, server, times), their
accounts, media hashes, matches, the actions taken and the account networks. Subscriber data
(name, phone, email, registration IP) lives only on the platform, so ``gather`` also sends a signed
``data_request`` POST to the platform connector (same URL and HMAC secret as the action webhooks,
event header ``data_request``) and merges the rows of its JSON answer:

    {"data_points": {"subscriber_data": [{...}, ...], "ip_logs": [...]},
     "unavailable": {"server_details": "logs older than 90 days are not kept"}}

A point found nowhere stays ``pending``; a person must mark it ``withheld`` or ``unavailable`` with
a reason before the answer can be approved, so no answer goes out incomplete without saying so.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from typing import Any

import httpx
from sqlalchemy import false, select
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.db.session import session_scope
from suraksha.db.sql import aware
from suraksha.enforcement.connector import signed_headers
from suraksha.enforcement.models import Action
from suraksha.enforcement.preservation import evidence_for_item
from suraksha.items.models import Account, Item, ItemMatch, ItemMedia
from suraksha.legal import store
from suraksha.legal.models import DATA_POINT_KEYS, LegalDataPoint, LegalRequest, LegalTarget
from suraksha.legal.schemas import DataPointView, LegalConflict, LegalError
from suraksha.legal.targets import refresh
from suraksha.networks.service import network_of

log = logging.getLogger(__name__)
MAX_ITEMS = 5000
MAX_CONNECTOR_BYTES = 20 * 1024 * 1024
MAX_ROWS_PER_POINT = 100_000
EDITABLE = ("received", "in_progress")


def _iso(value: dt.datetime | None) -> str | None:
    return aware(value).isoformat() if value is not None else None


def concerned(session: Session, req: LegalRequest) -> tuple[list[Account], list[Item]]:
    """The accounts and items a request concerns: its targets, and the target accounts' items
    inside the request's period. (Callers refresh the targets first, see ``targets.refresh``.)"""
    targets = session.scalars(select(LegalTarget).where(LegalTarget.request_id == req.id)).all()
    account_ids = {t.account_id for t in targets if t.account_id is not None}
    item_ids = {t.item_id for t in targets if t.item_id is not None}
    stmt = select(Item).where(Item.account_id.in_(account_ids) if account_ids else false())
    if req.period_from is not None:
        stmt = stmt.where(Item.created_at >= req.period_from)
    if req.period_to is not None:
        stmt = stmt.where(Item.created_at <= req.period_to)
    items = {i.id: i for i in session.scalars(stmt.order_by(Item.id).limit(MAX_ITEMS)).all()}
    for i in session.scalars(select(Item).where(Item.id.in_(item_ids))).all() if item_ids else []:
        items.setdefault(i.id, i)
    account_ids |= {i.account_id for i in items.values() if i.account_id is not None}
    accounts = (
        list(session.scalars(select(Account).where(Account.id.in_(account_ids)).order_by(Account.id)).all())
        if account_ids
        else []
    )
    return accounts, sorted(items.values(), key=lambda i: i.id)


def _linked_accounts(session: Session, accounts: list[Account]) -> list[dict[str, Any]]:
    """Accounts linked to each target account (``networks.service.network_of``): only accounts in
    its group by strong links (shared matched media, banked or rare flagged links) are disclosed as
    linked; each of their links is listed with its strength (an IP or device shared as well is
    marked weak). An account tied by a weak link alone is never disclosed as linked."""
    rows: list[dict[str, Any]] = []
    for acc in accounts:
        linked = network_of(session, acc.id)
        others = sorted(a for a in linked if a != acc.id)
        names = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(others))).all()} if others else {}
        for other in others:
            o = names.get(other)
            rows.append(
                {
                    "of_account": acc.platform_account_id,
                    "platform_account_id": o.platform_account_id if o else None,
                    "handle": o.handle if o else None,
                    "tie": "strong",
                    "linked_by": "; ".join(f"{strength}: {label}" for strength, label in linked[other].links),
                    "method": "networks",
                }
            )
    return rows


def held_rows(session: Session, req: LegalRequest) -> dict[str, list[dict[str, Any]]]:
    """What Suraksha itself holds for each data point."""
    accounts, items = concerned(session, req)
    by_id = {a.id: a for a in accounts}
    item_ids = [i.id for i in items]
    media = (
        session.scalars(
            select(ItemMedia).where(ItemMedia.item_id.in_(item_ids)).order_by(ItemMedia.item_id, ItemMedia.position)
        ).all()
        if item_ids
        else []
    )
    matches: dict[tuple[int, int | None], list[str]] = {}
    for m in session.scalars(select(ItemMatch).where(ItemMatch.item_id.in_(item_ids))).all() if item_ids else []:
        matches.setdefault((m.item_id, m.media_position), []).append(f"{m.label}:{m.bank}")

    def acct(i: Item) -> str | None:
        return by_id[i.account_id].platform_account_id if i.account_id in by_id else None

    out: dict[str, list[dict[str, Any]]] = {k: [] for k in DATA_POINT_KEYS}
    for a in accounts:
        out["subscriber_data"].append(
            {
                "source": "suraksha",
                "platform_account_id": a.platform_account_id,
                "handle": a.handle,
                "first_seen": _iso(a.first_seen),
                "last_seen": _iso(a.last_seen),
            }
        )
    for i in items:
        c = dict(i.context or {})
        when = c.get("created_at") or _iso(i.created_at)
        if c.get("ip"):
            out["ip_logs"].append(
                {
                    "source": "suraksha",
                    "platform_account_id": acct(i),
                    "platform_item_id": i.platform_id,
                    "ip": c.get("ip"),
                    "port": c.get("port"),
                    "time": when,
                    "device_id": c.get("device_id"),
                }
            )
        for url in ([c["url"]] if c.get("url") else []) + list(i.links or []):
            out["content_urls"].append(
                {
                    "source": "suraksha",
                    "platform_account_id": acct(i),
                    "platform_item_id": i.platform_id,
                    "url": url,
                    "time": when,
                }
            )
        if c.get("server") or c.get("country"):
            out["server_details"].append(
                {
                    "source": "suraksha",
                    "platform_item_id": i.platform_id,
                    "server": c.get("server"),
                    "country": c.get("country"),
                    "time": when,
                }
            )
    preserved = {i: evidence_for_item(session, i) for i in item_ids}
    for m in media:
        owner = next(i for i in items if i.id == m.item_id)
        out["content_media"].append(
            {
                "source": "suraksha",
                "platform_account_id": acct(owner),
                "platform_item_id": owner.platform_id,
                "position": m.position,
                "mime": m.mime,
                "size": m.size,
                "sha256": m.sha256,
                "md5": m.md5,
                "pdq": m.pdq,
                "matches": "; ".join(sorted(matches.get((m.item_id, m.position), []))),
                "evidence_id": preserved[m.item_id].get(m.position),
            }
        )
    out["linked_accounts"] = [{"source": "suraksha", **r} for r in _linked_accounts(session, accounts)]
    return out


def enforcement_record(session: Session, req: LegalRequest) -> list[dict[str, Any]]:
    """Actions on the accounts/items concerned (put in the package next to the data)."""
    accounts, items = concerned(session, req)
    acc_ids, item_ids = [a.id for a in accounts], [i.id for i in items]
    conds = []
    if acc_ids:
        conds.append(Action.account_id.in_(acc_ids))
    if item_ids:
        conds.append(Action.item_id.in_(item_ids))
    if not conds:
        return []
    from sqlalchemy import or_

    rows = session.scalars(select(Action).where(or_(*conds)).order_by(Action.id).limit(MAX_ITEMS)).all()
    return [
        {
            "action_id": a.id,
            "kind": a.kind,
            "status": a.status,
            "platform_item_id": a.platform_item_id,
            "platform_account_id": a.platform_account_id,
            "country": a.country,
            "reason": a.reason,
            "created_at": _iso(a.created_at),
        }
        for a in rows
    ]


def reports_record(session: Session, req: LegalRequest) -> list[dict[str, Any]]:
    """Reports already filed with authorities about the items concerned (NCMEC, police, NCA)."""
    from suraksha.reporting.models import Report

    _accounts, items = concerned(session, req)
    ids = [i.id for i in items]
    if not ids:
        return []
    rows = session.scalars(select(Report).where(Report.item_id.in_(ids)).order_by(Report.id).limit(MAX_ITEMS)).all()
    return [
        {
            "report_id": r.id,
            "destination": r.destination,
            "subject": r.subject,
            "state": r.state,
            "external_id": r.external_id,
            "fir_number": r.fir_number,
            "submitted_at": _iso(r.submitted_at),
        }
        for r in rows
    ]


# --------------------------------------------------------------------------- the platform
def connector_request(
    req: LegalRequest, keys: list[str], targets: list[dict[str, Any]], transport: httpx.BaseTransport | None
) -> tuple[dict[str, list[dict]], dict[str, str], str | None]:
    """POST a signed ``data_request`` to the platform; (rows per point, unavailable reasons, error)."""
    from suraksha.enforcement.settings import get_enforcement_settings

    es = get_enforcement_settings()
    if not es.connector_url:
        return {}, {}, "no platform connector is configured (SURAKSHA_CONNECTOR_URL)"
    secret = es.connector_secret.get_secret_value() if es.connector_secret else ""
    if not secret:
        return {}, {}, "SURAKSHA_CONNECTOR_SECRET is not set; a data request is never sent unsigned"
    body = json.dumps(
        {
            "event": "data_request",
            "reference": req.reference,
            "type": req.type,
            "jurisdiction": req.jurisdiction,
            "case_number": req.case_number,
            "legal_basis": req.legal_basis,
            "data_points": keys,
            "targets": targets,
            "period": {"from": _iso(req.period_from), "to": _iso(req.period_to)},
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    headers = signed_headers(
        secret, body, idempotency_key=f"data_request:{req.reference}:{uuid.uuid4().hex[:8]}", event="data_request"
    )
    try:
        with httpx.Client(timeout=es.connector_timeout_s, transport=transport) as client:
            r = client.post(es.connector_url, content=body, headers={**headers, "Content-Type": "application/json"})
    except httpx.HTTPError as exc:
        return {}, {}, f"platform connector unreachable: {type(exc).__name__}"
    if not r.is_success:
        return {}, {}, f"platform connector answered HTTP {r.status_code}"
    if len(r.content) > MAX_CONNECTOR_BYTES:
        return {}, {}, "platform connector's answer is larger than 20 MB"
    try:
        answer = r.json()
    except ValueError:
        return {}, {}, "platform connector's answer is not JSON"
    if not isinstance(answer, dict):
        return {}, {}, "platform connector's answer is not a JSON object"
    rows: dict[str, list[dict]] = {}
    for key, value in (answer.get("data_points") or {}).items():
        if key in keys and isinstance(value, list):
            rows[key] = [{**v, "source": "platform"} for v in value[:MAX_ROWS_PER_POINT] if isinstance(v, dict)]
    unavailable = {k: str(v)[:2000] for k, v in (answer.get("unavailable") or {}).items() if k in keys}
    return rows, unavailable, None


def gather(request_id: int | str, actor: str, *, transport: httpx.BaseTransport | None = None) -> list[DataPointView]:
    """Fill each data point asked for from what Suraksha holds and what the platform connector
    answers (signed ``data_request`` POST). Points found nowhere stay ``pending``; points a
    person marked withheld / unavailable keep that decision."""
    with session_scope() as session:  # a short write first: link targets that became known
        req = store.load(session, request_id)
        if req.status not in EDITABLE:
            raise LegalConflict(f"{req.reference} is {req.status}; data can be gathered only before approval")
        if req.status == "received":
            raise LegalConflict(f"{req.reference} has failed checks ({req.status_reason}); answer them before work starts")
        refresh(session, req)
    # Then read only: the networks area writes its own key index in its own transaction, which a
    # write lock held here would block (SQLite has one writer).
    with session_scope() as session:
        req = store.load(session, request_id)
        points = session.scalars(select(LegalDataPoint).where(LegalDataPoint.request_id == req.id)).all()
        if not points:
            raise LegalError(f"{req.reference} asks for no data points")
        keys = [p.key for p in points]
        held = held_rows(session, req)
        accounts, items = concerned(session, req)
        targets = [
            {"kind": t.kind, "value": t.value}
            for t in session.scalars(select(LegalTarget).where(LegalTarget.request_id == req.id)).all()
        ]
        targets += [{"kind": "account", "value": a.platform_account_id, "known": True} for a in accounts]
        session.expunge(req)
    platform, unavailable, error = connector_request(req, keys, targets, transport)
    now = utcnow()
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        out = []
        for p in session.scalars(
            select(LegalDataPoint).where(LegalDataPoint.request_id == req.id).order_by(LegalDataPoint.id)
        ).all():
            if p.status in ("pending", "found"):
                rows = held.get(p.key, []) + platform.get(p.key, [])
                p.data = store.jsonable(rows)
                p.sources = sorted({r["source"] for r in rows})
                if rows:
                    p.status, p.reason = "found", None
                elif p.key in unavailable:
                    p.status, p.reason = "unavailable", f"platform: {unavailable[p.key]}"
                else:
                    p.status, p.reason = "pending", None
                p.updated_by, p.updated_at = actor, now
            out.append(store.data_point_view(p))
        store.event(
            session,
            req,
            actor,
            "data.gathered",
            {
                "found": [p.key for p in out if p.status == "found"],
                "pending": [p.key for p in out if p.status == "pending"],
                "unavailable": [p.key for p in out if p.status == "unavailable"],
                "connector_error": error,
                "items": len(items),
                "accounts": len(accounts),
            },
            at=now,
        )
        return out


def mark_data_point(request_id: int | str, key: str, status: str, reason: str, actor: str) -> DataPointView:
    """Mark a data point ``withheld`` or ``unavailable`` with the reason that goes in the answer."""
    if status not in ("withheld", "unavailable"):
        raise LegalError("a data point can be marked 'withheld' or 'unavailable'")
    reason = (reason or "").strip()
    if len(reason) < 5:
        raise LegalError("say why (at least a few words): the reason is part of the answer to the requester")
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        if req.status not in EDITABLE:
            raise LegalConflict(f"{req.reference} is {req.status}; data points can change only before approval")
        p = session.scalar(select(LegalDataPoint).where(LegalDataPoint.request_id == req.id, LegalDataPoint.key == key))
        if p is None:
            raise LegalError(f"{req.reference} does not ask for {key!r}")
        previous = p.status
        p.status, p.reason, p.updated_by, p.updated_at = status, reason[:5000], actor, utcnow()
        store.event(session, req, actor, f"data.{status}", {"data_point": key, "reason": reason[:2000], "previous": previous})
        return store.data_point_view(p)
