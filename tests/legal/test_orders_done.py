"""Orders are answered when done (issue 13.5): a target is done when the platform acknowledged its
actions, or when legal staff record an action taken outside Suraksha; unknown targets keep the order
open and on the dashboard; post URLs are matched as the scanner canonicalises them."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from tests.enforcement.helpers import SECRET, FakePlatform
from tests.legal.helpers import post
from tests.legal.portal_client import make_client  # noqa: F401  (fixture)

from suraksha import legal
from suraksha.db.session import session_scope
from suraksha.legal import LegalConflict, LegalError, LegalForbidden, RequestIn

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))


def _takedown(agency_id: int, targets: list[dict]) -> RequestIn:
    return RequestIn(
        type="takedown_order",
        jurisdiction="in",
        channel="email",
        agency_id=agency_id,
        officer_name="A. Kumar",
        officer_rank="inspector_general",
        officer_email="ig@mhpolice.gov.in",
        issuer_kind="police",
        legal_basis="IT Rules 2021 Rule 3(1)(d)",
        case_number="FIR 12/2026",
        targets=targets,
    )


def _deliver(platform: FakePlatform | None = None) -> FakePlatform:
    """The dispatcher delivers the actions to a fake platform, which acknowledges them."""
    from suraksha.dispatch import Dispatcher
    from suraksha.enforcement.connector import HttpConnector

    platform = platform or FakePlatform()
    connector = HttpConnector("https://platform.example/suraksha/webhook", SECRET, transport=platform.transport())
    Dispatcher(connector=connector, dispatcher_id="legal-test").run_once()
    return platform


def _on_dashboard(reference: str) -> bool:
    board = legal.dashboard()
    return reference in {e.reference for e in board.overdue + board.at_risk + board.due}


def test_known_targets_are_done_when_the_platform_acknowledges_not_when_requested(agencies, order_pdf):
    a, _ = agencies
    post("k-1", "acct-k1")
    r = legal.file_request(_takedown(a.id, [{"kind": "item", "value": "k-1"}]), "user:nodal", document=order_pdf)
    requested = legal.execute_order(r.id, "user:lena", "legal")
    assert requested.status == "in_progress" and requested.targets[0].done_at is None
    assert _on_dashboard(r.reference)

    platform = _deliver()
    assert [x["type"] for x in platform.requests] == ["remove_item"]
    from suraksha.enforcement.models import Action

    with session_scope() as s:
        acked = s.scalars(select(Action)).one().acknowledged_at
    view = legal.get_request(r.id)
    assert view.status == "answered" and view.answered_at == acked  # answered when it happened, not when asked
    t = view.targets[0]
    assert t.done_at == acked and t.done_source == "platform" and "acknowledged by the platform" in t.outcome
    assert view.answer["kind"] == "order_executed" and view.answer["complete"] is True
    assert not _on_dashboard(r.reference)
    assert [e.action for e in legal.request_history(r.id)][-2:] == ["order.target_done", "order.executed"]


def test_an_unknown_target_keeps_the_order_open_until_staff_record_the_action(agencies, order_pdf):
    a, _ = agencies
    post("u-1", "acct-u1")
    r = legal.file_request(
        _takedown(a.id, [{"kind": "item", "value": "u-1"}, {"kind": "url", "value": "https://platform.example/p/never-seen"}]),
        "user:nodal",
        document=order_pdf,
    )
    legal.execute_order(r.id, "user:lena", "legal")
    _deliver()
    view = legal.get_request(r.id)
    assert view.status == "in_progress" and view.answered_at is None
    assert "1 not known to Suraksha" in view.status_reason
    assert _on_dashboard(r.reference)  # it does not leave the deadline dashboard
    unknown = next(t for t in view.targets if t.kind == "url")

    when = dt.datetime.now(IST).replace(microsecond=0) - dt.timedelta(minutes=5)
    with pytest.raises(LegalForbidden):
        legal.record_outside_action(r.id, unknown.id, "removed", when, "ticket 1", "user:rev", "reviewer")
    with pytest.raises(LegalError, match="evidence"):
        legal.record_outside_action(r.id, unknown.id, "removed", when, "  ", "user:lena", "legal")
    with pytest.raises(LegalError, match="future"):
        legal.record_outside_action(r.id, unknown.id, "removed", when + dt.timedelta(hours=2), "t", "user:lena", "legal")
    with pytest.raises(LegalError, match="time zone"):
        legal.record_outside_action(r.id, unknown.id, "removed", when.replace(tzinfo=None), "t", "user:lena", "legal")
    assert legal.get_request(r.id).status == "in_progress"

    done = legal.record_outside_action(
        r.id, unknown.id, "post removed with the platform's moderation tool", when, "ticket MOD-4711", "user:lena", "legal"
    )
    t = next(x for x in done.targets if x.id == unknown.id)
    assert (t.done_source, t.done_by, t.done_evidence) == ("manual", "user:lena", "ticket MOD-4711")
    assert t.done_at == when.astimezone(dt.UTC) and t.done_what.startswith("post removed")
    assert done.status == "answered" and done.answered_at == max(x.done_at for x in done.targets)
    assert not _on_dashboard(r.reference)
    with pytest.raises(LegalConflict):
        legal.record_outside_action(r.id, unknown.id, "again", when, "t", "user:lena", "legal")


def test_a_post_url_with_share_parameters_is_the_known_post(agencies, order_pdf):
    from suraksha.pipeline.ingest import submit_item
    from suraksha.pipeline.schemas import ItemIn

    a, _ = agencies
    item, _ = submit_item(
        ItemIn(
            platform_id="post-77",
            account={"id": "acct-77"},
            text="x",
            context={"url": "https://social.example/acct77/status/77"},
        )
    )
    r = legal.file_request(
        _takedown(
            a.id,
            [
                {"kind": "url", "value": "https://SOCIAL.example/acct77/status/77?s=20&utm_source=share"},
                {"kind": "url", "value": "https://social.example/acct77/status/78?s=20"},
            ],
        ),
        "user:nodal",
        document=order_pdf,
    )
    known, other = r.targets
    assert known.item_id == item.id and other.item_id is None


def test_the_officer_reads_progress_and_completion_in_ist_in_plain_words(make_client, db_url, order_pdf):
    from tests.legal.portal_client import officer_client

    from suraksha.legal import officers

    agency = legal.register_agency("Test Cyber Crime Unit", "police", "in", ["cybercrime.gov.in"], "user:admin")
    email = "dig.test@cybercrime.gov.in"  # a fictional officer
    c = officer_client(make_client, agency.id, email)
    officer_id = officers.list_officers()[0].id
    post("p-1", "acct-p1")
    data = _takedown(agency.id, [{"kind": "item", "value": "p-1"}]).model_copy(
        update={"officer_id": officer_id, "channel": "portal", "officer_email": email}
    )
    r = legal.file_request(data, f"officer:{officer_id}", document=order_pdf)
    legal.execute_order(r.id, "user:lena", "legal")
    page = c.get(f"/portal/requests/{r.id}").text
    assert "The platform is carrying out your order: 0 of 1 done so far." in page and "Not done yet" in page
    _deliver()
    page = c.get(f"/portal/requests/{r.id}").text
    done = legal.get_request(r.id)
    local = done.answered_at.astimezone(IST)
    day, clock = f"{local.day} {local:%b %Y}", f"{local:%H:%M}"
    said = re.search(r"Your order has been carried out: everything it names was acted on, the last of it on ([^<]*)\.</p>", page)
    assert said and day in said.group(1) and clock in said.group(1) and said.group(1).endswith("IST"), said
    assert "(confirmed by the platform)" in page
    assert "+00:00" not in page and "order_executed" not in page and "remove_item" not in page
