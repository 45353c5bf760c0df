"""One error body for every failure: ``{"error": {"code": ..., "message": ...}}``.

Errors are mapped to HTTP by type, here, in one place, so routers stay thin and every endpoint
answers bad input the same way:

- a ``suraksha.errors.SurakshaError`` (the one error tree every area's errors subclass) is its
  ``http_status`` with its ``code`` and its message (``Unavailable`` adds ``Retry-After``);
- request validation and a pydantic ``ValidationError`` a route raises are 422 (a body that is
  not JSON, 400 ``invalid_json``); an ``ApiError`` / Starlette ``HTTPException`` is its own status;
- anything else is a bug: answered 500 with an error id by ``SafeErrors``, and logged under that
  id with its types, SQLSTATE and frames only (``suraksha.logsafe``): its message may quote the
  item (a PostgreSQL error's ``CONTEXT`` does), and so may the statement parameters SQLAlchemy
  attaches. A stray ``ValueError`` is no longer a 400, and nothing is mapped by message text.

HMA-compatible routes also carry HMA's own ``{"message": ...}`` key so HMA clients read the reason.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from suraksha import logsafe
from suraksha.errors import SurakshaError, Unavailable
from suraksha.pipeline.schemas import UNSTORABLE_TEXT, find_unstorable

log = logging.getLogger(__name__)

HMA_PREFIXES = ("/h/", "/m/", "/c/")

_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "rate_limited",
    503: "unavailable",
}


class ApiError(StarletteHTTPException):
    """An HTTP error with a machine-readable code and a human reason."""

    def __init__(self, status_code: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(status_code=status_code, detail=message, headers=headers)
        self.code = code


def require_storable(value: Any, field: str) -> None:
    """422 naming where, when a JSON value a route parsed itself (HMA metadata, bank signals by
    form) holds NUL or a lone surrogate: no database stores them (a 500 on PostgreSQL before)."""
    hit = find_unstorable(value, field)
    if hit:
        raise ApiError(422, "invalid_request", f"{hit[0]} contains {hit[1]}, which cannot be stored; remove it and send again")


def error_response(
    request: Request | None, status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if request is not None and request.url.path.startswith(HMA_PREFIXES):
        body["message"] = message
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_message(exc: RequestValidationError | ValidationError) -> tuple[int, str, str]:
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        e = next(e for e in errors if e.get("type") == "json_invalid")
        ctx = e.get("ctx") or {}
        return 400, "invalid_json", f"request body is not valid JSON ({ctx.get('error', 'parse error')})"
    parts = []
    for e in errors[:10]:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == UNSTORABLE_TEXT and not loc:  # the message names the field itself
            parts.append(msg)
            continue
        parts.append(f"{loc or 'body'}: {msg}")
    more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
    return 422, "invalid_request", "; ".join(parts) + more


def expected_error_response(request: Request | None, exc: SurakshaError) -> JSONResponse:
    """The answer to an expected error: its status and code from the tree, its message as the reason."""
    headers = None
    if isinstance(exc, Unavailable) and exc.retry_after is not None:
        headers = {"Retry-After": str(max(1, int(exc.retry_after)))}
    return error_response(request, exc.http_status, exc.code, str(exc), headers)


#: Renders an expected error as a web page when the request was for one (None: an API route).
PageRenderer = Callable[[Request, SurakshaError], Response | None]


def install_error_handlers(app: FastAPI, pages: PageRenderer | None = None) -> None:
    """Map errors by type for the whole app (see the module docstring); ``pages`` lets the web
    layer answer an expected error on one of its pages with an HTML page (``suraksha.web.errors``)."""

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = getattr(exc, "code", None) or _STATUS_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = f"no such endpoint: {request.method} {request.url.path}"
        if exc.status_code == 405 and message == "Method Not Allowed":
            message = f"{request.method} is not allowed on {request.url.path}"
        return error_response(request, exc.status_code, code, message, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        status, code, message = _validation_message(exc)
        return error_response(request, status, code, message)

    @app.exception_handler(ValidationError)
    async def _model_validation(request: Request, exc: ValidationError) -> JSONResponse:
        # A model a route builds itself (not FastAPI's request parsing): the same 422 body.
        status, code, message = _validation_message(exc)
        return error_response(request, status, code, message)

    @app.exception_handler(SurakshaError)
    async def _expected(request: Request, exc: SurakshaError) -> Response:
        page = pages(request, exc) if pages is not None else None
        return page if page is not None else expected_error_response(request, exc)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - safety net
        # Only for errors outside SafeErrors (in the outer middlewares); Starlette re-raises them after.
        error_id = _log_unexpected(request.scope, exc)
        return error_response(request, 500, "internal_error", f"internal error {error_id}; see the server log")

    app.add_middleware(SafeErrors)  # added first: the innermost middleware, right around the routes
    logsafe.install()


def _log_unexpected(scope: Scope, exc: BaseException) -> str:
    """Log an unexpected error without its message; returns the id the client is given."""
    error_id = uuid.uuid4().hex[:12]
    # The route's template (/v1/accounts/{account_id}), not the path: a path may hold an account id.
    route = getattr(scope.get("route"), "path", None) or "(no route)"
    log.error("unhandled error %s on %s %s: %s", error_id, scope.get("method", ""), route, logsafe.describe_exception(exc))
    return error_id


class SafeErrors:
    """An exception no handler took becomes a 500 here, logged by ``_log_unexpected``, and goes no
    further. Starlette's own last-resort handler re-raises to the server after answering, and
    uvicorn then printed the whole traceback: the statement with its parameters, and the database's
    message quoting the item's text, account id and IP."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - the point: nothing unexpected leaves with its message
            error_id = _log_unexpected(scope, exc)
            if started:  # the answer is under way: the client sees the connection end
                return
            body: dict[str, Any] = {
                "error": {"code": "internal_error", "message": f"internal error {error_id}; see the server log"}
            }
            if str(scope.get("path", "")).startswith(HMA_PREFIXES):
                body["message"] = body["error"]["message"]
            await JSONResponse(body, status_code=500)(scope, receive, send)
