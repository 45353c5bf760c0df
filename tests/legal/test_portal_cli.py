"""`suraksha portal ...`: the mail relay's outbox (list, mark sent), officer states, reset,
unlock / deactivate, and one-line errors."""

from __future__ import annotations

import json

import pytest
from tests.legal.test_portal_officers import EMAIL, PASSWORD, agency, enrolled_officer  # noqa: F401
from typer.testing import CliRunner

from suraksha.cli import app
from suraksha.legal import officers

runner = CliRunner()


def _run(*args: str):
    return runner.invoke(app, ["portal", *args])


def test_outbox_for_the_mail_relay_and_marking_sent(agency):
    officers.register_officer(agency.id, EMAIL, "Test Officer", "Inspector", base_url="https://safety.example")
    r = _run("outbox")
    assert r.exit_code == 0, r.output
    messages = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(messages) == 1 and messages[0]["to"] == EMAIL
    assert "https://safety.example/portal/confirm?token=" in messages[0]["body"]
    r = _run("sent", str(messages[0]["id"]))
    assert r.exit_code == 0 and "marked 1 message(s) sent" in r.stdout
    assert _run("outbox").stdout == "" and len(_run("outbox", "--all").stdout.splitlines()) == 1
    assert "marked 0" in _run("sent", str(messages[0]["id"])).stdout  # once only


def test_officer_states_reset_and_errors(agency):
    import time

    totp = enrolled_officer(agency.id)
    r = _run("officers", "--json")
    row = json.loads(r.stdout)
    assert row["email"] == EMAIL and row["state"] == "active" and "secret" not in r.stdout.lower()
    oid = str(row["id"])
    assert _run("deactivate", oid).exit_code == 0
    assert "deactivated" in _run("officers").stdout
    assert _run("activate", oid).exit_code == 0 and _run("unlock", oid).exit_code == 0

    r = _run("reset", oid, "--base-url", "https://safety.example")
    assert r.exit_code == 0 and "new confirmation link is in the outbox" in r.stdout
    assert "authenticator not set up" in _run("officers").stdout
    with pytest.raises(officers.OfficerLoginFailed):  # the old password and authenticator are gone
        officers.login(EMAIL, PASSWORD, totp.at(time.time() + 30))

    r = _run("unlock", "99999")
    assert r.exit_code == 1 and r.stderr.strip() == "error: no officer 99999"
    r = _run("reset", oid, "--base-url", "safety.example")
    assert r.exit_code == 1 and "error: --base-url must start with https://" in r.stderr
