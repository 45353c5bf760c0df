"""``Authorization: Bearer KEY`` on /v1 and (by default) the HMA routes, the per-key rate limit, and
the scope each route requires.

Every API route declares exactly one scope with ``Depends(require_scope("legal:read"))`` (or
``require_scope_for_hma`` on /h, /m, /c); there is no scope-less "any key" dependency, so a new route
cannot be reachable by every key by accident (``tests/api/test_scopes.py`` walks ``app.routes``).
The scope is also written into the route's OpenAPI description and security requirement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any

from fastapi import FastAPI, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from suraksha.api.errors import ApiError
from suraksha.api.keys import ADMIN, SCOPES, Principal, verify_key
from suraksha.api.limits import retry_after_header

log = logging.getLogger(__name__)

bearer = HTTPBearer(auto_error=False, description="An API key from `suraksha apikey create NAME --scope SCOPE`.")

SCOPE_ATTR = "suraksha_scope"  # set on each scope dependency; tests and document_scopes read it


def _authenticate(request: Request, creds: HTTPAuthorizationCredentials | None) -> Principal:
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None:
        if request.headers.get("authorization"):
            raise ApiError(401, "invalid_api_key", "Authorization header must be 'Bearer <API key>'", challenge)
        raise ApiError(401, "missing_api_key", "missing API key: send 'Authorization: Bearer <API key>'", challenge)
    principal = verify_key(creds.credentials.strip())
    if principal is None:
        raise ApiError(401, "invalid_api_key", "invalid or revoked API key", challenge)
    wait = request.app.state.rate_limiter.check(principal.key_id, principal.rate_limit_per_minute)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"rate limit of {principal.rate_limit_per_minute} requests/minute exceeded for key {principal.name!r}",
            {"Retry-After": retry_after_header(wait)},
        )
    request.state.principal = principal
    return principal


def _authorize(request: Request, principal: Principal, scope: str) -> Principal:
    if not principal.allows(scope):
        # The key's name and the route, never the secret: an operator sees which integration asks for more.
        log.info(
            "API key %r (id %d) refused on %s %s: lacks scope %r",
            principal.name,
            principal.key_id,
            request.method,
            request.url.path,
            scope,
        )
        raise ApiError(403, "forbidden", f"this API key lacks the scope {scope!r}")
    return principal


def _check_scope_name(scope: str) -> None:
    if scope not in SCOPES or scope == ADMIN:
        raise ValueError(f"routes require one of {', '.join(s for s in SCOPES if s != ADMIN)}; got {scope!r}")


@cache
def require_scope(scope: str) -> Callable[..., Principal]:
    """The dependency for a route that needs ``scope``: 401 without a valid key, 429 over its rate
    limit, 403 ``forbidden`` when the key holds neither ``scope`` nor ``admin``. Returns the caller's
    ``Principal``. One function object per scope, so a route that also takes the principal as a
    parameter authenticates (and counts against the rate limit) once."""
    _check_scope_name(scope)

    def dependency(request: Request, creds: HTTPAuthorizationCredentials | None = Security(bearer, scopes=[scope])) -> Principal:
        return _authorize(request, _authenticate(request, creds), scope)

    dependency.__name__ = f"require_scope_{scope.replace(':', '_')}"
    setattr(dependency, SCOPE_ATTR, scope)
    return dependency


@cache
def require_scope_for_hma(scope: str) -> Callable[..., Principal | None]:
    """As ``require_scope`` on the HMA-compatible routes. HMA has no authentication; Suraksha requires
    a key (and its scope) unless SURAKSHA_HMA_REQUIRE_KEY=false, when anyone on the network may call them."""
    _check_scope_name(scope)

    def dependency(
        request: Request, creds: HTTPAuthorizationCredentials | None = Security(bearer, scopes=[scope])
    ) -> Principal | None:
        if not request.app.state.hma_require_key:
            return None
        return _authorize(request, _authenticate(request, creds), scope)

    dependency.__name__ = f"require_hma_scope_{scope.replace(':', '_')}"
    setattr(dependency, SCOPE_ATTR, scope)
    return dependency


def route_scopes(route: Any) -> list[str]:
    """The scopes a route's dependencies require (router-level and route-level, nested ones included).
    ``route`` is anything with a ``dependant``: an ``APIRoute`` or, for routers included in an app,
    the effective route (``api_routes``), which adds the router's own dependencies."""
    found: list[str] = []
    stack: list[Any] = [route.dependant]
    while stack:
        dependant = stack.pop()
        scope = getattr(dependant.call, SCOPE_ATTR, None)
        if scope is not None and scope not in found:
            found.append(scope)
        stack.extend(dependant.dependencies)
    return found


def api_routes(app: FastAPI) -> list[Any]:
    """Every API route of ``app`` as served, each with its effective ``path``, ``methods`` and
    ``dependant`` (FastAPI >= 0.16x includes routers lazily, so ``app.routes`` lists the included
    routers, not their routes)."""
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # older FastAPI: included routes are copied into app.routes
        return [r for r in app.routes if isinstance(r, APIRoute)]
    return [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]


def scopes_table() -> str:
    """The scopes as a Markdown list, for the API's description."""
    return "\n".join(f"* `{name}`: {text}" for name, text in SCOPES.items())


def _describe_operations(schema: dict[str, Any]) -> None:
    scheme = bearer.scheme_name
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            scopes = [s for req in operation.get("security", []) for s in req.get(scheme, [])]
            if not scopes:
                continue
            names = " or ".join(f"`{s}`" for s in dict.fromkeys(scopes))
            note = f"Requires an API key with the scope {names} (or `{ADMIN}`); without it: 403 `forbidden`."
            text = operation.get("description")
            operation["description"] = f"{text}\n\n{note}" if text else note


def document_scopes(app: FastAPI) -> None:
    """Name each route's scope in its OpenAPI description, and list the scopes in the API's.

    Called once by ``create_app``. The route's scope is already in its OpenAPI security requirement
    (``{"HTTPBearer": ["legal:read"]}``, OpenAPI 3.1's role names); this repeats it in the text that
    /docs shows, when the schema is built.
    """
    build = app.openapi
    described: list[Any] = [None]

    def openapi() -> dict[str, Any]:
        schema = build()
        if schema is not described[0]:  # built (again): describe once per build
            _describe_operations(schema)
            described[0] = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.description = (app.description or "") + (
        "\n## Scopes\nEach API key holds scopes (`suraksha apikey create NAME --scope SCOPE ...`; "
        "default `scan` only) and each route requires one, named in its description:\n\n" + scopes_table() + "\n"
    )
