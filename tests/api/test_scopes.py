"""API key scopes: every API route requires exactly one; a key holds only what it was given
(``scan`` by default); a missing scope is 403 ``forbidden`` and changes nothing; keys that existed
before scopes keep working as ``admin`` with a warning.
"""

from __future__ import annotations

import base64
import logging

import pytest
from sqlalchemy import func, select, text
from tests.api.conftest import FakeMatcher, error_of
from tests.legal.conftest import make_pdf
from typer.testing import CliRunner

from suraksha.api.keys import create_key, list_keys

API_PREFIXES = ("/v1/", "/h/", "/m/", "/c/")


def _bare_app():
    from suraksha.api import create_app

    return create_app(matcher_loader=FakeMatcher)


def _api_routes(app) -> list:
    from suraksha.api.auth import api_routes

    return [r for r in api_routes(app) if r.path.startswith(API_PREFIXES)]


def test_every_api_route_requires_exactly_one_scope(home):
    """A route added under /v1, /h, /m or /c without ``require_scope`` fails here."""
    from suraksha.api.auth import route_scopes
    from suraksha.api.keys import ADMIN, SCOPES

    app = _bare_app()
    routes = _api_routes(app)
    assert len(routes) >= 28  # every router: accounts, banks, hma, items, legal, lookup, networks, transparency
    unscoped = [f"{sorted(r.methods)} {r.path}" for r in routes if len(route_scopes(r)) != 1]
    assert unscoped == [], f"API routes that do not require exactly one scope: {unscoped}"
    used = {route_scopes(r)[0] for r in routes}
    assert used <= set(SCOPES) - {ADMIN}
    assert used == set(SCOPES) - {ADMIN}, "a scope that no route requires is a scope nobody can reason about"

    spec = app.openapi()
    for r in routes:
        scope = route_scopes(r)[0]
        for method in r.methods:
            op = spec["paths"][r.path_format][method.lower()]
            assert f"`{scope}`" in op["description"], (method, r.path)
            assert op["security"] == [{"HTTPBearer": [scope]}], (method, r.path)
    assert "## Scopes" in spec["info"]["description"]


def test_the_route_check_catches_a_route_without_a_scope(home):
    from fastapi import APIRouter, Depends

    from suraksha.api.auth import require_scope, route_scopes

    app = _bare_app()
    extra = APIRouter(prefix="/v1/extra")
    extra.get("/open")(lambda: {})
    extra.get("/closed", dependencies=[Depends(require_scope("legal:read"))])(lambda: {})
    app.include_router(extra)
    found = {r.path: route_scopes(r) for r in _api_routes(app)}
    assert found["/v1/extra/open"] == [] and found["/v1/extra/closed"] == ["legal:read"]
    with pytest.raises(ValueError, match="routes require one of"):
        require_scope("legal:reed")


def _legal_body() -> dict:
    return {
        "type": "takedown_order",
        "jurisdiction": "in",
        "channel": "email",
        "issuer_kind": "court",
        "officer_name": "Registrar (Judicial)",
        "legal_basis": "Order of the High Court, W.P. 12/2026",
        "case_number": "WP 12/2026",
        "targets": [{"kind": "url", "value": "https://platform.example/p/5"}],
        "document_base64": base64.b64encode(make_pdf("Order")).decode(),
        "document_name": "order.pdf",
    }


def _bank_entries() -> int:
    from suraksha.db import session_scope
    from suraksha.matching.models import BankEntry

    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(BankEntry))


def _legal_count() -> int:
    from suraksha.db import session_scope
    from suraksha.legal.models import LegalRequest

    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(LegalRequest))


def _bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def _forbidden(r, scope: str) -> None:
    message = f"this API key lacks the scope '{scope}'"
    assert r.status_code == 403, (r.status_code, r.text)
    body = r.json()
    if r.url.path.startswith(("/h/", "/m/", "/c/")):
        assert body.pop("message") == message  # HMA clients read HMA's own key
    assert body == {"error": {"code": "forbidden", "message": message}}


def test_scope_matrix(fake_client):
    """scan cannot read legal requests, other items or accounts, nor change banks; legal:read reads
    legal requests and nothing else; admin reads everything."""
    c = fake_client
    _, admin = create_key("ops", scopes=["admin"])
    _, scan = create_key("partner")  # default: scan only
    _, legal = create_key("compliance", scopes=["legal:read"])
    assert {k.name: k.scopes for k in list_keys()} == {"ops": ("admin",), "partner": ("scan",), "compliance": ("legal:read",)}

    # What another integration (here: the admin key) stored.
    r = c.post("/v1/legal/requests", json=_legal_body(), headers=_bearer(admin))
    assert r.status_code == 201, r.text
    ref = r.json()["reference"]
    assert c.post("/v1/banks", json={"name": "b", "label": "csam"}, headers=_bearer(admin)).status_code == 201
    r = c.post("/v1/banks/b/signals", json={"signals": [{"signal_type": "md5", "signal": "0" * 32}]}, headers=_bearer(admin))
    assert r.status_code == 200, r.text
    entry = r.json()["entry_ids"][0]
    item = {"platform_id": "other-1", "account": {"id": "acct-other"}, "text": "hello"}
    r = c.post("/v1/items", json=item, headers=_bearer(admin))
    assert r.status_code == 202, r.text
    item_id = r.json()["id"]

    # scan: what it is for works...
    r = c.post("/v1/items", json={"platform_id": "mine-1", "account": {"id": "acct-mine"}, "text": "hi"}, headers=_bearer(scan))
    assert r.status_code == 202, r.text
    assert c.get("/v1/lookup", params={"signal_type": "md5", "signal": "0" * 32}, headers=_bearer(scan)).status_code == 200
    r = c.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": "f" * 64}, headers=_bearer(scan))
    assert r.status_code == 200, r.text
    # ...and nothing else: a 403 before any lookup (an unknown reference is 403 too, not 404).
    for path, scope in [
        ("/v1/legal/requests", "legal:read"),
        (f"/v1/legal/requests/{ref}", "legal:read"),
        ("/v1/legal/requests/LR-2026-999999", "legal:read"),
        ("/v1/legal/dashboard", "legal:read"),
        (f"/v1/items/{item_id}", "items:read"),
        ("/v1/accounts/acct-other", "items:read"),
        ("/v1/accounts/acct-other/network", "networks:read"),
        ("/v1/networks", "networks:read"),
        ("/v1/transparency?from=2026-01-01&to=2026-01-31", "transparency:read"),
        ("/v1/banks", "banks:read"),
        ("/c/banks", "banks:read"),
    ]:
        _forbidden(c.get(path, headers=_bearer(scan)), scope)
    _forbidden(c.delete(f"/v1/banks/b/entries/{entry}", headers=_bearer(scan)), "banks:write")
    _forbidden(c.post("/v1/banks", json={"name": "mine", "label": "csam"}, headers=_bearer(scan)), "banks:write")
    _forbidden(c.post("/c/bank/b/signal", json={"pdq": "f" * 64}, headers=_bearer(scan)), "banks:write")
    _forbidden(c.post("/v1/legal/requests", json=_legal_body(), headers=_bearer(scan)), "legal:write")
    assert _bank_entries() == 1 and _legal_count() == 1  # nothing changed

    # legal:read reads legal requests, and only them.
    listed = c.get("/v1/legal/requests", headers=_bearer(legal))
    assert listed.status_code == 200 and [x["reference"] for x in listed.json()["requests"]] == [ref]
    assert c.get(f"/v1/legal/requests/{ref}", headers=_bearer(legal)).json()["reference"] == ref
    assert c.get("/v1/legal/dashboard", headers=_bearer(legal)).status_code == 200
    _forbidden(c.post("/v1/legal/requests", json=_legal_body(), headers=_bearer(legal)), "legal:write")
    _forbidden(c.get(f"/v1/items/{item_id}", headers=_bearer(legal)), "items:read")
    _forbidden(c.post("/v1/items", json=item, headers=_bearer(legal)), "scan")
    _forbidden(c.delete(f"/v1/banks/b/entries/{entry}", headers=_bearer(legal)), "banks:write")
    assert _legal_count() == 1

    # admin: everything.
    for path in [
        "/v1/legal/requests",
        f"/v1/legal/requests/{ref}",
        "/v1/legal/dashboard",
        f"/v1/items/{item_id}",
        "/v1/accounts/acct-other",
        "/v1/accounts/acct-other/network",
        "/v1/networks",
        "/v1/banks",
        "/c/banks",
        "/v1/transparency?from=2026-01-01&to=2026-01-31",
    ]:
        r = c.get(path, headers=_bearer(admin))
        assert r.status_code == 200, (path, r.status_code, r.text)
    assert c.delete(f"/v1/banks/b/entries/{entry}", headers=_bearer(admin)).status_code == 204
    assert _bank_entries() == 0


def test_missing_scope_is_checked_after_the_key_and_its_rate_limit(fake_client):
    """No key is still 401 and an exhausted key 429: a 403 says the key is valid, so only a valid key gets one."""
    assert fake_client.get("/v1/legal/requests").status_code == 401
    assert fake_client.get("/v1/legal/requests", headers=_bearer("srk_" + "x" * 43)).status_code == 401
    _, slow = create_key("slow", rate_limit_per_minute=1)
    _forbidden(fake_client.get("/v1/legal/requests", headers=_bearer(slow)), "legal:read")
    assert fake_client.get("/v1/legal/requests", headers=_bearer(slow)).status_code == 429


def test_scopes_are_validated(db_url):
    from suraksha.api.keys import ApiKeyError

    assert create_key("plain")[0].scopes == ("scan",)
    assert create_key("two", scopes=["banks:write", "scan", "scan"])[0].scopes == ("banks:write", "scan")
    for bad in (["legal:reed"], [], "scan", ["scan", None]):
        with pytest.raises(ApiKeyError, match="scope"):
            create_key("bad", scopes=bad)
    assert [k.name for k in list_keys()] == ["plain", "two"]


def test_cli_create_with_scopes_list_and_change(db_url, fake_client):
    from suraksha.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["apikey", "create", "partner-y", "--scope", "scan", "--scope", "banks:write"])
    assert r.exit_code == 0, r.output
    secret = r.stdout.strip().splitlines()[-1]
    assert "scopes: banks:write scan" in r.stderr
    r = runner.invoke(app, ["apikey", "create", "default-z"])
    assert r.exit_code == 0 and "scopes: scan" in r.stderr
    r = runner.invoke(app, ["apikey", "create", "typo", "--scope", "legal:reed"])
    assert r.exit_code == 1 and "unknown scope 'legal:reed'" in r.output and "legal:read" in r.output
    r = runner.invoke(app, ["apikey", "list"])
    lines = {line.split()[0]: line for line in r.stdout.splitlines()[1:]}
    assert lines["partner-y"].endswith("banks:write scan") and lines["default-z"].endswith(" scan")
    assert "typo" not in lines and secret not in r.stdout
    r = runner.invoke(app, ["apikey", "list", "--json"])
    assert '"scopes": ["banks:write", "scan"]' in r.stdout

    _forbidden(fake_client.get("/v1/legal/requests", headers=_bearer(secret)), "legal:read")
    r = runner.invoke(app, ["apikey", "scopes", "partner-y", "--scope", "legal:read"])
    assert r.exit_code == 0 and "now has scopes: legal:read" in r.stdout, r.output
    # At once in this process (other processes: within SURAKSHA_KEY_CACHE_SECONDS), same secret.
    assert fake_client.get("/v1/legal/requests", headers=_bearer(secret)).status_code == 200
    _forbidden(fake_client.post("/v1/banks", json={"name": "x", "label": "csam"}, headers=_bearer(secret)), "banks:write")
    r = runner.invoke(app, ["apikey", "scopes", "nobody", "--scope", "scan"])
    assert r.exit_code == 1 and "no API key" in r.output


def test_keys_from_before_scopes_keep_working_as_admin_with_a_warning(db_url, make_client, caplog):
    """Migration a0002: a key created before scopes existed could call every route; it still can
    (an upgrade must not stop scanning), it says so in the log once per process, and it can be
    narrowed in place. A row written without scopes afterwards is refused (no default)."""
    import hashlib

    from alembic import command
    from sqlalchemy import create_engine
    from sqlalchemy.exc import IntegrityError

    from suraksha.db import reset_engine
    from suraksha.db.migrate import alembic_config

    secret = "srk_" + "k" * 43
    cfg = alembic_config(db_url)
    reset_engine()
    command.downgrade(cfg, "a0001")
    try:
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_keys (name, prefix, key_hash, created_at, revoked, rate_limit_per_minute) "
                    "VALUES ('legacy', :p, :h, CURRENT_TIMESTAMP, false, 600)"
                ),
                {"p": secret[:12], "h": hashlib.sha256(secret.encode()).hexdigest()},
            )
        engine.dispose()
    finally:
        command.upgrade(cfg, "heads")
    assert [(k.name, k.scopes) for k in list_keys()] == [("legacy", ("admin",))]

    client = make_client(matcher_loader=FakeMatcher)
    with caplog.at_level(logging.WARNING, logger="suraksha.api.keys"):
        assert client.get("/v1/legal/requests", headers=_bearer(secret)).status_code == 200
        assert client.get("/v1/networks", headers=_bearer(secret)).status_code == 200
    warnings = [r.getMessage() for r in caplog.records if r.name == "suraksha.api.keys"]
    assert len(warnings) == 1 and "'legacy'" in warnings[0] and "admin" in warnings[0]
    assert secret not in caplog.text

    engine = create_engine(db_url)
    with pytest.raises(IntegrityError):
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO api_keys (name, prefix, key_hash, created_at, revoked, rate_limit_per_minute) "
                    "VALUES ('raw', 'srk_raw', 'x', CURRENT_TIMESTAMP, false, 600)"
                )
            )
    engine.dispose()

    from suraksha.api.keys import set_scopes

    set_scopes("legacy", ["scan"])
    error = error_of(client.get("/v1/legal/requests", headers=_bearer(secret)))
    assert error == {"code": "forbidden", "message": "this API key lacks the scope 'legal:read'"}
