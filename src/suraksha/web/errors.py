"""The web pages' one error mapping: an expected error (``suraksha.errors``) becomes the error page
with its status and reason, by type, here and nowhere else.

Used two ways, both through ``error_page``: the pages' wrappers (``pages.refusable`` / ``_call``,
``legal_pages.answers_errors``, the portal's ``officer_page``) answer with it, and the app's
``SurakshaError`` handler (``suraksha.api.errors``) calls ``page_for_route`` so an expected error
that leaves any other page still gets a page, not the API's JSON body. A pydantic
``ValidationError`` from a form is a 400 page naming the field. Anything else is a bug: it goes on
to ``SafeErrors``, a logged 500 with an error id, never a 4xx page.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import ValidationError
from starlette.routing import BaseRoute

from suraksha.errors import SurakshaError, Unavailable
from suraksha.web import legal_forms
from suraksha.web.render import render

TITLES = {
    400: "That did not work",
    401: "Sign in again",
    403: "Not permitted",
    404: "Not found",
    409: "Not now",
    413: "Too large",
    415: "Not a supported format",
    422: "That did not work",
    429: "Too many attempts",
    503: "Not available right now",
}


def page(request: Request, status: int, message: str, title: str | None = None) -> HTMLResponse:
    """The error page: a title for the status and the reason."""
    return render(request, "error.html", {"title": title or TITLES.get(status, "Error"), "message": message}, status=status)


def describe(exc: SurakshaError | ValidationError) -> tuple[int, str]:
    """The status and reason of an expected error, by type: the tree's status and message; a
    form's ``ValidationError`` is 400 with one readable line. (The officers' portal renders them
    with its own page.)"""
    if isinstance(exc, ValidationError):
        return 400, legal_forms.validation_message(exc)
    return exc.http_status, str(exc)


def error_page(request: Request, exc: SurakshaError | ValidationError) -> HTMLResponse:
    """The staff pages' answer to an expected error (``describe``)."""
    response = page(request, *describe(exc))
    if isinstance(exc, Unavailable) and exc.retry_after is not None:
        response.headers["Retry-After"] = str(max(1, int(exc.retry_after)))
    return response


def is_page_route(route: BaseRoute | None) -> bool:
    """Whether a request was routed to a web page (its endpoint lives in ``suraksha.web``)."""
    endpoint = getattr(route, "endpoint", None)
    return bool(endpoint is not None and getattr(endpoint, "__module__", "").startswith("suraksha.web."))


def page_for_route(request: Request, exc: SurakshaError) -> HTMLResponse | None:
    """The error page when the request was for a web page; None for an API route."""
    return error_page(request, exc) if is_page_route(request.scope.get("route")) else None
