"""Items: submit one for scanning (optionally waiting for its verdict) and read it back (``pipeline``)."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from suraksha.api.auth import require_scope
from suraksha.api.errors import ApiError
from suraksha.api.lists import DEFAULT_LIMIT, MAX_LIMIT, item_page
from suraksha.api.metrics import ITEM_VERDICT_LATENCY, ITEMS_INGESTED, MATCHES
from suraksha.api.schemas import ERRORS, IdempotencyConflictResponse, ItemAccepted
from suraksha.pipeline.schemas import ItemIn, ItemView

router = APIRouter(prefix="/v1/items", tags=["items"], responses=ERRORS)


def _refuse_internal_media_urls(body: ItemIn) -> None:
    """Refuse at once a media URL that names a loopback/private/reserved address or localhost
    (unless its host is allow-listed), so an SSRF attempt gets a 422 and nothing is stored. The
    fetcher re-checks every hop with DNS, which this pre-check does not do."""
    import ipaddress

    import httpx

    from suraksha.pipeline.fetch import url_allowed
    from suraksha.pipeline.settings import get_pipeline_settings

    allowed = get_pipeline_settings().fetch_allowed_hosts
    for n, media in enumerate(body.media):
        if media.url is None:
            continue
        try:
            url = httpx.URL(media.url)
        except httpx.InvalidURL as exc:
            raise ApiError(422, "invalid_request", f"media[{n}].url is not a valid URL ({exc})") from None
        host = (url.host or "").lower().rstrip(".")
        if not host:
            raise ApiError(422, "invalid_request", f"media[{n}].url has no host")
        if url_allowed(url, allowed):
            continue
        if allowed:  # the host, or this port of it (an entry without a port allows only 80/443)
            where = f"host {host!r}" if url.port is None else f"host and port {host!r}:{url.port}"
            raise ApiError(422, "media_url_refused", f"media[{n}].url {where} is not in SURAKSHA_FETCH_ALLOWED_HOSTS")
        if host == "localhost" or host.endswith(".localhost"):
            raise ApiError(422, "media_url_refused", f"media[{n}].url points at {host!r}: refused")
        try:
            ip = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            continue
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global:
            raise ApiError(422, "media_url_refused", f"media[{n}].url points at non-public address {ip}: refused")


@router.post(
    "",
    status_code=202,
    response_model=ItemAccepted | ItemView,
    summary="Submit an item for scanning",
    dependencies=[Depends(require_scope("scan"))],
    responses={
        200: {"model": ItemView, "description": "`?wait=true` and the verdict came in time: the scanned item."},
        202: {"model": ItemAccepted, "description": "Stored and queued (or still scanning when the wait ended)."},
        409: {
            "model": IdempotencyConflictResponse,
            "description": "`idempotency_key` was used before with a different body: nothing stored; "
            "`id` is the item stored under the key (also in `Location`).",
        },
    },
)
async def submit_item(request: Request, body: ItemIn, wait: bool = Query(False, description="Wait (<= 10 s) for the verdict.")):
    """Store the item and queue its scan. A resend with the same `idempotency_key` and the same body
    returns the same item and scans nothing again; the same key with a different body is refused
    (409, with the first item's `id`). With `?wait=true` the answer is the scanned item (200) when the
    verdict is ready within 10 seconds, else `{id, status}` (202)."""
    from suraksha.pipeline.ingest import IdempotencyConflict
    from suraksha.pipeline.ingest import submit_item as submit
    from suraksha.pipeline.views import wait_for_verdict

    _refuse_internal_media_urls(body)
    start = time.perf_counter()
    try:
        item, created = await run_in_threadpool(submit, body)
    except IdempotencyConflict as exc:
        return JSONResponse(
            {"error": {"code": "idempotency_conflict", "message": str(exc)}, "id": exc.item_id},
            status_code=409,
            headers={"Location": f"/v1/items/{exc.item_id}"},
        )
    ITEMS_INGESTED.labels(created=str(created).lower()).inc()
    if wait:
        view = await run_in_threadpool(wait_for_verdict, item.id, request.app.state.wait_timeout)
        if view.status in ("done", "failed"):
            ITEM_VERDICT_LATENCY.observe(time.perf_counter() - start)
            for m in view.matches:
                MATCHES.labels(label=m.label, endpoint="v1_items").inc()
            return JSONResponse(view.model_dump(mode="json"), status_code=200)
        return JSONResponse({"id": item.id, "status": view.status}, status_code=202)
    return JSONResponse({"id": item.id, "status": item.status}, status_code=202)


@router.get(
    "",
    summary="Items, newest first, filtered; one page at a time (limit + cursor)",
    dependencies=[Depends(require_scope("items:read"))],
)
def list_items(
    status: str | None = Query(None, description="queued, scanning, done or failed."),
    verdict: str | None = Query(None, max_length=10, description="The verdict, e.g. remove, review, allow."),
    platform: str | None = Query(None, max_length=100),
    platform_id: str | None = Query(None, max_length=200, description="The platform's id of the item."),
    account_id: int | None = Query(None, ge=1, le=2**63 - 1),
    since: dt.datetime | None = Query(None, description="Received at or after (ISO 8601 with zone)."),
    until: dt.datetime | None = Query(None, description="Received before (ISO 8601 with zone)."),
    limit: int = Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, max_length=500, description="next_cursor of the previous page."),
) -> dict[str, Any]:
    page = item_page(
        status=status,
        verdict=verdict,
        platform=platform,
        platform_id=platform_id,
        account_id=account_id,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return {"items": page.rows, "next_cursor": page.next_cursor}


@router.get(
    "/{item_id}",
    response_model=ItemView,
    summary="An item: status, signals, matches, scores, verdict, rule",
    dependencies=[Depends(require_scope("items:read"))],
)
def get_item(item_id: int = Path(ge=1, le=2**63 - 1)) -> ItemView:  # beyond BIGINT: 422, not a DB overflow
    from suraksha.pipeline.views import get_item

    return get_item(item_id)
