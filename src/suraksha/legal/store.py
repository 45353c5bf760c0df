"""Reading and recording requests inside a unit of work: lookups, history events, views.

Every step on a request is written twice in the same transaction: a ``LegalEvent`` (the request's
own history, shown to staff and, filtered, to the officer) and an audit event (the tamper-evident
record). Keeping both in one helper means no step can write one and forget the other.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.audit import record
from suraksha.db.base import utcnow
from suraksha.db.sql import aware
from suraksha.jurisdictions import load_profile
from suraksha.legal.models import (
    Agency,
    Disclosure,
    LegalCheck,
    LegalDataPoint,
    LegalDocument,
    LegalEvent,
    LegalReminder,
    LegalRequest,
    LegalTarget,
)
from suraksha.legal.schemas import (
    AgencyView,
    CheckView,
    DataPointView,
    DisclosureView,
    DocumentView,
    LegalError,
    LegalForbidden,
    ReminderView,
    RequestNotFound,
    RequestView,
    TargetView,
)

LEGAL_ROLES = ("legal",)


def utc(value: dt.datetime | None, name: str = "time") -> dt.datetime | None:
    """An aware time converted to UTC for storage (SQLite drops the zone without converting)."""
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise LegalError(f"{name} must carry a time zone")
    return value.astimezone(dt.UTC)


def require_legal(role: str, what: str) -> None:
    """Refuse unless the actor's role is ``legal`` (the nodal officer's team)."""
    if role not in LEGAL_ROLES:
        raise LegalForbidden(f"{what} needs the legal role (actor has role {role!r})")


def load(session: Session, ref: int | str, *, agency_id: int | None = None, lock: bool = False) -> LegalRequest:
    """The request by id or reference; another agency's request reads as not found."""
    stmt = select(LegalRequest)
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        if not 0 < int(ref) < 2**63:  # no such row, and beyond BIGINT PostgreSQL would overflow
            raise RequestNotFound(f"legal request {ref} not found")
        stmt = stmt.where(LegalRequest.id == int(ref))
    else:
        stmt = stmt.where(LegalRequest.reference == str(ref).strip().upper())
    if lock:
        stmt = stmt.with_for_update()
    req = session.execute(stmt).scalar_one_or_none()
    if req is None or (agency_id is not None and req.agency_id != agency_id):
        raise RequestNotFound(f"legal request {ref} not found")
    return req


def event(
    session: Session,
    req: LegalRequest,
    actor: str,
    action: str,
    details: dict[str, Any] | None = None,
    *,
    at: dt.datetime | None = None,
) -> None:
    """Record one step on ``req`` in its history and in the audit log."""
    details = jsonable(details or {})
    when = at or utcnow()
    session.add(LegalEvent(request_id=req.id, at=when, actor=actor, action=action, details=details))
    record(session, actor, f"legal.{action}", "legal_request", req.reference, details)
    req.updated_at = when


def jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        return aware(value).isoformat()
    return value


def agency_view(a: Agency) -> AgencyView:
    return AgencyView(a.id, a.name, a.kind, a.jurisdiction, list(a.email_domains or []), aware(a.created_at))


def check_view(c: LegalCheck) -> CheckView:
    return CheckView(c.key, c.passed, c.reason, c.overridden, c.answer_note, c.answered_by, aware(c.answered_at))


def data_point_view(p: LegalDataPoint) -> DataPointView:
    return DataPointView(p.key, p.status, list(p.sources or []), list(p.data or []), p.reason, p.updated_by, aware(p.updated_at))


def disclosure_view(d: Disclosure) -> DisclosureView:
    return DisclosureView(
        d.id,
        d.request_id,
        d.agency_id,
        d.filename,
        d.size,
        d.sha256,
        d.public_key,
        d.created_by,
        aware(d.created_at),
        d.downloads,
    )


def local(req: LegalRequest, value: dt.datetime | None) -> dt.datetime | None:
    """A stored (UTC) time in the request's jurisdiction time zone, where the officer reads it."""
    if value is None:
        return None
    return aware(value).astimezone(load_profile(req.jurisdiction).zone)


_CHECK_ORDER = {k: i for i, k in enumerate(("agency", "rank", "legal_basis", "document"))}
_CHILDREN = (
    ("targets", LegalTarget),
    ("checks", LegalCheck),
    ("data_points", LegalDataPoint),
    ("documents", LegalDocument),
    ("reminders", LegalReminder),
    ("disclosures", Disclosure),
)


def request_view(session: Session, req: LegalRequest) -> RequestView:
    return request_views(session, [req])[0]


def request_views(session: Session, reqs: list[LegalRequest]) -> list[RequestView]:
    """Views of many requests with one query per child table (a list page is not 8 queries a row)."""
    ids = [r.id for r in reqs]
    children: dict[str, dict[int, list[Any]]] = {}
    for name, model in _CHILDREN:
        grouped: dict[int, list[Any]] = {}
        if ids:
            for row in session.scalars(select(model).where(model.request_id.in_(ids)).order_by(model.id)).all():
                grouped.setdefault(row.request_id, []).append(row)
        children[name] = grouped
    agency_ids = {r.agency_id for r in reqs if r.agency_id}
    agencies = (
        {a.id: a.name for a in session.scalars(select(Agency).where(Agency.id.in_(agency_ids))).all()} if agency_ids else {}
    )
    return [_view(req, agencies.get(req.agency_id), {n: children[n].get(req.id, []) for n, _ in _CHILDREN}) for req in reqs]


def _view(req: LegalRequest, agency_name: str | None, c: dict[str, list[Any]]) -> RequestView:
    rule = load_profile(req.jurisdiction).deadline_for(req.type)
    checks = sorted(c["checks"], key=lambda x: _CHECK_ORDER.get(x.key, 99))
    return RequestView(
        id=req.id,
        reference=req.reference,
        type=req.type,
        type_title=rule.title,
        jurisdiction=req.jurisdiction,
        agency_id=req.agency_id,
        agency_name=agency_name,
        officer_id=req.officer_id,
        officer_name=req.officer_name,
        officer_rank=req.officer_rank,
        officer_email=req.officer_email,
        issuer_kind=req.issuer_kind,
        case_number=req.case_number,
        legal_basis=req.legal_basis,
        summary=req.summary,
        received_at=local(req, req.received_at),
        order_deadline=local(req, req.order_deadline),
        due_at=local(req, req.due_at),
        deadline_citation=rule.citation,
        status=req.status,
        status_reason=req.status_reason,
        channel=req.channel,
        period_from=aware(req.period_from),
        period_to=aware(req.period_to),
        answer=dict(req.answer or {}),
        approved_by=req.approved_by,
        approved_at=aware(req.approved_at),
        answered_at=aware(req.answered_at),
        created_by=req.created_by,
        created_at=aware(req.created_at),
        targets=[
            TargetView(
                t.id,
                t.kind,
                t.value,
                t.account_id,
                t.item_id,
                t.action_id,
                t.action_kind,
                t.outcome,
                aware(t.done_at),
                t.done_source,
                t.done_by,
                t.done_what,
                t.done_evidence,
                tuple(t.action_ids or ()),
            )
            for t in c["targets"]
        ],
        checks=[check_view(x) for x in checks],
        data_points=[data_point_view(p) for p in c["data_points"]],
        documents=[
            DocumentView(d.id, d.kind, d.filename, d.size, d.sha256, d.pages, d.evidence_id, aware(d.created_at))
            for d in c["documents"]
        ],
        reminders=[
            ReminderView(r.id, aware(r.received_at), r.officer_id, r.channel, r.note, r.document_id, r.recorded_by)
            for r in c["reminders"]
        ],
        disclosures=[disclosure_view(d) for d in c["disclosures"]],
    )
