"""Actions: created once from the outbox, suspensions collapsed per account, retried with backoff,
dead-lettered with an alert, retried by hand, and network suspension."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update

from suraksha.db import session_scope

from .helpers import SECRET, csam_bank, jpeg_bytes, scan_all, submit


def _due_now() -> None:
    from suraksha.enforcement.models import Action

    with session_scope() as s:
        s.execute(update(Action).values(next_attempt_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))


def _account_id(platform_account_id: str) -> int:
    from suraksha.items.models import Account

    with session_scope() as s:
        return s.scalar(select(Account.id).where(Account.platform_account_id == platform_account_id))


def test_many_items_of_one_account_make_one_suspension_and_one_removal_each(dispatcher, platform, reference_dir):
    from suraksha.enforcement.actions import get_action, list_actions

    image = csam_bank(reference_dir)
    items = [submit(f"p{i}", "acct-1", [image], country="IN") for i in range(3)]
    scan_all()
    dispatcher.run_once()
    dispatcher.run_once()  # nothing new: the outbox messages were taken once

    removals = list_actions(kind="remove_item")
    [suspension] = list_actions(kind="suspend_account")
    assert sorted(a.item_id for a in removals) == sorted(items)
    assert get_action(suspension.id).item_ids == sorted(items)
    assert list_actions(item_id=items[1], kind="suspend_account")[0].id == suspension.id
    [sent] = platform.performed("suspend_account")
    assert sent["account"] == {"platform_account_id": "acct-1"} and sent["item"] is None
    assert sent["labels"] == ["csam"] and "csam-match" in sent["reason"]
    assert len(platform.requests) == 4  # 3 removals + 1 suspension, each sent once


def test_failed_deliveries_back_off_then_dead_letter_with_an_alert_then_manual_retry(
    dispatcher, platform, reference_dir, monkeypatch, caplog
):
    from suraksha.enforcement.actions import DEAD_LETTERS, get_action, list_actions, retry_action
    from suraksha.enforcement.settings import reset_enforcement_settings

    monkeypatch.setenv("SURAKSHA_ACTION_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("SURAKSHA_ACTION_BACKOFF_BASE_S", "10")
    reset_enforcement_settings()
    submit("p1", None, [csam_bank(reference_dir)])  # no account: only the removal
    scan_all()
    platform.fail_next = [503] * 3
    before = DEAD_LETTERS.labels("remove_item")._value.get()

    t0 = dt.datetime.now(dt.UTC)
    dispatcher.run_once()
    [a] = list_actions()
    assert a.status == "failed" and a.attempts == 1 and "503" in a.last_error
    assert t0 + dt.timedelta(seconds=5) <= a.next_attempt_at <= t0 + dt.timedelta(seconds=11)  # 10 s, jittered 50-100 %
    dispatcher.run_once()
    assert list_actions()[0].attempts == 1  # not due yet: nothing sent
    for _ in range(2):
        _due_now()
        dispatcher.run_once()
    a = get_action(a.id)
    assert a.status == "dead" and a.alert and a.attempts == 3
    assert [d.http_status for d in a.deliveries] == [503, 503, 503] and {d.outcome for d in a.deliveries} == {"error"}
    assert DEAD_LETTERS.labels("remove_item")._value.get() == before + 1
    assert any("ALERT" in r.message and str(a.id) in r.message for r in caplog.records)
    assert list_actions(alert=True)[0].id == a.id
    assert platform.performed("remove_item") == []

    retry_action(a.id, "user:lead")
    dispatcher.run_once()
    a = get_action(a.id)
    assert a.status == "acknowledged" and not a.alert
    assert [d.outcome for d in a.deliveries] == ["error", "error", "error", "acknowledged"]
    assert len(platform.performed("remove_item")) == 1
    with pytest.raises(ValueError, match="only dead or failed"):
        retry_action(a.id, "user:lead")


def test_a_refused_request_is_dead_lettered_at_once(dispatcher, platform, reference_dir):
    from suraksha.enforcement.actions import list_actions

    submit("p1", None, [csam_bank(reference_dir)])
    scan_all()
    platform.fail_next = [422]
    dispatcher.run_once()
    [a] = list_actions()
    assert a.status == "dead" and a.attempts == 1 and "not retryable" in a.last_error


def test_a_wrong_secret_is_refused_by_the_platform_and_dead_lettered(env, platform, reference_dir):
    from suraksha.dispatch import Dispatcher
    from suraksha.enforcement.actions import list_actions
    from suraksha.enforcement.connector import HttpConnector

    submit("p1", None, [csam_bank(reference_dir)])
    scan_all()
    d = Dispatcher(HttpConnector("https://platform.example/hook", "not-the-secret", transport=platform.transport()))
    d.run_once()
    assert list_actions()[0].status == "dead" and "401" in list_actions()[0].last_error
    assert "does not match" in platform.refused[0] and platform.effects == {}


def test_suspend_network_suspends_every_account_that_posted_the_same_material(dispatcher, platform, reference_dir):
    from suraksha.enforcement.actions import ActionError, list_actions
    from suraksha.matching import banks
    from suraksha.matching.matcher import reset_matcher
    from suraksha.networks.suspend import suspend_network

    bridge = reference_dir / "pdq" / "bridge-mods"
    image = (bridge / "aaa-orig.jpg").read_bytes()
    submit("early", "acct-early", [image])  # posted before the bank knew the picture: no match, no suspension
    submit("benign", "acct-benign", [jpeg_bytes(1)])
    scan_all()
    assert list_actions() == []
    csam_bank(reference_dir)
    submit("a1", "acct-a", [image])
    submit("c1", "acct-c", [(bridge / "blur-a-lot.jpg").read_bytes()])  # near-duplicate: same bank entry, other SHA-256
    scan_all()
    dispatcher.run_once()

    result = suspend_network(_account_id("acct-a"), "network sharing known CSAM", "user:lead")
    members = {m.platform_account_id: m for m in result.members}
    assert set(members) == {"acct-a", "acct-early", "acct-c"}
    assert [m.platform_account_id for m in result.enqueued] == ["acct-early"]
    assert any(s.startswith("sha256:") for s in members["acct-early"].shared)
    assert any(s.startswith("entry:") for s in members["acct-c"].shared)
    dispatcher.run_once()
    suspended = sorted(r["account"]["platform_account_id"] for r in platform.performed("suspend_account"))
    assert suspended == ["acct-a", "acct-c", "acct-early"]
    # Again: nothing new is enqueued, nothing sent twice.
    assert suspend_network(_account_id("acct-a"), "again", "user:lead").enqueued == []
    with pytest.raises(ActionError, match="max_accounts"):
        suspend_network(_account_id("acct-a"), "too wide", "user:lead", max_accounts=2)
    with pytest.raises(ValueError, match="reason"):
        suspend_network(_account_id("acct-a"), " ", "user:lead")
    with pytest.raises(LookupError):
        suspend_network(999_999, "x", "user:lead")


def test_restore_then_a_new_match_suspends_again(dispatcher, platform, reference_dir):
    from suraksha.enforcement.actions import list_actions, request_action

    image = csam_bank(reference_dir)
    submit("p1", "acct-1", [image])
    scan_all()
    dispatcher.run_once()
    acct = _account_id("acct-1")
    restore, created = request_action("restore", "user:lead", account_id=acct, reason="appeal upheld")
    assert created and restore.idempotency_key == f"restore:account:{acct}:1"
    again, created_again = request_action("restore", "user:lead", account_id=acct, reason="double click")
    assert again.id != restore.id  # a second, separate restore is on record
    submit("p2", "acct-1", [image])
    scan_all()
    dispatcher.run_once()
    keys = [a.idempotency_key for a in list_actions(kind="suspend_account")]
    assert sorted(keys) == [f"suspend_account:account:{acct}", f"suspend_account:account:{acct}:g2"]
    assert [r["type"] for r in platform.requests].count("suspend_account") == 2


def test_manual_requests_are_validated(env, reference_dir):
    from suraksha.enforcement.actions import ActionError, request_action

    image = csam_bank(reference_dir)
    item = submit("p1", "acct-1", [image])
    with pytest.raises(ActionError, match="unknown action kind"):
        request_action("delete_everything", "user:x", item_id=item, reason="r")
    with pytest.raises(ActionError, match="reason"):
        request_action("remove_item", "user:x", item_id=item, reason="")
    with pytest.raises(ActionError, match="message"):
        request_action("notify_user", "user:x", item_id=item, reason="r")
    with pytest.raises(ActionError, match="country"):
        request_action("withhold_in_country", "user:x", item_id=item, reason="r", country="India")
    with pytest.raises(LookupError):
        request_action("remove_item", "user:x", item_id=424242, reason="r")
    a, _ = request_action("withhold_in_country", "user:x", item_id=item, reason="blocking order", country="in")
    assert a.country == "IN" and a.platform_item_id == "p1"
    n, _ = request_action("notify_user", "user:x", item_id=item, reason="policy", message="Your post was removed.")
    assert n.kind == "notify_user"


def test_an_outbox_suspension_without_an_account_is_skipped_with_a_reason(env):
    from suraksha.dispatch import deliver
    from suraksha.enforcement.actions import list_actions
    from suraksha.outbox.models import OutboxMessage

    with session_scope() as s:
        s.add(
            OutboxMessage(
                topic="action",
                dedupe_key="5:action:suspend_account",
                item_id=5,
                payload={"action": {"kind": "suspend_account", "argument": None}},
            )
        )
    assert deliver("action").skipped == 1
    assert list_actions() == []
    with session_scope() as s:
        m = s.scalars(select(OutboxMessage)).one()
        assert m.status == "skipped" and "without an account" in m.last_error


def test_connector_settings_production_needs_a_url_demo_records_locally(env, monkeypatch, home):
    from suraksha.config import reset_settings
    from suraksha.enforcement.connector import RecordingConnector, Webhook, connector_from_settings, verify_signature
    from suraksha.enforcement.settings import reset_enforcement_settings

    monkeypatch.delenv("SURAKSHA_CONNECTOR_URL")
    reset_enforcement_settings()
    monkeypatch.setenv("SURAKSHA_MODE", "production")
    reset_settings()
    with pytest.raises(ValueError, match="must be set in production"):
        connector_from_settings()
    monkeypatch.setenv("SURAKSHA_CONNECTOR_URL", "http://platform.example/hook")
    reset_enforcement_settings()
    with pytest.raises(ValueError, match="https"):
        connector_from_settings()
    monkeypatch.setenv("SURAKSHA_MODE", "demo")
    monkeypatch.delenv("SURAKSHA_CONNECTOR_URL")
    reset_settings()
    reset_enforcement_settings()
    c = connector_from_settings()
    assert isinstance(c, RecordingConnector)
    assert c.deliver(Webhook("restore", "restore:item:1:1", {"id": "restore:item:1:1"})).acknowledged
    line = json.loads(c.path.read_text().splitlines()[0])
    assert line["body"]["id"] == "restore:item:1:1"
    body = json.dumps(line["body"], sort_keys=True, separators=(",", ":")).encode()
    assert verify_signature(line["headers"], body, "demo-connector-secret")
