"""Staff accounts: argon2 passwords, TOTP (no replay), lock-out, session expiry, first start, CLI."""

from __future__ import annotations

import datetime as dt
import io
import time

import pyotp
import pytest
from typer.testing import CliRunner

from suraksha.auth import service as auth

PASSWORD = "correct horse battery staple"


def _user(name="asha", role="reviewer"):
    creds = auth.create_user(name, role, password=PASSWORD, must_change_password=False)
    return pyotp.TOTP(creds.totp_secret)


def test_password_is_stored_as_argon2_and_login_needs_the_totp_code(db_url):
    from sqlalchemy import select

    from suraksha.auth.models import StaffUser
    from suraksha.db import session_scope

    totp = _user()
    with session_scope() as s:
        stored = s.scalar(select(StaffUser.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    with pytest.raises(auth.LoginFailed, match="invalid username, password or authentication code"):
        auth.login("asha", PASSWORD, "")
    # One code, taken once: re-reading the clock for the replay could cross a 30 s step boundary
    # and yield the next (legitimately unused) code, which the server rightly accepts.
    code = totp.at(time.time())
    token = auth.login("asha", PASSWORD, code)
    who = auth.resolve_session(token)
    assert who.username == "asha" and who.role == "reviewer" and len(who.csrf_token) >= 32
    # The same code cannot be used twice (replay), the next step's code can.
    with pytest.raises(auth.LoginFailed):
        auth.login("asha", PASSWORD, code)
    assert auth.login("asha", PASSWORD, totp.at(time.time() + 30))
    auth.logout(token)
    assert auth.resolve_session(token) is None


def test_repeated_failures_lock_the_account_until_unlocked(db_url):
    totp = _user()
    for _ in range(5):
        with pytest.raises(auth.LoginFailed, match="invalid"):
            auth.login("asha", "wrong password!", totp.now())
    with pytest.raises(auth.LoginFailed, match="locked"):
        auth.login("asha", PASSWORD, totp.now())  # even the right password
    assert auth.list_users()[0].locked
    auth.unlock("asha")
    assert auth.resolve_session(auth.login("asha", PASSWORD, totp.now())) is not None


def test_sessions_expire_when_idle_and_end_when_deactivated(db_url):
    from suraksha.auth.models import StaffSession
    from suraksha.db import session_scope

    totp = _user()
    token = auth.login("asha", PASSWORD, totp.now())
    with session_scope() as s:
        row = s.query(StaffSession).one()
        row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=31)
    assert auth.resolve_session(token) is None
    token = auth.login("asha", PASSWORD, totp.at(time.time() + 30))
    auth.set_active("asha", False)
    assert auth.resolve_session(token) is None
    with pytest.raises(auth.LoginFailed, match="deactivated"):
        auth.login("asha", PASSWORD, totp.at(time.time() + 60))


@pytest.mark.parametrize(
    "name, role, password, message",
    [
        ("A", "reviewer", PASSWORD, "username must be"),
        ("asha", "boss", PASSWORD, "unknown role"),
        ("asha", "reviewer", "short", "at least 12"),
    ],
)
def test_bad_account_input_is_refused(db_url, name, role, password, message):
    with pytest.raises(ValueError, match=message):
        auth.create_user(name, role, password=password)
    assert auth.list_users() == []


def test_first_start_in_production_writes_the_one_time_admin_password_to_a_private_file_once(db_url):
    import stat

    from suraksha.auth.bootstrap import FIRST_ADMIN_FILE, first_start
    from suraksha.config import get_settings

    out = io.StringIO()
    creds = first_start("production", out=out)
    text = out.getvalue()
    path = get_settings().home / FIRST_ADMIN_FILE
    assert str(path.resolve()) in text and creds.password not in text and creds.totp_secret not in text  # path only
    saved = path.read_text()
    assert creds.password in saved and creds.totp_secret in saved and "one-time password" in saved
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first_start("production", out=out) is None  # never again
    assert out.getvalue() == text
    users = auth.list_users()
    assert [(u.username, u.role, u.must_change_password) for u in users] == [("admin", "admin", True)]
    token = auth.login("admin", creds.password, pyotp.TOTP(creds.totp_secret).now())
    assert auth.resolve_session(token).must_change_password


def test_demo_mode_seeds_one_demo_user_per_role(db_url):
    from suraksha.auth.bootstrap import DEMO_USERS, first_start
    from suraksha.auth.roles import ROLES

    first_start("demo")
    assert sorted(u.role for u in auth.list_users()) == sorted(ROLES)
    demo = DEMO_USERS[1]
    assert auth.login(demo.username, demo.password, pyotp.TOTP(demo.totp_secret).now())


def test_one_time_password_must_be_changed_before_anything_else(db_url):
    import re

    from fastapi.testclient import TestClient

    from suraksha.api import create_app

    creds = auth.create_user("ravi", "reviewer")  # generated one-time password
    totp = pyotp.TOTP(creds.totp_secret)
    with TestClient(create_app(matcher_loader=lambda: None), raise_server_exceptions=False) as c:
        page = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        r = c.post(
            "/login",
            data={"csrf_token": token, "username": "ravi", "password": creds.password, "code": totp.now()},
            follow_redirects=False,
        )
        assert r.status_code == 303 and r.headers["location"] == "/me/password"
        r = c.get("/review", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/me/password"
        page = c.get("/me/password")
        csrf = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text).group(1)
        r = c.post(
            "/me/password",
            data={"csrf_token": csrf, "current_password": creds.password, "new_password": "short", "confirm": "short"},
        )
        assert r.status_code == 400 and "at least 12" in r.text
        r = c.post(
            "/me/password",
            data={"csrf_token": csrf, "current_password": creds.password, "new_password": PASSWORD, "confirm": PASSWORD},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert c.get("/review").status_code == 200


def test_cli_creates_lists_and_resets_mfa(db_url):
    from suraksha.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["user", "create", "meera", "--role", "analyst"])
    assert r.exit_code == 0, r.output
    assert "one-time password:" in r.output and "otpauth://totp/Suraksha:meera" in r.output
    r = runner.invoke(app, ["user", "create", "meera", "--role", "analyst"])
    assert r.exit_code == 1 and "already exists" in r.output
    r = runner.invoke(app, ["user", "create", "xavier", "--role", "boss"])
    assert r.exit_code == 1 and "unknown role" in r.output
    r = runner.invoke(app, ["user", "list"])
    assert r.exit_code == 0 and "meera" in r.output and "analyst" in r.output
    before = auth.list_users()[0]
    r = runner.invoke(app, ["user", "reset-mfa", "meera"])
    assert r.exit_code == 0 and "TOTP secret:" in r.output
    assert auth.list_users()[0].mfa_enrolled and before.mfa_enrolled
    r = runner.invoke(app, ["user", "reset-mfa", "nobody"])
    assert r.exit_code == 1 and "no staff user 'nobody'" in r.output
