"""Review service: tasks from the outbox exactly once, queue order, decisions, second review,
escalation, banking confirmed hashes, the reporting rule, cases and the account overview."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from suraksha.cases import service as review
from suraksha.db import session_scope
from suraksha.dispatch import deliver
from suraksha.errors import Forbidden


def _count(model, *where) -> int:
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where)) or 0


def _task_for(item_id: int) -> int:
    from suraksha.cases.models import ReviewTask

    with session_scope() as s:
        return s.scalar(select(ReviewTask.id).where(ReviewTask.item_id == item_id))


def test_outbox_review_messages_become_tasks_exactly_once(review_env):
    from suraksha.cases.models import ReviewTask
    from suraksha.outbox.models import OutboxMessage

    assert deliver("review").made == 4
    assert deliver("review").made == 0
    assert _count(ReviewTask) == 4
    assert _count(OutboxMessage, OutboxMessage.topic == "review", OutboxMessage.status == "pending") == 0
    # A message re-delivered (same item and queue) after a crash does not create a second task.
    with session_scope() as s:
        s.add(
            OutboxMessage(
                topic="review",
                dedupe_key="again",
                item_id=review_env["items"][0],
                status="pending",
                payload={"queue": "csam", "priority": 10},
            )
        )
    assert deliver("review").made == 0
    assert _count(ReviewTask) == 4


def test_queues_order_by_priority_then_age_with_sla(review_env, actors):
    deliver("review")
    rita = actors["rita"]
    queues = {q.queue: q for q in review.list_queues(rita)}
    assert set(queues) == {"csam", "default"} and queues["csam"].waiting == 2
    tasks = review.list_tasks(rita, "csam")
    assert [t.priority for t in tasks] == [10, 5]
    # csam's SLA is 60 minutes by default; default queue 24 hours.
    assert abs((tasks[0].due_at - tasks[0].created_at) - dt.timedelta(minutes=60)) < dt.timedelta(seconds=1)
    d = review.list_tasks(rita, "default")
    assert abs((d[0].due_at - d[0].created_at) - dt.timedelta(hours=24)) < dt.timedelta(seconds=1)
    assert review.next_task(rita, "csam") == tasks[0].id
    with pytest.raises(Forbidden):
        review.list_tasks(rita, "csam", "escalated")
    with pytest.raises(review.ReviewError, match="unknown stage"):
        review.list_tasks(rita, "csam", "bogus")


def test_csam_needs_a_second_reviewer_then_is_reportable_and_banked(review_env, actors):
    from suraksha.cases.models import CaseItem
    from suraksha.matching.banks import get_bank

    deliver("review")
    item = review_env["items"][0]
    task = _task_for(item)
    rita, raj = actors["rita"], actors["raj"]

    r = review.decide(task, rita, "csam", "A1", "clear match", bank="review-demo-csam")
    assert not r.final and r.status == "second_review"
    assert review.get_decision(item) is None
    assert not review.decision_satisfies_report_rule(item, two_person=False)
    assert get_bank("review-demo-csam").entries == 0  # nothing banked before it is confirmed
    # The first reviewer cannot confirm their own decision.
    with pytest.raises(review.ReviewError, match="second reviewer"):
        review.decide(task, rita, "csam", "A1")
    assert review.next_task(rita, "csam", "second_review") is None
    assert review.next_task(raj, "csam", "second_review") == task

    r = review.decide(task, raj, "csam", "A1", "agree")
    assert r.final and r.status == "done"
    d = review.get_decision(item)
    assert d.category == "csam" and d.industry_class == "A1" and d.reportable
    assert set(d.reviewer_ids) == {rita.user_id, raj.user_id}
    assert review.decision_satisfies_report_rule(item, two_person=True)
    # Two pictures: sha256 + md5 + pdq each.
    assert r.bank_result["added"] == 6 and get_bank("review-demo-csam").entries == 6
    assert _count(CaseItem, CaseItem.item_id == item) == 1
    with pytest.raises(review.ReviewError, match="decided"):
        review.decide(task, actors["sana"], "not_violating")


def test_second_review_disagreement_goes_to_a_senior(review_env, actors):
    deliver("review")
    item = review_env["items"][1]
    task = _task_for(item)
    review.decide(task, actors["rita"], "csam", "B2")
    r = review.decide(task, actors["raj"], "csam", "A2")
    assert not r.final and r.status == "escalated"
    with pytest.raises(review.ReviewError, match="senior"):
        review.decide(task, actors["raj"], "csam", "A2")
    r = review.decide(task, actors["sana"], "csam", "A2")
    assert r.final
    d = review.get_decision(item)
    assert d.industry_class == "A2" and set(d.reviewer_ids) == {actors["raj"].user_id, actors["sana"].user_id}
    assert review.decision_satisfies_report_rule(item, two_person=True)


def test_single_review_when_not_configured_and_not_violating_is_never_reportable(review_env, actors, monkeypatch):
    from suraksha.cases.settings import reset_review_settings

    monkeypatch.setenv("SURAKSHA_REVIEW_SECOND_REVIEW", "")
    reset_review_settings()
    deliver("review")
    a, b = review_env["items"][0], review_env["items"][2]
    assert review.decide(_task_for(a), actors["rita"], "csam", "B1").final
    assert review.decision_satisfies_report_rule(a, two_person=False)
    assert not review.decision_satisfies_report_rule(a, two_person=True)  # one person only
    r = review.decide(_task_for(b), actors["rita"], "not_violating", bank="review-demo-false-positives")
    assert r.final and review.get_decision(b).category == "not_violating"
    assert not review.decision_satisfies_report_rule(b, two_person=False)
    assert r.bank_result["added"] == 3  # hashes kept even though the bytes were not


def test_escalation_by_a_reviewer(review_env, actors):
    deliver("review")
    task = _task_for(review_env["items"][3])
    review.escalate(task, actors["rita"], "not sure about the context")
    assert review.next_task(actors["sana"], "default", "escalated") == task
    view = review.get_task(task, actors["rita"])
    assert not view.can_decide and "senior" in view.why_not
    with pytest.raises(review.ReviewError, match="already escalated"):
        review.escalate(task, actors["raj"])


@pytest.mark.parametrize(
    "args, message",
    [
        (("csam", None), "industry class"),
        (("csam", "C9"), "industry class"),
        (("adult", "A1"), "only to a CSAM picture"),
        (("spam", None), "unknown category"),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(review_env, actors, args, message):
    from suraksha.cases.models import ReviewDecision

    deliver("review")
    task = _task_for(review_env["items"][0])
    with pytest.raises(review.ReviewError, match=message):
        review.decide(task, actors["rita"], *args)
    assert _count(ReviewDecision) == 0


def test_bank_must_fit_the_decision(review_env, actors):
    deliver("review")
    task = _task_for(review_env["items"][0])
    with pytest.raises(review.ReviewError, match="negative bank"):
        review.decide(task, actors["rita"], "not_violating", bank="review-demo-csam")
    with pytest.raises(review.ReviewError, match="cannot take"):
        review.decide(task, actors["rita"], "csam", "A1", bank="review-demo-false-positives")
    with pytest.raises(review.ReviewError, match="cannot take"):
        review.decide(task, actors["rita"], "csam", "A1", bank="no-such-bank")
    with pytest.raises(review.TaskNotFound):
        review.decide(999999, actors["rita"], "adult")


def test_reveals_count_towards_todays_exposure(review_env, actors):
    item = review_env["items"][0]
    assert review.exposure_today(actors["rita"].user_id) == 0
    assert review.record_reveal(actors["rita"], item, 0) == 1
    assert review.record_reveal(actors["rita"], item, 1) == 2
    assert review.exposure_today(actors["raj"].user_id) == 0
    with pytest.raises(LookupError):
        review.record_reveal(actors["rita"], item, 7)


def test_media_bytes_only_while_retained(review_env, actors, reference_dir):
    kept = review.media_bytes(review_env["items"][0], 0, actors["rita"])
    assert kept is not None and kept[0] == (reference_dir / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    assert kept[1] == "image/jpeg"
    assert review.media_bytes(review_env["items"][2], 0, actors["rita"]) is None  # only hashes kept


def _passerby(review_env) -> int:
    """An account that shares only coincidences with the demo accounts: riverbank's picture (which
    matched no bank) and sunrise's IP address three days after anything flagged, in an allowed item."""
    from suraksha.items.models import Account, Item, ItemMedia

    with session_scope() as s:
        river = s.scalar(select(ItemMedia).where(ItemMedia.item_id == review_env["items"][2]))
        latest = max(s.scalars(select(Item.created_at).where(Item.id.in_(review_env["items"]))).all())
        acc = Account(platform_account_id="acct-passerby", handle="passerby")
        s.add(acc)
        s.flush()
        item = Item(
            platform_id="passerby-post",
            account_id=acc.id,
            kind="post",
            text="hello",
            links=[],
            context={"ip": "203.0.113.7"},
            status="done",
            verdict="allow",
            created_at=latest + dt.timedelta(days=3),
        )
        s.add(item)
        s.flush()
        s.add(
            ItemMedia(
                item_id=item.id,
                position=0,
                mime="image/jpeg",
                size=river.size,
                kind="image",
                sha256=river.sha256,
                md5=river.md5,
                pdq=river.pdq,
            )
        )
        return acc.id


def test_account_overview_and_its_network_follow_the_networks_rule(review_env, actors):
    from suraksha.cases.links import account_overview
    from suraksha.networks.service import network_for

    accts = review_env["accounts"]
    passerby = _passerby(review_env)
    a = account_overview(accts["sunrise_42"], "staff:ana")
    assert a.items_total == 2 and len(a.items) == 2
    assert any(m["bank"] == "review-demo-csam" for m in a.matches)
    assert not hasattr(a, "linked")  # one definition of linked accounts: the network
    net = network_for(accts["sunrise_42"])
    by_handle = {m.handle: m for m in net.members}
    assert set(by_handle) == {"sunrise_42", "moonlight_7", "riverbank"}  # not the passerby
    assert "ip 203.0.113.7" in by_handle["moonlight_7"].linked_by
    assert by_handle["riverbank"].linked_by == ["link https://files.example.org/share/abc123"]
    # Same picture and same IP as the group, but the picture matched no bank and nothing flagged
    # came from that IP near its post: coincidences link nobody.
    assert network_for(passerby).size == 1
    with pytest.raises(LookupError):
        account_overview(999999, "staff:ana")


def test_cases_group_items_and_accounts(review_env, actors):
    sana = actors["sana"]
    case_id = review.create_case("Sunrise network", sana, item_ids=[review_env["items"][0]])
    review.add_to_case(case_id, sana, account_id=review_env["accounts"]["riverbank"])
    view = review.get_case(case_id, sana)
    assert [i["id"] for i in view.items] == [review_env["items"][0]]
    assert {a["handle"] for a in view.accounts} == {"sunrise_42", "riverbank"}
    with pytest.raises(review.ReviewError, match="title"):
        review.create_case("  ", sana)
    with pytest.raises(review.ReviewError, match="either"):
        review.add_to_case(case_id, sana)
    with pytest.raises(review.ReviewError, match="not found"):
        review.add_to_case(case_id, sana, item_id=424242)
    review.set_case_status(case_id, "closed", sana)
    assert [c.status for c in review.list_cases()] == ["closed"]
