"""Clocks: the due / at-risk / overdue dashboard and escalation before breach.

``due_at`` is fixed at intake (``jurisdictions.deadline``: the profile's period, or the order's
own deadline where it is stricter or where the law leaves the time to the order). Here the
remaining share of each open request's period decides where it shows and who is told:
the nodal officer at ``SURAKSHA_LEGAL_ESCALATE_NODAL_AT`` (default half the period used), then
the compliance officer at ``SURAKSHA_LEGAL_ESCALATE_COMPLIANCE_AT`` (default 80%). Notifications
are rows plus audit events (unique per request and level, so two workers never send twice);
no mail server is needed.
"""

from __future__ import annotations

import datetime as dt

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.auth.models import StaffUser
from suraksha.db.base import utcnow
from suraksha.db.session import session_scope
from suraksha.db.sql import aware, insert_new
from suraksha.legal import orders, store
from suraksha.legal.models import OPEN_STATUSES, Agency, LegalNotification, LegalRequest
from suraksha.legal.schemas import Dashboard, DashboardEntry, NotificationView
from suraksha.legal.settings import get_legal_settings

ACTOR = "system:legal-escalation"


def elapsed_fraction(received_at: dt.datetime, due_at: dt.datetime, now: dt.datetime) -> float:
    """Share of the period used at ``now`` (>= 1.0 once due). A zero-length period counts as used."""
    total = (aware(due_at) - aware(received_at)).total_seconds()
    if total <= 0:
        return 1.0
    return max(0.0, (now - aware(received_at)).total_seconds() / total)


def _open(session: Session, agency_id: int | None = None) -> list[LegalRequest]:
    stmt = select(LegalRequest).where(LegalRequest.status.in_(OPEN_STATUSES)).order_by(LegalRequest.due_at, LegalRequest.id)
    if agency_id is not None:
        stmt = stmt.where(LegalRequest.agency_id == agency_id)
    return list(session.scalars(stmt).all())


def dashboard(now: dt.datetime | None = None, *, agency_id: int | None = None) -> Dashboard:
    """Open requests grouped: overdue, at risk (past SURAKSHA_LEGAL_AT_RISK_AT of the period),
    due (the rest), each sorted by due time. ``agency_id`` limits to one agency (the portal)."""
    now = store.utc(now, "now") if now is not None else utcnow()
    at_risk_at = get_legal_settings().legal_at_risk_at
    groups: dict[str, list[DashboardEntry]] = {"overdue": [], "at_risk": [], "due": []}
    with session_scope() as session:
        orders.settle_orders(session=session)  # acknowledged orders leave the dashboard, unknown targets keep theirs
        names = {a.id: a.name for a in session.scalars(select(Agency)).all()}
        for r in _open(session, agency_id):
            frac = elapsed_fraction(r.received_at, r.due_at, now)
            entry = DashboardEntry(
                r.id,
                r.reference,
                r.type,
                r.status,
                names.get(r.agency_id),
                store.local(r, r.received_at),
                store.local(r, r.due_at),
                aware(r.due_at) - now,
                frac,
            )
            groups["overdue" if frac >= 1.0 else "at_risk" if frac >= at_risk_at else "due"].append(entry)
    return Dashboard(now, groups["overdue"], groups["at_risk"], groups["due"])


def recipients(session: Session, level: str) -> list[str]:
    """Who is told: the configured email, else every active staff user with the legal role."""
    s = get_legal_settings()
    email = s.nodal_officer_email if level == "nodal" else s.compliance_officer_email
    if email:
        return [email]
    users = session.scalars(
        select(StaffUser.username).where(StaffUser.role == "legal", StaffUser.active.is_(True)).order_by(StaffUser.username)
    ).all()
    return [f"user:{u}" for u in users]


def _notification_view(n: LegalNotification, reference: str) -> NotificationView:
    return NotificationView(n.id, n.request_id, reference, n.level, list(n.recipients or []), n.threshold, n.message, aware(n.at))


def escalate_due(now: dt.datetime | None = None, *, transport: httpx.BaseTransport | None = None) -> list[NotificationView]:
    """Called periodically by the dispatcher: notify the nodal officer at the first threshold and
    the compliance officer at the second for each open request, once each (a request already
    overdue when first seen gets both). Returns the notifications made by this call.

    One short transaction per request, so a backlog never holds the audit chain's lock for long.
    With ``SURAKSHA_LEGAL_ESCALATION_WEBHOOK=true`` each new one is also sent to the platform
    connector (``transport``: tests plug in a fake platform).
    """
    now = store.utc(now, "now") if now is not None else utcnow()
    s = get_legal_settings()
    levels = (("nodal", s.legal_escalate_nodal_at), ("compliance", s.legal_escalate_compliance_at))
    orders.settle_orders()  # orders the platform has acknowledged are answered, not escalated
    with session_scope() as session:
        sent = set(
            session.execute(
                select(LegalNotification.request_id, LegalNotification.level)
                .join(LegalRequest, LegalRequest.id == LegalNotification.request_id)
                .where(LegalRequest.status.in_(OPEN_STATUSES))
            ).all()
        )
        due = []
        for r in _open(session):
            frac = elapsed_fraction(r.received_at, r.due_at, now)
            wanted = [(level, t) for level, t in levels if frac >= t and (r.id, level) not in sent]
            if wanted:
                due.append((r.id, wanted))
    made: list[NotificationView] = []
    for request_id, wanted in due:
        with session_scope() as session:
            r = session.get(LegalRequest, request_id)
            if r is None or r.status not in OPEN_STATUSES:
                continue  # answered meanwhile
            for level, threshold in wanted:
                made.extend(_notify(session, r, level, threshold, now))
    if made and s.legal_escalation_webhook:
        _deliver(made, transport)
    return made


def _deliver(made: list[NotificationView], transport: httpx.BaseTransport | None) -> None:
    """Best effort: each new escalation as a signed ``legal_escalation`` webhook. The stored row is
    the record; a failed delivery is logged on the request's history and not retried (the next
    level, the dashboard and the audit log still show it)."""
    from suraksha.enforcement.connector import HttpConnector, Webhook
    from suraksha.enforcement.settings import get_enforcement_settings

    es = get_enforcement_settings()
    if not es.connector_url or not es.connector_secret:
        return
    connector = HttpConnector(
        es.connector_url, es.connector_secret.get_secret_value(), timeout=es.connector_timeout_s, transport=transport
    )
    try:
        for n in made:
            body = {
                "id": f"legal_escalation:{n.id}",
                "event": "legal_escalation",
                "reference": n.reference,
                "level": n.level,
                "recipients": n.recipients,
                "message": n.message,
                "at": n.at.isoformat(),
            }
            result = connector.deliver(Webhook("legal_escalation", body["id"], body))
            with session_scope() as session:
                r = session.get(LegalRequest, n.request_id)
                store.event(
                    session,
                    r,
                    ACTOR,
                    "escalation.delivered" if result.acknowledged else "escalation.delivery_failed",
                    {"notification_id": n.id, "http_status": result.http_status, "error": result.error},
                )
    finally:
        connector.close()


def _notify(session: Session, r: LegalRequest, level: str, threshold: float, now: dt.datetime) -> list[NotificationView]:
    left = aware(r.due_at) - now
    when = store.local(r, r.due_at).strftime("%d %b %Y %H:%M %Z")
    state = f"overdue by {_human(-left)}" if left.total_seconds() <= 0 else f"{_human(left)} left"
    message = (
        f"{r.reference} ({r.type}, status {r.status}) is due {when}: {state}. "
        f"Escalated to the {level} officer at {int(threshold * 100)}% of the period."
    )
    to = recipients(session, level)
    new_id = insert_new(
        session,
        LegalNotification.__table__,
        {"request_id": r.id, "level": level, "recipients": to, "threshold": threshold, "message": message, "at": now},
        ["request_id", "level"],
    )
    if new_id is None:
        return []  # another worker sent it first
    store.event(
        session,
        r,
        ACTOR,
        f"escalation.{level}",
        {"recipients": to, "threshold": threshold, "due_at": r.due_at, "message": message},
        at=now,
    )
    return [_notification_view(session.get(LegalNotification, new_id), r.reference)]


def _human(delta: dt.timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def list_notifications(request_id: int | str | None = None) -> list[NotificationView]:
    with session_scope() as session:
        stmt = select(LegalNotification, LegalRequest.reference).join(
            LegalRequest, LegalRequest.id == LegalNotification.request_id
        )
        if request_id is not None:
            stmt = stmt.where(LegalNotification.request_id == store.load(session, request_id).id)
        stmt = stmt.order_by(LegalNotification.id)
        return [_notification_view(n, ref) for n, ref in session.execute(stmt).all()]
