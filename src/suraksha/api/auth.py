"""``Authorization: Bearer KEY`` on /v1 and (by default) the HMA routes, and the per-key rate limit."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from suraksha.api.errors import ApiError
from suraksha.api.keys import Principal, verify_key
from suraksha.api.limits import retry_after_header

bearer = HTTPBearer(auto_error=False, description="An API key from `suraksha apikey create NAME`.")


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
        raise ApiError(429, "rate_limited",
                       f"rate limit of {principal.rate_limit_per_minute} requests/minute exceeded for key {principal.name!r}",
                       {"Retry-After": retry_after_header(wait)})
    request.state.principal = principal
    return principal


def require_key(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
    return _authenticate(request, creds)


def require_key_for_hma(request: Request, creds: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal | None:
    """HMA has no authentication; Suraksha requires a key unless SURAKSHA_HMA_REQUIRE_KEY=false."""
    if not request.app.state.hma_require_key:
        return None
    return _authenticate(request, creds)
