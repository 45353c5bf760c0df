"""API keys, rate limits, request-size limits and the common error body."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select
from tests.api.conftest import error_of

from suraksha.api.keys import create_key, list_keys, revoke_key
from suraksha.api.models import ApiKey
from suraksha.db import session_scope


def _items_count() -> int:
    from suraksha.items.models import Item

    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Item))


def test_missing_key_is_401_with_bearer_challenge(fake_client):
    r = fake_client.get("/v1/accounts/acct-1")
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert error_of(r)["code"] == "missing_api_key"


@pytest.mark.parametrize("header", ["Bearer srk_not-a-real-key", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer "])
def test_wrong_key_is_401(fake_client, key, header):
    r = fake_client.get("/v1/accounts/acct-1", headers={"Authorization": header})
    assert r.status_code == 401
    assert error_of(r)["code"] in ("invalid_api_key", "missing_api_key")


def test_valid_key_passes_and_records_last_use(fake_client, auth):
    assert list_keys()[0].last_used_at is None
    r = fake_client.get("/v1/accounts/acct-1", headers=auth)
    assert r.status_code == 404  # authenticated; the account just does not exist
    assert error_of(r)["code"] == "not_found"
    assert list_keys()[0].last_used_at is not None


def test_revoked_key_is_401(fake_client, key, auth):
    assert fake_client.get("/v1/accounts/x", headers=auth).status_code == 404
    revoke_key("tests")
    r = fake_client.get("/v1/accounts/x", headers=auth)
    assert r.status_code == 401
    assert error_of(r)["code"] == "invalid_api_key"


def test_only_hash_of_key_is_stored(db_url):
    info, secret = create_key("integration-a")
    with session_scope() as s:
        row = s.scalar(select(ApiKey))
        stored = [str(v) for v in (row.name, row.prefix, row.key_hash)]
    assert secret not in stored
    assert secret.startswith(info.prefix) and len(info.prefix) < len(secret) // 3
    import hashlib

    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()


def test_key_names_are_validated_and_unique(db_url):
    create_key("dup")
    with pytest.raises(ValueError, match="already exists"):
        create_key("dup")
    with pytest.raises(ValueError, match="key name"):
        create_key("has space")
    with pytest.raises(ValueError, match="rate limit"):
        create_key("zero", 0)
    assert [k.name for k in list_keys()] == ["dup"]


def test_rate_limit_returns_429_with_retry_after(fake_client):
    _info, secret = create_key("slow", rate_limit_per_minute=3, scopes=["items:read"])
    headers = {"Authorization": f"Bearer {secret}"}
    codes = [fake_client.get("/v1/accounts/a", headers=headers).status_code for _ in range(3)]
    assert codes == [404, 404, 404]
    r = fake_client.get("/v1/accounts/a", headers=headers)
    assert r.status_code == 429
    assert error_of(r)["code"] == "rate_limited"
    # 3/minute refills one token every 20 s.
    assert 1 <= int(r.headers["retry-after"]) <= 20
    # Another key is not affected.
    _info, other = create_key("other", scopes=["items:read"])
    assert fake_client.get("/v1/accounts/a", headers={"Authorization": f"Bearer {other}"}).status_code == 404


def test_token_bucket_refills():
    from suraksha.api.limits import RateLimiter

    limiter = RateLimiter()
    assert limiter.check(1, 60) == 0.0  # 60/min = 1 token per second, burst 60
    for _ in range(59):
        assert limiter.check(1, 60) == 0.0
    wait = limiter.check(1, 60)
    assert 0 < wait <= 1.0
    time.sleep(wait + 0.05)
    assert limiter.check(1, 60) == 0.0


def test_declared_oversized_body_is_refused_before_reading(make_client, auth):
    client = make_client(max_body_bytes=2000)
    body = b'{"platform_id": "p1", "text": "' + b"x" * 5000 + b'"}'
    r = client.post("/v1/items", content=body, headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert error_of(r)["code"] == "payload_too_large"
    assert _items_count() == 0


def test_streamed_oversized_body_is_refused(make_client, auth):
    client = make_client(max_body_bytes=2000)

    def chunks():
        yield b'{"platform_id": "p1", "text": "'
        for _ in range(10):
            yield b"y" * 500
        yield b'"}'

    r = client.post("/v1/items", content=chunks(), headers={**auth, "Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    assert r.status_code == 413
    assert error_of(r)["code"] == "payload_too_large"
    assert _items_count() == 0


def test_streamed_body_under_limit_is_accepted(make_client, auth):
    client = make_client(max_body_bytes=2000)

    def chunks():
        yield b'{"platform_id": "p-small",'
        yield b' "text": "hello"}'

    r = client.post("/v1/items", content=chunks(), headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 202, r.text
    assert _items_count() == 1


def test_unknown_route_and_method_use_error_body(fake_client, auth):
    r = fake_client.get("/v1/nope", headers=auth)
    assert r.status_code == 404 and error_of(r)["code"] == "not_found"
    r = fake_client.put("/v1/items", headers=auth, json={})
    assert r.status_code == 405 and error_of(r)["code"] == "method_not_allowed"


def test_cli_apikey_create_list_revoke(db_url):
    from typer.testing import CliRunner

    from suraksha.api.keys import clear_key_cache, verify_key
    from suraksha.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["apikey", "create", "partner-x", "--rate-limit", "120"])
    assert r.exit_code == 0, r.output
    secret = r.stdout.strip().splitlines()[-1]
    assert secret.startswith("srk_")
    assert verify_key(secret).name == "partner-x"
    r = runner.invoke(app, ["apikey", "list"])
    assert "partner-x" in r.stdout and "active" in r.stdout and secret not in r.stdout
    r = runner.invoke(app, ["apikey", "create", "partner-x"])
    assert r.exit_code == 1 and "already exists" in r.output
    r = runner.invoke(app, ["apikey", "revoke", "partner-x"])
    assert r.exit_code == 0, r.output
    clear_key_cache()
    assert verify_key(secret) is None
    r = runner.invoke(app, ["apikey", "revoke", "nobody"])
    assert r.exit_code == 1 and "no API key" in r.output
