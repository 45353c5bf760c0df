"""Actions to the platform (``/actions``) and reports to authorities (``/reports``): filtered lists
with totals and paging, a detail page with every delivery attempt or state change, and the steps
people take: retry a dead letter, download an India/UK package, record it as sent, record the
acknowledgement and the FIR number.

Adapters only: lists from ``enforcement.listing`` / ``reporting.listing``; changes through
``enforcement.actions.retry_action`` and ``reporting.listing`` (each audited). Times typed in a
form are in the display time zone unless they carry an offset.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi import Path as FastApiPath
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from suraksha.audit.listing import parse_moment
from suraksha.auth.roles import can
from suraksha.enforcement import actions as action_service
from suraksha.enforcement.listing import ActionFilter, action_page
from suraksha.enforcement.models import ACTION_KINDS, ACTION_STATUSES
from suraksha.errors import InvalidInput, SurakshaError
from suraksha.reporting import listing as report_listing
from suraksha.reporting import service as report_service
from suraksha.reporting.models import DELIVERY_METHODS, DESTINATIONS, REPORT_STATES
from suraksha.web import errors as error_pages
from suraksha.web.headers import harden
from suraksha.web.paging import Pager, page_number
from suraksha.web.render import display_zone, render
from suraksha.web.security import staff_page

router = APIRouter(include_in_schema=False)
PER_PAGE = 50
RowId = Annotated[int, FastApiPath(ge=1, le=2**63 - 1)]


def _redirect(url: str) -> Response:
    return harden(RedirectResponse(url, status_code=303))


def _text(request: Request, name: str) -> str:
    return (request.query_params.get(name) or "").strip()[:200]


def _row_id(raw: str, name: str) -> int | None:
    if not raw:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 2**63:
        raise InvalidInput(f"{name} must be a number from 1 to {2**63 - 1}")
    return int(raw)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str)}


# ------------------------------------------------------------------------------------------ actions
@router.get("/actions", response_class=HTMLResponse)
@staff_page("actions.read")
async def actions_page(request: Request) -> Response:
    raw = {k: _text(request, k) for k in ("status", "kind", "account", "item", "since", "until", "dead")}
    try:
        zone = display_zone()
        f = ActionFilter(
            status=raw["status"] or None,
            kind=raw["kind"] or None,
            account_id=_row_id(raw["account"], "account"),
            item_id=_row_id(raw["item"], "item"),
            dead_letters=raw["dead"] == "1",
            since=parse_moment(raw["since"], zone),
            until=parse_moment(raw["until"], zone, end=True),
        )
        page = page_number(request)
        found = await run_in_threadpool(lambda: action_page(f, limit=PER_PAGE, offset=(page - 1) * PER_PAGE))
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    used = {k: v for k, v in raw.items() if v}
    return render(
        request,
        "actions.html",
        {
            "found": found,
            "filters": used,
            "pager": Pager(page=page, per_page=PER_PAGE, total=found.total, base="/actions", params=used),
            "statuses": ACTION_STATUSES,
            "kinds": ACTION_KINDS,
            "msg": request.query_params.get("msg"),
        },
    )


@router.get("/actions/{action_id}", response_class=HTMLResponse)
@staff_page("actions.read")
async def action_detail(request: Request, action_id: RowId) -> Response:
    try:
        view = await run_in_threadpool(action_service.get_action, action_id)
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return render(
        request,
        "action.html",
        {"a": view, "may_retry": can(request.state.staff.role, "actions.work"), "msg": request.query_params.get("msg")},
    )


@router.post("/actions/{action_id}/retry")
@staff_page("actions.work")
async def action_retry(request: Request, action_id: RowId) -> Response:
    try:
        await run_in_threadpool(action_service.retry_action, action_id, request.state.staff.actor)
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return _redirect(f"/actions/{action_id}?msg=" + quote("Queued for delivery again; the dispatcher sends it next."))


# ------------------------------------------------------------------------------------------ reports
@router.get("/reports", response_class=HTMLResponse)
@staff_page("reports.read")
async def reports_page(request: Request) -> Response:
    raw = {k: _text(request, k) for k in ("state", "authority", "kind", "account", "since", "until")}
    try:
        zone = display_zone()
        f = report_listing.ReportFilter(
            state=raw["state"] or None,
            destination=raw["authority"] or None,
            kind=raw["kind"] or None,
            account_id=_row_id(raw["account"], "account"),
            since=parse_moment(raw["since"], zone),
            until=parse_moment(raw["until"], zone, end=True),
        )
        page = page_number(request)
        found = await run_in_threadpool(lambda: report_listing.report_page(f, limit=PER_PAGE, offset=(page - 1) * PER_PAGE))
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    used = {k: v for k, v in raw.items() if v}
    return render(
        request,
        "reports.html",
        {
            "found": found,
            "filters": used,
            "pager": Pager(page=page, per_page=PER_PAGE, total=found.total, base="/reports", params=used),
            "states": REPORT_STATES,
            "authorities": DESTINATIONS,
            "names": report_listing.DESTINATION_NAMES,
            "msg": request.query_params.get("msg"),
        },
    )


@router.get("/reports/{report_id}", response_class=HTMLResponse)
@staff_page("reports.read")
async def report_detail(request: Request, report_id: RowId) -> Response:
    try:
        view = await run_in_threadpool(report_service.get_report, report_id)
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return render(
        request,
        "report.html",
        {
            "r": view,
            "names": report_listing.DESTINATION_NAMES,
            "methods": DELIVERY_METHODS,
            "work": can(request.state.staff.role, "reports.work"),
            "manual": view.destination != "ncmec",
            "msg": request.query_params.get("msg"),
        },
    )


def _moment(form: dict[str, str], name: str) -> Any:
    return parse_moment(form.get(name, "").replace(" ", "T") or None, display_zone())


@router.post("/reports/{report_id}/sent")
@staff_page("reports.work")
async def report_sent(request: Request, report_id: RowId) -> Response:
    form = await _form(request)
    try:
        sent_at = _moment(form, "sent_at")
        await run_in_threadpool(
            lambda: report_listing.record_sent(
                report_id,
                request.state.staff.actor,
                form.get("method", ""),
                reference=form.get("reference") or None,
                police_unit=form.get("police_unit") or None,
                fir_number=form.get("fir_number") or None,
                sent_at=sent_at,
            )
        )
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return _redirect(f"/reports/{report_id}?msg=" + quote("Recorded as sent."))


@router.post("/reports/{report_id}/acknowledged")
@staff_page("reports.work")
async def report_acknowledged(request: Request, report_id: RowId) -> Response:
    form = await _form(request)
    try:
        at = _moment(form, "at")
        await run_in_threadpool(
            lambda: report_listing.record_acknowledged(
                report_id,
                request.state.staff.actor,
                reference=form.get("reference") or None,
                fir_number=form.get("fir_number") or None,
                at=at,
            )
        )
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return _redirect(f"/reports/{report_id}?msg=" + quote("Acknowledgement recorded; the report is finished."))


@router.post("/reports/{report_id}/retry")
@staff_page("reports.work")
async def report_retry(request: Request, report_id: RowId) -> Response:
    try:
        view = await run_in_threadpool(report_listing.retry, report_id, request.state.staff.actor)
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return _redirect(f"/reports/{report_id}?msg=" + quote(f"Report is now {view.state}."))


@router.get("/reports/{report_id}/package.{fmt}")
@staff_page("reports.work")
async def report_package(request: Request, report_id: RowId, fmt: str) -> Response:
    if fmt not in ("pdf", "json"):
        return error_pages.page(request, 404, f"no package as {fmt[:20]!r}: choose PDF or JSON on the report page")
    try:
        data, media, name = await run_in_threadpool(report_listing.download_package, report_id, request.state.staff.actor, fmt)
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    )
