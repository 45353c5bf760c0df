"""Reports to authorities: from the outbox to ``finished``, exactly once per (subject, destination).

The subject of a report is one item for now (``item:42``): the pipeline enqueues ``report:<dest>``
per item, the NCMEC builder handles one account per report, and a per-item report can be filed the
moment its item is reviewed instead of waiting for a grouping window. Supplemental reports carry
what is learnt later and point at the first (docs/decisions.md).

Flow (every change is a ``ReportEvent``, written with a conditional ``UPDATE ... WHERE state=<from>``
so two dispatchers can never both move one report):

    outbox report:<dest> -> draft (take_report_message) --(review decision the policy requires, evidence copy done)--> queued
    ncmec:  queued -> submitted (claimed, filing) -> finished | failed (retry with backoff) | failed+gave_up
    in_police / uk_nca: queued (package built) -> submitted (a person sent it) -> finished (acknowledged)
    draft whose review said "not CSAM" -> retracted (never filed)
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.orm import Session

from suraksha.db import session_scope, utcnow
from suraksha.db.sql import aware, dialect_name, insert_new
from suraksha.errors import InvalidInput, NotFound
from suraksha.outbox import Done, Message, Skip, unfinished
from suraksha.outbox.service import backoff_seconds as outbox_backoff
from suraksha.reporting.models import DELIVERY_METHODS, DESTINATIONS, REPORT_STATES, Report, ReportEvent
from suraksha.reporting.settings import get_report_settings, get_reporter_settings

log = logging.getLogger(__name__)

SYSTEM = "system:dispatcher"
REPORTS_FAILED = Counter("suraksha_reports_failed", "Reports that failed for good (alert on any increase).", ["destination"])
REPORTS_FINISHED = Counter("suraksha_reports_finished", "Reports finished (filed / acknowledged).", ["destination"])
WAITING_REVIEW = "waiting for the review decision the policy requires before reporting"
WAITING_EVIDENCE = "waiting for the evidence copy to be preserved"


class ReportError(InvalidInput):
    """A report operation that is not allowed as asked (the message says why)."""


class ReportNotFound(NotFound):
    pass


@dataclass
class EventView:
    at: dt.datetime
    from_state: str | None
    to_state: str
    actor: str
    reason: str | None
    details: dict[str, Any]


@dataclass
class ReportView:
    id: int
    destination: str
    subject: str
    item_id: int | None
    account_id: int | None
    state: str
    state_reason: str | None
    supplemental_to: int | None
    attempts: int
    gave_up: bool
    external_id: str | None
    police_unit: str | None
    fir_number: str | None
    delivery_method: str | None
    delivery_reference: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    finished_at: dt.datetime | None
    events: list[EventView] = field(default_factory=list)


def _view(r: Report, events: list[ReportEvent] | None = None) -> ReportView:
    return ReportView(
        id=r.id,
        destination=r.destination,
        subject=r.subject,
        item_id=r.item_id,
        account_id=r.account_id,
        state=r.state,
        state_reason=r.state_reason,
        supplemental_to=r.supplemental_to,
        attempts=r.attempts,
        gave_up=r.gave_up,
        external_id=r.external_id,
        police_unit=r.police_unit,
        fir_number=r.fir_number,
        delivery_method=r.delivery_method,
        delivery_reference=r.delivery_reference,
        created_at=aware(r.created_at),
        updated_at=aware(r.updated_at),
        finished_at=aware(r.finished_at),
        events=[EventView(aware(e.at), e.from_state, e.to_state, e.actor, e.reason, dict(e.details or {})) for e in events or []],
    )


# --------------------------------------------------------------------------- state changes
def transition(
    session: Session,
    report_id: int,
    from_states: tuple[str, ...],
    to_state: str,
    actor: str,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    *,
    extra_where: Any = None,
    **values: Any,
) -> bool:
    """Move a report from one of ``from_states`` to ``to_state`` and record the event; False when the
    report was no longer in one of those states (someone else moved it first)."""
    now = utcnow()
    where = [Report.id == report_id, Report.state.in_(from_states)]
    if extra_where is not None:
        where.append(extra_where)
    before = session.execute(select(Report.state).where(*where)).scalar_one_or_none()
    if before is None:
        return False
    r = session.execute(
        update(Report)
        .where(*where, Report.state == before)
        .values(state=to_state, state_reason=reason, updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if r.rowcount != 1:
        return False
    session.execute(
        insert(ReportEvent).values(
            report_id=report_id, at=now, from_state=before, to_state=to_state, actor=actor, reason=reason, details=details or {}
        )
    )
    return True


def _note(session: Session, report: Report, reason: str, actor: str = SYSTEM) -> None:
    """Record why a report stays where it is, once per distinct reason (no event spam each pass)."""
    if report.state_reason == reason:
        return
    report.state_reason = reason
    report.updated_at = utcnow()
    session.add(
        ReportEvent(
            report_id=report.id,
            at=utcnow(),
            from_state=report.state,
            to_state=report.state,
            actor=actor,
            reason=reason,
            details={},
        )
    )


# --------------------------------------------------------------------------- intake
def take_report_message(session: Session, message: Message) -> Done:
    """A ``report`` outbox message -> a draft report, once per (destination, item), in the caller's
    transaction (the outbox loop's, which marks the message delivered in it). An existing report for
    the subject and destination is left alone. Returns the drafts made (0 or 1). Wired to the topic
    by ``suraksha.dispatch``."""
    payload = message.payload
    dest = payload.get("destination")
    if dest not in DESTINATIONS or message.item_id is None:
        raise Skip(f"unknown report destination {dest!r} or no item")
    now = utcnow()
    report_id = insert_new(
        session,
        Report.__table__,
        {
            "destination": dest,
            "subject": f"item:{message.item_id}",
            "item_id": message.item_id,
            "account_id": message.account_id,
            "outbox_message_id": message.id,
            "state": "draft",
            "attempts": 0,
            "next_attempt_at": now,
            "gave_up": False,
            "package": {},
            "created_by": "system:pipeline",
            "created_at": now,
            "updated_at": now,
        },
        ["destination", "subject"],
    )
    if report_id is None:
        return Done()
    session.add(
        ReportEvent(
            report_id=report_id,
            at=now,
            from_state=None,
            to_state="draft",
            actor="system:pipeline",
            reason=f"policy rule {payload.get('rule')} asked for report:{dest}",
            details={"outbox_message_id": message.id, "labels": list(payload.get("labels") or [])},
        )
    )
    return Done(made=1)


# --------------------------------------------------------------------------- gates
def _policy() -> Any:
    try:
        from suraksha.pipeline.settings import get_pipeline_settings
        from suraksha.policy import default_policy, load_policy
    except ImportError:  # pragma: no cover
        return None
    path = get_pipeline_settings().policy_path
    return load_policy(path) if path else default_policy()


def review_gate(destination: str, item_id: int, policy: Any = None) -> tuple[bool | None, str]:
    """(True, why) may be filed; (None, why) wait; (False, why) must not be filed (review said no)."""
    from suraksha.reporting.subject import decision_for

    policy = policy if policy is not None else _policy()
    required = True if policy is None else policy.review_required_before_report(destination)
    two_person = False if policy is None else bool(policy.settings.two_person_rule)
    decision = decision_for(item_id)
    if decision is not None and decision.category != "csam":
        return False, f"review decided {decision.category!r}: not reportable, withdrawn before filing"
    if not required:
        return True, "policy does not require review before this report"
    if decision is None:
        return None, WAITING_REVIEW + (" (two reviewers)" if two_person else "")
    from suraksha.cases.service import decision_satisfies_report_rule

    if not decision_satisfies_report_rule(item_id, two_person):
        return None, WAITING_REVIEW + " (a second reviewer must agree: two-person rule)"
    return True, f"review decided csam{' ' + decision.industry_class if decision.industry_class else ''}"


def advance_drafts(limit: int = 200) -> int:
    """Move drafts whose conditions are met to ``queued`` (or ``retracted``); returns how many moved."""
    policy = _policy()
    moved = 0
    with session_scope() as session:
        drafts = session.scalars(select(Report).where(Report.state == "draft").order_by(Report.id).limit(limit)).all()
        session.expunge_all()
    for draft in drafts:
        ok, why = review_gate(draft.destination, draft.item_id, policy) if draft.item_id is not None else (True, "no item")
        with session_scope() as session:
            report = session.get(Report, draft.id)
            if report is None or report.state != "draft":
                continue
            if ok is False:
                moved += transition(session, report.id, ("draft",), "retracted", SYSTEM, why)
                continue
            if ok is None:
                _note(session, report, why)
                continue
            if report.item_id is not None and unfinished(session, "preserve", report.item_id):
                _note(session, report, WAITING_EVIDENCE)
                continue
            values: dict[str, Any] = {"next_attempt_at": utcnow()}
            reason = why
            if report.destination != "ncmec":
                values["package"] = build_package(session, report)
                reason = f"{why}; package ready: send it to the {'police' if report.destination == 'in_police' else 'NCA'} and record the delivery"
            moved += transition(session, report.id, ("draft",), "queued", SYSTEM, reason, extra_where=None, **values)
    return moved


# --------------------------------------------------------------------------- packages (India, UK)
def _reporter_dict() -> dict[str, Any]:
    rs = get_reporter_settings()
    name = " ".join(p for p in (rs.first_name, rs.last_name) if p) or None
    return {
        "platform": rs.platform,
        "organisation": rs.organisation or rs.platform,
        "contact_person": name,
        "email": rs.email,
        "phone": rs.phone,
        "address": rs.address,
    }


def build_package(session: Session, report: Report) -> dict[str, Any]:
    from suraksha.reporting.subject import gather

    facts = gather(session, report.item_id)
    original = session.get(Report, report.supplemental_to) if report.supplemental_to else None
    common = {
        "reference": f"SURAKSHA-{report.destination.upper()}-{report.id}",
        "reporter": _reporter_dict(),
        "supplemental_to": f"SURAKSHA-{original.destination.upper()}-{original.id}" if original else None,
        "extra_info": report.extra_info,
    }
    if report.destination == "in_police":
        from suraksha.reporting.india import build_package as build_in

        return build_in(
            facts,
            police_unit=report.police_unit or get_report_settings().india_police_unit,
            fir_number=report.fir_number,
            delivery={
                "method": report.delivery_method,
                "reference": report.delivery_reference,
                "sent_at": aware(report.submitted_at),
                "acknowledged_at": aware(report.finished_at),
            },
            **common,
        )
    if report.destination == "uk_nca":
        from suraksha.reporting.uk import build_nca_report

        return build_nca_report(
            facts,
            submission={
                "reference": report.delivery_reference,
                "sent_at": aware(report.submitted_at),
                "acknowledged_at": aware(report.finished_at),
            },
            **common,
        )
    raise ReportError(f"{report.destination} reports are filed through the API, not as a package")


def package(report_id: int) -> dict[str, Any]:
    """The India/UK package of a report, rebuilt from the current data (delivery status included)."""
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise ReportNotFound(f"report {report_id} not found")
        data = build_package(session, report)
        report.package = data
        return data


def package_pdf(report_id: int) -> bytes:
    from suraksha.reporting.india import render_pdf

    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise ReportNotFound(f"report {report_id} not found")
        if report.destination != "in_police":
            raise ReportError(f"report {report_id} goes to {report.destination}; the PDF package is for India (in_police)")
    return render_pdf(package(report_id))


def record_delivery(
    report_id: int,
    method: str,
    actor: str,
    *,
    reference: str | None = None,
    police_unit: str | None = None,
    fir_number: str | None = None,
    sent_at: dt.datetime | None = None,
) -> ReportView:
    """A person sent a queued India/UK package (portal, email, in person): queued -> submitted."""
    if method not in DELIVERY_METHODS:
        raise ReportError(f"delivery method must be one of {', '.join(DELIVERY_METHODS)}, not {method!r}")
    if sent_at is not None and sent_at.tzinfo is None:
        raise ReportError("sent_at must include a time zone")
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise ReportNotFound(f"report {report_id} not found")
        if report.destination == "ncmec":
            raise ReportError("NCMEC reports are filed by the dispatcher; there is no manual delivery")
        if report.destination == "in_police" and not (
            police_unit or report.police_unit or get_report_settings().india_police_unit
        ):
            raise ReportError("name the receiving police unit (SJPU, police station or the cyber-crime portal)")
        values: dict[str, Any] = {
            "delivery_method": method,
            "delivery_reference": (reference or None) and reference[:300],
            # UTC before storing: SQLite keeps the wall-clock time and drops the zone
            "submitted_at": sent_at.astimezone(dt.UTC) if sent_at else utcnow(),
        }
        if police_unit:
            values["police_unit"] = police_unit[:300]
        if fir_number:
            values["fir_number"] = fir_number[:100]
        if not transition(
            session,
            report_id,
            ("queued",),
            "submitted",
            actor,
            f"sent via {method}",
            {"reference": reference, "police_unit": police_unit},
            **values,
        ):
            raise ReportError(f"report {report_id} is {report.state}; only a queued package can be marked as sent")
        session.expire_all()
        report = session.get(Report, report_id)
        report.package = build_package(session, report)
        return _view(report)


def record_acknowledgement(
    report_id: int, actor: str, *, reference: str | None = None, fir_number: str | None = None, at: dt.datetime | None = None
) -> ReportView:
    """The police / NCA acknowledged a submitted package: submitted -> finished (FIR number if given)."""
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise ReportNotFound(f"report {report_id} not found")
        if report.destination == "ncmec":
            raise ReportError("NCMEC reports are finished by the API, not acknowledged by hand")
        if at is not None and at.tzinfo is None:
            raise ReportError("the acknowledgement time must include a time zone")
        values: dict[str, Any] = {"finished_at": at.astimezone(dt.UTC) if at else utcnow()}
        if fir_number:
            values["fir_number"] = fir_number[:100]
        if reference:
            values["external_id"] = reference[:100]
        if not transition(
            session,
            report_id,
            ("submitted",),
            "finished",
            actor,
            "acknowledged by the recipient",
            {"reference": reference, "fir_number": fir_number},
            **values,
        ):
            raise ReportError(f"report {report_id} is {report.state}; only a submitted report can be acknowledged")
        REPORTS_FINISHED.labels(report.destination).inc()
        session.expire_all()
        report = session.get(Report, report_id)
        report.package = build_package(session, report)
        return _view(report)


# --------------------------------------------------------------------------- people's operations
def retry_report(report_id: int, actor: str) -> ReportView:
    """Failed -> queued now (attempts restart); a draft is re-checked at once."""
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise ReportNotFound(f"report {report_id} not found")
        state = report.state
        if state == "failed":
            transition(
                session,
                report_id,
                ("failed",),
                "queued",
                actor,
                "manual retry",
                {"previous_error": report.state_reason},
                attempts=0,
                gave_up=False,
                next_attempt_at=utcnow(),
            )
        elif state != "draft":
            raise ReportError(f"report {report_id} is {state}; only failed reports can be retried (drafts are re-checked)")
    if state == "draft":
        advance_drafts()
    return get_report(report_id)


def retract_report(report_id: int, actor: str, reason: str) -> ReportView:
    """Withdraw a report that has not been sent (draft, queued, failed)."""
    if not reason or not reason.strip():
        raise ReportError("a reason is required to retract a report")
    with session_scope() as session:
        report = session.get(Report, report_id)
        if report is None:
            raise ReportNotFound(f"report {report_id} not found")
        if report.state == "failed" and report.external_id:
            raise ReportError(f"report {report_id} may be open at NCMEC (id {report.external_id}); let the dispatcher settle it")
        if not transition(session, report_id, ("draft", "queued", "failed"), "retracted", actor, reason.strip()[:2000]):
            raise ReportError(
                f"report {report_id} is {report.state}; only unsent reports (draft, queued, failed) can be retracted"
            )
    return get_report(report_id)


def file_supplemental(report_id: int, actor: str, extra_info: str) -> ReportView:
    """A supplemental report to the same destination, linked to the first (which must be finished)."""
    if not extra_info or not extra_info.strip():
        raise ReportError("say what the supplemental report adds (extra_info)")
    with session_scope() as session:
        first = session.get(Report, report_id)
        if first is None:
            raise ReportNotFound(f"report {report_id} not found")
        if first.supplemental_to is not None:
            first = session.get(Report, first.supplemental_to)
        if first.state != "finished":
            raise ReportError(f"report {first.id} is {first.state}; a supplemental report follows a finished one")
        n = (session.scalar(select(func.count()).select_from(Report).where(Report.supplemental_to == first.id)) or 0) + 1
        now = utcnow()
        row = Report(
            destination=first.destination,
            subject=f"{first.subject}:supplemental:{n}",
            item_id=first.item_id,
            account_id=first.account_id,
            supplemental_to=first.id,
            state="draft",
            extra_info=extra_info.strip()[:10000],
            police_unit=first.police_unit,
            fir_number=first.fir_number,
            created_by=actor,
            created_at=now,
            updated_at=now,
            next_attempt_at=now,
            package={},
        )
        session.add(row)
        session.flush()
        session.add(
            ReportEvent(
                report_id=row.id,
                at=now,
                from_state=None,
                to_state="draft",
                actor=actor,
                reason=f"supplemental to report {first.id}",
                details={"supplemental_to": first.id},
            )
        )
        new_id = row.id
    advance_drafts()
    return get_report(new_id)


def list_reports(
    *, state: str | None = None, destination: str | None = None, item_id: int | None = None, limit: int = 100
) -> list[ReportView]:
    if state is not None and state not in REPORT_STATES:
        raise ReportError(f"unknown state {state!r}; expected one of {', '.join(REPORT_STATES)}")
    if destination is not None and destination not in DESTINATIONS:
        raise ReportError(f"unknown destination {destination!r}; expected one of {', '.join(DESTINATIONS)}")
    stmt = select(Report).order_by(Report.id.desc()).limit(max(1, min(limit, 10_000)))
    if state:
        stmt = stmt.where(Report.state == state)
    if destination:
        stmt = stmt.where(Report.destination == destination)
    if item_id is not None:
        stmt = stmt.where(Report.item_id == item_id)
    with session_scope() as session:
        return [_view(r) for r in session.scalars(stmt).all()]


def get_report(report_id: int) -> ReportView:
    with session_scope() as session:
        r = session.get(Report, report_id)
        if r is None:
            raise ReportNotFound(f"report {report_id} not found")
        events = session.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)).all()
        return _view(r, list(events))


def backoff_seconds(attempt: int) -> float:
    """The outbox's backoff (exponential, capped, 50-100 % jitter) with the report settings."""
    rs = get_report_settings()
    return outbox_backoff(attempt, rs.backoff_base_s, rs.backoff_max_s)


# --------------------------------------------------------------------------- claiming (NCMEC)
def claim_reports(dispatcher: str, n: int = 5, lease_seconds: int | None = None) -> list[int]:
    """Lease due NCMEC reports: queued, failed and due (not given up), or submitted with an expired lease."""
    lease = lease_seconds or get_report_settings().lease_s
    now = utcnow()
    runnable = and_(
        Report.destination == "ncmec",
        or_(
            and_(Report.state == "queued", Report.next_attempt_at <= now),
            and_(Report.state == "failed", Report.gave_up.is_(False), Report.next_attempt_at <= now),
            and_(Report.state == "submitted", Report.lease_expires_at < now),
        ),
    )
    claimed = []
    with session_scope() as session:
        stmt = select(Report.id).where(runnable).order_by(Report.id).limit(n)
        if dialect_name(session) == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        ids = session.scalars(stmt).all()
        for report_id in ids:
            # conditional per row: a concurrent dispatcher on SQLite has to wait for our write lock first
            if transition(
                session,
                report_id,
                ("queued", "failed", "submitted"),
                "submitted",
                SYSTEM,
                f"filing (dispatcher {dispatcher})",
                {"dispatcher": dispatcher},
                extra_where=runnable,
                lease_owner=dispatcher,
                lease_expires_at=now + dt.timedelta(seconds=lease),
                attempts=Report.attempts + 1,
            ):
                claimed.append(report_id)
    return claimed
