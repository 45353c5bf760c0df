"""Sign-in under concurrency (issue 11, point 3), staff users and portal officers alike, on both
databases: wrong passwords sent at once cannot exceed the lock-out limit or get more argon2 runs
than the limit, and one authenticator code sent several times at once opens exactly one session."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import pyotp
import pytest
from sqlalchemy import func, select
from tests.auth.conftest import PASSWORD, at_once, auth_settings, wrong_code

from suraksha.db import session_scope

LIMIT = 5


@pytest.fixture
def unthrottled(db_url, monkeypatch):
    """Buckets out of the way (these tests are about the lock-out), a long wait for an argon2 slot."""
    auth_settings(monkeypatch, login_max_failures=LIMIT, login_ip_burst=0, login_account_burst=0, login_hash_wait_seconds=120)
    yield
    from suraksha.auth.settings import reset_auth_settings

    monkeypatch.undo()
    reset_auth_settings()


@dataclass
class Account:
    """One kind of account under test, behind the same few operations."""

    kind: str
    totp: pyotp.TOTP
    login: Callable[..., str]
    failed: type[Exception]
    model: type
    row_id: int

    def state(self) -> tuple[int, bool]:
        """(failed_logins, locked now)."""
        from suraksha.db.base import utcnow

        with session_scope() as s:
            row = s.get(self.model, self.row_id)
            until = row.locked_until
            if until is not None and until.tzinfo is None:
                import datetime as dt

                until = until.replace(tzinfo=dt.UTC)
            return row.failed_logins, bool(until and until > utcnow())

    def sessions(self) -> int:
        from suraksha.auth.models import StaffSession
        from suraksha.legal.officers import OfficerSession

        table, column = (
            (StaffSession, StaffSession.user_id) if self.kind == "staff" else (OfficerSession, OfficerSession.officer_id)
        )
        with session_scope() as s:
            return s.scalar(select(func.count()).select_from(table).where(column == self.row_id))


def staff_account() -> Account:
    from suraksha.auth import service as auth
    from suraksha.auth.models import StaffUser

    creds = auth.create_user("asha", "reviewer", password=PASSWORD, must_change_password=False)
    user_id = next(u.id for u in auth.list_users() if u.username == "asha")
    return Account(
        "staff",
        pyotp.TOTP(creds.totp_secret),
        lambda password, code, ip=None: auth.login("asha", password, code, ip=ip),
        auth.LoginFailed,
        StaffUser,
        user_id,
    )


OFFICER_EMAIL = "test.officer@cybercrime.gov.in"


def officer_account() -> Account:
    from urllib.parse import parse_qs, urlparse

    from suraksha import legal
    from suraksha.legal import officers

    agency = legal.register_agency("Test Cyber Crime Unit", "police", "in", ["cybercrime.gov.in"], "user:t-admin")
    view = officers.register_officer(agency.id, OFFICER_EMAIL, "Test Officer", "Deputy Inspector General")
    token = parse_qs(urlparse(officers.outbox(OFFICER_EMAIL)[-1].link).query)["token"][0]
    totp = pyotp.TOTP(officers.set_password_and_begin_enrolment(token, PASSWORD).totp_secret)
    officers.complete_enrolment(token, totp.at(time.time() - 30))  # the previous step: now and +30 s stay free
    return Account(
        "officer",
        totp,
        lambda password, code, ip=None: officers.login(OFFICER_EMAIL, password, code, ip=ip),
        officers.OfficerLoginFailed,
        officers.Officer,
        view.id,
    )


@pytest.fixture(params=["staff", "officer"])
def account(request, unthrottled) -> Account:
    return staff_account() if request.param == "staff" else officer_account()


def test_thirty_wrong_passwords_at_once_lock_at_exactly_the_limit_with_at_most_limit_checks(account, argon2_calls):
    results = at_once(30, lambda: account.login("wrong password, guessed", account.totp.now()))
    assert all(isinstance(r, account.failed) for r in results), results
    assert account.state() == (LIMIT, True)
    assert argon2_calls.calls == LIMIT  # the other 25 were refused as locked before any password check
    assert sum("locked" in r.message for r in results) == 30 - LIMIT
    # Locked: even the right password and code are refused, and no password is checked.
    with pytest.raises(account.failed, match="locked"):
        account.login(PASSWORD, account.totp.now())
    assert argon2_calls.calls == LIMIT and account.state() == (LIMIT, True) and account.sessions() == 0


def test_after_the_lock_expires_one_guess_locks_again(account, argon2_calls):
    import datetime as dt

    from sqlalchemy import update

    at_once(10, lambda: account.login("wrong password, guessed", account.totp.now()))
    assert account.state() == (LIMIT, True)
    with session_scope() as s:  # the lock-out period passes
        s.execute(
            update(account.model)
            .where(account.model.id == account.row_id)
            .values(locked_until=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    before = argon2_calls.calls
    results = at_once(8, lambda: account.login("another wrong password", account.totp.now()))
    assert all(isinstance(r, account.failed) for r in results)
    assert argon2_calls.calls == before + 1 and account.state() == (LIMIT + 1, True)


def test_one_code_sent_five_times_at_once_opens_exactly_one_session(account):
    code = account.totp.now()
    results = at_once(5, lambda: account.login(PASSWORD, code))
    tokens = [r for r in results if isinstance(r, str)]
    assert len(tokens) == 1, results
    assert all(isinstance(r, account.failed) and "invalid" in r.message for r in results if not isinstance(r, str))
    assert account.sessions() == 1
    # Used: the same code later is refused too, the next step's code is accepted.
    with pytest.raises(account.failed, match="invalid"):
        account.login(PASSWORD, code)
    assert account.login(PASSWORD, account.totp.at(time.time() + 30))
    assert account.sessions() == 2 and account.state() == (0, False)


def test_a_success_clears_the_count_and_a_correct_password_alone_still_counts(account):
    for _ in range(LIMIT - 1):
        with pytest.raises(account.failed):
            account.login("wrong password, guessed", account.totp.now())
    assert account.state() == (LIMIT - 1, False)
    with pytest.raises(account.failed, match="invalid"):  # right password, wrong code: a failure like any other
        account.login(PASSWORD, wrong_code(account.totp))
    assert account.state() == (LIMIT, True)
    from suraksha.auth.lockout import clear

    with session_scope() as s:
        clear(s, account.model, account.row_id)
    assert account.login(PASSWORD, account.totp.now()) and account.state() == (0, False)


def results_view(results):
    return next(r for r in results if not isinstance(r, Exception))


def test_officer_enrolment_code_counts_and_is_single_use(db_url, unthrottled):
    """The enrolment step uses the same atomic count and claim as sign-in."""
    from urllib.parse import parse_qs, urlparse

    from suraksha import legal
    from suraksha.legal import officers

    agency = legal.register_agency("Test Cyber Crime Unit", "police", "in", ["cybercrime.gov.in"], "user:t-admin")
    officers.register_officer(agency.id, OFFICER_EMAIL, "Test Officer", "Inspector")
    token = parse_qs(urlparse(officers.outbox(OFFICER_EMAIL)[-1].link).query)["token"][0]
    totp = pyotp.TOTP(officers.set_password_and_begin_enrolment(token, PASSWORD).totp_secret)
    code = totp.at(time.time() - 30)
    results = at_once(5, lambda: officers.complete_enrolment(token, code))
    assert sum(isinstance(r, officers.OfficerView) for r in results) == 1, results
    assert all(isinstance(r, officers.OfficerError) for r in results if not isinstance(r, officers.OfficerView))
    officers.unlock(results_view(results).id, "user:t-admin")  # the four replays counted as wrong codes
    # The code enrolment used cannot sign in (single use across enrolment and sign-in).
    with pytest.raises(officers.OfficerLoginFailed):
        officers.login(OFFICER_EMAIL, PASSWORD, code)
    assert officers.login(OFFICER_EMAIL, PASSWORD, totp.now())


def test_an_officer_right_password_on_a_deactivated_account_is_not_counted_as_a_guess(db_url, unthrottled):
    """Deactivated: the attempt counted before the check is given back, and the lock it set lifted."""
    from suraksha.legal import officers

    account = officer_account()
    for _ in range(LIMIT - 1):
        with pytest.raises(account.failed):
            account.login("wrong password, guessed", account.totp.now())
    officers.set_active(account.row_id, False, "user:t-admin")
    with pytest.raises(account.failed, match="deactivated"):
        account.login(PASSWORD, account.totp.now())
    assert account.state() == (LIMIT - 1, False)
    officers.set_active(account.row_id, True, "user:t-admin")
    assert account.login(PASSWORD, account.totp.now()) and account.state() == (0, False)


def test_an_outdated_password_hash_is_upgraded_at_sign_in(db_url, unthrottled):
    from argon2 import PasswordHasher

    from suraksha.auth import service as auth
    from suraksha.auth.models import StaffUser

    account = staff_account()
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024).hash(PASSWORD)
    with session_scope() as s:
        s.get(StaffUser, account.row_id).password_hash = weak
    assert account.login(PASSWORD, account.totp.now())
    with session_scope() as s:
        stored = s.get(StaffUser, account.row_id).password_hash
    assert stored != weak and not auth.password_hasher.check_needs_rehash(stored)
    assert auth.check_password(stored, PASSWORD)
