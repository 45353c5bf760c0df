"""Networks: every connected group of accounts, largest first, a page at a time (``networks.service``).

One account's group is ``GET /v1/accounts/{id}/network`` (routers/accounts.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from suraksha.api.auth import require_scope
from suraksha.api.schemas import ERRORS
from suraksha.networks.schemas import GroupPageOut
from suraksha.networks.service import MAX_PAGE

router = APIRouter(
    prefix="/v1/networks", tags=["networks"], dependencies=[Depends(require_scope("networks:read"))], responses=ERRORS
)


@router.get("", response_model=GroupPageOut, summary="Connected groups of accounts, largest first")
def list_networks(
    min_size: int = Query(2, ge=2, le=10**9, description="Only groups with at least this many accounts."),
    limit: int = Query(50, ge=1, le=MAX_PAGE, description="Groups per page."),
    offset: int = Query(0, ge=0, le=10**9, description="Groups to skip (page * limit)."),
    window_hours: int | None = Query(None, ge=1, le=24 * 366, description="IP/device time window (default: the setting)."),
    max_accounts: int = Query(500, ge=1, le=10_000, description="Members listed per group at most (truncated: true)."),
) -> dict:
    from suraksha.networks.service import group_page

    return group_page(
        min_size=min_size, limit=limit, offset=offset, window_hours=window_hours, max_accounts=max_accounts
    ).to_dict()
