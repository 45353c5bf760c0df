"""The read side of the reports list (``/reports``) and the audited steps people take on a report.

Reading: a filtered page with a total (state, authority, kind first/supplemental, account, period
on creation). A report's detail, with every state change and delivery attempt, is
``service.get_report``.

Changing: each function calls the one in ``service`` that does the work (it writes the report's
own event) and then books an audit event with who did it, so the audit log shows every package
downloaded and every "sent", acknowledgement and FIR number a person recorded.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from suraksha.audit.log import record
from suraksha.db import session_scope, unit_of_work
from suraksha.db.sql import check_page, within_period
from suraksha.errors import InvalidInput
from suraksha.reporting import service
from suraksha.reporting.models import DESTINATIONS, REPORT_STATES, Report

MAX_PAGE_SIZE = 500
KINDS = ("first", "supplemental")
DESTINATION_NAMES = {"ncmec": "NCMEC CyberTipline", "in_police": "India: police (POCSO rule 11)", "uk_nca": "UK: NCA"}


@dataclass(frozen=True)
class ReportFilter:
    state: str | None = None
    destination: str | None = None
    kind: str | None = None
    account_id: int | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in REPORT_STATES:
            raise InvalidInput(f"unknown state {self.state!r}; expected one of {', '.join(REPORT_STATES)}")
        if self.destination is not None and self.destination not in DESTINATIONS:
            raise InvalidInput(f"unknown authority {self.destination!r}; expected one of {', '.join(DESTINATIONS)}")
        if self.kind is not None and self.kind not in KINDS:
            raise InvalidInput(f"unknown kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        for name in ("since", "until"):
            value = getattr(self, name)
            if value is not None and value.tzinfo is None:
                raise InvalidInput(f"{name} must carry a time zone")
        if self.since and self.until and self.since >= self.until:
            raise InvalidInput("the period's start must be before its end")


@dataclass(frozen=True)
class ReportPage:
    reports: list[service.ReportView]
    total: int
    limit: int
    offset: int
    counts: dict[str, int] = field(default_factory=dict)  # per state, whatever the filters


def _where(stmt: Select[Any], f: ReportFilter) -> Select[Any]:
    if f.state:
        stmt = stmt.where(Report.state == f.state)
    if f.destination:
        stmt = stmt.where(Report.destination == f.destination)
    if f.kind == "first":
        stmt = stmt.where(Report.supplemental_to.is_(None))
    elif f.kind == "supplemental":
        stmt = stmt.where(Report.supplemental_to.is_not(None))
    if f.account_id is not None:
        stmt = stmt.where(Report.account_id == f.account_id)
    return within_period(stmt, Report.created_at, f.since, f.until)


def report_page(
    filters: ReportFilter | None = None, *, limit: int = 50, offset: int = 0, session: Session | None = None
) -> ReportPage:
    """Newest first, with the total that match and the count per state of all reports."""
    f = filters or ReportFilter()
    check_page(limit, offset, MAX_PAGE_SIZE)
    with unit_of_work(session) as s:
        total = s.scalar(_where(select(func.count()).select_from(Report), f)) or 0
        rows = list(s.scalars(_where(select(Report), f).order_by(Report.id.desc()).limit(limit).offset(offset)).all())
        ids = service._item_ids(s, rows)
        counts = {str(k): int(v) for k, v in s.execute(select(Report.state, func.count()).group_by(Report.state)).all()}
        return ReportPage([service._view(r, item_ids=ids[r.id]) for r in rows], int(total), limit, offset, counts)


def _audit(actor: str, action: str, report_id: int, details: dict[str, Any]) -> None:
    with session_scope() as s:
        record(s, actor, action, "report", report_id, details)


def record_sent(
    report_id: int,
    actor: str,
    method: str,
    *,
    reference: str | None = None,
    police_unit: str | None = None,
    fir_number: str | None = None,
    sent_at: dt.datetime | None = None,
) -> service.ReportView:
    """A person sent a queued India/UK package: ``service.record_delivery``, then audited."""
    view = service.record_delivery(
        report_id, method, actor, reference=reference, police_unit=police_unit, fir_number=fir_number, sent_at=sent_at
    )
    _audit(actor, "report.sent", report_id, {"method": method, "reference": reference, "police_unit": police_unit})
    return view


def record_acknowledged(
    report_id: int, actor: str, *, reference: str | None = None, fir_number: str | None = None, at: dt.datetime | None = None
) -> service.ReportView:
    """The recipient acknowledged (FIR number if given): ``service.record_acknowledgement``, audited."""
    view = service.record_acknowledgement(report_id, actor, reference=reference, fir_number=fir_number, at=at)
    _audit(actor, "report.acknowledged", report_id, {"reference": reference, "fir_number": fir_number})
    return view


def retry(report_id: int, actor: str) -> service.ReportView:
    """A failed report goes back to the queue (a draft is re-checked): ``service.retry_report``, audited."""
    before = service.get_report(report_id)
    view = service.retry_report(report_id, actor)
    _audit(actor, "report.retry", report_id, {"previous_state": before.state, "previous_reason": before.state_reason})
    return view


def download_package(report_id: int, actor: str, fmt: str) -> tuple[bytes, str, str]:
    """The India/UK package as JSON or (India) PDF: bytes, media type, file name. Audited before
    it is handed out."""
    import json

    if fmt == "pdf":
        data = service.package_pdf(report_id)
        media, name = "application/pdf", f"report-{report_id}.pdf"
    elif fmt == "json":
        data = json.dumps(service.package(report_id), indent=2, ensure_ascii=False, default=str).encode()
        media, name = "application/json", f"report-{report_id}.json"
    else:
        raise InvalidInput(f"a package is downloaded as pdf or json, not {fmt!r}")
    _audit(actor, "report.package.download", report_id, {"format": fmt, "bytes": len(data)})
    return data, media, name
