"""TOTP seeds at rest (issue 11, point 10): staff users' and officers' seeds are stored sealed with
the vault's master key, bound to their row, still verify, and migrations s0002 / l0003 seal the
plain seeds an existing database holds. Both databases."""

from __future__ import annotations

import logging
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest
from sqlalchemy import select, text, update
from tests.auth.conftest import PASSWORD

from suraksha.db import session_scope

EMAIL = "test.officer@cybercrime.gov.in"


def stored_seed(model, row_id: int) -> str:
    with session_scope() as s:
        return s.scalar(select(model.totp_secret).where(model.id == row_id))


def _user_id(username: str) -> int:
    from suraksha.auth import service as auth

    return next(u.id for u in auth.list_users() if u.username == username)


def _officer(agency_id: int, email: str = EMAIL) -> tuple[int, pyotp.TOTP]:
    from suraksha.legal import officers

    view = officers.register_officer(agency_id, email, "Test Officer", "Inspector")
    token = parse_qs(urlparse(officers.outbox(email)[-1].link).query)["token"][0]
    totp = pyotp.TOTP(officers.set_password_and_begin_enrolment(token, PASSWORD).totp_secret)
    officers.complete_enrolment(token, totp.at(time.time() - 30))
    return view.id, totp


@pytest.fixture
def agency(db_url):
    from suraksha import legal

    return legal.register_agency("Test Cyber Crime Unit", "police", "in", ["cybercrime.gov.in"], "user:t-admin")


def test_staff_seed_is_sealed_at_rest_and_still_verifies(db_url):
    from suraksha.auth import service as auth
    from suraksha.auth.models import StaffUser

    creds = auth.create_user("asha", "reviewer", password=PASSWORD, must_change_password=False)
    stored = stored_seed(StaffUser, _user_id("asha"))
    assert stored.startswith("sealed:v1:") and creds.totp_secret not in stored and len(creds.totp_secret) == 32
    assert auth.resolve_session(auth.login("asha", PASSWORD, pyotp.TOTP(creds.totp_secret).now())).username == "asha"
    assert auth.list_users()[0].mfa_enrolled

    reset = auth.reset_mfa("asha")
    stored_after = stored_seed(StaffUser, _user_id("asha"))
    assert stored_after.startswith("sealed:v1:") and reset.totp_secret not in stored_after and stored_after != stored
    assert auth.login("asha", PASSWORD, pyotp.TOTP(reset.totp_secret).now())


def test_a_sealed_seed_copied_to_another_account_does_not_open_there(db_url, caplog):
    """Someone who can write the table cannot give another account their own authenticator."""
    from suraksha.auth import service as auth
    from suraksha.auth.models import StaffUser

    mine = auth.create_user("mallory", "reviewer", password=PASSWORD, must_change_password=False)
    auth.create_user("asha", "admin", password=PASSWORD, must_change_password=False)
    with session_scope() as s:
        s.execute(
            update(StaffUser).where(StaffUser.username == "asha").values(totp_secret=stored_seed(StaffUser, _user_id("mallory")))
        )
    caplog.set_level(logging.ERROR, logger="suraksha.auth.totp")
    with pytest.raises(auth.LoginFailed, match="invalid"):
        auth.login("asha", PASSWORD, pyotp.TOTP(mine.totp_secret).now())
    assert "cannot be used" in caplog.text and mine.totp_secret not in caplog.text


def test_officer_seed_is_sealed_at_rest_and_still_verifies(agency):
    from suraksha.legal import officers

    officer_id, totp = _officer(agency.id)
    stored = stored_seed(officers.Officer, officer_id)
    assert stored.startswith("sealed:v1:") and totp.secret not in stored
    assert officers.resolve_session(officers.login(EMAIL, PASSWORD, totp.now())).officer_id == officer_id


def test_demo_officer_seed_is_sealed(db_url):
    from suraksha import legal
    from suraksha.legal import officers
    from suraksha.legal.demo import DEMO_OFFICER, _demo_officer

    agency = legal.register_agency("Demo Unit", "police", "in", [DEMO_OFFICER.email.split("@")[1]], "user:t-admin")
    officer_id, _ = _demo_officer(agency.id)
    stored = stored_seed(officers.Officer, officer_id)
    assert stored.startswith("sealed:v1:") and DEMO_OFFICER.totp_secret not in stored
    assert officers.login(DEMO_OFFICER.email, DEMO_OFFICER.password, pyotp.TOTP(DEMO_OFFICER.totp_secret).now())


def _migrate(url: str, action: str, revision: str) -> None:
    from alembic import command

    from suraksha.db.migrate import alembic_config
    from suraksha.db.session import reset_engine

    reset_engine()  # no pooled connection of the app while tables are altered
    getattr(command, action)(alembic_config(url), revision)


def test_migrations_seal_plain_seeds_and_downgrades_open_them(agency, db_url):
    """A database from before s0002 / l0003 holds plain seeds: upgrading seals them in place."""
    from suraksha.auth import service as auth
    from suraksha.auth.models import StaffUser
    from suraksha.legal import officers

    old_secret = pyotp.random_base32()
    auth.create_user("asha", "reviewer", password=PASSWORD, must_change_password=False)
    new = auth.create_user("bina", "reviewer", password=PASSWORD, must_change_password=False)
    officer_id, officer_totp = _officer(agency.id)
    asha = _user_id("asha")
    with session_scope() as s:  # as an older version stored it: the base32 seed itself
        s.execute(text("UPDATE staff_users SET totp_secret = :s WHERE id = :id"), {"s": old_secret, "id": asha})

    _migrate(db_url, "downgrade", "s0001")
    _migrate(db_url, "downgrade", "l0002")
    assert stored_seed(StaffUser, asha) == old_secret
    assert stored_seed(StaffUser, _user_id("bina")) == new.totp_secret  # opened again by the downgrade
    assert stored_seed(officers.Officer, officer_id) == officer_totp.secret

    _migrate(db_url, "upgrade", "heads")
    for model, row_id, secret in (
        (StaffUser, asha, old_secret),
        (StaffUser, _user_id("bina"), new.totp_secret),
        (officers.Officer, officer_id, officer_totp.secret),
    ):
        stored = stored_seed(model, row_id)
        assert stored.startswith("sealed:v1:") and secret not in stored
    assert auth.login("asha", PASSWORD, pyotp.TOTP(old_secret).now())
    assert auth.login("bina", PASSWORD, pyotp.TOTP(new.totp_secret).now())
    assert officers.login(EMAIL, PASSWORD, officer_totp.now())


def test_a_plain_seed_left_unmigrated_fails_closed(db_url, caplog):
    from suraksha.auth import service as auth

    secret = pyotp.random_base32()
    auth.create_user("asha", "reviewer", password=PASSWORD, must_change_password=False)
    with session_scope() as s:
        s.execute(text("UPDATE staff_users SET totp_secret = :s WHERE username = 'asha'"), {"s": secret})
    caplog.set_level(logging.ERROR, logger="suraksha.auth.totp")
    with pytest.raises(auth.LoginFailed):
        auth.login("asha", PASSWORD, pyotp.TOTP(secret).now())
    assert "suraksha db upgrade" in caplog.text and secret not in caplog.text


def test_after_a_key_rotation_a_sign_in_reseals_the_seed_under_the_current_key(db_url, monkeypatch):
    from suraksha.auth import service as auth
    from suraksha.auth.models import StaffUser
    from suraksha.db.keyring import demo_key_path, encode_key, generate_key, key_id, load_keyring, sealed_key_id

    creds = auth.create_user("asha", "reviewer", password=PASSWORD, must_change_password=False)
    old_id = load_keyring().current_id
    assert sealed_key_id(stored_seed(StaffUser, _user_id("asha"))) == old_id
    old_key = [line for line in demo_key_path().read_text().splitlines() if line and not line.startswith("#")][0]
    new_key = generate_key()
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", encode_key(new_key))
    monkeypatch.setenv("SURAKSHA_EVIDENCE_OLD_KEYS", old_key)
    assert auth.login("asha", PASSWORD, pyotp.TOTP(creds.totp_secret).now())  # the old key still opens it
    assert sealed_key_id(stored_seed(StaffUser, _user_id("asha"))) == key_id(new_key) != old_id
    monkeypatch.delenv("SURAKSHA_EVIDENCE_OLD_KEYS")  # the old key retired: the seed still opens
    assert auth.login("asha", PASSWORD, pyotp.TOTP(creds.totp_secret).at(time.time() + 30))
