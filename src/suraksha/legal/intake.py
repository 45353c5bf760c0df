"""Intake: agencies, filing a request (portal, staff, email, paper), documents and reminders.

Filing is one unit of work: the PDF is checked before anything is written, then the request, its
targets and data points, the document (encrypted in the vault), the verification checks and the
history / audit events commit together, or none of them does.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from suraksha.db.base import utcnow
from suraksha.db.session import session_scope
from suraksha.db.sql import aware
from suraksha.errors import NotFound
from suraksha.jurisdictions import ProfileError, deadline, load_profile
from suraksha.legal import officers, orders, store, targets
from suraksha.legal.documents import check_pdf, store_document
from suraksha.legal.models import (
    AGENCY_KINDS,
    CHANNELS,
    Agency,
    LegalDataPoint,
    LegalEvent,
    LegalReminder,
    LegalRequest,
    LegalTarget,
)
from suraksha.legal.schemas import (
    AgencyView,
    DocumentView,
    EventView,
    LegalError,
    LegalForbidden,
    ReminderView,
    RequestIn,
    RequestView,
)
from suraksha.legal.verification import compute_checks

# Types whose work is acting on content / accounts: they must name what to act on.
ORDER_TYPES = ("takedown_order", "blocking_order", "ncii_complaint", "removal_request", "preservation_request")
# Types that ask for information: they must say which data points.
DATA_TYPES = ("data_request", "production_order", "emergency_request")
COMPLAINANT_KINDS = ("user", "ngo")
_FUTURE_SLACK = dt.timedelta(minutes=5)


# --------------------------------------------------------------------------- agencies
def register_agency(name: str, kind: str, jurisdiction: str, email_domains: list[str], actor: str) -> AgencyView:
    """Register an agency that may send requests. ``email_domains`` are its official domains
    (the portal only verifies officers whose address is in one of them)."""
    name = (name or "").strip()
    if not name or len(name) > 300:
        raise LegalError("an agency needs a name (1-300 characters)")
    if kind not in AGENCY_KINDS:
        raise LegalError(f"agency kind must be one of {', '.join(AGENCY_KINDS)}")
    try:
        code = load_profile(jurisdiction).code
    except ProfileError as exc:
        raise LegalError(str(exc)) from None
    domains = []
    for d in email_domains or []:
        d = d.strip().lower().lstrip("@")
        if not d or "." not in d or any(c.isspace() for c in d) or "@" in d:
            raise LegalError(f"{d!r} is not an email domain (expected e.g. cybercell.gov.in)")
        domains.append(d)
    try:
        with session_scope() as session:
            agency = Agency(name=name, kind=kind, jurisdiction=code, email_domains=sorted(set(domains)), created_by=actor)
            session.add(agency)
            session.flush()
            from suraksha.audit import record

            record(
                session,
                actor,
                "legal.agency.register",
                "legal_agency",
                agency.id,
                {"name": name, "kind": kind, "jurisdiction": code, "email_domains": agency.email_domains},
            )
            return store.agency_view(agency)
    except IntegrityError:
        raise LegalError(f"an agency named {name!r} is already registered") from None


def list_agencies() -> list[AgencyView]:
    with session_scope() as session:
        return [store.agency_view(a) for a in session.scalars(select(Agency).order_by(Agency.name)).all()]


def get_agency(agency_id: int) -> AgencyView:
    """LookupError when unknown."""
    with session_scope() as session:
        a = session.get(Agency, agency_id)
        if a is None:
            raise NotFound(f"agency {agency_id} not found")
        return store.agency_view(a)


# --------------------------------------------------------------------------- filing
def _validate(data: RequestIn, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    try:
        profile = load_profile(data.jurisdiction)
        profile.deadline_for(data.type)
    except ProfileError as exc:
        raise LegalError(str(exc)) from None
    if data.channel not in CHANNELS:
        raise LegalError(f"channel must be one of {', '.join(CHANNELS)}")
    if data.channel == "portal" and (data.officer_id is None or data.agency_id is None):
        raise LegalError("a request filed through the portal needs the officer and the agency")
    if data.issuer_kind not in COMPLAINANT_KINDS and not data.officer_name:
        raise LegalError("the name of the officer who sent the request is required")
    if data.type in ORDER_TYPES and not data.targets:
        raise LegalError(f"a {data.type} must name the accounts, URLs or items concerned (targets)")
    if data.type in DATA_TYPES and not data.data_points:
        raise LegalError(f"a {data.type} must say which data it asks for (data_points)")
    received = data.received_at or now
    if received > now + _FUTURE_SLACK:
        raise LegalError("received_at is in the future")
    try:
        due = deadline(profile, data.type, received, data.order_deadline)
    except ValueError as exc:
        raise LegalError(str(exc)) from None
    return received, due


def file_request(
    data: RequestIn,
    actor: str,
    *,
    document: bytes | None = None,
    document_name: str | None = None,
    now: dt.datetime | None = None,
) -> RequestView:
    """File a request: validate, compute its clock, store the PDF in the vault, run the checks.

    ``actor`` is ``user:<name>`` for staff entry or ``officer:<id>`` for the portal. A bad PDF is
    refused (LegalError) and nothing is stored. For a user's or an NGO's complaint the legal basis
    defaults to the profile's (the complainant cites no law; the rule the platform acts under is
    known from the type).
    """
    now = store.utc(now, "now") if now is not None else utcnow()
    received, due = _validate(data, now)
    pdf = check_pdf(document, document_name) if document is not None else None
    rule = load_profile(data.jurisdiction).deadline_for(data.type)
    legal_basis = data.legal_basis or (rule.legal_basis if data.issuer_kind in COMPLAINANT_KINDS else None)
    with session_scope() as session:
        if data.agency_id is not None and session.get(Agency, data.agency_id) is None:
            raise LegalError(f"agency {data.agency_id} is not registered")
        officer_rank = data.officer_rank
        officer = session.get(officers.Officer, data.officer_id) if data.officer_id is not None else None
        if officer is not None:
            # A portal officer files only once the legal team approved them; the rank recorded is the
            # approved one, never the form's. (Staff and API entries may carry an officer id of a
            # person without a portal account: their rank is checked against the order's document.)
            officers.require_approved(session, officer.id)
            if data.agency_id != officer.agency_id:
                raise LegalForbidden("an officer files for their own agency only")
            officer_rank = officer.rank
        req = LegalRequest(
            reference=f"tmp-{uuid.uuid4().hex[:20]}",
            type=data.type,
            jurisdiction=data.jurisdiction,
            agency_id=data.agency_id,
            officer_id=data.officer_id,
            officer_name=data.officer_name,
            officer_rank=officer_rank,
            officer_email=data.officer_email,
            issuer_kind=data.issuer_kind,
            rank_exception=data.rank_exception,
            case_number=data.case_number,
            legal_basis=legal_basis,
            summary=data.summary,
            received_at=received.astimezone(dt.UTC),
            order_deadline=data.order_deadline.astimezone(dt.UTC) if data.order_deadline else None,
            due_at=due.astimezone(dt.UTC),
            status="received",
            channel=data.channel,
            period_from=store.utc(data.period_from),
            period_to=store.utc(data.period_to),
            created_by=actor,
            created_at=now,
            updated_at=now,
        )
        session.add(req)
        session.flush()
        req.reference = f"LR-{received.astimezone(dt.UTC).year}-{req.id:06d}"
        for t in data.targets:
            account_id, item_id = targets.resolve(session, t.kind, t.value)
            session.add(LegalTarget(request_id=req.id, kind=t.kind, value=t.value, account_id=account_id, item_id=item_id))
        for key in data.data_points:
            session.add(LegalDataPoint(request_id=req.id, key=key, status="pending", updated_at=now))
        store.event(
            session,
            req,
            actor,
            "request.filed",
            {
                "type": data.type,
                "jurisdiction": data.jurisdiction,
                "channel": data.channel,
                "agency_id": data.agency_id,
                "officer_id": data.officer_id,
                "case_number": data.case_number,
                "received_at": received,
                "order_deadline": data.order_deadline,
                "due_at": due,
                "targets": len(data.targets),
                "data_points": list(data.data_points),
            },
            at=now,
        )
        if pdf is not None:
            doc = store_document(session, req, pdf, actor)
            store.event(
                session,
                req,
                actor,
                "document.added",
                {"document_id": doc.id, "sha256": doc.sha256, "size": doc.size, "evidence_id": doc.evidence_id},
                at=now,
            )
        session.flush()
        compute_checks(session, req, actor)
        return store.request_view(session, req)


def add_document(
    request_id: int, content: bytes, filename: str, actor: str, *, kind: str = "order", agency_id: int | None = None
) -> DocumentView:
    """Attach a (checked) PDF to a request; re-runs the checks (the document check may now pass)."""
    pdf = check_pdf(content, filename)
    with session_scope() as session:
        req = store.load(session, request_id, agency_id=agency_id, lock=True)
        doc = store_document(session, req, pdf, actor, kind)
        store.event(
            session,
            req,
            actor,
            "document.added",
            {"document_id": doc.id, "kind": kind, "sha256": doc.sha256, "size": doc.size, "evidence_id": doc.evidence_id},
        )
        compute_checks(session, req, actor)
        return DocumentView(
            doc.id, doc.kind, doc.filename, doc.size, doc.sha256, doc.pages, doc.evidence_id, aware(doc.created_at)
        )


def add_reminder(
    request_id: int,
    note: str,
    actor: str,
    *,
    officer_id: int | None = None,
    agency_id: int | None = None,
    channel: str = "portal",
    received_at: dt.datetime | None = None,
    document: bytes | None = None,
    document_name: str | None = None,
) -> ReminderView:
    """Log a reminder received against the request (the news case: a reminder nobody answered is
    now on the record, with its time, next to the deadline). ``agency_id`` given (portal): it must
    be the request's agency."""
    note = (note or "").strip()
    if not note:
        raise LegalError("a reminder needs its text (what the requester wrote)")
    if len(note) > 20000:
        raise LegalError("a reminder's text is limited to 20,000 characters")
    if channel not in CHANNELS:
        raise LegalError(f"channel must be one of {', '.join(CHANNELS)}")
    if received_at is not None and (received_at.tzinfo is None or received_at.utcoffset() is None):
        raise LegalError("received_at must carry a time zone")
    pdf = check_pdf(document, document_name) if document is not None else None
    with session_scope() as session:
        req = store.load(session, request_id, agency_id=agency_id, lock=True)
        doc_id = store_document(session, req, pdf, actor, "reminder").id if pdf is not None else None
        when = received_at or utcnow()
        r = LegalReminder(
            request_id=req.id,
            received_at=when.astimezone(dt.UTC),
            officer_id=officer_id,
            channel=channel,
            note=note,
            document_id=doc_id,
            recorded_by=actor,
        )
        session.add(r)
        session.flush()
        overdue = aware(req.due_at) <= when
        store.event(
            session,
            req,
            actor,
            "reminder.received",
            {"reminder_id": r.id, "channel": channel, "received_at": when, "overdue": overdue, "status": req.status},
        )
        return ReminderView(r.id, aware(r.received_at), r.officer_id, r.channel, r.note, r.document_id, r.recorded_by)


# --------------------------------------------------------------------------- reading
def get_request(request_id: int | str, *, agency_id: int | None = None) -> RequestView:
    """One request by id or reference. ``agency_id`` given (portal): another agency's request is
    reported as not found (RequestNotFound), so officers cannot probe for others' references."""
    with session_scope() as session:
        req = store.load(session, request_id, agency_id=agency_id)
        orders.settle(session, req)  # an order the platform has acknowledged since reads as answered
        return store.request_view(session, req)


def list_requests(
    *, agency_id: int | None = None, status: str | None = None, type: str | None = None, limit: int = 200
) -> list[RequestView]:
    """Requests, newest first; ``agency_id`` limits to one agency (the portal)."""
    with session_scope() as session:
        stmt = select(LegalRequest).order_by(LegalRequest.id.desc()).limit(max(1, min(limit, 1000)))
        if agency_id is not None:
            stmt = stmt.where(LegalRequest.agency_id == agency_id)
        if status:
            stmt = stmt.where(LegalRequest.status == status)
        if type:
            stmt = stmt.where(LegalRequest.type == type)
        return store.request_views(session, list(session.scalars(stmt).all()))


def request_history(request_id: int | str, *, agency_id: int | None = None) -> list[EventView]:
    """Every step on the request in order."""
    with session_scope() as session:
        req = store.load(session, request_id, agency_id=agency_id)
        rows = session.scalars(select(LegalEvent).where(LegalEvent.request_id == req.id).order_by(LegalEvent.id)).all()
        return [EventView(aware(e.at), e.actor, e.action, dict(e.details or {})) for e in rows]
