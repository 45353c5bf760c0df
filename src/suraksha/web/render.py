"""Templates and the context every page gets (who is signed in, their wellness settings, nav)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from suraksha.auth.roles import can
from suraksha.auth.service import StaffPrincipal
from suraksha.jurisdictions.profiles import ProfileError, load_profile
from suraksha.settings import get_settings
from suraksha.web.headers import harden

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))

DEFAULT_PREFS = {"blur": 24, "grayscale": True, "thumb": 160, "break_every": 0}


def prefs_of(who: StaffPrincipal | None) -> dict[str, Any]:
    from suraksha.cases.settings import get_review_settings

    prefs = {**DEFAULT_PREFS, **((who.preferences if who else None) or {})}
    if not prefs.get("break_every"):
        prefs["break_every"] = get_review_settings().break_every
    return prefs


def relative(value: dt.datetime | None) -> str:
    """How long ago (or how soon): ``3h 10m ago``, ``in 2d 4h``."""
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


def display_zone() -> zoneinfo.ZoneInfo:
    """The staff pages' time zone (``SURAKSHA_WEB_DISPLAY_TIME_ZONE``, Asia/Kolkata by default)."""
    return zoneinfo.ZoneInfo(get_settings().web.display_time_zone)


def _jurisdiction_zone(code: str) -> dt.tzinfo:
    try:
        return load_profile(code).zone
    except ProfileError:
        return display_zone()


def local_time(value: dt.datetime | None, jurisdiction: str | None = None, seconds: bool = False) -> str:
    """An absolute time with its zone shown: ``1 Dec 2026, 20:15 IST``, in the display zone, or in
    the zone of ``jurisdiction`` (a profile code, e.g. ``"in"``) where a legal request names one.

    Stored times are UTC (aware); a naive value is taken as UTC. ``seconds=True`` adds ``:SS``
    (the audit log, where order within a minute matters)."""
    if value is None:
        return "-"
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    zone = _jurisdiction_zone(jurisdiction) if jurisdiction else display_zone()
    local = value.astimezone(zone)
    clock = local.strftime("%H:%M:%S" if seconds else "%H:%M")
    return f"{local.day} {local.strftime('%b %Y')}, {clock} {local.tzname()}"


def when(value: dt.datetime | None) -> Markup:
    """``local_time`` in a ``<time>`` element whose title says how long ago (or how soon) it is."""
    if value is None:
        return Markup("-")
    return Markup('<time datetime="{}" title="{}">{}</time>').format(iso(value), relative(value), local_time(value))


def ago(value: dt.datetime | None) -> str:
    """The absolute time with its zone, then how long ago: ``1 Dec 2026, 20:15 IST (3h 10m ago)``.

    (It printed only the relative part, which read "1723d 0h ago" for old records.)"""
    if value is None:
        return "-"
    return f"{local_time(value)} ({relative(value)})"


templates.env.filters["ago"] = ago
templates.env.filters["relative"] = relative
templates.env.filters["iso"] = iso
templates.env.filters["local_time"] = local_time
templates.env.filters["when"] = when
templates.env.globals["display_zone_name"] = lambda: get_settings().web.display_time_zone


def render(
    request: Request, name: str, context: dict[str, Any], *, who: StaffPrincipal | None = None, status: int = 200
) -> HTMLResponse:
    who = who or getattr(request.state, "staff", None)
    ctx = {"who": who, "prefs": prefs_of(who), "can": (lambda p: bool(who and can(who.role, p))), **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status)
    return harden(response)
