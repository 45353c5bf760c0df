"""Accounts: one account and its history of matched items (``pipeline.views``)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from suraksha.api.auth import require_key
from suraksha.api.schemas import ERRORS
from suraksha.pipeline.schemas import AccountView

router = APIRouter(prefix="/v1/accounts", tags=["accounts"], dependencies=[Depends(require_key)], responses=ERRORS)


@router.get("/{account_id}", response_model=AccountView, summary="An account and its matched items")
def get_account(account_id: str = Path(min_length=1, max_length=200,
                                       description="Suraksha's account id, or the platform's account id.")) -> AccountView:
    from suraksha.pipeline.views import get_account

    return get_account(int(account_id) if account_id.isdigit() else account_id)
