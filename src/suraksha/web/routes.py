"""The landing page at ``/`` (the reviewer UI comes later): what this server is, where to go next."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


@router.get("/", response_class=HTMLResponse)
async def landing(request: Request) -> HTMLResponse:
    error = None
    try:
        from suraksha.matching.banks import list_banks

        banks = await run_in_threadpool(list_banks)
    except Exception as exc:  # an unmigrated database must not hide the page that says so
        banks, error = [], f"{type(exc).__name__}: database not ready (run `suraksha db upgrade`)"
    state = request.app.state.matcher_state
    return templates.TemplateResponse(
        request, "index.html",
        {"banks": banks, "error": error, "index_ready": state.matcher is not None},
    )
