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
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import Counter
from sqlalchemy import and_, delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from suraksha.cases.categories import REPORTABLE
from suraksha.db import session_scope, utcnow
from suraksha.db.sql import aware, dialect_name, insert_new
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.outbox import Done, Message, Skip, unfinished
from suraksha.outbox.service import backoff_seconds as outbox_backoff
from suraksha.pipeline.settings import get_pipeline_settings
from suraksha.policy import default_policy, load_policy
from suraksha.reporting.models import DELIVERY_METHODS, DESTINATIONS, REPORT_STATES, Report, ReportEvent, ReportItem
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
    item_ids: list[int] = field(default_factory=list)  # the items the report covers (review's exclusions left out)
    group_identifier: str | None = None  # the network the account belongs to, as reported


def _item_ids(session: Session, reports: list[Report]) -> dict[int, list[int]]:
    """Report id -> its included items, for many reports in one query (a supplemental: its first's)."""
    key = {r.id: r.supplemental_to or r.id for r in reports}
    out: dict[int, list[int]] = {k: [] for k in set(key.values())}
    if out:
        rows = session.execute(
            select(ReportItem.report_id, ReportItem.item_id)
            .where(ReportItem.report_id.in_(list(out)), ReportItem.excluded.is_(None))
            .order_by(ReportItem.id)
        ).all()
        for report_id, item_id in rows:
            out[report_id].append(item_id)
    return {r.id: out[key[r.id]] for r in reports}


def _view(r: Report, events: list[ReportEvent] | None = None, item_ids: list[int] | None = None) -> ReportView:
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
        item_ids=list(item_ids or []),
        group_identifier=r.group_identifier,
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
def _open_draft(session: Session, dest: str, account_id: int) -> Report | None:
    """The account's report to this destination that is still gathering items (a draft, not a
    supplemental one), locked on PostgreSQL so the draft cannot be queued while an item joins."""
    stmt = (
        select(Report)
        .where(
            Report.destination == dest,
            Report.account_id == account_id,
            Report.state == "draft",
            Report.supplemental_to.is_(None),
        )
        .order_by(Report.id)
        .limit(1)
    )
    if dialect_name(session) == "postgresql":
        stmt = stmt.with_for_update()
    return session.scalars(stmt).first()


def _new_report(session: Session, dest: str, item_id: int, account_id: int | None, message: Message) -> int | None:
    """A new draft: ``account:<id>:incident:<n>`` (the account's n-th report to ``dest``), or
    ``item:<id>`` for an item without an account. None when another dispatcher made it first."""
    if account_id is None:
        subject = f"item:{item_id}"
    else:
        earlier = session.scalar(
            select(func.count())
            .select_from(Report)
            .where(Report.destination == dest, Report.account_id == account_id, Report.supplemental_to.is_(None))
        )
        subject = f"account:{account_id}:incident:{(earlier or 0) + 1}"
    now = utcnow()
    return insert_new(
        session,
        Report.__table__,
        {
            "destination": dest,
            "subject": subject,
            "item_id": item_id,
            "account_id": account_id,
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


def take_report_message(session: Session, message: Message) -> Done:
    """A ``report`` outbox message -> the item joins its account's draft report to that destination
    (one report per reported user and incident), or starts a new one; in the caller's transaction
    (the outbox loop's, which marks the message delivered in it). An item already in a report to
    the destination is left alone. Returns the drafts made (0 or 1). Wired to the topic by
    ``suraksha.dispatch``; enqueued by the pipeline's policy actions and by review decisions
    (``report:<destination>`` with the item and its account)."""
    from suraksha.items.models import Item

    payload = message.payload
    dest = payload.get("destination")
    if dest not in DESTINATIONS or message.item_id is None:
        raise Skip(f"unknown report destination {dest!r} or no item")
    item_id = message.item_id
    if session.scalar(select(ReportItem.id).where(ReportItem.destination == dest, ReportItem.item_id == item_id)):
        return Done()
    account_id = message.account_id
    if account_id is None:
        account_id = session.scalar(select(Item.account_id).where(Item.id == item_id))
    why = f"policy rule {payload.get('rule')} asked for report:{dest}" if payload.get("rule") else f"asked for report:{dest}"
    for _ in range(3):
        draft = _open_draft(session, dest, account_id) if account_id is not None else None
        made = draft is None
        report_id = draft.id if draft is not None else _new_report(session, dest, item_id, account_id, message)
        if report_id is None:
            continue  # another dispatcher opened the account's next report just now: join it
        joined = insert_new(
            session,
            ReportItem.__table__,
            {
                "report_id": report_id,
                "destination": dest,
                "item_id": item_id,
                "outbox_message_id": message.id,
                "added_at": utcnow(),
            },
            ["destination", "item_id"],
        )
        if joined is None:  # the same item was reported by another message at the same moment
            if made:
                session.execute(delete(Report).where(Report.id == report_id))
            return Done()
        now = utcnow()
        labels = list(payload.get("labels") or [])
        if made:
            session.add(
                ReportEvent(
                    report_id=report_id,
                    at=now,
                    from_state=None,
                    to_state="draft",
                    actor="system:pipeline",
                    reason=f"{why} (item {item_id})",
                    details={"outbox_message_id": message.id, "item_id": item_id, "labels": labels},
                )
            )
        else:
            session.execute(update(Report).where(Report.id == report_id).values(updated_at=now))
            session.add(
                ReportEvent(
                    report_id=report_id,
                    at=now,
                    from_state="draft",
                    to_state="draft",
                    actor="system:pipeline",
                    reason=f"item {item_id} joins the report on its account: {why}",
                    details={"outbox_message_id": message.id, "item_id": item_id, "labels": labels},
                )
            )
        return Done(made=int(made))
    raise Conflict(f"could not open a report for item {item_id} to {dest}: other dispatchers kept opening them; try again")


def report_items(session: Session, report: Report) -> list[ReportItem]:
    """The items a report covers (a supplemental report: those of the report it follows), with the
    ones review left out; in the order they joined."""
    report_id = report.supplemental_to or report.id
    return list(session.scalars(select(ReportItem).where(ReportItem.report_id == report_id).order_by(ReportItem.id)).all())


def included_item_ids(session: Session, report: Report) -> list[int]:
    """The items the report is about (those review did not leave out)."""
    return [ri.item_id for ri in report_items(session, report) if ri.excluded is None]


def prior_reports(session: Session, report: Report) -> list[Report]:
    """The account's earlier reports to the same destination that were filed (finished), oldest
    first: a follow-up names them (NCMEC ``priorCTReports``)."""
    if report.account_id is None:
        return []
    return list(
        session.scalars(
            select(Report)
            .where(
                Report.destination == report.destination,
                Report.account_id == report.account_id,
                Report.state == "finished",
                Report.id < report.id,
                Report.id != (report.supplemental_to or -1),
            )
            .order_by(Report.id)
        ).all()
    )


# --------------------------------------------------------------------------- networks
#: ``(session, account_id) -> network`` or None when the account is in no group. The networks area
#: sits below reporting in the layer order, so the composition root registers the lookup
#: (``suraksha.dispatch``); without one, reports say the network was not looked up.
NetworkLookup = Callable[[Session, int], "dict[str, Any] | None"]
_network_lookup: list[NetworkLookup] = []


def register_network_lookup(lookup: NetworkLookup) -> None:
    """Called once by the composition root with the networks area's lookup."""
    _network_lookup[:] = [lookup]


def _network(session: Session, account_id: int | None) -> dict[str, Any]:
    if account_id is None:
        return {"looked_up": False, "reason": "the items have no account"}
    if not _network_lookup:
        return {"looked_up": False, "reason": "the network lookup is not wired in this process"}
    try:
        found = _network_lookup[0](session, account_id)
    except Exception as exc:  # noqa: BLE001 - a report must not wait on the group graph; the record says why
        log.warning("network lookup for account %s failed: %s", account_id, exc)
        return {"looked_up": False, "reason": f"the network lookup failed ({type(exc).__name__})"}
    if not found:
        return {"looked_up": True, "group_identifier": None}
    return {"looked_up": True, **found}


# --------------------------------------------------------------------------- gates
def _policy() -> Any:
    path = get_pipeline_settings().policy_path
    return load_policy(path) if path else default_policy()


def review_gate(destination: str, item_id: int, policy: Any = None) -> tuple[bool | None, str]:
    """(True, why) may be filed; (None, why) wait; (False, why) must not be filed (review said no)."""
    from suraksha.reporting.subject import decision_for

    policy = policy if policy is not None else _policy()
    required = True if policy is None else policy.review_required_before_report(destination)
    two_person = False if policy is None else bool(policy.settings.two_person_rule)
    decision = decision_for(item_id)
    if decision is not None and decision.category not in REPORTABLE:
        return False, f"review decided {decision.category!r}: not reportable, withdrawn before filing"
    if not required:
        return True, "policy does not require review before this report"
    if decision is None:
        return None, WAITING_REVIEW + (" (two reviewers)" if two_person else "")
    from suraksha.cases.service import decision_satisfies_report_rule

    if not decision_satisfies_report_rule(item_id, two_person):
        return None, WAITING_REVIEW + " (a second reviewer must agree: two-person rule)"
    return True, f"review decided {decision.category}{' ' + decision.industry_class if decision.industry_class else ''}"


def _gate_items(destination: str, item_ids: list[int], policy: Any) -> dict[int, tuple[bool | None, str]]:
    return {item_id: review_gate(destination, item_id, policy) for item_id in item_ids}


def advance_drafts(limit: int = 200) -> int:
    """Move drafts whose conditions are met to ``queued`` (or ``retracted``); returns how many moved.

    A report waits until every item in it may be filed; an item whose review said "not reportable"
    is left out (recorded on the report), and a report left with no item is retracted. The network
    of the account is looked up when the report is queued and stored with it (what is sent)."""
    policy = _policy()
    moved = 0
    with session_scope() as session:
        drafts = session.scalars(select(Report).where(Report.state == "draft").order_by(Report.id).limit(limit)).all()
        plans = []
        for d in drafts:
            plans.append((d.id, d.destination, d.supplemental_to, included_item_ids(session, d)))
    for report_id, destination, supplemental_to, item_ids in plans:
        if supplemental_to is not None:
            gates = {i: (True, "supplemental to a filed report") for i in item_ids}
        else:
            gates = _gate_items(destination, item_ids, policy)
        with session_scope() as session:
            stmt = select(Report).where(Report.id == report_id)
            if dialect_name(session) == "postgresql":
                stmt = stmt.with_for_update()
            report = session.scalars(stmt).first()
            if report is None or report.state != "draft":
                continue
            if included_item_ids(session, report) != item_ids:
                continue  # an item joined since the gates were read: the next pass looks again
            refused = {i: why for i, (ok, why) in gates.items() if ok is False}
            for ri in report_items(session, report):
                if ri.item_id in refused and ri.excluded is None and report.supplemental_to is None:
                    ri.excluded = refused[ri.item_id][:2000]
                    session.add(
                        ReportEvent(
                            report_id=report.id,
                            at=utcnow(),
                            from_state="draft",
                            to_state="draft",
                            actor=SYSTEM,
                            reason=f"item {ri.item_id} left out: {refused[ri.item_id]}",
                            details={"item_id": ri.item_id},
                        )
                    )
            remaining = [i for i in item_ids if i not in refused]
            if not remaining:
                why = "; ".join(sorted(set(refused.values()))) if refused else "the report covers no item"
                moved += transition(session, report.id, ("draft",), "retracted", SYSTEM, why)
                continue
            if report.item_id not in remaining:
                report.item_id = remaining[0]
            waiting = [(i, why) for i, (ok, why) in gates.items() if ok is None and i in remaining]
            if waiting:
                first, why = waiting[0]
                more = f" and {len(waiting) - 1} more item(s)" if len(waiting) > 1 else ""
                _note(session, report, f"{why} (item {first}{more})")
                continue
            if any(unfinished(session, "preserve", i) for i in remaining):
                _note(session, report, WAITING_EVIDENCE)
                continue
            network = _network(session, report.account_id)
            values: dict[str, Any] = {
                "next_attempt_at": utcnow(),
                "network": network,
                "group_identifier": network.get("group_identifier"),
            }
            whys = sorted({why for i, (ok, why) in gates.items() if ok and i in remaining})
            reason = f"{'; '.join(whys)} ({len(remaining)} item(s))"
            if report.destination != "ncmec":
                report.network = network
                report.group_identifier = network.get("group_identifier")
                values["package"] = build_package(session, report)
                reason = f"{reason}; package ready: send it to the {'police' if report.destination == 'in_police' else 'NCA'} and record the delivery"
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


def report_facts(session: Session, report: Report) -> list[Any]:
    """``SubjectFacts`` of every item the report covers, in the order they joined."""
    from suraksha.reporting.subject import gather

    ids = included_item_ids(session, report) or ([report.item_id] if report.item_id is not None else [])
    return [gather(session, item_id) for item_id in ids]


def build_package(session: Session, report: Report) -> dict[str, Any]:
    from suraksha.reporting.subject import original_views

    facts = report_facts(session, report)
    if not facts:
        raise ReportError(f"report {report.id} covers no item")
    original = session.get(Report, report.supplemental_to) if report.supplemental_to else None
    prior = prior_reports(session, report)
    common = {
        "reference": f"SURAKSHA-{report.destination.upper()}-{report.id}",
        "reporter": _reporter_dict(),
        "supplemental_to": f"SURAKSHA-{original.destination.upper()}-{original.id}" if original else None,
        "extra_info": report.extra_info,
        "prior_reports": [
            {
                "reference": f"SURAKSHA-{p.destination.upper()}-{p.id}",
                "acknowledgement": p.external_id,
                "fir_number": p.fir_number,
                "finished_at": aware(p.finished_at),
            }
            for p in prior
        ],
        "network": dict(report.network or {"looked_up": False, "reason": "not looked up yet (the report is a draft)"}),
        "viewed": original_views(session, [f.item_id for f in facts]),
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
    if item_id is not None:  # every report covering the item (one per destination), not only those it opened
        covering = select(ReportItem.report_id).where(ReportItem.item_id == item_id)
        stmt = stmt.where(or_(Report.id.in_(covering), Report.supplemental_to.in_(covering), Report.item_id == item_id))
    with session_scope() as session:
        rows = list(session.scalars(stmt).all())
        ids = _item_ids(session, rows)
        return [_view(r, item_ids=ids[r.id]) for r in rows]


def get_report(report_id: int) -> ReportView:
    with session_scope() as session:
        r = session.get(Report, report_id)
        if r is None:
            raise ReportNotFound(f"report {report_id} not found")
        events = session.scalars(select(ReportEvent).where(ReportEvent.report_id == report_id).order_by(ReportEvent.id)).all()
        return _view(r, list(events), _item_ids(session, [r])[r.id])


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
