"""The officers' portal under ``/portal``: register, confirm, enrol an authenticator, sign in, file
requests with the signed order (PDF), follow them, answer failed checks, send reminders and
download the disclosure.

Officers are their own principal (``legal.officers``): their session cookie is scoped to
``/portal`` and resolved only against officer sessions, so a staff session is a stranger here and
an officer session is a stranger on staff pages. An officer sees only their agency's requests;
another agency's request or disclosure answers 404, exactly like one that does not exist.
Adapters only: read the form, call one legal service function, render.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from suraksha import legal
from suraksha.errors import InvalidInput, SurakshaError
from suraksha.legal import officers
from suraksha.web import errors as error_pages
from suraksha.web import legal_forms
from suraksha.web.headers import harden
from suraksha.web.render import render, templates
from suraksha.web.security import SAFE_METHODS, cookie_secure, csrf_from, new_login_csrf, safe_next

router = APIRouter(prefix="/portal", include_in_schema=False)
PORTAL_COOKIE = "suraksha_portal"
FORM_CSRF_COOKIE = "suraksha_portal_form"
FLASH_COOKIE = "suraksha_portal_flash"
STATIC = Path(__file__).parent / "static"
# Steps of a request an officer sees in its history (internal ones, e.g. escalations, stay inside).
OFFICER_EVENTS = (
    "request.filed",
    "document.added",
    "status.changed",
    "check.answered",
    "check.overridden",
    "reminder.received",
    "evidence.held",
    "order.executed",
    "request.approved",
    "request.answered",
    "disclosure.built",
    "disclosure.downloaded",
)
legal_forms.register_filters(templates.env)


# ------------------------------------------------------------------------------------------ plumbing
def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render a portal page; a flash message left by the previous step is shown once. Messages
    travel in a short-lived cookie, not in the URL, so nobody can mail an officer a genuine portal
    link that displays words of their own."""
    officer = getattr(request.state, "officer", None)
    flash = request.cookies.get(FLASH_COOKIE)
    response = render(
        request, f"portal/{name}", {"officer": officer, "msg": unquote(flash) if flash else None, **context}, status=status
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/portal")
    return response


def _error(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {400: "That did not work", 401: "Sign in required", 403: "Not permitted", 404: "Not found"}
    return _page(request, "error.html", {"title": titles.get(status, "Error"), "message": message}, status)


def _redirect(url: str, request: Request | None = None, msg: str | None = None) -> Response:
    response = harden(RedirectResponse(url, status_code=303))
    if msg and request is not None:
        response.set_cookie(
            FLASH_COOKIE,
            quote(msg[:300]),
            max_age=60,
            httponly=True,
            samesite="strict",
            secure=cookie_secure(request),
            path="/portal",
        )
    return response


async def _current(request: Request) -> officers.OfficerPrincipal | None:
    token = request.cookies.get(PORTAL_COOKIE)
    return await run_in_threadpool(officers.resolve_session, token) if token else None


def officer_page(fn: Callable[..., Awaitable[Response]]) -> Callable[..., Awaitable[Response]]:
    """Only a signed-in officer gets through; a POST also needs the session's CSRF token."""

    @wraps(fn)
    async def wrapper(request: Request, **kwargs: Any) -> Response:
        who = await _current(request)
        if who is None:
            if request.method in SAFE_METHODS:
                target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                return _redirect(f"/portal/login?next={quote(target, safe='')}")
            return _error(request, 401, "Your portal session has ended; sign in again.")
        request.state.officer = who
        if request.method not in SAFE_METHODS:
            sent = await csrf_from(request)
            if not sent or not secrets.compare_digest(sent, who.csrf_token):
                return _error(request, 403, "The form's security token is missing or stale; reload the page and try again.")
        try:
            return harden(await fn(request, **kwargs))
        except (legal.RequestNotFound, legal.DisclosureNotFound, legal.LegalForbidden):
            # Another agency's request reads exactly like a missing one.
            return _error(request, 404, "No such request for your agency.")
        except (SurakshaError, ValidationError) as exc:
            return _error(request, *error_pages.describe(exc))

    return wrapper


def _form_page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """A page with an anonymous form (register, sign in, confirm): double-submit CSRF cookie."""
    token = new_login_csrf()
    response = _page(request, name, {"csrf": token, **context}, status)
    response.set_cookie(FORM_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request), path="/portal")
    return response


def _form_csrf_ok(request: Request, form: Any) -> bool:
    sent, expected = form.get("csrf_token"), request.cookies.get(FORM_CSRF_COOKIE, "")
    return isinstance(sent, str) and bool(sent) and bool(expected) and secrets.compare_digest(sent, expected)


def _s(form: Any, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _demo() -> bool:
    from suraksha.config import get_settings

    return get_settings().mode != "production"


@router.get("/static/portal.css")
async def portal_css() -> Response:
    return FileResponse(STATIC / "portal.css", media_type="text/css", headers={"Cache-Control": "no-cache"})


@router.get("")
async def portal_home(request: Request) -> Response:
    return _redirect("/portal/requests" if await _current(request) else "/portal/login")


# -------------------------------------------------------------------------------------- registration
# The page lists no agency and no domain (issue 14.4): the officer's email domain finds the agency.
# Only when several agencies share that domain are their names offered, to someone who typed it.
def _email_domain(email: str) -> str:
    return email.rsplit("@", 1)[1].strip().lower().rstrip(".") if "@" in email else ""


async def _agencies_of_domain(domain: str) -> list[Any]:
    agencies = await run_in_threadpool(legal.list_agencies)
    return [a for a in agencies if domain and domain in a.email_domains]


@router.get("/register", response_class=HTMLResponse)
async def register_form(request: Request) -> Response:
    return _form_page(
        request,
        "register.html",
        {
            "choices": [],
            "error": None,
            "values": {},
            "ranks": officers.rank_choices("in", "police") + officers.rank_choices("in", "government"),
        },
    )


@router.post("/register")
async def register_submit(request: Request) -> Response:
    form = await request.form()
    values = {k: _s(form, k) for k in ("agency_id", "email", "name", "rank", "phone")}
    ranks = officers.rank_choices("in", "police") + officers.rank_choices("in", "government")
    context: dict[str, Any] = {"choices": [], "values": values, "ranks": ranks}
    if not _form_csrf_ok(request, form):
        return _form_page(request, "register.html", {**context, "error": "The form expired; please try again."}, 400)
    domain = _email_domain(values["email"])
    choices = await _agencies_of_domain(domain)
    chosen = [a for a in choices if str(a.id) == values["agency_id"]]  # only among the domain's agencies
    if chosen:
        agency_id = chosen[0].id
    elif len(choices) == 1:
        agency_id = choices[0].id
    elif choices:
        context["choices"] = choices
        return _form_page(request, "register.html", {**context, "error": "Several agencies use this domain: choose yours."}, 400)
    else:
        error = (
            f"{domain} is not an official email domain of an agency registered here: use your official address, "
            "or ask the platform's legal team to register your agency"
            if domain
            else "enter your official email address"
        )
        return _form_page(request, "register.html", {**context, "error": error}, 400)
    context["choices"] = choices if len(choices) > 1 else []
    authority, authority_name = await legal_forms.read_pdf_upload(form, "authority")
    if authority is None:
        error = "attach the document that authorises you (a PDF: your appointment or authorisation letter)"
        return _form_page(request, "register.html", {**context, "error": error}, 400)
    try:
        await run_in_threadpool(
            lambda: officers.register_officer(
                agency_id,
                values["email"],
                values["name"],
                values["rank"],
                phone=values["phone"],
                authority=authority,
                authority_name=authority_name,
                base_url=str(request.base_url),
                mode="demo" if _demo() else "production",
            )
        )
    except officers.OfficerError as exc:
        return _form_page(request, "register.html", {**context, "error": str(exc)}, 400)
    demo_link = None
    if _demo():  # no mail server in the demo: show the link that was "sent"
        mail = await run_in_threadpool(officers.outbox, values["email"])
        demo_link = mail[-1].link if mail else None
    return _page(request, "registered.html", {"email": values["email"].lower(), "demo_link": demo_link})


@router.get("/confirm", response_class=HTMLResponse)
async def confirm_form(request: Request, token: str = "") -> Response:
    try:
        who = await run_in_threadpool(officers.check_confirmation, token)
    except officers.OfficerError as exc:
        return _error(request, 400, str(exc))
    return _form_page(request, "confirm.html", {"token": token, "person": who, "error": None})


@router.post("/confirm")
async def confirm_submit(request: Request) -> Response:
    form = await request.form()
    token = _s(form, "token")
    try:
        who = await run_in_threadpool(officers.check_confirmation, token)
    except officers.OfficerError as exc:
        return _error(request, 400, str(exc))
    context = {"token": token, "person": who}
    if not _form_csrf_ok(request, form):
        return _form_page(request, "confirm.html", {**context, "error": "The form expired; please try again."}, 400)
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    if password != form.get("confirm"):
        return _form_page(request, "confirm.html", {**context, "error": "The two passwords differ."}, 400)
    try:
        enrolment = await run_in_threadpool(officers.set_password_and_begin_enrolment, token, password)
    except InvalidInput as exc:
        return _form_page(request, "confirm.html", {**context, "error": str(exc)}, 400)
    return _form_page(request, "enrol.html", {"token": token, "enrolment": enrolment, "error": None})


@router.post("/mfa")
async def enrol_submit(request: Request) -> Response:
    form = await request.form()
    token = _s(form, "token")
    if not _form_csrf_ok(request, form):
        return _error(request, 400, "The form expired; open the confirmation link again.")
    try:
        await run_in_threadpool(officers.complete_enrolment, token, _s(form, "code"))
    except officers.OfficerError as exc:
        return _form_page(request, "enrol_retry.html", {"token": token, "error": str(exc)}, 400)
    return _redirect("/portal/login", request, "Your account is ready. Sign in with your password and the code from your app.")


# ------------------------------------------------------------------------------------------ sign-in
def _portal_next(value: str | None) -> str | None:
    target = safe_next(value)
    return target if target and target.startswith("/portal/") else None


def _demo_officer() -> dict[str, str] | None:
    """Demo mode only: the seeded demo officer's credentials and current code (as /login shows
    the staff demo users)."""
    if not _demo():
        return None
    import pyotp

    from suraksha.legal.demo import DEMO_OFFICER

    return {
        "email": DEMO_OFFICER.email,
        "password": DEMO_OFFICER.password,
        "secret": DEMO_OFFICER.totp_secret,
        "code": pyotp.TOTP(DEMO_OFFICER.totp_secret).now(),
    }


def _login_page(request: Request, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return _form_page(request, "login.html", {**context, "demo_officer": _demo_officer()}, status)


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    if await _current(request):
        return _redirect(_portal_next(next) or "/portal/requests")
    return _login_page(request, {"error": None, "next": _portal_next(next) or "", "email": ""})


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await request.form()
    next_url, email = _portal_next(_s(form, "next")), _s(form, "email")
    context = {"next": next_url or "", "email": email}
    if not _form_csrf_ok(request, form):
        return _login_page(request, {**context, "error": "The sign-in form expired; please try again."}, 400)
    password = form.get("password") if isinstance(form.get("password"), str) else ""
    if not email or not password or not _s(form, "code"):
        return _login_page(request, {**context, "error": "Enter your email, password and the 6-digit code."}, 400)
    try:
        token = await run_in_threadpool(
            officers.login, email, password, _s(form, "code"), ip=request.client.host if request.client else None
        )
    except officers.OfficerLoginFailed as exc:
        return _login_page(request, {**context, "error": exc.message}, 401)
    except officers.LoginThrottled as exc:  # too many attempts, or every argon2 slot busy: nothing was checked
        response = _login_page(request, {**context, "error": exc.message}, 429)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    response = _redirect(next_url or "/portal/requests")
    response.set_cookie(PORTAL_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request), path="/portal")
    response.delete_cookie(FORM_CSRF_COOKIE, path="/portal")
    return response


@router.post("/logout")
@officer_page
async def logout(request: Request) -> Response:
    await run_in_threadpool(officers.logout, request.cookies.get(PORTAL_COOKIE))
    response = _redirect("/portal/login", request, "Signed out.")
    response.delete_cookie(PORTAL_COOKIE, path="/portal")
    return response


# ---------------------------------------------------------------------------------------- requests
def _who(request: Request) -> officers.OfficerPrincipal:
    return request.state.officer


@router.get("/requests", response_class=HTMLResponse)
@officer_page
async def my_requests(request: Request) -> Response:
    who = _who(request)
    rows = await run_in_threadpool(lambda: legal.list_requests(agency_id=who.agency_id))
    return _page(request, "requests.html", {"requests": rows})


def _new_context(who: officers.OfficerPrincipal, values: dict[str, Any], error: str | None) -> dict[str, Any]:
    return {
        "types": legal_forms.request_types(who.jurisdiction, officer=True),
        "values": values,
        "error": error,
        "data_points": list(legal_forms.DATA_POINT_LABELS),
    }


@router.get("/requests/new", response_class=HTMLResponse)
@officer_page
async def new_request_form(request: Request) -> Response:
    who = _who(request)
    if not who.approved:
        return _error(request, 403, _NOT_APPROVED[who.approval == "refused"])
    return _page(request, "new.html", _new_context(who, {"data_points": []}, None))


_NOT_APPROVED = {
    False: "Your registration is awaiting approval by the platform's legal team (they check your rank and the "
    "document that authorises you). You can file requests once it is approved.",
    True: "Your registration was not approved by the platform's legal team; contact them.",
}


@router.post("/requests/new")
@officer_page
async def new_request_submit(request: Request) -> Response:
    who = _who(request)
    if not who.approved:
        return _error(request, 403, _NOT_APPROVED[who.approval == "refused"])
    form = await request.form()
    values = {
        k: _s(form, k)
        for k in (
            "type",
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
    }
    values["data_points"] = [p for p in form.getlist("data_points") if isinstance(p, str)]
    try:
        fields = legal_forms.request_fields(form, who.jurisdiction)
        data = legal.RequestIn(
            **fields,
            channel="portal",
            agency_id=who.agency_id,
            officer_id=who.officer_id,
            officer_name=who.name,
            officer_rank=who.rank,
            officer_email=who.email,
            issuer_kind=who.agency_kind,
        )
        content, filename = await legal_forms.read_pdf_upload(form)
        view = await run_in_threadpool(lambda: legal.file_request(data, who.actor, document=content, document_name=filename))
    except (InvalidInput, ValidationError) as exc:
        return _page(request, "new.html", _new_context(who, values, legal_forms.validation_message(exc)), 400)
    return _redirect(f"/portal/requests/{view.id}", request, f"Filed as {view.reference}.")


@router.get("/requests/{request_id}", response_class=HTMLResponse)
@officer_page
async def request_detail(request: Request, request_id: legal_forms.RowId) -> Response:
    who = _who(request)
    view = await run_in_threadpool(lambda: legal.get_request(request_id, agency_id=who.agency_id))
    history = await run_in_threadpool(lambda: legal.request_history(request_id, agency_id=who.agency_id))
    return _page(request, "request.html", {"r": view, "history": [e for e in history if e.action in OFFICER_EVENTS]})


@router.post("/requests/{request_id}/reminder")
@officer_page
async def send_reminder(request: Request, request_id: legal_forms.RowId) -> Response:
    who = _who(request)
    form = await request.form()
    content, filename = await legal_forms.read_pdf_upload(form)
    await run_in_threadpool(
        lambda: legal.add_reminder(
            request_id,
            _s(form, "note"),
            who.actor,
            officer_id=who.officer_id,
            agency_id=who.agency_id,
            channel="portal",
            document=content,
            document_name=filename,
        )
    )
    return _redirect(f"/portal/requests/{request_id}", request, "Reminder sent; it is logged against the request.")


@router.post("/requests/{request_id}/documents")
@officer_page
async def add_document(request: Request, request_id: legal_forms.RowId) -> Response:
    who = _who(request)
    form = await request.form()
    content, filename = await legal_forms.read_pdf_upload(form)
    if content is None:
        raise legal.LegalError("choose the PDF to upload")
    await run_in_threadpool(
        lambda: legal.add_document(request_id, content, filename, who.actor, kind="order", agency_id=who.agency_id)
    )
    return _redirect(f"/portal/requests/{request_id}", request, "Document added; the checks were run again.")


@router.post("/requests/{request_id}/checks/{key}")
@officer_page
async def answer_check(request: Request, request_id: legal_forms.RowId, key: str) -> Response:
    who = _who(request)
    form = await request.form()
    await run_in_threadpool(
        lambda: legal.answer_check(request_id, key, _s(form, "note"), who.actor, "officer", agency_id=who.agency_id)
    )
    return _redirect(
        f"/portal/requests/{request_id}", request, "Your answer was recorded; the platform's legal team will review it."
    )


@router.get("/disclosures/{disclosure_id}")
@officer_page
async def download(request: Request, disclosure_id: legal_forms.RowId) -> Response:
    who = _who(request)
    got = await run_in_threadpool(legal.download_disclosure, disclosure_id, who.actor, who.agency_id)
    return Response(
        got.content,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{got.filename}"',
            "Cache-Control": "no-store",
            "X-Content-SHA256": got.sha256,
        },
    )
