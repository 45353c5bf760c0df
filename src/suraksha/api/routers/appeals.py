"""Appeals: the platform submits a user's appeal against a decision and reads its outcome (``cases.appeals``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator
from starlette.concurrency import run_in_threadpool

from suraksha.api.auth import require_scope
from suraksha.api.keys import Principal
from suraksha.api.lists import DEFAULT_LIMIT, MAX_LIMIT, appeal_page
from suraksha.api.schemas import ERRORS

_RESPONSES: dict[int | str, dict[str, Any]] = {code: dict(spec) for code, spec in ERRORS.items()}
router = APIRouter(prefix="/v1/appeals", tags=["appeals"], responses=_RESPONSES)
_scope = require_scope("appeals")


class AppealIn(BaseModel):
    """A user's appeal: the item (Suraksha's id or the platform's), the user's words, and the
    platform's own id for the appeal (sending the same one again is answered with the first)."""

    model_config = ConfigDict(extra="forbid")

    item_id: int | None = Field(None, ge=1, le=2**63 - 1, description="Suraksha's item id.")
    platform_item_id: str | None = Field(None, min_length=1, max_length=200, description="The platform's id of the item.")
    platform_appeal_id: str | None = Field(None, min_length=1, max_length=200, description="The platform's id of this appeal.")
    statement: str = Field("", max_length=4000, description="What the user says, shown to the reviewer.")

    @model_validator(mode="after")
    def _one_item(self) -> AppealIn:
        if (self.item_id is None) == (self.platform_item_id is None):
            raise ValueError("give exactly one of item_id and platform_item_id")
        return self


class AppealOut(BaseModel):
    id: int
    item_id: int
    platform_item_id: str
    account_id: int | None
    platform_appeal_id: str | None
    status: str = Field(description="open, upheld (the decision stands) or restored (the item is restored).")
    original_decision: str | None = Field(description="The category of the decision appealed against, if a person decided.")
    submitted_at: str
    decided_at: str | None


@router.post("", response_model=AppealOut, status_code=201, summary="Submit a user's appeal")
async def submit_appeal(body: AppealIn, response: Response, principal: Principal = Depends(_scope)) -> dict[str, Any]:
    """The appeal becomes a review task for a reviewer who did not decide the original. 201 when
    made; 200 with the first appeal when ``platform_appeal_id`` was sent before; 409 when the item
    already has another appeal; 400 when nothing was decided or done against the item."""
    from suraksha.cases import appeals

    view, created = await run_in_threadpool(
        appeals.submit,
        f"api:{principal.name}",
        body.statement,
        item_id=body.item_id,
        platform_item_id=body.platform_item_id,
        platform_appeal_id=body.platform_appeal_id,
    )
    if not created:
        response.status_code = 200
    return view.to_dict()


@router.get("", summary="Appeals, newest first, filtered (limit + cursor)", dependencies=[Depends(_scope)])
async def list_appeals(
    status: str | None = Query(None, description="open, upheld or restored."),
    item_id: int | None = Query(None, ge=1, le=2**63 - 1),
    account_id: int | None = Query(None, ge=1, le=2**63 - 1),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500, description="next_cursor of the previous page."),
) -> dict[str, Any]:
    page = await run_in_threadpool(
        lambda: appeal_page(status=status, item_id=item_id, account_id=account_id, limit=limit, cursor=cursor)
    )
    return {"appeals": page.rows, "next_cursor": page.next_cursor}


@router.get("/{appeal_id}", response_model=AppealOut, summary="An appeal and its outcome", dependencies=[Depends(_scope)])
async def get_appeal(appeal_id: int = Path(ge=1, le=2**63 - 1)) -> dict[str, Any]:
    from suraksha.cases import appeals

    view = await run_in_threadpool(appeals.get_appeal, appeal_id)
    return view.to_dict()
