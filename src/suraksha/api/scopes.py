"""The scopes an API key can hold. Every API route requires exactly one (``api.auth.require_scope``).

Plain data with no imports, so the CLI can list the scopes in its help without loading the database
layer (a CLI command starts in <= 0.5 s).
"""

from __future__ import annotations

ADMIN = "admin"
# Every scope a key can hold and what it opens; each API route requires exactly one of them.
SCOPES: dict[str, str] = {
    "scan": "submit items (POST /v1/items, and their verdict with ?wait=true), hash media and look up signals "
    "(POST /v1/hash, GET /v1/lookup, HMA /h and /m)",
    "items:read": "list items and read any item and any account by id (GET /v1/items, GET /v1/items/{id}, GET /v1/accounts/{id})",
    "actions:read": "list the actions taken on the platform and their delivery (GET /v1/actions)",
    "reports:read": "list the reports filed with authorities and their state (GET /v1/reports)",
    "banks:read": "list and read banks (GET /v1/banks, GET /v1/banks/{name}, HMA GET /c/banks and /c/bank/{name})",
    "banks:write": "create and change banks, add and delete their entries (POST/PATCH/DELETE /v1/banks/..., "
    "HMA POST /c/bank/{name}/content and /signal)",
    "legal:read": "read legal requests and the deadlines dashboard (GET /v1/legal/...)",
    "legal:write": "enter legal requests (POST /v1/legal/requests)",
    "networks:read": "account networks (GET /v1/networks, GET /v1/accounts/{id}/network)",
    "transparency:read": "transparency figures and compliance reports (GET /v1/transparency)",
    "appeals": "submit users' appeals, list them and read their outcome (POST /v1/appeals, GET /v1/appeals, "
    "GET /v1/appeals/{id})",
    ADMIN: "every scope, including ones added later",
}
DEFAULT_SCOPES: tuple[str, ...] = ("scan",)
# What `suraksha demo seed` gives its key: the README tour (submit, look up, add to a bank by HMA)
# and reading what the demo seeded; not legal:write (officers file through the portal) nor admin.
DEMO_KEY_SCOPES: tuple[str, ...] = (
    "scan",
    "items:read",
    "banks:read",
    "banks:write",
    "legal:read",
    "networks:read",
    "transparency:read",
)
