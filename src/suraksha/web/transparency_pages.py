"""The transparency page (``/transparency``) and its downloads, for analysts and legal staff.

Adapter only: read the period form, call ``transparency.service`` (figures + charts, or a rendered
file), render. A bad period gets the page again with the reason (400). Every download is an
audit event (DESIGN: every export is recorded).
"""

from __future__ import annotations

import base64
import datetime as dt
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from suraksha.errors import InvalidInput
from suraksha.web.render import render
from suraksha.web.security import staff_page

router = APIRouter(include_in_schema=False)
PERMISSION = "transparency.read"


def _form(request: Request) -> dict[str, str]:
    """The period form's values, defaulting to the last twelve months by month."""
    today = dt.date.today()
    n = today.year * 12 + today.month - 1 - 11
    default_from = dt.date(n // 12, n % 12 + 1, 1)
    q = request.query_params
    return {
        "from": q.get("from") or default_from.isoformat(),
        "to": q.get("to") or today.isoformat(),
        "by": q.get("by") or "month",
        "jurisdiction": q.get("jurisdiction") or "",
        "kind": q.get("kind") or "figures",
    }


def _page_data(form: dict[str, str]) -> dict:
    from suraksha.transparency import charts
    from suraksha.transparency.service import build

    figures = build("figures", form["from"], form["to"], by=form["by"], jurisdiction=form["jurisdiction"] or None)
    summary = build("summary", form["from"], form["to"], jurisdiction=form["jurisdiction"] or None)
    png = {"trend": charts.trend_chart(figures), "automation": charts.automation_chart(figures)}
    from suraksha.transparency.pdf import hours

    return {
        "figures": figures,
        "summary": summary,
        "duration": hours,
        "charts": {k: base64.b64encode(v).decode() for k, v in png.items()},
    }


@router.get("/transparency", response_class=HTMLResponse)
@staff_page(PERMISSION)
async def transparency_page(request: Request) -> Response:
    form = _form(request)
    query = {k: v for k, v in form.items() if v and k != "kind"}
    try:
        data = await run_in_threadpool(_page_data, form)
    except InvalidInput as exc:
        return render(request, "transparency.html", {"form": form, "error": str(exc), "figures": None}, status=400)
    links = {fmt: f"/transparency/download?{urlencode({**query, 'format': fmt})}" for fmt in ("pdf", "csv", "json")}
    links["compliance_pdf"] = (
        f"/transparency/download?{urlencode({**query, 'kind': 'compliance', 'format': 'pdf', 'jurisdiction': 'in'})}"
    )
    links["compliance_csv"] = (
        f"/transparency/download?{urlencode({**query, 'kind': 'compliance', 'format': 'csv', 'jurisdiction': 'in'})}"
    )
    links["summary_pdf"] = f"/transparency/download?{urlencode({**query, 'kind': 'summary', 'format': 'pdf'})}"
    return render(request, "transparency.html", {"form": form, "error": None, "links": links, **data})


@router.get("/transparency/download")
@staff_page(PERMISSION)
async def transparency_download(request: Request) -> Response:
    from suraksha.transparency.service import render_report

    form = _form(request)
    fmt = request.query_params.get("format") or "pdf"
    try:
        rendered = await run_in_threadpool(
            render_report, form["kind"], fmt, form["from"], form["to"], by=form["by"], jurisdiction=form["jurisdiction"] or None
        )
    except InvalidInput as exc:
        return render(request, "transparency.html", {"form": form, "error": str(exc), "figures": None}, status=400)

    def _audit() -> None:
        from suraksha.auth import audit
        from suraksha.db import session_scope

        with session_scope() as s:
            audit.record(
                s,
                request.state.staff.actor,
                "transparency.export",
                "report",
                form["kind"],
                {**form, "format": fmt, "bytes": len(rendered.content)},
            )

    await run_in_threadpool(_audit)
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'attachment; filename="{rendered.filename}"'},
    )
