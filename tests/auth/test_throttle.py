"""The sign-in throttle in front of argon2 (issue 11, point 8): per-address and per-account token
buckets answer 429 with Retry-After before any password is checked, unknown names alike, and at
most ``login_hash_concurrency`` argon2 runs happen at once. Staff /login and the officers' portal."""

from __future__ import annotations

import re
import threading

import pytest
from tests.auth.conftest import PASSWORD, at_once, auth_settings
from tests.legal.portal_client import make_client  # noqa: F401


@pytest.fixture
def throttled(db_url, monkeypatch):
    """Small buckets so a test reaches them quickly; restored afterwards."""

    def apply(**values) -> None:
        auth_settings(monkeypatch, **values)

    yield apply
    from suraksha.auth.settings import reset_auth_settings

    monkeypatch.undo()
    reset_auth_settings()


def _field(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def test_staff_login_page_answers_429_with_retry_after_once_an_address_has_used_its_burst(throttled, make_client, argon2_calls):
    throttled(login_ip_burst=3, login_ip_per_minute=1)
    client = make_client()
    answers = []
    for n in range(5):
        page = client.get("/login")
        answers.append(
            client.post(
                "/login",
                data={
                    "csrf_token": _field(page.text, "csrf_token"),
                    "username": f"nobody{n}",
                    "password": "wrong password",
                    "code": "123456",
                },
            )
        )
    assert [r.status_code for r in answers] == [401, 401, 401, 429, 429]
    refused = answers[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "Too many sign-in attempts" in refused.text and 'role="alert"' in refused.text
    assert argon2_calls.calls == 3  # the refused ones cost no argon2 run


def test_portal_login_answers_429_with_retry_after(throttled, make_client, argon2_calls):
    throttled(login_ip_burst=2, login_ip_per_minute=1)
    client = make_client()
    codes = []
    for _ in range(4):
        page = client.get("/portal/login")
        r = client.post(
            "/portal/login",
            data={
                "csrf_token": _field(page.text, "csrf_token"),
                "email": "nobody@cybercrime.gov.in",
                "password": "wrong password",
                "code": "123456",
            },
        )
        codes.append(r.status_code)
    assert codes == [401, 401, 429, 429]
    assert int(r.headers["Retry-After"]) >= 1 and "Too many sign-in attempts" in r.text
    assert argon2_calls.calls == 2


def test_an_account_name_is_throttled_from_any_address_whether_or_not_it_exists(throttled, argon2_calls):
    from suraksha.auth import service as auth

    throttled(login_account_burst=2, login_account_per_minute=1, login_ip_burst=0)
    auth.create_user("asha", "reviewer", password=PASSWORD, must_change_password=False)
    for name in ("asha", "nobody-here"):
        for n in range(2):
            with pytest.raises(auth.LoginFailed):
                auth.login(name, "wrong password", "123456", ip=f"198.51.100.{n}")
        with pytest.raises(auth.LoginThrottled, match="Too many sign-in attempts") as refused:
            auth.login(name, "wrong password", "123456", ip="198.51.100.99")
        assert refused.value.retry_after >= 1
    assert argon2_calls.calls == 4
    assert auth.list_users()[0].locked is False  # throttled attempts did not count as guesses


def test_at_most_the_configured_argon2_runs_happen_at_once(throttled, argon2_calls):
    from suraksha.auth import service as auth

    throttled(login_hash_concurrency=2, login_hash_wait_seconds=120, login_ip_burst=0, login_account_burst=0)
    results = at_once(12, lambda: auth.login(f"nobody-{threading.get_ident()}", "wrong password", "123456"))
    assert all(isinstance(r, auth.LoginFailed) for r in results), results
    assert argon2_calls.calls == 12 and argon2_calls.max_in_flight == 2


def test_no_free_argon2_slot_in_time_is_a_429_and_checks_nothing(throttled, argon2_calls):
    from suraksha.auth import service as auth
    from suraksha.auth.throttle import get_login_throttle
    from suraksha.legal import officers

    throttled(login_hash_concurrency=1, login_hash_wait_seconds=0.2)
    auth.create_user("asha", "reviewer", password=PASSWORD, must_change_password=False)
    with get_login_throttle().hashing_slot():  # another sign-in holds the only slot
        with pytest.raises(auth.LoginThrottled, match="busy"):
            auth.login("asha", PASSWORD, "123456")
        with pytest.raises(officers.LoginThrottled, match="busy"):
            officers.login("nobody@cybercrime.gov.in", PASSWORD, "123456")
    assert argon2_calls.calls == 0
    assert auth.list_users()[0].locked is False
