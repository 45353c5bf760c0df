"""Who is asking, and may they: the staff session cookie, role permissions and CSRF for every page.

Each staff page is wrapped by ``staff_page(permission)``: no session → sign-in page (GET) or 401;
wrong role → 403; a state-changing request without the session's CSRF token → 403. Pages are sent
with ``Cache-Control: no-store`` and a strict Content-Security-Policy.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from suraksha.audit import log as audit_log
from suraksha.auth.roles import can
from suraksha.auth.service import StaffPrincipal, resolve_session
from suraksha.web.headers import harden
from suraksha.web.render import render

SESSION_COOKIE = "suraksha_session"
LOGIN_CSRF_COOKIE = "suraksha_login_csrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Pages a user who must change their one-time password can still reach.
PASSWORD_CHANGE_PATHS = ("/me/password", "/logout")


def cookie_secure(request: Request) -> bool:
    from suraksha.auth.settings import get_auth_settings
    from suraksha.config import get_settings

    explicit = get_auth_settings().cookie_secure
    if explicit is not None:
        return explicit
    return request.url.scheme == "https" or get_settings().mode == "production"


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


async def csrf_from(request: Request) -> str | None:
    token = request.headers.get("x-csrf-token")
    if token:
        return token
    ctype = request.headers.get("content-type", "")
    if ctype.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        return value if isinstance(value, str) else None
    return None


def _error_page(request: Request, status: int, title: str, message: str, who: StaffPrincipal | None = None) -> HTMLResponse:
    return render(request, "error.html", {"title": title, "message": message}, who=who, status=status)


async def current_staff(request: Request) -> StaffPrincipal | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    return await run_in_threadpool(resolve_session, token)


async def guard(request: Request, permission: str | None) -> StaffPrincipal | Response:
    """The principal, or the response that refuses the request."""
    who = await current_staff(request)
    if who is None:
        if request.method in SAFE_METHODS:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return harden(RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303))
        return _error_page(request, 401, "Sign in required", "Your session has ended; sign in again.")
    if request.method not in SAFE_METHODS:
        sent = await csrf_from(request)
        if not sent or not secrets.compare_digest(sent, who.csrf_token):
            return _error_page(
                request, 403, "Form expired", "The form's security token is missing or stale; reload the page and try again.", who
            )
    if who.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
        if request.method in SAFE_METHODS:
            return harden(RedirectResponse("/me/password", status_code=303))
        return _error_page(request, 403, "Change your password", "Set a new password before doing anything else.", who)
    if permission is not None and not can(who.role, permission):
        return _error_page(request, 403, "Not permitted", f"Your role ({who.role}) cannot open this page.", who)
    return who


def staff_page(permission: str | None) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Wrap a route: only signed-in staff whose role has ``permission`` (None: any role) get through."""

    def deco(fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        @wraps(fn)
        async def wrapper(request: Request, **kwargs: Any) -> Any:
            who = await guard(request, permission)
            if isinstance(who, Response):
                return who
            request.state.staff = who
            audit_log.request_ip.set(request.client.host[:64] if request.client else None)
            response = await fn(request, **kwargs)
            return harden(response) if isinstance(response, Response) else response

        wrapper.permission = permission  # type: ignore[attr-defined]
        return wrapper

    return deco


def safe_next(value: str | None) -> str | None:
    """Only same-site paths are followed after sign-in (no open redirect)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value and len(value) < 500:
        return value
    return None
