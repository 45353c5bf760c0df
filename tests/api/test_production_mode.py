"""Production mode and the demo's sign-ins (issue 11, point 4).

A database first used in demo mode holds sign-ins whose secrets are in the source: the staff users
``demo-<role>`` (password and TOTP secret), the portal officer ``demo.officer@police.example`` and
the ``demo`` API key. Production mode refuses to start while any of them exists and says how to
remove them (`suraksha demo purge`, the one command it runs meanwhile); after the purge none of them
authenticates, production starts, and the first admin's secrets are never printed.
"""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pyotp
import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from suraksha.config import get_settings, reset_settings
from suraksha.db import session_scope
from suraksha.db.session import reset_engine

EVIDENCE_KEY = base64.b64encode(b"k" * 32).decode()  # a fixed test key: demo seeding and production share it


@pytest.fixture
def demo_database(db_url, monkeypatch):
    """What `make run` leaves behind: demo staff users (seeded at the first serve), the demo officer
    (legal demo) and the `demo` API key. Returns the key's secret."""
    from suraksha.api.keys import clear_key_cache, create_key
    from suraksha.auth.bootstrap import first_start
    from suraksha.legal.demo import seed_legal_demo

    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", EVIDENCE_KEY)
    reset_settings()
    clear_key_cache()
    first_start("demo")
    seed_legal_demo()
    _info, secret = create_key("demo")
    yield secret
    clear_key_cache()


def _cli(args: list[str], monkeypatch, mode: str):
    from suraksha.cli import app

    monkeypatch.setenv("SURAKSHA_MODE", mode)
    reset_settings()
    try:
        return CliRunner().invoke(app, args)
    finally:
        monkeypatch.setenv("SURAKSHA_MODE", "demo")
        reset_settings()


def _staff_login(username: str, password: str, secret: str) -> bool:
    from suraksha.auth.service import LoginFailed, login

    try:
        return bool(login(username, password, pyotp.TOTP(secret).now()))
    except LoginFailed:
        return False


def _officer_login(email: str, password: str, secret: str) -> bool:
    from suraksha.legal.officers import OfficerLoginFailed, login

    try:
        return bool(login(email, password, pyotp.TOTP(secret).now()))
    except OfficerLoginFailed:
        return False


@pytest.mark.parametrize(
    "args",
    [
        ["serve", "--port", "1"],
        ["worker"],
        ["dispatch", "--once"],
        ["apikey", "list"],
        ["user", "list"],
        ["bank", "list"],
        ["portal", "officers"],
        ["demo", "seed"],
    ],
)
def test_production_refuses_every_command_while_demo_sign_ins_exist(demo_database, monkeypatch, args):
    from suraksha.auth.bootstrap import DEMO_USERS

    r = _cli(args, monkeypatch, "production")
    assert r.exit_code == 2, r.output
    line = r.stderr.strip()
    assert "\n" not in line and line.startswith("error: production mode refused"), line
    assert all(u.username in line for u in DEMO_USERS)
    assert "demo.officer@police.example" in line and "API key 'demo'" in line
    assert "suraksha demo purge" in line
    assert _cli(args[:1] + ["--help"], monkeypatch, "production").exit_code == 0  # help still works


def test_purge_removes_every_demo_sign_in_once_with_an_audit_event(demo_database, monkeypatch):
    from suraksha.api.keys import verify_key
    from suraksha.audit import verify_chain
    from suraksha.audit.models import AuditEvent
    from suraksha.auth.bootstrap import DEMO_USERS
    from suraksha.auth.service import list_users
    from suraksha.legal.demo import DEMO_OFFICER

    admin = next(u for u in DEMO_USERS if u.role == "admin")
    assert verify_key(demo_database) is not None  # they work before the purge
    assert _officer_login(DEMO_OFFICER.email, DEMO_OFFICER.password, DEMO_OFFICER.totp_secret)

    r = _cli(["demo", "purge"], monkeypatch, "production")  # allowed in production mode
    assert r.exit_code == 0, r.output
    assert f"deleted demo staff user {admin.username}" in r.stdout
    assert f"deleted demo portal officer {DEMO_OFFICER.email}" in r.stdout and "deleted API key 'demo'" in r.stdout

    assert list_users() == []
    assert not _staff_login(admin.username, admin.password, admin.totp_secret)
    assert not _officer_login(DEMO_OFFICER.email, DEMO_OFFICER.password, DEMO_OFFICER.totp_secret)
    assert verify_key(demo_database) is None
    with session_scope() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "demo.purge")).all()
        assert len(events) == 1 and events[0].actor == "demo-purge"
        assert sorted(events[0].details["deleted_users"]) == sorted(u.username for u in DEMO_USERS)
        assert events[0].details["officers"] == [DEMO_OFFICER.email] and events[0].details["api_keys"] == ["demo"]
    assert verify_chain().ok

    again = _cli(["demo", "purge"], monkeypatch, "production")
    assert again.exit_code == 0 and "nothing changed" in again.stdout
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "demo.purge")) == 1
    r = _cli(["apikey", "list"], monkeypatch, "production")
    assert r.exit_code == 0, r.output
    r = _cli(["demo", "seed"], monkeypatch, "production")
    assert r.exit_code == 1 and "refusing to seed demo data in production mode" in r.stderr


def test_a_demo_reviewer_named_in_the_record_is_retired_not_deleted(demo_database, monkeypatch):
    """A demo user that revealed media (or decided a review) stays in the record, but can never sign
    in again: deactivated, renamed, password and authenticator replaced."""
    from suraksha.auth.bootstrap import DEMO_USERS
    from suraksha.auth.models import StaffUser
    from suraksha.cases.models import MediaReveal

    reviewer = next(u for u in DEMO_USERS if u.role == "reviewer")
    with session_scope() as s:
        uid = s.scalar(select(StaffUser.id).where(StaffUser.username == reviewer.username))
        s.add(MediaReveal(user_id=uid, item_id=1, media_position=0))
    r = _cli(["demo", "purge"], monkeypatch, "production")
    assert r.exit_code == 0, r.output
    retired = f"retired-{reviewer.username}-{uid}"
    assert f"retired demo staff user {reviewer.username} as {retired}" in r.stdout
    with session_scope() as s:
        row = s.get(StaffUser, uid)
        assert (row.username, row.active, row.totp_secret) == (retired, False, None)
        assert s.scalar(select(func.count()).select_from(MediaReveal).where(MediaReveal.user_id == uid)) == 1
    assert not _staff_login(reviewer.username, reviewer.password, reviewer.totp_secret)
    assert not _staff_login(retired, reviewer.password, reviewer.totp_secret)
    assert _cli(["bank", "list"], monkeypatch, "production").exit_code == 0  # no demo sign-in is left


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_demo_then_production_serve_refuses_then_starts_after_purge_and_prints_no_secret(demo_database, db_url):
    """The observed path end to end, in separate processes: a demo database, then
    SURAKSHA_MODE=production. serve and worker refuse; `demo purge`; serve starts, creates the first
    admin and prints (and logs, at debug level) only the path of its 0600 credentials file."""
    home = get_settings().home
    env = {k: v for k, v in os.environ.items() if not k.startswith("SURAKSHA_")}
    env.update(
        SURAKSHA_HOME=str(home), SURAKSHA_DATABASE_URL=db_url, SURAKSHA_MODE="production", SURAKSHA_EVIDENCE_KEY=EVIDENCE_KEY
    )
    reset_engine()  # the subprocesses own the database now

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "suraksha.cli", *args], env=env, capture_output=True, text=True, timeout=120)

    for args in (["serve", "--port", "1"], ["worker"]):
        refused = cli(*args)
        assert refused.returncode == 2, refused.stderr
        assert "production mode refused" in refused.stderr and "suraksha demo purge" in refused.stderr
    purged = cli("demo", "purge")
    assert purged.returncode == 0, purged.stderr

    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "suraksha.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-dispatch-in-process",
            "--workers-in-process",
            "0",
            "--log-level",
            "debug",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline, status = time.monotonic() + 90, None
        while time.monotonic() < deadline:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/status", timeout=2)
                if status.status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.2)
        assert status is not None and status.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()

    creds_file = home / "first-admin-credentials.txt"
    assert stat.S_IMODE(creds_file.stat().st_mode) == 0o600
    saved = creds_file.read_text()
    password = re.search(r"one-time password: (\S+)", saved).group(1)
    secret = re.search(r"TOTP secret: +(\S+)", saved).group(1)
    assert f"are in {creds_file.resolve()}" in out
    for needle in (password, secret, "otpauth://"):
        assert needle not in out, needle
    assert _staff_login("admin", password, secret)  # the file holds working credentials
    if db_url.startswith("sqlite"):
        assert stat.S_IMODE(Path(db_url.removeprefix("sqlite:///")).stat().st_mode) == 0o600
