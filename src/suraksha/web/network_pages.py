"""The analysts' list of account networks (``/networks``): every connected group, largest first.

Adapter only: read ``min_size`` and ``page``, call ``networks.service.group_page``, render. A bad
parameter gets the error page with the reason (400). No media is shown here, to any role: a group
is described by its members (links to their account pages) and what links them (bank entry ids,
canonical links, IPs, device ids).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from suraksha.errors import InvalidInput
from suraksha.web.render import render
from suraksha.web.security import staff_page

router = APIRouter(include_in_schema=False)
PERMISSION = "accounts.read"
PER_PAGE = 20
MEMBERS_SHOWN = 50  # per group; the whole list is on any member's account page


def _positive(request: Request, name: str, default: int, lo: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or len(raw) > 9 or int(raw) < lo:
        raise InvalidInput(f"{name} must be a whole number of at least {lo}, got {raw[:40]!r}")
    return int(raw)


def _error(request: Request, message: str) -> HTMLResponse:
    return render(request, "error.html", {"title": "That did not work", "message": message}, status=400)


@router.get("/networks", response_class=HTMLResponse)
@staff_page(PERMISSION)
async def networks_page(request: Request) -> Response:
    from suraksha.networks.service import group_page

    try:
        min_size = _positive(request, "min_size", 2, 2)
        page = _positive(request, "page", 1, 1)
        found = await run_in_threadpool(
            lambda: group_page(
                min_size=min_size,
                limit=PER_PAGE,
                offset=(page - 1) * PER_PAGE,
                max_accounts=MEMBERS_SHOWN,
                actor=request.state.staff.actor,
            )
        )
    except InvalidInput as exc:
        return _error(request, str(exc))
    pages = max(1, -(-found.total // PER_PAGE))

    def url(n: int) -> str:
        return "/networks?" + urlencode({"min_size": min_size, "page": n})

    return render(
        request,
        "networks.html",
        {
            "found": found,
            "min_size": min_size,
            "page": page,
            "pages": pages,
            "first_rank": found.offset + 1,
            "prev_url": url(page - 1) if page > 1 else None,
            "next_url": url(page + 1) if page < pages else None,
        },
    )
