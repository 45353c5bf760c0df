"""Transparency: ``GET /v1/transparency`` -> figures, the Rule 4(1)(d) report or the commission summary."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from suraksha.api.auth import require_scope
from suraksha.api.schemas import ERRORS

router = APIRouter(
    prefix="/v1/transparency", tags=["transparency"], dependencies=[Depends(require_scope("transparency:read"))], responses=ERRORS
)


@router.get(
    "",
    summary="Transparency figures, India's monthly compliance report or the commission summary",
    responses={200: {"content": {"application/json": {}, "text/csv": {}, "application/pdf": {}}}},
)
def transparency(
    start: str = Query(..., alias="from", description="First day, YYYY-MM-DD."),
    end: str = Query(..., alias="to", description="Last day (included), YYYY-MM-DD."),
    by: str = Query("month", description="month | quarter | year"),
    fmt: str = Query("json", alias="format", description="json | csv | pdf"),
    jurisdiction: str | None = Query(None, description="in | us | uk | eu: items posted there, periods in its time zone."),
    kind: str = Query("figures", description="figures | compliance | summary"),
) -> Response:
    from suraksha.transparency.service import render_report

    rendered = render_report(kind, fmt, start, end, by=by, jurisdiction=jurisdiction)
    disposition = "inline" if fmt == "json" else "attachment"
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={"Content-Disposition": f'{disposition}; filename="{rendered.filename}"', "Cache-Control": "no-store"},
    )
