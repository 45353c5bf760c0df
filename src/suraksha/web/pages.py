"""The review workspace's pages: sign-in, queues, tasks, media, items, accounts, cases, audit, users.

Adapters only: read the form, call one service function (auth/, cases/), render a template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi import Path as FastApiPath
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from suraksha.audit import log as audit_log
from suraksha.auth import service as auth
from suraksha.auth.roles import ROLES, home_path
from suraksha.cases import links as account_links
from suraksha.cases import queue_listing
from suraksha.cases import service as review
from suraksha.dispatch import deliver
from suraksha.errors import InvalidInput, SurakshaError
from suraksha.policy.actions import REPORT_DESTINATIONS
from suraksha.web import errors as error_pages
from suraksha.web.headers import harden
from suraksha.web.paging import Pager, page_number
from suraksha.web.render import prefs_of, render
from suraksha.web.security import (
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    cookie_secure,
    current_staff,
    new_login_csrf,
    safe_next,
    staff_page,
)

router = APIRouter(include_in_schema=False)
QUEUE_PAGE_SIZE = 50
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"review.js": "text/javascript", "review.css": "text/css"}


def _actor(request: Request) -> review.Actor:
    who = request.state.staff
    return review.Actor(who.user_id, who.username, who.role)


def _redirect(url: str) -> Response:
    return harden(RedirectResponse(url, status_code=303))


def _error(request: Request, status: int, message: str, title: str | None = None) -> HTMLResponse:
    return error_pages.page(request, status, message, title)


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _call(request: Request, fn, *args: Any, **kwargs: Any) -> Any:
    """Run a service call; its expected errors (``suraksha.errors``) become their page, by type
    (``suraksha.web.errors``), raised as _Refused; anything else is a bug: a logged 500."""
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    except (SurakshaError, ValidationError) as exc:
        raise _Refused(error_pages.error_page(request, exc)) from None


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


def refusable(fn):
    """Let a page raise ``_Refused`` to answer with its error page."""
    from functools import wraps

    @wraps(fn)
    async def wrapper(request: Request, **kwargs: Any) -> Any:
        try:
            return await fn(request, **kwargs)
        except _Refused as r:
            return r.response

    return wrapper


# A row id in a path (items, cases, review tasks, staff users): like AccountId below, numbers beyond
# BIGINT get a 422 instead of a database overflow on PostgreSQL.
RowId = Annotated[int, FastApiPath(ge=1, le=2**63 - 1)]


# ------------------------------------------------------------------------------------ static files
@router.get("/ui/static/{name}")
async def static_file(name: str) -> Response:
    if name not in STATIC_FILES:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(STATIC / name, media_type=STATIC_FILES[name], headers={"Cache-Control": "no-cache"})


# ------------------------------------------------------------------------------------------ sign-in
def _demo_users() -> list[dict[str, str]]:
    from suraksha.config import get_settings

    if get_settings().mode == "production":
        return []
    import pyotp

    from suraksha.auth.bootstrap import DEMO_USERS

    return [
        {
            "username": u.username,
            "role": u.role,
            "password": u.password,
            "secret": u.totp_secret,
            "code": pyotp.TOTP(u.totp_secret).now(),
        }
        for u in DEMO_USERS
    ]


def _login_page(
    request: Request, *, error: str | None = None, status: int = 200, next_url: str | None = None, username: str = ""
) -> HTMLResponse:
    token = new_login_csrf()
    response = render(
        request,
        "login.html",
        {"error": error, "csrf": token, "next": next_url or "", "username": username, "demo_users": _demo_users()},
        status=status,
    )
    response.set_cookie(LOGIN_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request), path="/login")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_form(request: Request, next: str | None = None) -> Response:
    who = await current_staff(request)
    if who is not None:
        return _redirect(safe_next(next) or home_path(who.role))
    return _login_page(request, next_url=safe_next(next))


@router.post("/login")
async def login_submit(request: Request) -> Response:
    form = await _form(request)
    next_url = safe_next(form.get("next"))
    sent, expected = form.get("csrf_token", ""), request.cookies.get(LOGIN_CSRF_COOKIE, "")
    import secrets

    if not sent or not expected or not secrets.compare_digest(sent, expected):
        return _login_page(request, error="The sign-in form expired; please try again.", status=400, next_url=next_url)
    username, password, code = form.get("username", ""), form.get("password", ""), form.get("code", "")
    if not username or not password or not code:
        return _login_page(
            request,
            error="Enter your username, password and the 6-digit code from your authenticator app.",
            status=400,
            next_url=next_url,
            username=username,
        )
    try:
        ip = request.client.host if request.client else None
        audit_log.request_ip.set(ip[:64] if ip else None)  # the sign-in's audit event carries the address
        token = await run_in_threadpool(auth.login, username, password, code, ip=ip)
    except auth.LoginFailed as exc:
        return _login_page(request, error=exc.message, status=401, next_url=next_url, username=username)
    except auth.LoginThrottled as exc:  # too many attempts, or every argon2 slot busy: nothing was checked
        response = _login_page(request, error=exc.message, status=429, next_url=next_url, username=username)
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    who = await run_in_threadpool(auth.resolve_session, token)
    target = "/me/password" if who and who.must_change_password else (next_url or home_path(who.role if who else ""))
    response = _redirect(target)
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="strict", secure=cookie_secure(request), path="/")
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
@staff_page(None)
async def logout(request: Request) -> Response:
    await run_in_threadpool(auth.logout, request.cookies.get(SESSION_COOKIE))
    response = _redirect("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/me/password", response_class=HTMLResponse)
@staff_page(None)
async def password_form(request: Request) -> Response:
    return render(request, "password.html", {"error": None})


@router.post("/me/password")
@staff_page(None)
async def password_submit(request: Request) -> Response:
    form = await _form(request)
    if form.get("new_password", "") != form.get("confirm", ""):
        return render(request, "password.html", {"error": "The two new passwords differ."}, status=400)
    try:
        await run_in_threadpool(
            auth.change_password, request.state.staff.user_id, form.get("current_password", ""), form.get("new_password", "")
        )
    except InvalidInput as exc:
        return render(request, "password.html", {"error": str(exc)}, status=400)
    return _redirect(home_path(request.state.staff.role) + "?msg=" + quote("Password changed."))


@router.get("/me/settings", response_class=HTMLResponse)
@staff_page(None)
async def settings_form(request: Request) -> Response:
    exposure = await run_in_threadpool(review.exposure_today, request.state.staff.user_id)
    return render(request, "settings.html", {"error": None, "exposure": exposure, "msg": request.query_params.get("msg")})


def _int_in(form: dict[str, str], name: str, lo: int, hi: int) -> int:
    raw = form.get(name, "").strip()
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise InvalidInput(f"{name.replace('_', ' ')} must be a whole number from {lo} to {hi}")
    return int(raw)


@router.post("/me/settings")
@staff_page(None)
async def settings_submit(request: Request) -> Response:
    form = await _form(request)
    try:
        prefs = {
            "blur": _int_in(form, "blur", 4, 60),
            "thumb": _int_in(form, "thumb", 64, 480),
            "break_every": _int_in(form, "break_every", 1, 500),
            "grayscale": form.get("grayscale") == "on",
        }
    except InvalidInput as exc:
        exposure = await run_in_threadpool(review.exposure_today, request.state.staff.user_id)
        return render(request, "settings.html", {"error": str(exc), "exposure": exposure, "msg": None}, status=400)
    await run_in_threadpool(auth.set_preferences, request.state.staff.user_id, prefs)
    return _redirect("/me/settings?msg=" + quote("Settings saved."))


# ------------------------------------------------------------------------------------------ review
@router.get("/review", response_class=HTMLResponse)
@staff_page("review.work")
async def queues(request: Request) -> Response:
    await run_in_threadpool(deliver, "review")  # tasks from the outbox, so the queue shows every item
    rows = await run_in_threadpool(review.list_queues, _actor(request))
    exposure = await run_in_threadpool(review.exposure_today, request.state.staff.user_id)
    return render(request, "queues.html", {"queues": rows, "exposure": exposure, "msg": request.query_params.get("msg")})


@router.get("/review/queues/{queue}", response_class=HTMLResponse)
@staff_page("review.work")
@refusable
async def queue_page(request: Request, queue: str) -> Response:
    stage = request.query_params.get("stage", "open")
    await run_in_threadpool(deliver, "review")  # tasks from the outbox, so the queue shows every item
    try:
        page = page_number(request)
    except InvalidInput as exc:
        return error_pages.error_page(request, exc)
    found = await _call(
        request,
        queue_listing.task_page,
        _actor(request),
        queue,
        stage,
        limit=QUEUE_PAGE_SIZE,
        offset=(page - 1) * QUEUE_PAGE_SIZE,
    )
    pager = Pager(page, QUEUE_PAGE_SIZE, found.total, f"/review/queues/{quote(queue, safe='')}", {"stage": stage})
    return render(
        request,
        "queue.html",
        {
            "queue": queue,
            "stage": stage,
            "tasks": found.tasks,
            "found": found,
            "pager": pager,
            "msg": request.query_params.get("msg"),
        },
    )


@router.get("/review/queues/{queue}/next")
@staff_page("review.work")
@refusable
async def queue_next(request: Request, queue: str) -> Response:
    stage = request.query_params.get("stage", "open")
    msg = request.query_params.get("msg")
    task_id = await _call(request, review.next_task, _actor(request), queue, stage)
    suffix = f"?msg={quote(msg)}" if msg else ""
    if task_id is None:
        return _redirect(f"/review/queues/{quote(queue, safe='')}?stage={stage}" + (f"&msg={quote(msg)}" if msg else ""))
    return _redirect(f"/review/tasks/{task_id}{suffix}")


def _media_context(item: Any, states: dict[int, str]) -> list[dict[str, Any]]:
    """``states``: position -> held / damaged (``review.media_states``); absent = only hashes kept."""
    return [
        {
            "position": m.position,
            "kind": m.kind or ("video" if (m.mime or "").startswith("video/") else "image"),
            "mime": m.mime,
            "retained": states.get(m.position) == review.MEDIA_HELD,
            "damaged": states.get(m.position) == review.MEDIA_DAMAGED,
            "signals": m.signals,
            "error": m.error,
        }
        for m in item.media
    ]


@router.get("/review/tasks/{task_id}", response_class=HTMLResponse)
@staff_page("review.work")
@refusable
async def task_page(request: Request, task_id: RowId) -> Response:
    from suraksha.cases import appeals
    from suraksha.cases.categories import choices_for
    from suraksha.pipeline.views import get_item

    view = await _call(request, review.get_task, task_id, _actor(request))
    item = await _call(request, get_item, view.task.item_id)
    retained = await run_in_threadpool(review.media_states, item.id, _actor(request))
    banks = await run_in_threadpool(review.bank_choices)
    exposure = await run_in_threadpool(review.exposure_today, request.state.staff.user_id)
    context = await _call(request, review.review_context, item.id)
    appeal = await run_in_threadpool(appeals.appeal_for_task, view.task.id)
    keys = [(c.key, c.category, c.industry_class, c.label) for c in choices_for(context.has_media, context.has_text)]
    return render(
        request,
        "task.html",
        {
            "view": view,
            "task": view.task,
            "item": item,
            "ctx": context,
            "appeal": appeal,
            "media": _media_context(item, retained),
            "banks": banks,
            "keys": keys,
            "exposure": exposure,
            "msg": request.query_params.get("msg"),
            "stage_param": view.task.status if view.task.status != "done" else "open",
        },
    )


@router.post("/review/tasks/{task_id}/decide")
@staff_page("review.work")
@refusable
async def task_decide(request: Request, task_id: RowId) -> Response:
    form = await _form(request)
    choice = form.get("choice", "")
    category, _, industry_class = (
        choice.partition(":") if choice else (form.get("category", ""), "", form.get("industry_class", ""))
    )
    if not category:
        return _error(request, 400, "Choose a decision (the buttons, or their keys).")
    before = await _call(request, review.get_task, task_id, _actor(request))
    result = await _call(
        request,
        review.decide,
        task_id,
        _actor(request),
        category,
        industry_class or None,
        form.get("annotation", ""),
        form.get("bank") or None,
    )
    stage = before.task.status
    return _redirect(f"/review/queues/{quote(before.task.queue, safe='')}/next?stage={stage}&msg={quote(result.message)}")


@router.post("/review/tasks/{task_id}/escalate")
@staff_page("review.work")
@refusable
async def task_escalate(request: Request, task_id: RowId) -> Response:
    form = await _form(request)
    before = await _call(request, review.get_task, task_id, _actor(request))
    await _call(request, review.escalate, task_id, _actor(request), form.get("note", ""))
    return _redirect(
        f"/review/queues/{quote(before.task.queue, safe='')}/next?stage={before.task.status}&msg="
        + quote("Escalated to a senior reviewer.")
    )


# ------------------------------------------------------------------------------------------- media
@router.get("/media/{item_id}/{position}")
@staff_page("media.view")
@refusable
async def media(request: Request, item_id: int, position: int, token: str | None = None) -> Response:
    """The blurred preview; the original only with the one-time token of this user's audited reveal."""
    from suraksha.cases import media as media_rules
    from suraksha.web import media as media_http

    if token is None:
        try:
            found = await _call(
                request,
                media_rules.media_preview,
                item_id,
                position,
                _actor(request),
                **media_http.preview_options(prefs_of(request.state.staff)),
            )
        except review.MediaDamaged as exc:
            return media_http.damaged_response(exc)
        return media_http.preview_response(found) if found is not None else media_http.not_retained_response()
    try:
        original = await run_in_threadpool(media_rules.original_for_reveal, _actor(request), item_id, position, token)
    except media_rules.RevealLinkRefused as exc:  # no valid link of this user for this media
        return media_http.refused_response(str(exc))
    except review.MediaDamaged as exc:
        return media_http.damaged_response(exc)
    if original is None:
        return media_http.not_retained_response()
    return media_http.original_response(*original)


@router.post("/media/{item_id}/{position}/reveal")
@staff_page("media.view")
@refusable
async def media_reveal(request: Request, item_id: int, position: int) -> Response:
    from suraksha.cases import media as media_rules
    from suraksha.web import media as media_http

    grant = await _call(request, media_rules.reveal, _actor(request), item_id, position)
    every = int(prefs_of(request.state.staff).get("break_every") or 20)
    return JSONResponse(media_http.reveal_payload(grant, item_id, position, every), headers={"Cache-Control": "no-store"})


# ---------------------------------------------------------------------------------- items, accounts
@router.get("/items/{item_id}", response_class=HTMLResponse)
@staff_page("items.read")
@refusable
async def item_page(request: Request, item_id: RowId) -> Response:
    from suraksha.auth.roles import can
    from suraksha.pipeline.views import get_item

    item = await _call(request, get_item, item_id)
    decision = await run_in_threadpool(review.get_decision, item_id)
    show_media = can(request.state.staff.role, "media.view")
    retained = await run_in_threadpool(review.media_states, item_id, _actor(request)) if show_media else {}

    def _audit() -> None:
        from suraksha.auth import audit
        from suraksha.db import session_scope

        with session_scope() as s:
            audit.record(s, request.state.staff.actor, "item.view", "item", item_id, {"media_shown": show_media})

    await run_in_threadpool(_audit)
    context = await _call(request, review.review_context, item_id)
    return render(
        request,
        "item.html",
        {
            "item": item,
            "decision": decision,
            "show_media": show_media,
            "media": _media_context(item, retained),
            "ctx": context,
            "can_act": can(request.state.staff.role, "items.act"),
            "destinations": REPORT_DESTINATIONS,
            "msg": request.query_params.get("msg"),
        },
    )


@router.post("/items/{item_id}/act")
@staff_page("items.act")
@refusable
async def item_act(request: Request, item_id: RowId) -> Response:
    """Remove, suspend the account, restore or report, with a reason, through the outbox."""
    from suraksha.cases import actions

    form = await _form(request)
    done = await _call(
        request,
        actions.request,
        _actor(request),
        form.get("action", ""),
        form.get("reason", ""),
        item_id=item_id,
        destination=form.get("destination") or None,
    )
    return _redirect(f"/items/{item_id}?msg=" + quote(done.message))


# An account id in a path: out-of-range numbers get a 422, not a database overflow.
AccountId = Annotated[int, FastApiPath(ge=1, le=2**63 - 1)]


@router.get("/accounts/{account_id}", response_class=HTMLResponse)
@staff_page("accounts.read")
@refusable
async def account_page(request: Request, account_id: AccountId) -> Response:
    from suraksha.auth.roles import can
    from suraksha.networks.service import network_for

    overview = await _call(request, account_links.account_overview, account_id, request.state.staff.actor)
    network = await _call(request, network_for, account_id)
    return render(
        request,
        "account.html",
        {
            "a": overview,
            "network": network,
            "msg": request.query_params.get("msg"),
            "can_act": can(request.state.staff.role, "items.act"),
        },
    )


@router.post("/accounts/{account_id}/act")
@staff_page("items.act")
@refusable
async def account_act(request: Request, account_id: AccountId) -> Response:
    """Suspend or restore the account, with a reason, through the outbox."""
    from suraksha.cases import actions

    form = await _form(request)
    done = await _call(
        request, actions.request, _actor(request), form.get("action", ""), form.get("reason", ""), account_id=account_id
    )
    return _redirect(f"/accounts/{account_id}?msg=" + quote(done.message))


@router.post("/accounts/{account_id}/network/suspend")
@staff_page("accounts.suspend")
@refusable
async def account_network_suspend(request: Request, account_id: AccountId) -> Response:
    """One action: every member of the account's network is suspended through enforcement."""
    from suraksha.networks.suspend import suspend_network

    form = await _form(request)
    if form.get("confirm") != "yes":
        return _error(request, 400, "Tick the box to confirm that every member of the group is to be suspended.")
    result = await _call(request, suspend_network, account_id, form.get("reason", ""), request.state.staff.actor)
    done = len(result.enqueued)
    note = f"Suspension requested for {done} account(s); {len(result.members) - done} already on record."
    return _redirect(f"/accounts/{account_id}?msg=" + quote(note))


# -------------------------------------------------------------------------------------------- cases
@router.get("/cases", response_class=HTMLResponse)
@staff_page("cases.read")
async def cases_page(request: Request) -> Response:
    status = request.query_params.get("status") or None
    rows = await run_in_threadpool(review.list_cases, status if status in ("open", "closed") else None)
    return render(request, "cases.html", {"cases": rows, "status": status, "msg": request.query_params.get("msg")})


@router.post("/cases")
@staff_page("cases.write")
@refusable
async def case_create(request: Request) -> Response:
    form = await _form(request)
    items = [int(x) for x in form.get("item_ids", "").replace(",", " ").split() if x.isdigit()]
    case_id = await _call(request, review.create_case, form.get("title", ""), _actor(request), item_ids=items)
    return _redirect(f"/cases/{case_id}")


@router.get("/cases/{case_id}", response_class=HTMLResponse)
@staff_page("cases.read")
@refusable
async def case_page(request: Request, case_id: RowId) -> Response:
    view = await _call(request, review.get_case, case_id, _actor(request))
    return render(request, "case.html", {"view": view, "msg": request.query_params.get("msg")})


@router.post("/cases/{case_id}/add")
@staff_page("cases.write")
@refusable
async def case_add(request: Request, case_id: RowId) -> Response:
    form = await _form(request)
    item, account = form.get("item_id", "").strip(), form.get("account_id", "").strip()
    for value, name in ((item, "item id"), (account, "account id")):
        if value and (not value.isdigit() or not 0 < int(value) < 2**63):
            return _error(request, 400, f"{name} must be a number from 1 to {2**63 - 1}")
    await _call(
        request,
        review.add_to_case,
        case_id,
        _actor(request),
        item_id=int(item) if item else None,
        account_id=int(account) if account else None,
    )
    return _redirect(f"/cases/{case_id}?msg=" + quote("Added."))


@router.post("/cases/{case_id}/status")
@staff_page("cases.write")
@refusable
async def case_status(request: Request, case_id: RowId) -> Response:
    form = await _form(request)
    await _call(request, review.set_case_status, case_id, form.get("status", ""), _actor(request))
    return _redirect(f"/cases/{case_id}?msg=" + quote("Status changed."))


# audit: suraksha.web.audit_pages


# ------------------------------------------------------------------------------------------ appeals
@router.get("/appeals", response_class=HTMLResponse)
@staff_page("review.work")
@refusable
async def appeals_page(request: Request) -> Response:
    from suraksha.cases import appeals

    status = request.query_params.get("status") or None
    rows = await _call(request, appeals.list_appeals, status)
    return render(request, "appeals.html", {"appeals": rows, "status": status, "msg": request.query_params.get("msg")})


@router.post("/appeals/{appeal_id}/decide")
@staff_page("review.work")
@refusable
async def appeal_decide(request: Request, appeal_id: RowId) -> Response:
    from suraksha.cases import appeals

    form = await _form(request)
    view, acted = await _call(request, appeals.decide, appeal_id, _actor(request), form.get("outcome", ""), form.get("note", ""))
    note = f"Appeal #{view.id} {view.status}." + (f" Actions: {', '.join(acted)}." if acted else "")
    return _redirect("/appeals?msg=" + quote(note))


# -------------------------------------------------------------------------------------------- admin
@router.get("/admin/users", response_class=HTMLResponse)
@staff_page("users.manage")
async def users_page(request: Request) -> Response:
    users = await run_in_threadpool(auth.list_users)
    return render(
        request,
        "users.html",
        {"users": users, "roles": ROLES, "created": None, "error": None, "msg": request.query_params.get("msg")},
    )


@router.post("/admin/users")
@staff_page("users.manage")
async def users_create(request: Request) -> Response:
    form = await _form(request)
    try:
        creds = await run_in_threadpool(
            auth.create_user,
            form.get("username", "").strip().lower(),
            form.get("role", ""),
            display_name=form.get("display_name", "").strip(),
            actor=request.state.staff.actor,
        )
        error, status = None, 200
    except InvalidInput as exc:
        creds, error, status = None, str(exc), 400
    users = await run_in_threadpool(auth.list_users)
    return render(
        request, "users.html", {"users": users, "roles": ROLES, "created": creds, "error": error, "msg": None}, status=status
    )


@router.post("/admin/users/{user_id}/{operation}")
@staff_page("users.manage")
async def users_change(request: Request, user_id: RowId, operation: str) -> Response:
    form = await _form(request)
    actor = request.state.staff.actor
    creds = None
    try:
        if operation == "reset-mfa":
            creds = await run_in_threadpool(auth.reset_mfa, user_id, actor=actor)
        elif operation == "reset-password":
            creds = await run_in_threadpool(auth.reset_password, user_id, actor=actor)
        elif operation == "unlock":
            await run_in_threadpool(auth.unlock, user_id, actor=actor)
        elif operation in ("deactivate", "activate"):
            if operation == "deactivate" and user_id == request.state.staff.user_id:
                raise InvalidInput("you cannot deactivate yourself")
            await run_in_threadpool(auth.set_active, user_id, operation == "activate", actor=actor)
        elif operation == "role":
            await run_in_threadpool(auth.set_role, user_id, form.get("role", ""), actor=actor)
        else:
            return _error(request, 404, f"unknown operation {operation!r}")
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    users = await run_in_threadpool(auth.list_users)
    return render(
        request,
        "users.html",
        {"users": users, "roles": ROLES, "created": creds, "error": None, "msg": f"{operation.replace('-', ' ')}: done"},
    )
