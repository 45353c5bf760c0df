"""One name per action from the policy to the platform: what a scan enqueues is the action row the
connector is sent, by the same name, with its argument carried as data (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from suraksha.db import session_scope

from .helpers import csam_bank, jpeg_bytes, scan_all, submit


def _message(dedupe_key: str, payload: dict, item_id: int = 7, account_id: int | None = 3) -> int:
    from suraksha.outbox.models import OutboxMessage

    with session_scope() as s:
        m = OutboxMessage(topic="action", dedupe_key=dedupe_key, item_id=item_id, account_id=account_id, payload=payload)
        s.add(m)
        s.flush()
        return m.id


def test_a_withholding_travels_as_kind_and_country_and_becomes_that_action(env):
    from suraksha.dispatch import deliver
    from suraksha.enforcement.actions import list_actions
    from suraksha.policy import ActionKind, ActionRequest

    request = ActionRequest(ActionKind.WITHHOLD_IN_COUNTRY, "IN")
    _message(f"7:action:{request}", {"action": request.to_json(), "platform_id": "post-7", "rule": "obscene-in-india"})
    assert deliver("action").made == 1
    [a] = list_actions(kind=ActionKind.WITHHOLD_IN_COUNTRY)
    assert (a.kind, a.country, a.item_id, a.platform_item_id) == ("withhold_in_country", "IN", 7, "post-7")
    assert a.idempotency_key == "withhold_in_country:item:7:IN" and a.reason == "policy rule obscene-in-india"
    assert list_actions(kind="withhold_in_country") == [a]  # the name works where text comes in (CLI, API)


@pytest.mark.parametrize(
    "action, why",
    [
        ("remove", "an action is {'kind': ..., 'argument': ...}"),  # the text form from before p0005: not parsed
        ({"kind": "remove"}, "unknown action kind 'remove'"),
        ({"kind": "withhold_in_country", "argument": "India"}, "two-letter"),
        ({"kind": "report", "argument": "ncmec"}, "'report:ncmec' is not an action on the platform"),
    ],
)
def test_a_message_that_is_not_a_platform_action_is_skipped_with_the_reason(env, action, why):
    from suraksha.dispatch import deliver
    from suraksha.enforcement.actions import list_actions
    from suraksha.outbox.models import OutboxMessage

    message_id = _message("7:action:x", {"action": action})
    assert deliver("action").skipped == 1 and list_actions() == []
    with session_scope() as s:
        m = s.get(OutboxMessage, message_id)
        assert m.status == "skipped" and why in m.last_error


def test_a_person_asks_by_the_same_names(env):
    from suraksha.enforcement.actions import ActionError, request_action
    from suraksha.items.models import Account, Item
    from suraksha.policy import ActionKind

    with session_scope() as s:
        acc = Account(platform_account_id="acct-1")
        s.add(acc)
        s.flush()
        item = Item(
            platform_id="post-1",
            account_id=acc.id,
            kind="post",
            links=[],
            context={},
            status="done",
            reasons=[],
            actions=[],
            text_hits=[],
        )
        s.add(item)
        s.flush()
        item_id = item.id
    view, created = request_action(
        ActionKind.WITHHOLD_IN_COUNTRY, "user:legal", item_id=item_id, country="gb", reason="court order"
    )
    assert created and (view.kind, view.country) == ("withhold_in_country", "GB")
    again, created = request_action("withhold_in_country", "user:legal", item_id=item_id, country="GB", reason="again")
    assert not created and again.id == view.id
    for name in ("remove", "report", "withhold"):  # an old policy name, a policy-only kind: not platform actions
        with pytest.raises(ActionError, match="expected one of remove_item, suspend_account, withhold_in_country"):
            request_action(name, "user:legal", item_id=item_id, reason="x")


def test_a_scanned_item_keeps_its_facts_and_its_actions_by_their_one_name(dispatcher, platform, reference_dir):
    from suraksha.enforcement.actions import list_actions
    from suraksha.items.models import Item
    from suraksha.outbox.models import OutboxMessage
    from suraksha.pipeline.views import get_item

    image = csam_bank(reference_dir)
    item_id = submit("post-named", "acct-named", [image], country="IN")
    benign = submit("post-benign", "acct-benign", [jpeg_bytes(5)], country="IN")
    scan_all()
    view = get_item(item_id)
    assert view.actions == ["remove_item", "suspend_account", "preserve", "report:ncmec", "review:csam", "report:in_police"]
    hashes = [f for f in view.facts if f["kind"] == "hash"]  # each hash of the picture that hit the bank, per rule
    assert {f["rule"] for f in hashes} == {"csam-match", "csam-match-india"}
    by_match = {(f["match"]["signal_type"], f["match"]["entry_id"]) for f in hashes}
    assert {(m.signal_type, m.entry_id) for m in view.matches} == by_match
    assert all(f["match"]["label"] == "csam" and f["match"]["bank"] == "known-csam" for f in hashes)
    assert {"kind": "context", "rule": "csam-match-india", "condition": "country", "value": "IN"} in view.facts
    assert get_item(benign).facts == []
    with session_scope() as s:
        assert s.scalar(select(Item.facts).where(Item.id == benign)) == []
        payloads = {
            m.dedupe_key: m.payload["action"] for m in s.scalars(select(OutboxMessage).where(OutboxMessage.topic == "action"))
        }
    assert payloads == {
        f"{item_id}:action:remove_item": {"kind": "remove_item", "argument": None},
        f"{item_id}:action:suspend_account": {"kind": "suspend_account", "argument": None},
    }
    dispatcher.run_once()
    assert sorted(a.kind for a in list_actions()) == ["remove_item", "suspend_account"]
    assert sorted(r["type"] for r in platform.requests) == ["remove_item", "suspend_account"]  # the webhook's name too
