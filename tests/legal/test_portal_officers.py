"""Officer identity (service level): official email domain, one-time confirmation link, argon2
password + TOTP enrolment, sign-in with lock-out, expiring sessions, deactivation."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import parse_qs, urlparse

import pyotp
import pytest

from suraksha.legal import officers

PASSWORD = "a long portal passphrase"
EMAIL = "test.officer@cybercrime.gov.in"  # fictional person on the domain the brief names for tests


@pytest.fixture
def agency(db_url):
    from suraksha import legal

    return legal.register_agency("Test Cyber Crime Unit", "police", "in", ["cybercrime.gov.in"], "user:t-admin")


def _token(email: str = EMAIL) -> str:
    link = officers.outbox(email)[-1].link
    return parse_qs(urlparse(link).query)["token"][0]


def wrong_code(totp: pyotp.TOTP) -> str:
    """A 6-digit code that is not valid in the accepted window (now and one step either side)."""
    valid = {totp.at(time.time() + 30 * k) for k in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def enrolled_officer(agency_id: int, email: str = EMAIL, rank: str = "Deputy Inspector General") -> pyotp.TOTP:
    """Register, confirm and enrol an officer; returns their authenticator."""
    officers.register_officer(agency_id, email, "Test Officer", rank)
    token = _token(email)
    enrolment = officers.set_password_and_begin_enrolment(token, PASSWORD)
    totp = pyotp.TOTP(enrolment.totp_secret)
    officers.complete_enrolment(token, totp.at(time.time() - 30))  # the previous step: now and +30 s stay free
    return totp


def test_only_an_official_domain_of_the_agency_may_register(agency):
    with pytest.raises(officers.OfficerError, match="gmail.com is not an official email domain of Test Cyber Crime Unit"):
        officers.register_officer(agency.id, "someone@gmail.com", "Someone", "Inspector")
    with pytest.raises(officers.OfficerError, match="not an official email domain"):
        officers.register_officer(agency.id, "someone@mail.cybercrime.gov.in.attacker.example", "Someone", "Inspector")
    with pytest.raises(officers.OfficerError, match="valid official email"):
        officers.register_officer(agency.id, "not-an-address", "Someone", "Inspector")
    with pytest.raises(officers.OfficerError, match="rank"):
        officers.register_officer(agency.id, EMAIL, "Someone", "")
    assert officers.list_officers() == [] and officers.outbox() == []


def test_confirmation_link_enrolment_and_sign_in(agency):
    view = officers.register_officer(
        agency.id, EMAIL.upper(), "Test Officer", "Superintendent of Police", base_url="https://platform.example"
    )
    assert view.email == EMAIL and not view.email_confirmed and not view.mfa_enrolled
    mail = officers.outbox(EMAIL)
    assert len(mail) == 1 and mail[0].link.startswith("https://platform.example/portal/confirm?token=")
    token = _token()

    # Registered but unconfirmed: no password exists, sign-in fails like any wrong credentials.
    with pytest.raises(officers.OfficerLoginFailed, match="invalid email, password or authentication code"):
        officers.login(EMAIL, PASSWORD, "000000")

    with pytest.raises(ValueError, match="at least 12"):
        officers.set_password_and_begin_enrolment(token, "short")
    enrolment = officers.set_password_and_begin_enrolment(token, PASSWORD)
    assert enrolment.totp_uri.startswith("otpauth://totp/") and EMAIL.replace("@", "%40") in enrolment.totp_uri
    totp = pyotp.TOTP(enrolment.totp_secret)
    # Confirmed, password set, authenticator not yet enrolled: still cannot sign in.
    with pytest.raises(officers.OfficerLoginFailed, match="authenticator is not set up"):
        officers.login(EMAIL, PASSWORD, totp.now())
    with pytest.raises(officers.OfficerError, match="code is not right"):
        officers.complete_enrolment(token, wrong_code(totp))
    enrolment_code = totp.at(time.time())  # kept, so the replay below reuses exactly this code
    done = officers.complete_enrolment(token, enrolment_code)
    assert done.email_confirmed and done.mfa_enrolled

    # The link is used up.
    with pytest.raises(officers.OfficerError, match="not valid"):
        officers.set_password_and_begin_enrolment(token, PASSWORD)

    from sqlalchemy import select

    from suraksha.db import session_scope

    with session_scope() as s:
        stored = s.scalar(select(officers.Officer.password_hash))
        tokens = s.scalars(select(officers.OfficerToken.id)).all()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert token not in tokens  # only the hash of the link's token is kept

    with pytest.raises(officers.OfficerLoginFailed):  # the enrolment code cannot be replayed
        officers.login(EMAIL, PASSWORD, enrolment_code)
    session_token = officers.login(EMAIL, PASSWORD, totp.at(time.time() + 30))
    who = officers.resolve_session(session_token)
    assert (
        who.agency_id == agency.id and who.actor == f"officer:{who.officer_id}" and who.rank == "superintendent"
    )  # the ladder's key
    officers.logout(session_token)
    assert officers.resolve_session(session_token) is None


def test_a_newer_link_replaces_the_older_one_and_links_expire(agency):
    officers.register_officer(agency.id, EMAIL, "Test Officer", "Inspector")
    first = _token()
    officers.register_officer(agency.id, EMAIL, "Test Officer", "Inspector General")
    second = _token()
    with pytest.raises(officers.OfficerError, match="not valid"):
        officers.check_confirmation(first)
    assert officers.check_confirmation(second).rank == "inspector_general"
    from suraksha.db import session_scope

    with session_scope() as s:
        for row in s.query(officers.OfficerToken).all():
            row.expires_at = row.expires_at - dt.timedelta(hours=officers.CONFIRM_HOURS + 1)
    with pytest.raises(officers.OfficerError, match="expired"):
        officers.check_confirmation(second)


def test_registering_an_enrolled_address_again_sends_a_notice_not_a_link(agency):
    enrolled_officer(agency.id)
    officers.register_officer(agency.id, EMAIL, "Impostor", "Inspector")
    last = officers.outbox(EMAIL)[-1]
    assert last.link is None and "already has a portal account" in last.body
    assert officers.list_officers()[0].name == "Test Officer"


def test_bad_codes_lock_the_officer_out_until_unlocked(agency):
    totp = enrolled_officer(agency.id)
    for _ in range(5):
        with pytest.raises(officers.OfficerLoginFailed, match="invalid"):
            officers.login(EMAIL, PASSWORD, wrong_code(totp))
    with pytest.raises(officers.OfficerLoginFailed, match="locked"):
        officers.login(EMAIL, PASSWORD, totp.at(time.time() + 30))
    assert officers.list_officers()[0].locked
    officers.unlock(officers.list_officers()[0].id, "user:t-legal")
    assert officers.resolve_session(officers.login(EMAIL, PASSWORD, totp.at(time.time() + 30)))


def test_sessions_expire_when_idle_and_end_when_deactivated(agency):
    totp = enrolled_officer(agency.id)
    token = officers.login(EMAIL, PASSWORD, totp.now())
    from suraksha.db import session_scope

    with session_scope() as s:
        row = s.query(officers.OfficerSession).one()
        row.last_seen_at = row.last_seen_at - dt.timedelta(minutes=31)
    assert officers.resolve_session(token) is None
    token = officers.login(EMAIL, PASSWORD, totp.at(time.time() + 30))
    officer_id = officers.list_officers()[0].id
    officers.set_active(officer_id, False, "user:t-legal")
    assert officers.resolve_session(token) is None
    with pytest.raises(officers.OfficerLoginFailed, match="deactivated"):
        officers.login(EMAIL, PASSWORD, totp.now())


def test_reset_clears_credentials_and_sends_a_new_link(agency):
    totp = enrolled_officer(agency.id)
    session_token = officers.login(EMAIL, PASSWORD, totp.now())
    officer_id = officers.list_officers()[0].id
    officers.reset_credentials(officer_id, "user:t-legal", base_url="https://platform.example")
    assert officers.resolve_session(session_token) is None
    with pytest.raises(officers.OfficerLoginFailed, match="invalid"):
        officers.login(EMAIL, PASSWORD, totp.at(time.time() + 30))
    view = officers.list_officers()[0]
    assert not view.mfa_enrolled and view.email_confirmed
    link = officers.outbox(EMAIL)[-1].link
    assert link.startswith("https://platform.example/portal/confirm?token=")
    enrolment = officers.set_password_and_begin_enrolment(_token(), "another long passphrase")
    new = pyotp.TOTP(enrolment.totp_secret)
    assert enrolment.totp_secret != totp.secret
    officers.complete_enrolment(_token(), new.at(time.time() - 30))
    assert officers.resolve_session(officers.login(EMAIL, "another long passphrase", new.now()))


def test_registering_again_and_again_does_not_flood_the_mailbox(agency):
    for _ in range(officers.MESSAGES_PER_HOUR + 3):
        officers.register_officer(agency.id, EMAIL, "Test Officer", "Inspector")
    mail = officers.outbox(EMAIL)
    assert len(mail) == officers.MESSAGES_PER_HOUR
    assert officers.check_confirmation(_token()).email == EMAIL  # the last link sent still works


def test_rank_comes_from_the_fixed_list_of_the_jurisdiction(agency):
    with pytest.raises(officers.OfficerError, match="choose your rank from the list: Constable, .*Director General"):
        officers.register_officer(agency.id, EMAIL, "Someone", "Chief Cyber Ninja")
    assert officers.register_officer(agency.id, EMAIL, "Someone", "Deputy Inspector-General of Police").rank == (
        "deputy_inspector_general"
    )


def test_only_officers_approved_by_the_legal_team_can_file(agency):
    from tests.legal.conftest import make_pdf

    from suraksha import legal
    from suraksha.errors import Forbidden

    letter = make_pdf("Authorisation of the DIG, Cyber")
    with pytest.raises(officers.OfficerError, match="authorising document: the document is not a PDF"):
        officers.register_officer(agency.id, EMAIL, "Test Officer", "Deputy Inspector General", authority=b"GIF89a")
    view = officers.register_officer(
        agency.id, EMAIL, "Test Officer", "Deputy Inspector General", authority=letter, authority_name="letter.pdf"
    )
    assert view.approval == "pending" and view.authority_filename == "letter.pdf"
    officer_id = view.id

    def file() -> legal.schemas.RequestView:
        data = legal.RequestIn(
            type="data_request",
            jurisdiction="in",
            channel="portal",
            agency_id=agency.id,
            officer_id=officer_id,
            officer_name="Test Officer",
            officer_rank="director_general",  # what a form says is not what counts
            officer_email=EMAIL,
            issuer_kind="police",
            legal_basis="BNSS s.94",
            case_number="FIR 1/2026",
            data_points=["ip_logs"],
            targets=[{"kind": "account", "value": "acct-1"}],
        )
        return legal.file_request(data, f"officer:{officer_id}", document=letter)

    with pytest.raises(Forbidden, match="awaiting approval"):
        file()
    with pytest.raises(Forbidden, match="legal team"):
        officers.approve_officer(officer_id, "user:ravi", "reviewer")
    with pytest.raises(officers.OfficerError, match="why"):
        officers.approve_officer(officer_id, "user:lena", "legal", approve=False)
    refused = officers.approve_officer(officer_id, "user:lena", "legal", "letter is for another officer", approve=False)
    assert refused.approval == "refused"
    with pytest.raises(Forbidden, match="not approved"):
        file()
    approved = officers.approve_officer(officer_id, "user:lena", "legal", "rank and letter checked with the unit")
    assert approved.approved and approved.approved_by == "user:lena" and approved.approved_at is not None
    filed = file()
    assert filed.officer_rank == "deputy_inspector_general"  # the approved rank, not the form's
    name, content = officers.authority_document(officer_id, "user:lena")
    assert name == "letter.pdf" and content == letter


def test_approval_needs_the_authorising_document_on_file(agency):
    view = officers.register_officer(agency.id, EMAIL, "Test Officer", "Inspector")
    with pytest.raises(officers.OfficerError, match="no authorising document"):
        officers.approve_officer(view.id, "user:lena", "legal")
