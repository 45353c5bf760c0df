"""Templates and the context every page gets (who is signed in, their wellness settings, nav)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from suraksha.auth.roles import can
from suraksha.auth.service import StaffPrincipal
from suraksha.web.headers import harden

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

DEFAULT_PREFS = {"blur": 24, "grayscale": True, "thumb": 160, "break_every": 0}


def prefs_of(who: StaffPrincipal | None) -> dict[str, Any]:
    from suraksha.cases.settings import get_review_settings

    prefs = {**DEFAULT_PREFS, **((who.preferences if who else None) or {})}
    if not prefs.get("break_every"):
        prefs["break_every"] = get_review_settings().break_every
    return prefs


def ago(value: dt.datetime | None) -> str:
    if value is None:
        return "-"
    now = dt.datetime.now(dt.UTC)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    s = int((now - value).total_seconds())
    future = s < 0
    s = abs(s)
    text = (
        f"{s // 86400}d {s % 86400 // 3600}h" if s >= 86400 else f"{s // 3600}h {s % 3600 // 60}m" if s >= 3600 else f"{s // 60}m"
    )
    return f"in {text}" if future else f"{text} ago"


def iso(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.isoformat()


templates.env.filters["ago"] = ago
templates.env.filters["iso"] = iso


def render(
    request: Request, name: str, context: dict[str, Any], *, who: StaffPrincipal | None = None, status: int = 200
) -> HTMLResponse:
    who = who or getattr(request.state, "staff", None)
    ctx = {"who": who, "prefs": prefs_of(who), "can": (lambda p: bool(who and can(who.role, p))), **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    return harden(response)
