"""Legal requests for integrations: ``GET|POST /v1/legal/requests``, ``GET /v1/legal/requests/{id}``,
``GET /v1/legal/dashboard``. Thin: parse, call one ``suraksha.legal`` function, render.

A request posted here is entered as staff entry from another system (``channel`` ``staff``,
``email`` or ``paper``); officers file through the portal, not with API keys.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import Field

from suraksha.api.auth import require_scope
from suraksha.api.errors import ApiError
from suraksha.api.keys import Principal
from suraksha.api.schemas import ERRORS
from suraksha.legal.schemas import RequestIn

router = APIRouter(prefix="/v1/legal", tags=["legal"], responses=ERRORS)
READ = [Depends(require_scope("legal:read"))]


class LegalRequestCreate(RequestIn):
    """A request as entered by an integration, with its PDF inline (base64)."""

    document_base64: str | None = Field(default=None, description="The order / notice, a PDF, base64.")
    document_name: str | None = Field(default=None, max_length=300)


def _summary(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "reference": r.reference,
        "type": r.type,
        "jurisdiction": r.jurisdiction,
        "status": r.status,
        "status_reason": r.status_reason,
        "agency_id": r.agency_id,
        "agency_name": r.agency_name,
        "case_number": r.case_number,
        "received_at": r.received_at,
        "due_at": r.due_at,
        "channel": r.channel,
        "failed_checks": [c.key for c in r.failed_checks],
    }


@router.post("/requests", status_code=201, summary="Enter a legal request (with its PDF)")
def create_request(body: LegalRequestCreate, principal: Principal = Depends(require_scope("legal:write"))) -> dict[str, Any]:
    from suraksha.legal import file_request

    if body.channel == "portal":
        raise ApiError(422, "invalid_request", "channel 'portal' is for officers signed in to the portal")
    document = None
    if body.document_base64 is not None:
        try:
            document = base64.b64decode(body.document_base64, validate=True)
        except (binascii.Error, ValueError):
            raise ApiError(422, "invalid_request", "document_base64 is not valid base64") from None
    data = RequestIn.model_validate(body.model_dump(exclude={"document_base64", "document_name"}))
    return asdict(file_request(data, f"api_key:{principal.key_id}", document=document, document_name=body.document_name))


@router.get("/requests", summary="Legal requests, newest first", dependencies=READ)
def list_requests(
    status: str | None = Query(None),
    type: str | None = Query(None),
    agency_id: int | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
) -> dict[str, Any]:
    from suraksha.legal import list_requests

    return {"requests": [_summary(r) for r in list_requests(agency_id=agency_id, status=status, type=type, limit=limit)]}


@router.get(
    "/requests/{ref}", summary="One legal request: checks, targets, data points, reminders, disclosures", dependencies=READ
)
def get_request(ref: str = Path(min_length=1, max_length=40, description="Id or reference (LR-2026-000001).")) -> dict[str, Any]:
    from suraksha.legal import get_request

    return asdict(get_request(ref))


@router.get("/dashboard", summary="Open requests: overdue, at risk, due", dependencies=READ)
def dashboard(now: dt.datetime | None = Query(None, description="ISO 8601 with zone; default now.")) -> dict[str, Any]:
    from suraksha.legal import dashboard

    if now is not None and now.tzinfo is None:
        raise ApiError(422, "invalid_request", "now must carry a time zone")
    board = dashboard(now)
    out = {"now": board.now, "counts": board.counts()}
    for name in ("overdue", "at_risk", "due"):
        out[name] = [{**asdict(e), "remaining_seconds": e.remaining.total_seconds()} for e in getattr(board, name)]
        for e in out[name]:
            e.pop("remaining")
    return out
