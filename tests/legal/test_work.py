"""Orders execute through enforcement actions and are answered with what was done and when;
preservation requests put legal holds on the evidence; reminders are logged on the request."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from tests.legal.helpers import post

from suraksha import legal
from suraksha.db.session import session_scope
from suraksha.legal import LegalError, LegalForbidden, RequestIn


def _order(type_, agency_id, targets, **kw) -> RequestIn:
    base = dict(
        type=type_,
        jurisdiction="in",
        channel="email",
        agency_id=agency_id,
        officer_name="A. Kumar",
        officer_rank="inspector_general",
        officer_email="ig@mhpolice.gov.in",
        issuer_kind="police",
        legal_basis="IT Act s.69A",
        case_number="FIR 77/2026",
        targets=targets,
    )
    base.update(kw)
    return RequestIn(**base)


def _actions():
    from suraksha.enforcement.models import Action

    with session_scope() as s:
        return sorted((a.kind, a.platform_item_id, a.platform_account_id, a.country) for a in s.scalars(select(Action)).all())


def test_blocking_order_withholds_every_item_of_the_accounts_in_india(agencies, order_pdf):
    a, _ = agencies
    post("b-1", "acct-b1")
    post("b-2", "acct-b1")
    post("b-3", "acct-b2")
    r = legal.file_request(
        _order(
            "blocking_order",
            a.id,
            [
                {"kind": "account", "value": "acct-b1"},
                {"kind": "account", "value": "acct-b2"},
                {"kind": "account", "value": "never-seen"},
            ],
        ),
        "user:nodal",
        document=order_pdf,
    )
    with pytest.raises(LegalForbidden):
        legal.execute_order(r.id, "user:rev", "reviewer")
    done = legal.execute_order(r.id, "user:lena", "legal")
    assert _actions() == [
        ("withhold_in_country", "b-1", "acct-b1", "IN"),
        ("withhold_in_country", "b-2", "acct-b1", "IN"),
        ("withhold_in_country", "b-3", "acct-b2", "IN"),
    ]
    # Requested is not done: the order stays open until the platform confirms.
    assert done.status == "in_progress" and done.answered_at is None
    assert done.answer["complete"] is False and done.answer["not_known"] == [{"kind": "account", "value": "never-seen"}]
    assert done.answer["actions_requested_at"] and done.answer["country"] == "IN"
    by_value = {t.value: t for t in done.targets}
    assert by_value["acct-b1"].outcome.startswith("2 withhold_in_country action(s) requested in IN")
    assert by_value["acct-b1"].done_at is None and len(by_value["acct-b1"].action_ids) == 2
    assert "not known to Suraksha" in by_value["never-seen"].outcome
    # Executing again creates no second set of actions.
    legal.execute_order(r.id, "user:lena", "legal")
    assert len(_actions()) == 3


def test_takedown_removes_items_and_suspends_accounts(agencies, order_pdf):
    a, _ = agencies
    post("t-1", "acct-t1")
    post("t-2", "acct-t2")
    r = legal.file_request(
        _order(
            "takedown_order",
            a.id,
            [{"kind": "item", "value": "t-1"}, {"kind": "account", "value": "acct-t2"}],
            legal_basis="IT Rules 2021 Rule 3(1)(d)",
        ),
        "user:nodal",
        document=order_pdf,
    )
    done = legal.execute_order(r.id, "user:lena", "legal")
    assert _actions() == [("remove_item", "t-1", "acct-t1", None), ("suspend_account", None, "acct-t2", None)]
    assert done.status == "in_progress" and done.answer["complete"] is False and done.answer["not_known"] == []
    assert done.status_reason == "2 of 2 target(s) not done yet"


def test_preservation_request_places_legal_holds(agencies, order_pdf):
    from suraksha import evidence

    a, _ = agencies
    post("m-1", "acct-m", media=True)
    post("m-2", "acct-m")  # text only: nothing to preserve
    r = legal.file_request(
        _order("preservation_request", a.id, [{"kind": "account", "value": "acct-m"}], legal_basis="IT Rules 2021 Rule 3(1)(g)"),
        "user:nodal",
        document=order_pdf,
    )
    held = legal.preserve_for_request(r.id, "user:nodal")
    assert len(held) == 1
    holds = evidence.active_holds(held[0])
    assert [h.request_ref for h in holds] == [r.reference]
    after = legal.get_request(r.id)
    assert after.status == "answered" and after.answer["items_without_preserved_media"] == ["m-2"]
    # Held evidence survives a purge long after its retention ran out.
    result = evidence.purge_expired(now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert held[0] in result.held and held[0] not in result.purged
    assert evidence.read(held[0], "user:nodal", "check the hold kept it")


def test_reminder_logged_against_the_request_and_portal_scope(agencies, order_pdf):
    a, b = agencies
    r = legal.file_request(
        _order(
            "data_request", a.id, [{"kind": "account", "value": "x"}], data_points=["ip_logs"], channel="portal", officer_id=3
        ),
        "officer:3",
        document=order_pdf,
    )
    when = r.due_at + dt.timedelta(hours=1)
    rem = legal.add_reminder(
        r.id, "Second reminder: reply still awaited", "officer:3", officer_id=3, agency_id=a.id, received_at=when
    )
    assert rem.note.startswith("Second reminder")
    with pytest.raises(legal.RequestNotFound):
        legal.add_reminder(r.id, "not mine", "officer:9", officer_id=9, agency_id=b.id)
    with pytest.raises(LegalError, match="needs its text"):
        legal.add_reminder(r.id, "  ", "officer:3", agency_id=a.id)
    after = legal.get_request(r.id)
    assert [x.note for x in after.reminders] == ["Second reminder: reply still awaited"]
    ev = [e for e in legal.request_history(r.id) if e.action == "reminder.received"]
    assert len(ev) == 1 and ev[0].details["overdue"] is True


def test_answer_to_a_commission_summons(agencies, order_pdf):
    ncpcr = legal.register_agency("NCPCR", "commission", "in", ["nic.in"], "user:admin")
    r = legal.file_request(
        RequestIn(
            type="commission_summons",
            agency_id=ncpcr.id,
            issuer_kind="commission",
            officer_name="Member Secretary",
            legal_basis="CPCR Act 2005 s.14",
            case_number="NCPCR/2026/44",
        ),
        "user:nodal",
        document=order_pdf,
    )
    done = legal.answer_request(r.id, "Reply filed with the compliance report and the actions taken", "user:lena", "legal")
    assert done.status == "answered" and done.answer["note"].startswith("Reply filed")


def test_data_request_cannot_be_answered_without_a_package(agencies, order_pdf):
    a, _ = agencies
    r = legal.file_request(
        _order("data_request", a.id, [{"kind": "account", "value": "x"}], data_points=["ip_logs"]),
        "user:nodal",
        document=order_pdf,
    )
    with pytest.raises(legal.LegalConflict, match="disclosure package"):
        legal.answer_request(r.id, "nothing found", "user:lena", "legal")
    assert legal.get_request(r.id).status == "in_progress"


def test_target_unknown_at_filing_is_resolved_when_work_starts(agencies, order_pdf):
    a, _ = agencies
    r = legal.file_request(
        _order("takedown_order", a.id, [{"kind": "account", "value": "acct-late"}], legal_basis="IT Rules 2021 Rule 3(1)(d)"),
        "user:nodal",
        document=order_pdf,
    )
    assert r.targets[0].account_id is None
    post("late-1", "acct-late")  # the platform submits the account's content after the order arrived
    done = legal.execute_order(r.id, "user:lena", "legal")
    assert done.targets[0].account_id is not None and done.targets[0].action_ids
    assert _actions() == [("suspend_account", None, "acct-late", None)]
