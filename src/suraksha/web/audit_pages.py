"""The audit log page (``/audit``) and its exports: filters (actor, kind, target, period), paging
with a total, readable details, CSV / JSON Lines download.

Adapter only: ``suraksha.audit.listing`` does the query and books each export as an audit event.
Dates in the filters are days in the display time zone (``SURAKSHA_WEB_DISPLAY_TIME_ZONE``).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool

from suraksha.audit.listing import AuditFilter, export_events, list_events, parse_moment, summarise
from suraksha.errors import InvalidInput, SurakshaError
from suraksha.web import errors as error_pages
from suraksha.web.paging import Pager, page_number
from suraksha.web.render import display_zone, render
from suraksha.web.security import staff_page

router = APIRouter(include_in_schema=False)
PERMISSION = "audit.read"
PER_PAGE = 50
FILTER_NAMES = ("actor", "kind", "target", "since", "until")
# Object types whose id opens a page of the workspace.
TARGET_PAGES = {"item": "/items/{}", "account": "/accounts/{}", "case": "/cases/{}", "legal_request": "/legal/requests/{}"}


def _filters(request: Request) -> tuple[AuditFilter, dict[str, str]]:
    raw = {name: (request.query_params.get(name) or "").strip() for name in FILTER_NAMES}
    zone = display_zone()
    f = AuditFilter(
        actor=raw["actor"] or None,
        kind=raw["kind"] or None,
        target=raw["target"] or None,
        since=parse_moment(raw["since"], zone),
        until=parse_moment(raw["until"], zone, end=True),
    )
    return f, {k: v for k, v in raw.items() if v}


def target_link(object_type: str | None, object_id: str | None) -> str | None:
    pattern = TARGET_PAGES.get(object_type or "")
    if pattern is None or not object_id:
        return None
    if object_type in ("item", "account", "case") and not object_id.isdigit():
        return None
    return pattern.format(object_id)


@router.get("/audit", response_class=HTMLResponse)
@staff_page(PERMISSION)
async def audit_page(request: Request) -> Response:
    try:
        f, used = _filters(request)
        page = page_number(request)
        found = await run_in_threadpool(lambda: list_events(f, limit=PER_PAGE, offset=(page - 1) * PER_PAGE))
    except SurakshaError as exc:
        return error_pages.error_page(request, exc)
    pager = Pager(page=page, per_page=PER_PAGE, total=found.total, base="/audit", params=used)
    rows = [{"e": e, "details": summarise(e.details), "link": target_link(e.object_type, e.object_id)} for e in found.events]
    query = urlencode(used)
    return render(
        request,
        "audit.html",
        {
            "rows": rows,
            "pager": pager,
            "filters": used,
            "csv_url": "/audit/export.csv" + (f"?{query}" if query else ""),
            "jsonl_url": "/audit/export.jsonl" + (f"?{query}" if query else ""),
        },
    )


@router.get("/audit/export.{fmt}")
@staff_page(PERMISSION)
async def audit_export(request: Request, fmt: str) -> Response:
    if fmt not in ("csv", "jsonl"):
        return error_pages.page(request, 404, f"no export as {fmt[:20]!r}: choose CSV or JSON Lines on the audit page")
    try:
        f, _ = _filters(request)
        lines: Iterator[str] = await run_in_threadpool(
            export_events,
            f,
            fmt,
            request.state.staff.actor,
            ip=request.client.host if request.client else None,
        )
    except (SurakshaError, InvalidInput) as exc:
        return error_pages.error_page(request, exc)
    media_type = "text/csv" if fmt == "csv" else "application/x-ndjson"
    name = f"audit-log.{fmt}"
    return StreamingResponse(
        iterate_in_threadpool(lines),
        media_type=f"{media_type}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
