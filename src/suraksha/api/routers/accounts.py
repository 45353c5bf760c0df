"""Accounts: one account and its history of matched items (``pipeline.views``), and its network (``networks``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Query

from suraksha.api.auth import require_scope
from suraksha.api.schemas import ERRORS
from suraksha.networks.schemas import NetworkOut
from suraksha.pipeline.schemas import AccountView

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], responses=ERRORS)


@router.get(
    "/{account_id}",
    response_model=AccountView,
    summary="An account and its matched items",
    dependencies=[Depends(require_scope("items:read"))],
)
def get_account(
    account_id: str = Path(min_length=1, max_length=200, description="Suraksha's account id, or the platform's account id."),
) -> AccountView:
    from suraksha.pipeline.views import get_account

    return get_account(int(account_id) if account_id.isdigit() else account_id)


@router.get(
    "/{account_id}/network",
    response_model=NetworkOut,
    summary="The account's network: linked accounts and why",
    dependencies=[Depends(require_scope("networks:read"))],
)
def get_account_network(
    account_id: str = Path(min_length=1, max_length=200, description="Suraksha's account id, or the platform's account id."),
    window_hours: int | None = Query(None, ge=1, le=24 * 366, description="IP/device time window (default: the setting)."),
    max_accounts: int = Query(500, ge=1, le=10_000, description="Stop after this many accounts (truncated: true)."),
) -> dict:
    from suraksha.networks.service import network_for

    ref: int | str = int(account_id) if account_id.isdigit() else account_id
    return network_for(ref, window_hours=window_hours, max_accounts=max_accounts).to_dict()
