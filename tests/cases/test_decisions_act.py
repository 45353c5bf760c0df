"""A person's final decision acts: the policy's actions for its category on any item, whatever
flagged it (removal, suspension, preservation, a report to each authority the item's country
requires); restore + notify after a final "not violating" of an actioned item; categories per kind
of content; blind second review; a senior who is neither reviewer; people's own actions through the
outbox; the audit of media reveals says what was served."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from suraksha.cases import service as review
from suraksha.db import session_scope
from suraksha.dispatch import deliver
from suraksha.errors import Forbidden, InvalidInput


def _task_for(item_id: int, queue: str | None = None) -> int:
    from suraksha.cases.models import ReviewTask

    with session_scope() as s:
        q = select(ReviewTask.id).where(ReviewTask.item_id == item_id)
        if queue:
            q = q.where(ReviewTask.queue == queue)
        return s.scalar(q.order_by(ReviewTask.id.desc()).limit(1))


def _messages(item_id: int) -> dict[str, list[dict]]:
    from suraksha.outbox.models import OutboxMessage

    out: dict[str, list[dict]] = {}
    with session_scope() as s:
        for m in s.scalars(select(OutboxMessage).where(OutboxMessage.item_id == item_id).order_by(OutboxMessage.id)):
            out.setdefault(m.topic, []).append(dict(m.payload or {}))
    return out


def _actions_of(item_id: int) -> list[tuple[str, str, str]]:
    from suraksha.enforcement.models import Action, ActionItem

    with session_scope() as s:
        rows = s.execute(
            select(Action.kind, Action.source, Action.reason)
            .join(ActionItem, ActionItem.action_id == Action.id)
            .where(ActionItem.item_id == item_id)
            .order_by(Action.id)
        ).all()
    return [tuple(r) for r in rows]


def _reports_of(item_id: int) -> set[str]:
    from suraksha.reporting.models import Report

    with session_scope() as s:
        return set(s.scalars(select(Report.destination).where(Report.item_id == item_id)).all())


def _text_item(platform_id: str, text: str, links: list[str], *, country: str = "GB", actions: list[str] | None = None) -> int:
    """A text or link post flagged for review (no media), as a finished scan leaves it."""
    from suraksha.items.models import Account, Item
    from suraksha.outbox import enqueue

    with session_scope() as s:
        acc = Account(platform_account_id=f"acct-{platform_id}", handle=f"h_{platform_id}")
        s.add(acc)
        s.flush()
        item = Item(
            platform_id=platform_id,
            account_id=acc.id,
            kind="post",
            text=text,
            links=links,
            context={"country": country, "ip": "192.0.2.10"},
            status="done",
            verdict="review",
            rule="csam-links",
            reasons=["csam-links: link to an onion service"],
            actions=actions or ["review:links"],
            text_hits=[{"kind": "onion", "value": "abcdefghijklmnop.onion"}],
        )
        s.add(item)
        s.flush()
        enqueue(
            s,
            "review",
            {"queue": "links", "priority": 3, "reasons": ["link"]},
            f"{item.id}:review:links",
            item_id=item.id,
            account_id=acc.id,
        )
        return item.id


@pytest.fixture
def more_staff(actors):
    from suraksha.auth.service import create_user, list_users
    from suraksha.cases.service import Actor

    for name, role in (("tom", "reviewer"), ("siva", "senior_reviewer"), ("lee", "legal")):
        create_user(name, role, password="correct horse battery", must_change_password=False)
    return {u.username: Actor(u.id, u.username, u.role) for u in list_users()}


def test_two_reviewers_confirming_csam_remove_suspend_preserve_and_report_per_country(review_env, actors):
    deliver("review")
    item = review_env["items"][0]  # a picture flagged for review (verdict review: nothing done yet), country IN
    task = _task_for(item)
    first = review.decide(task, actors["rita"], "csam", "A1", "clear")
    assert not first.final and first.actions == []
    assert "action" not in _messages(item) and "report" not in _messages(item)

    final = review.decide(task, actors["raj"], "csam", "A1", "agree")
    assert final.final
    assert set(final.actions) == {"remove_item", "suspend_account", "preserve", "report:ncmec", "report:in_police"}
    msgs = _messages(item)
    assert {m["action"]["kind"] for m in msgs["action"]} == {"remove_item", "suspend_account"}
    assert {m["destination"] for m in msgs["report"]} == {"ncmec", "in_police"}
    assert len(msgs["preserve"]) == 1
    assert all(m["source"] == "review" and m["requested_by"] == "user:raj" for m in msgs["action"])

    deliver("action")
    deliver("report")
    kinds = {k for k, _, _ in _actions_of(item)}
    assert kinds == {"remove_item", "suspend_account"}
    assert all(src == "review" and "review decision" in reason for _, src, reason in _actions_of(item))
    assert _reports_of(item) == {"ncmec", "in_police"}


def test_text_post_gets_text_categories_and_a_grooming_decision_acts(review_env, actors):
    item = _text_item("txt-1", "dm me pics, I'll pay. see abcdefghijklmnop.onion", ["http://abcdefghijklmnop.onion/x"])
    deliver("review")
    task = _task_for(item, "links")
    with pytest.raises(review.ReviewError, match="no picture or video"):
        review.decide(task, actors["rita"], "csam", "A1")
    r = review.decide(task, actors["rita"], "grooming", None, "solicitation of a minor")
    assert r.final  # grooming is not in this setup's second-review list
    assert set(r.actions) == {"remove_item", "suspend_account", "preserve", "report:ncmec", "report:uk_nca"}
    assert review.get_decision(item).reportable


def test_link_category_needs_a_text_or_link(review_env, actors):
    deliver("review")
    media_only = review_env["items"][1]
    with session_scope() as s:
        from suraksha.items.models import Item

        s.get(Item, media_only).text = None
        s.get(Item, media_only).links = []
    with pytest.raises(review.ReviewError, match="no text or link"):
        review.decide(_task_for(media_only), actors["rita"], "csam_link")


def test_not_violating_restores_and_notifies_an_automatically_removed_item(review_env, actors):
    item = _text_item(
        "txt-auto", "buy links", ["https://example.org/a"], actions=["remove_item", "suspend_account", "review:links"]
    )
    from suraksha.items.models import Item
    from suraksha.outbox import enqueue

    with session_scope() as s:
        it = s.get(Item, item)
        for kind in ("remove_item", "suspend_account"):
            payload = {"action": {"kind": kind, "argument": None}, "rule": "csam-links", "platform_id": it.platform_id}
            enqueue(s, "action", payload, f"{item}:action:{kind}", item_id=item, account_id=it.account_id)
    deliver("action")
    deliver("review")
    r = review.decide(_task_for(item, "links"), actors["rita"], "not_violating", None, "a shop, not abuse")
    assert r.final and set(r.actions) == {"restore", "restore:account", "notify_user"}
    deliver("action")
    kinds = [k for k, _, _ in _actions_of(item)]
    assert kinds.count("restore") == 2 and "notify_user" in kinds
    # Not violating on an item nobody actioned restores nothing.
    deliver("review")
    other = review_env["items"][3]
    r2 = review.decide(_task_for(other), actors["rita"], "not_violating")
    assert r2.final and r2.actions == [] and "action" not in _messages(other)


def test_second_review_is_blind_and_a_disagreement_goes_to_a_senior_who_is_neither(review_env, more_staff):
    deliver("review")
    item = review_env["items"][0]
    task = _task_for(item)
    review.decide(task, more_staff["sana"], "csam", "A1", "primary by a senior")
    # The second reviewer sees no earlier decision; the author sees their own.
    assert review.get_task(task, more_staff["raj"]).decisions == []
    assert [d.reviewer for d in review.get_task(task, more_staff["sana"]).decisions] == ["sana"]
    r = review.decide(task, more_staff["raj"], "not_violating", None, "looks benign")
    assert r.status == "escalated"
    # sana made the first call: she cannot resolve the escalation; siva (another senior) can.
    view = review.get_task(task, more_staff["sana"])
    assert not view.can_decide and "did not decide" in (view.why_not or "")
    with pytest.raises(review.ReviewError):
        review.decide(task, more_staff["sana"], "csam", "A1")
    assert review.next_task(more_staff["sana"], "csam", "escalated") is None
    assert review.next_task(more_staff["siva"], "csam", "escalated") == task
    assert len(review.get_task(task, more_staff["siva"]).decisions) == 2  # the senior sees both calls
    done = review.decide(task, more_staff["siva"], "csam", "A2", "resolved")
    assert done.final and "remove_item" in done.actions


def test_appeal_reviewed_by_someone_else_and_restored(review_env, more_staff):
    from suraksha.audit.models import AuditEvent
    from suraksha.cases import appeals
    from suraksha.errors import Conflict

    item = _text_item("txt-appeal", "selling", ["https://example.org/shop"])
    deliver("review")
    review.decide(_task_for(item, "links"), more_staff["rita"], "grooming", None, "solicitation")
    deliver("action")
    appeal, created = appeals.submit("api:platform", "It was a joke", platform_item_id="txt-appeal", platform_appeal_id="ap-1")
    assert created and appeal.status == "open" and appeal.original_category == "grooming"
    again, created = appeals.submit("api:platform", "again", platform_item_id="txt-appeal", platform_appeal_id="ap-1")
    assert not created and again.id == appeal.id
    with pytest.raises(Conflict):
        appeals.submit("api:platform", "other", item_id=item, platform_appeal_id="ap-2")
    # The reviewer who decided the original cannot take the appeal, nor can an analyst.
    with pytest.raises(review.ReviewError, match="did not decide the original"):
        appeals.decide(appeal.id, more_staff["rita"], "restored", "I changed my mind")
    with pytest.raises(Forbidden):
        appeals.decide(appeal.id, more_staff["ana"], "restored", "x")
    assert review.next_task(more_staff["rita"], review.APPEAL_QUEUE) is None
    assert review.next_task(more_staff["tom"], review.APPEAL_QUEUE) == appeal.task_id
    with pytest.raises(review.ReviewError, match="appeal"):
        review.decide(appeal.task_id, more_staff["tom"], "not_violating")
    view, acted = appeals.decide(appeal.id, more_staff["tom"], "restored", "context shows no solicitation")
    assert view.status == "restored" and "restore" in acted and "notify_user" in acted
    assert review.get_decision(item).category == "not_violating"
    deliver("action")
    assert "restore" in [k for k, _, _ in _actions_of(item)]
    with session_scope() as s:
        kinds = [
            e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.action.like("appeal.%")).order_by(AuditEvent.seq))
        ]
    assert kinds == ["appeal.submit", "appeal.decide"]
    with pytest.raises(review.ReviewError, match="already restored"):
        appeals.decide(appeal.id, more_staff["tom"], "upheld", "x")


def test_nothing_to_appeal_and_upheld(review_env, more_staff):
    from suraksha.cases import appeals

    deliver("review")
    item = review_env["items"][3]
    with pytest.raises(InvalidInput, match="nothing to appeal"):
        appeals.submit("api:platform", "why?", item_id=item)
    review.decide(_task_for(item), more_staff["rita"], "other", None, "spam")
    appeal, _ = appeals.submit("api:platform", "why?", item_id=item)
    view, acted = appeals.decide(appeal.id, more_staff["raj"], "upheld", "it is spam")
    assert view.status == "upheld" and acted == []
    assert review.get_decision(item).category == "other"
    assert [a.id for a in appeals.list_appeals("upheld")] == [appeal.id]


def test_people_act_from_the_pages_through_the_outbox_with_a_reason(review_env, more_staff):
    from suraksha.audit.models import AuditEvent
    from suraksha.cases import actions

    item = review_env["items"][2]
    with pytest.raises(InvalidInput, match="reason"):
        actions.request(more_staff["rita"], "remove_item", "  ", item_id=item)
    with pytest.raises(Forbidden):
        actions.request(more_staff["ana"], "remove_item", "bad", item_id=item)
    r = actions.request(more_staff["lee"], "remove_item", "court order 12/2026", item_id=item)
    assert r.action == "remove_item"
    actions.request(more_staff["rita"], "report", "seen it", item_id=item, destination="ncmec")
    acct = review_env["accounts"]["riverbank"]
    actions.request(more_staff["rita"], "suspend_account", "repeat offender", account_id=acct)
    with pytest.raises(InvalidInput, match="acts on an item"):
        actions.request(more_staff["rita"], "remove_item", "x", account_id=acct)
    deliver("action")
    deliver("report")
    rows = _actions_of(item)
    assert ("remove_item", "manual", "court order 12/2026") in rows
    assert any(k == "suspend_account" and src == "manual" for k, src, _ in rows)
    assert _reports_of(item) == {"ncmec"}
    with session_scope() as s:
        audited = [e.details["action"] for e in s.scalars(select(AuditEvent).where(AuditEvent.action.like("%.action_requested")))]
    assert sorted(audited) == ["remove_item", "report:ncmec", "suspend_account"]


def test_media_view_says_original_only_when_original_bytes_were_served(review_env, actors):
    from suraksha.audit.models import AuditEvent

    deliver("review")
    not_kept = review_env["items"][2]  # its picture's bytes were not retained
    assert review.media_bytes(not_kept, 0, actors["rita"], served="original") is None
    kept = review_env["items"][0]
    assert review.media_bytes(kept, 0, actors["rita"], served="original") is not None
    with session_scope() as s:
        views = [
            e.details for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "media.view").order_by(AuditEvent.seq))
        ]
    assert views[-2] == {"position": 0, "requested": "original", "retained": False, "served": "none"}
    assert views[-1] == {"position": 0, "requested": "original", "retained": True, "served": "original"}


def test_policy_decisions_section_is_validated():
    from suraksha.policy import PolicyError, load_policy

    base = "rules:\n  - {name: r, when: {always: true}, verdict: allow}\n"
    p = load_policy(base + "decisions:\n  grooming: [remove_item]\nreports_by_country:\n  IN: [in_police]\n")
    assert [str(a) for a in p.decisions.for_decision("grooming", "IN")] == ["remove_item"]
    assert [str(a) for a in p.decisions.for_decision("csam", "IN")][-1] == "report:in_police"
    for bad, why in (
        ("decisions:\n  spam: []\n", "unknown decision category"),
        ("decisions:\n  csam: [restore]\n", "not_violating only"),
        ("decisions:\n  not_violating: [remove_item]\n", "cannot ask for"),
        ("decisions:\n  csam: [review:x]\n", "cannot ask for"),
        ("reports_by_country:\n  IN: [fbi]\n", "destinations"),
    ):
        with pytest.raises(PolicyError, match=why):
            load_policy(base + bad)
