"""The landing page at ``/`` and, included here, the review workspace (``suraksha.web.pages``)."""

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
    """The anonymous landing page: links only. Nothing about banks (names, labels, sizes) is shown
    without signing in (issue 14.4); staff see banks in the workspace, API clients with a key."""
    state = request.app.state.matcher_state
    return templates.TemplateResponse(request, "index.html", {"index_ready": state.matcher is not None})


def _first_start() -> None:
    """No staff users yet: production creates the admin (one-time password printed once), demo seeds demo users."""
    import logging

    from suraksha.auth.bootstrap import first_start
    from suraksha.config import get_settings

    try:
        first_start(get_settings().mode)
    except Exception as exc:  # an unmigrated database must not stop the API from starting
        logging.getLogger(__name__).warning("staff users not bootstrapped: %s: %s", type(exc).__name__, exc)


from contextlib import asynccontextmanager  # noqa: E402


@asynccontextmanager
async def _lifespan(app):  # merged into the app's lifespan by include_router
    await run_in_threadpool(_first_start)
    yield


from suraksha.web.pages import router as pages_router  # noqa: E402

router.include_router(pages_router)

from suraksha.web.transparency_pages import router as transparency_router  # noqa: E402

router.include_router(transparency_router)

from suraksha.web.portal import router as portal_router  # noqa: E402

router.include_router(portal_router)

from suraksha.web.legal_pages import router as legal_pages_router  # noqa: E402

router.include_router(legal_pages_router)

from suraksha.web.network_pages import router as network_pages_router  # noqa: E402

router.include_router(network_pages_router)
from suraksha.web.audit_pages import router as audit_pages_router  # noqa: E402

router.include_router(audit_pages_router)
from suraksha.web.bank_pages import router as bank_pages_router  # noqa: E402

router.include_router(bank_pages_router)
from suraksha.web.delivery_pages import router as delivery_pages_router  # noqa: E402

router.include_router(delivery_pages_router)
from suraksha.web.search_pages import router as search_pages_router  # noqa: E402

router.include_router(search_pages_router)
router.lifespan_context = _lifespan
