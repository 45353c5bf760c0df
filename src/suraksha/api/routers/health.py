"""``/status`` (load balancers, `make run`) and ``/metrics`` (Prometheus). No API key: they reveal
only counts, never content or bank entries."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["health"])


@router.get(
    "/status",
    summary="Health: 503 while the match index loads, 200 with counts after",
    responses={503: {"description": "Index loading (or failed to load)."}},
)
async def status(request: Request) -> JSONResponse:
    state = request.app.state.matcher_state
    if state.matcher is None:
        body: dict[str, Any] = {
            "status": "failed" if state.error else "loading",
            "loading_seconds": round(time.time() - state.started_at, 3),
        }
        if state.error:
            body["error"] = state.error
        return JSONResponse(body, status_code=503, headers={"Retry-After": "2"})
    stats = await run_in_threadpool(state.matcher.stats)
    body = {"status": "ok", "index": stats, "index_loaded_in_seconds": round((state.ready_at or 0) - state.started_at, 3)}
    try:
        from suraksha.pipeline.queue import queue_depth

        body["scan_queue"] = await run_in_threadpool(queue_depth)
    except Exception as exc:  # the index is what /status gates on; report the rest as best we can
        body["scan_queue_error"] = type(exc).__name__
    return JSONResponse(body)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics() -> Response:
    data = await run_in_threadpool(generate_latest)
    return Response(content=data, media_type=CONTENT_TYPE_LATEST)
