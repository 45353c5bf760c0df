"""Verification checks before work starts: agency known, sender rank, legal basis, document.

Each check is a stored row with pass/fail and a reason a person can read. A failure blocks work
(the request stays ``received``) until the facts change (a document is added, checks re-run) or a
legal user overrides it with a note, e.g. "rank confirmed by phone with the DIG's office". The
rank rule comes from the jurisdiction profile (Rule 3(1)(d): Joint Secretary / DIG or above).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.db.session import session_scope
from suraksha.jurisdictions import ProfileError, load_profile, rank_satisfies, required_rank
from suraksha.legal import store
from suraksha.legal.models import CHECK_KEYS, Agency, LegalCheck, LegalDocument, LegalRequest
from suraksha.legal.schemas import CheckView, LegalConflict, LegalError

_RANKED_ISSUERS = ("government", "police")
_DOCUMENT_ISSUERS = ("court", "government", "police", "commission")


def _agency_check(session: Session, req: LegalRequest) -> tuple[bool, str]:
    if req.agency_id is None:
        if req.issuer_kind in ("user", "ngo"):
            return True, f"a complaint from a {req.issuer_kind} needs no registered agency"
        return False, "the sending agency is not registered; register it and link the request, or answer this check"
    agency = session.get(Agency, req.agency_id)
    if agency is None:
        return False, f"agency {req.agency_id} is not registered"
    domains = list(agency.email_domains or [])
    if req.officer_email and domains:
        domain = req.officer_email.rsplit("@", 1)[-1].lower()
        if domain not in domains:
            return False, (
                f"the officer's email domain {domain!r} is not one of {agency.name}'s official domains ({', '.join(domains)})"
            )
    return True, f"registered agency: {agency.name}"


def _rank_check(req: LegalRequest) -> tuple[bool, str]:
    profile = load_profile(req.jurisdiction)
    need = required_rank(profile, req.type)
    if need is None:
        return True, f"the law sets no minimum rank for a {req.type}"
    if req.issuer_kind == "court":
        return (
            need.court_exempt,
            "court orders are exempt from the rank rule"
            if need.court_exempt
            else f"a court may not send this without rank ({need.citation})",
        )
    if req.issuer_kind not in _RANKED_ISSUERS or req.issuer_kind not in need.minimum:
        return False, f"a {req.type} may come only from a court or {', '.join(need.minimum)} ({need.citation})"
    wanted = need.minimum[req.issuer_kind].replace("_", " ")
    if not req.officer_rank:
        return False, f"the sender's rank is not given; it must be {wanted} or above ({need.citation})"
    try:
        ok = rank_satisfies(profile, req.type, req.issuer_kind, req.officer_rank, exception_applies=req.rank_exception)
    except ProfileError as exc:
        return False, str(exc)
    if ok:
        return True, f"rank {req.officer_rank} meets the minimum ({wanted})"
    return False, f"rank {req.officer_rank} is below the minimum {wanted} for a {req.type} ({need.citation})"


def _legal_basis_check(req: LegalRequest) -> tuple[bool, str]:
    if req.legal_basis:
        return True, f"legal basis: {req.legal_basis[:200]}"
    rule = load_profile(req.jurisdiction).deadline_for(req.type)
    return False, f"no legal basis given (a {req.type} is normally under {rule.legal_basis})"


def _document_check(session: Session, req: LegalRequest) -> tuple[bool, str]:
    n = len(session.scalars(select(LegalDocument.id).where(LegalDocument.request_id == req.id)).all())
    if n:
        return True, f"{n} document(s) received and stored as evidence"
    if req.issuer_kind not in _DOCUMENT_ISSUERS:
        return True, f"a complaint from a {req.issuer_kind} needs no signed document"
    return False, "the signed order / notice (PDF) has not been received"


def compute_checks(session: Session, req: LegalRequest, actor: str) -> list[LegalCheck]:
    """Recompute every check in the caller's transaction and move the request's status.

    A check whose result is unchanged keeps its answer and override; one whose result changed
    starts afresh (an override of "no document" means nothing once the document is there).
    """
    results = {
        "agency": _agency_check(session, req),
        "rank": _rank_check(req),
        "legal_basis": _legal_basis_check(req),
        "document": _document_check(session, req),
    }
    existing = {c.key: c for c in session.scalars(select(LegalCheck).where(LegalCheck.request_id == req.id)).all()}
    rows = []
    for key in CHECK_KEYS:
        passed, reason = results[key]
        row = existing.get(key)
        if row is None:
            row = LegalCheck(request_id=req.id, key=key, passed=passed, reason=reason, checked_at=utcnow())
            session.add(row)
        elif row.passed != passed:
            row.passed, row.reason, row.overridden, row.checked_at = passed, reason, False, utcnow()
        else:
            row.reason = reason
        rows.append(row)
    session.flush()
    failed = [r.key for r in rows if not (r.passed or r.overridden)]
    store.event(
        session,
        req,
        actor,
        "checks.run",
        {
            "passed": [r.key for r in rows if r.passed],
            "failed": [r.key for r in rows if not r.passed],
            "overridden": [r.key for r in rows if r.overridden and not r.passed],
        },
    )
    if req.status in ("received", "in_progress"):
        new = "received" if failed else "in_progress"
        reason = ("checks failed: " + ", ".join(failed)) if failed else None
        if new != req.status:
            store.event(session, req, actor, "status.changed", {"from": req.status, "to": new, "reason": reason})
        req.status, req.status_reason = new, reason
    return rows


def run_checks(request_id: int | str, actor: str) -> list[CheckView]:
    """(Re)compute every check; answers and overrides of unchanged results are kept. Moves the
    request to ``in_progress`` when all checks are ok, back to ``received`` when one fails."""
    with session_scope() as session:
        req = store.load(session, request_id, lock=True)
        return [store.check_view(c) for c in compute_checks(session, req, actor)]


def answer_check(
    request_id: int | str, key: str, note: str, actor: str, role: str, *, override: bool = False, agency_id: int | None = None
) -> CheckView:
    """Answer a failed check with a note; ``override=True`` (role ``legal`` only) lets work start
    despite the failure. Recorded as an event and in the audit log. ``agency_id`` given (an
    officer answering through the portal): another agency's request reads as not found."""
    if key not in CHECK_KEYS:
        raise LegalError(f"unknown check {key!r}; checks are {', '.join(CHECK_KEYS)}")
    note = (note or "").strip()
    if not note:
        raise LegalError("answering a check needs a note saying why")
    if override:
        store.require_legal(role, "overriding a failed check")
    with session_scope() as session:
        req = store.load(session, request_id, agency_id=agency_id, lock=True)
        row = session.scalar(select(LegalCheck).where(LegalCheck.request_id == req.id, LegalCheck.key == key))
        if row is None:
            raise LegalError(f"check {key} has not been run on {req.reference}")
        if override and row.passed:
            raise LegalConflict(f"check {key} on {req.reference} passed; there is nothing to override")
        row.answer_note, row.answered_by, row.answered_at = note[:5000], actor, utcnow()
        if override:
            row.overridden = True
        store.event(
            session,
            req,
            actor,
            "check.overridden" if override else "check.answered",
            {"check": key, "note": note[:2000], "passed": row.passed, "role": role},
        )
        session.flush()
        compute_checks(session, req, actor)
        return store.check_view(row)
