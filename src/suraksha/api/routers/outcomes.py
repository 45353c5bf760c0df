"""Actions taken on the platform and reports filed with authorities, newest first, one page at a
time (``limit`` + ``cursor``, as every list): what Suraksha asked the platform to do and whether the
connector acknowledged it; what was reported to whom and its state."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from suraksha.api.auth import require_scope
from suraksha.api.lists import DEFAULT_LIMIT, MAX_LIMIT, action_page, report_page
from suraksha.api.schemas import ERRORS

actions = APIRouter(prefix="/v1/actions", tags=["actions"], responses=ERRORS)
reports = APIRouter(prefix="/v1/reports", tags=["reports"], responses=ERRORS)
router = APIRouter()


def _json(view: Any) -> dict[str, Any]:
    out = asdict(view)
    return {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in out.items() if k not in ("deliveries", "events")}


@actions.get("", summary="Actions, newest first, filtered", dependencies=[Depends(require_scope("actions:read"))])
async def list_actions(
    status: str | None = Query(None, description="pending, delivering, acknowledged, failed or dead."),
    kind: str | None = Query(None, max_length=40, description="remove_item, suspend_account, withhold, restore..."),
    account_id: int | None = Query(None, ge=1, le=2**63 - 1),
    item_id: int | None = Query(None, ge=1, le=2**63 - 1),
    dead_letters: bool = Query(False, description="Only actions that gave up and raised an alert."),
    since: dt.datetime | None = Query(None, description="Requested at or after (ISO 8601 with zone)."),
    until: dt.datetime | None = Query(None, description="Requested before (ISO 8601 with zone)."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500, description="next_cursor of the previous page."),
) -> dict[str, Any]:
    from suraksha.enforcement.listing import ActionFilter

    f = ActionFilter(
        status=status, kind=kind, account_id=account_id, item_id=item_id, dead_letters=dead_letters, since=since, until=until
    )
    page = await run_in_threadpool(lambda: action_page(f, limit=limit, cursor=cursor))
    return {"actions": [_json(a) for a in page.rows], "next_cursor": page.next_cursor}


@reports.get("", summary="Reports to authorities, newest first, filtered", dependencies=[Depends(require_scope("reports:read"))])
async def list_reports(
    state: str | None = Query(None, description="draft, queued, submitted, finished, failed or retracted."),
    destination: str | None = Query(None, description="ncmec, in_police or uk_nca."),
    kind: str | None = Query(None, description="first or supplemental."),
    account_id: int | None = Query(None, ge=1, le=2**63 - 1),
    since: dt.datetime | None = Query(None, description="Created at or after (ISO 8601 with zone)."),
    until: dt.datetime | None = Query(None, description="Created before (ISO 8601 with zone)."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500, description="next_cursor of the previous page."),
) -> dict[str, Any]:
    from suraksha.reporting.listing import ReportFilter

    f = ReportFilter(state=state, destination=destination, kind=kind, account_id=account_id, since=since, until=until)
    page = await run_in_threadpool(lambda: report_page(f, limit=limit, cursor=cursor))
    return {"reports": [_json(r) for r in page.rows], "next_cursor": page.next_cursor}


router.include_router(actions)
router.include_router(reports)
