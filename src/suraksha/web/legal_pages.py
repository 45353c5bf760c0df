"""The staff legal pages under ``/legal`` (the nodal officer's desk): the due / at-risk / overdue
dashboard, requests with filters, entering a request that came by email or on paper, a request's
checks, reminders, takedown execution, the data checklist, approval and the disclosure; and the
registered agencies with their portal officers.

Permissions (``auth.roles``): ``legal.read`` to look, ``legal.work`` to act on a request,
``legal.approve`` to approve and build the disclosure, ``agencies.manage`` for agencies and
officers. The legal service checks the role again where the law wants the legal role.
Adapters only: read the form, call one legal service function, render.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from suraksha import legal
from suraksha.errors import InvalidInput, SurakshaError
from suraksha.jurisdictions import load_profile
from suraksha.legal import officers
from suraksha.legal.models import AGENCY_KINDS, CHANNELS, ISSUER_KINDS, REQUEST_STATUSES
from suraksha.legal.work import EXECUTABLE
from suraksha.web import errors as error_pages
from suraksha.web import legal_forms
from suraksha.web.headers import harden
from suraksha.web.render import render, templates
from suraksha.web.security import staff_page

router = APIRouter(include_in_schema=False)
legal_forms.register_filters(templates.env)
STAFF_CHANNELS = tuple(c for c in CHANNELS if c != "portal")


def _redirect(url: str) -> Response:
    return harden(RedirectResponse(url, status_code=303))


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    return error_pages.page(request, status, message)


def answers_errors(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """The legal service's expected failures become a clear page, by type (``suraksha.web.errors``):
    404 unknown, 403 wrong role, 409 a step not allowed in the request's state, 400 bad input."""

    @wraps(fn)
    async def wrapper(request: Request, **kwargs: Any) -> Response:
        try:
            return await fn(request, **kwargs)
        except (SurakshaError, ValidationError) as exc:
            return error_pages.error_page(request, exc)

    return wrapper


def _actor(request: Request) -> tuple[str, str]:
    who = request.state.staff
    return who.actor, who.role


async def _form(request: Request) -> Any:
    return await request.form()


def _s(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _back(request_id: int, msg: str) -> Response:
    return _redirect(f"/legal/requests/{request_id}?msg=" + quote(msg))


# ---------------------------------------------------------------------------------------- dashboard
@router.get("/legal", response_class=HTMLResponse)
@staff_page("legal.read")
async def dashboard(request: Request) -> Response:
    board = await run_in_threadpool(legal.dashboard)
    notes = await run_in_threadpool(legal.list_notifications)
    return render(
        request,
        "legal_dashboard.html",
        {"board": board, "notifications": notes[-20:][::-1], "msg": request.query_params.get("msg")},
    )


@router.get("/legal/requests", response_class=HTMLResponse)
@staff_page("legal.read")
async def request_list(request: Request) -> Response:
    q = request.query_params
    status = q.get("status") if q.get("status") in REQUEST_STATUSES else None
    kind = q.get("type") or None
    raw = q.get("agency") or ""
    agency = int(raw) if raw.isdigit() and len(raw) < 19 else None
    rows = await run_in_threadpool(lambda: legal.list_requests(agency_id=agency, status=status, type=kind, limit=500))
    agencies = await run_in_threadpool(legal.list_agencies)
    return render(
        request,
        "legal_requests.html",
        {
            "requests": rows,
            "agencies": agencies,
            "statuses": REQUEST_STATUSES,
            "types": legal_forms.request_types("in", officer=False),
            "f": {"status": status or "", "type": kind or "", "agency": agency},
            "msg": q.get("msg"),
        },
    )


# ------------------------------------------------------------------------------------ staff entry
def _new_context(values: dict[str, Any], error: str | None, agencies: list[Any]) -> dict[str, Any]:
    return {
        "values": values,
        "error": error,
        "agencies": agencies,
        "types": legal_forms.request_types("in", officer=False),
        "issuer_kinds": ISSUER_KINDS,
        "channels": STAFF_CHANNELS,
        "data_points": list(legal_forms.DATA_POINT_LABELS),
    }


@router.get("/legal/requests/new", response_class=HTMLResponse)
@staff_page("legal.work")
async def new_request_form(request: Request) -> Response:
    agencies = await run_in_threadpool(legal.list_agencies)
    return render(request, "legal_new.html", _new_context({"channel": "email", "data_points": []}, None, agencies))


@router.post("/legal/requests/new")
@staff_page("legal.work")
async def new_request_submit(request: Request) -> Response:
    form = await _form(request)
    names = (
        "type",
        "agency_id",
        "issuer_kind",
        "channel",
        "officer_name",
        "officer_rank",
        "officer_email",
        "received_at",
        "case_number",
        "legal_basis",
        "summary",
        "order_deadline",
        "period_from",
        "period_to",
        "accounts",
        "urls",
        "items",
        "rank_exception",
    )
    values: dict[str, Any] = {k: _s(form, k) for k in names}
    values["data_points"] = [p for p in form.getlist("data_points") if isinstance(p, str)]
    agencies = await run_in_threadpool(legal.list_agencies)
    try:
        if values["agency_id"] and not (values["agency_id"].isdigit() and len(values["agency_id"]) < 19):
            raise InvalidInput("agency: choose one from the list (or none for an unregistered sender)")
        agency_id = int(values["agency_id"]) if values["agency_id"] else None
        jurisdiction = next((a.jurisdiction for a in agencies if a.id == agency_id), "in")
        fields = legal_forms.request_fields(form, jurisdiction)
        received = legal_forms.local_time_field(values["received_at"], load_profile(jurisdiction).zone, "received at")
        data = legal.RequestIn(
            **fields,
            channel=values["channel"] or "email",
            agency_id=agency_id,
            officer_name=values["officer_name"] or None,
            officer_rank=values["officer_rank"] or None,
            officer_email=values["officer_email"] or None,
            issuer_kind=values["issuer_kind"],
            received_at=received,
        )
        content, filename = await legal_forms.read_pdf_upload(form)
        actor, _ = _actor(request)
        view = await run_in_threadpool(lambda: legal.file_request(data, actor, document=content, document_name=filename))
    except (InvalidInput, ValidationError) as exc:
        return render(request, "legal_new.html", _new_context(values, legal_forms.validation_message(exc), agencies), status=400)
    return _back(view.id, f"Entered as {view.reference}.")


# ---------------------------------------------------------------------------------- one request
@router.get("/legal/requests/{request_id}", response_class=HTMLResponse)
@staff_page("legal.read")
@answers_errors
async def request_detail(request: Request, request_id: legal_forms.RowId) -> Response:
    view = await run_in_threadpool(legal.get_request, request_id)
    history = await run_in_threadpool(legal.request_history, request_id)
    notes = await run_in_threadpool(legal.list_notifications, request_id)
    gathered = next((e for e in reversed(history) if e.action == "data.gathered"), None)
    return render(
        request,
        "legal_request.html",
        {
            "r": view,
            "history": history,
            "notifications": notes,
            "connector_error": gathered.details.get("connector_error") if gathered else None,
            "executable": view.type in EXECUTABLE,
            "zone_name": load_profile(view.jurisdiction).zone.key,
            "msg": request.query_params.get("msg"),
        },
    )


@router.post("/legal/requests/{request_id}/checks/{key}")
@staff_page("legal.work")
@answers_errors
async def answer_check(request: Request, request_id: legal_forms.RowId, key: str) -> Response:
    form = await _form(request)
    actor, role = _actor(request)
    override = _s(form, "override") == "on"
    await run_in_threadpool(lambda: legal.answer_check(request_id, key, _s(form, "note"), actor, role, override=override))
    return _back(request_id, f"Check {key} {'overridden' if override else 'answered'}.")


@router.post("/legal/requests/{request_id}/reminders")
@staff_page("legal.work")
@answers_errors
async def log_reminder(request: Request, request_id: legal_forms.RowId) -> Response:
    form = await _form(request)
    content, filename = await legal_forms.read_pdf_upload(form)
    channel = _s(form, "channel") or "email"
    actor, _ = _actor(request)
    await run_in_threadpool(
        lambda: legal.add_reminder(request_id, _s(form, "note"), actor, channel=channel, document=content, document_name=filename)
    )
    return _back(request_id, "Reminder logged.")


@router.post("/legal/requests/{request_id}/documents")
@staff_page("legal.work")
@answers_errors
async def add_document(request: Request, request_id: legal_forms.RowId) -> Response:
    form = await _form(request)
    content, filename = await legal_forms.read_pdf_upload(form)
    if content is None:
        raise legal.LegalError("choose the PDF to upload")
    actor, _ = _actor(request)
    await run_in_threadpool(lambda: legal.add_document(request_id, content, filename, actor, kind=_s(form, "kind") or "order"))
    return _back(request_id, "Document added; checks run again.")


@router.post("/legal/requests/{request_id}/execute")
@staff_page("legal.work")
@answers_errors
async def execute(request: Request, request_id: legal_forms.RowId) -> Response:
    form = await _form(request)
    actor, role = _actor(request)
    view = await run_in_threadpool(lambda: legal.execute_order(request_id, actor, role, country=_s(form, "country") or None))
    waiting = sum(1 for t in view.targets if t.done_at is None)
    unknown = len(view.answer.get("not_known", []))
    note = "Actions requested: the order is answered when the platform confirms every target."
    if view.status == "answered":
        note = "Every target is done; the order is answered."
    elif unknown:
        note += f" {unknown} target(s) not known to Suraksha: record the action taken on the platform."
    return _back(request_id, note + f" ({waiting} target(s) open.)")


@router.post("/legal/requests/{request_id}/targets/{target_id}/done")
@staff_page("legal.work")
@answers_errors
async def record_outside_action(request: Request, request_id: legal_forms.RowId, target_id: legal_forms.RowId) -> Response:
    """Legal staff record an action taken outside Suraksha on one target: what, when (the
    jurisdiction's local time), evidence; the actor is the signed-in user."""
    form = await _form(request)
    actor, role = _actor(request)
    view = await run_in_threadpool(legal.get_request, request_id)
    zone = load_profile(view.jurisdiction).zone
    try:
        when = legal_forms.local_time_field(_s(form, "when"), zone, "when")
    except ValueError as exc:
        raise legal.LegalError(str(exc)) from None
    if when is None:
        raise legal.LegalError("say when the action was taken")
    done = await run_in_threadpool(
        lambda: legal.record_outside_action(request_id, target_id, _s(form, "what"), when, _s(form, "evidence"), actor, role)
    )
    open_targets = sum(1 for t in done.targets if t.done_at is None)
    return _back(
        request_id,
        "Action recorded. "
        + (
            "Every target is done; the order is answered."
            if done.status == "answered"
            else f"{open_targets} target(s) still open."
        ),
    )


@router.post("/legal/requests/{request_id}/preserve")
@staff_page("legal.work")
@answers_errors
async def preserve(request: Request, request_id: legal_forms.RowId) -> Response:
    actor, _ = _actor(request)
    held = await run_in_threadpool(legal.preserve_for_request, request_id, actor)
    return _back(request_id, f"Legal hold on {len(held)} evidence object(s).")


@router.post("/legal/requests/{request_id}/gather")
@staff_page("legal.work")
@answers_errors
async def gather(request: Request, request_id: legal_forms.RowId) -> Response:
    actor, _ = _actor(request)
    points = await run_in_threadpool(legal.gather, request_id, actor)
    found = sum(p.status == "found" for p in points)
    return _back(request_id, f"Gathered: {found} of {len(points)} data point(s) found.")


@router.post("/legal/requests/{request_id}/data/{key}")
@staff_page("legal.work")
@answers_errors
async def mark_data_point(request: Request, request_id: legal_forms.RowId, key: str) -> Response:
    form = await _form(request)
    actor, _ = _actor(request)
    await run_in_threadpool(legal.mark_data_point, request_id, key, _s(form, "status"), _s(form, "reason"), actor)
    return _back(request_id, f"{key.replace('_', ' ').capitalize()} marked {_s(form, 'status')}.")


@router.post("/legal/requests/{request_id}/answer")
@staff_page("legal.work")
@answers_errors
async def answer(request: Request, request_id: legal_forms.RowId) -> Response:
    form = await _form(request)
    actor, role = _actor(request)
    await run_in_threadpool(lambda: legal.answer_request(request_id, _s(form, "note"), actor, role))
    return _back(request_id, "Answer recorded; the request is answered.")


@router.post("/legal/requests/{request_id}/approve")
@staff_page("legal.approve")
@answers_errors
async def approve(request: Request, request_id: legal_forms.RowId) -> Response:
    form = await _form(request)
    actor, role = _actor(request)
    await run_in_threadpool(lambda: legal.approve(request_id, actor, role, _s(form, "note") or None))
    return _back(request_id, "Approved.")


@router.post("/legal/requests/{request_id}/disclosure")
@staff_page("legal.approve")
@answers_errors
async def build_disclosure(request: Request, request_id: legal_forms.RowId) -> Response:
    actor, role = _actor(request)
    d = await run_in_threadpool(legal.build_package, request_id, actor, role)
    return _back(request_id, f"Disclosure {d.filename} built, signed and delivered to the agency's portal.")


@router.get("/legal/disclosures/{disclosure_id}")
@staff_page("legal.read")
@answers_errors
async def download_disclosure(request: Request, disclosure_id: legal_forms.RowId) -> Response:
    actor, _ = _actor(request)
    got = await run_in_threadpool(legal.download_disclosure, disclosure_id, actor, None)
    return Response(
        got.content,
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{got.filename}"', "Cache-Control": "no-store"},
    )


# ------------------------------------------------------------------------------ agencies, officers
async def _agencies_page(request: Request, error: str | None = None, status: int = 200, values: dict | None = None) -> Response:
    agencies = await run_in_threadpool(legal.list_agencies)
    people = await run_in_threadpool(officers.list_officers)
    return render(
        request,
        "legal_agencies.html",
        {
            "agencies": agencies,
            "officers": people,
            "kinds": AGENCY_KINDS,
            "error": error,
            "values": values or {},
            "msg": request.query_params.get("msg"),
        },
        status=status,
    )


@router.get("/legal/agencies", response_class=HTMLResponse)
@staff_page("agencies.manage")
async def agencies_page(request: Request) -> Response:
    return await _agencies_page(request)


@router.post("/legal/agencies")
@staff_page("agencies.manage")
async def agencies_create(request: Request) -> Response:
    form = await _form(request)
    values = {k: _s(form, k) for k in ("name", "kind", "jurisdiction", "email_domains")}
    domains = [d for d in values["email_domains"].replace(",", " ").split() if d]
    try:
        a = await run_in_threadpool(
            legal.register_agency,
            values["name"],
            values["kind"],
            values["jurisdiction"] or "in",
            domains,
            request.state.staff.actor,
        )
    except legal.LegalError as exc:
        return await _agencies_page(request, str(exc), 400, values)
    return _redirect("/legal/agencies?" + urlencode({"msg": f"Registered {a.name}."}))


@router.get("/legal/officers/{officer_id}/authority")
@staff_page("agencies.manage")
@answers_errors
async def officer_authority(request: Request, officer_id: legal_forms.RowId) -> Response:
    """The officer's authorising PDF, for the legal team's approval (an audited vault read)."""
    filename, content = await run_in_threadpool(officers.authority_document, officer_id, request.state.staff.actor)
    safe = "".join(c for c in filename if c.isalnum() or c in "._- ")[:100] or "authority.pdf"
    return harden(
        Response(
            content,
            media_type="application/pdf",
            headers={"Content-Disposition": f'attachment; filename="{safe}"', "Cache-Control": "no-store"},
        )
    )


@router.post("/legal/officers/{officer_id}/{operation}")
@staff_page("agencies.manage")
@answers_errors
async def officer_change(request: Request, officer_id: legal_forms.RowId, operation: str) -> Response:
    actor = request.state.staff.actor
    if operation == "unlock":
        await run_in_threadpool(officers.unlock, officer_id, actor)
    elif operation in ("deactivate", "activate"):
        await run_in_threadpool(officers.set_active, officer_id, operation == "activate", actor)
    elif operation in ("approve", "refuse"):
        form = await _form(request)
        _, role = _actor(request)
        await run_in_threadpool(
            lambda: officers.approve_officer(officer_id, actor, role, _s(form, "note"), approve=operation == "approve")
        )
        return _redirect("/legal/agencies?" + urlencode({"msg": f"Officer {operation}d."}))
    elif operation == "reset":
        from suraksha.config import get_settings

        await run_in_threadpool(
            lambda: officers.reset_credentials(officer_id, actor, base_url=str(request.base_url), mode=get_settings().mode)
        )
    else:
        return _error(request, 404, f"unknown operation {operation!r}")
    done = {"unlock": "unlocked", "reset": "reset: a new confirmation link went to their mailbox"}
    return _redirect("/legal/agencies?" + urlencode({"msg": f"Officer {done.get(operation, operation + 'd')}."}))
