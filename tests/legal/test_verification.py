"""Verification before work: Rule 3(1)(d) rank, legal basis, document, agency and email domain;
failures are shown with the reason, block work, and can be answered or overridden (legal only)."""

from __future__ import annotations

import datetime as dt

import pytest

from suraksha import legal
from suraksha.legal import LegalConflict, LegalForbidden, RequestIn


def _takedown(agency_id, **kw) -> RequestIn:
    base = dict(
        type="takedown_order",
        jurisdiction="in",
        channel="email",
        agency_id=agency_id,
        officer_name="A. Kumar",
        officer_rank="deputy_inspector_general",
        officer_email="dig@mhpolice.gov.in",
        issuer_kind="police",
        legal_basis="IT Rules 2021 Rule 3(1)(d)",
        case_number="FIR 9/2026",
        targets=[{"kind": "account", "value": "acct-9"}],
    )
    base.update(kw)
    return RequestIn(**base)


def _checks(r) -> dict[str, tuple[bool, str]]:
    return {c.key: (c.ok, c.reason) for c in r.checks}


def test_all_checks_pass_for_a_dig_with_document(agencies, order_pdf):
    a, _ = agencies
    r = legal.file_request(_takedown(a.id), "user:nodal", document=order_pdf, document_name="order.pdf")
    assert r.status == "in_progress" and all(ok for ok, _ in _checks(r).values())


def test_rank_below_dig_fails_with_reason_and_blocks_work(agencies, order_pdf):
    a, _ = agencies
    r = legal.file_request(
        _takedown(a.id, officer_rank="superintendent"), "user:nodal", document=order_pdf, document_name="o.pdf"
    )
    ok, reason = _checks(r)["rank"]
    assert not ok and "below the minimum deputy inspector general" in reason and "3(1)(d)" in reason
    assert r.status == "received" and r.status_reason == "checks failed: rank"
    with pytest.raises(LegalConflict, match="failed checks"):
        legal.execute_order(r.id, "user:lena", "legal")
    # A note alone answers the check but does not let work start.
    legal.answer_check(r.id, "rank", "asked the unit to re-send under the DIG's signature", "user:nodal", "reviewer")
    assert legal.get_request(r.id).status == "received"
    # Only the legal role may override.
    with pytest.raises(LegalForbidden):
        legal.answer_check(r.id, "rank", "fine", "user:rev", "reviewer", override=True)
    c = legal.answer_check(r.id, "rank", "DIG countersigned by email (attached to the file)", "user:lena", "legal", override=True)
    assert c.ok and c.overridden and c.answered_by == "user:lena"
    assert legal.get_request(r.id).status == "in_progress"
    assert "check.overridden" in [e.action for e in legal.request_history(r.id)]


def test_government_joint_secretary_and_director_exception(agencies, order_pdf):
    from suraksha import legal as L

    ministry = L.register_agency("MeitY Cyber Law Division", "government", "in", ["meity.gov.in"], "user:admin")
    base = dict(issuer_kind="government", officer_email="x@meity.gov.in")
    js = legal.file_request(_takedown(ministry.id, officer_rank="joint_secretary", **base), "user:n", document=order_pdf)
    assert _checks(js)["rank"][0]
    director = legal.file_request(_takedown(ministry.id, officer_rank="director", **base), "user:n", document=order_pdf)
    assert not _checks(director)["rank"][0]
    director_exc = legal.file_request(
        _takedown(ministry.id, officer_rank="director", rank_exception=True, **base), "user:n", document=order_pdf
    )
    assert _checks(director_exc)["rank"][0]
    typo = legal.file_request(_takedown(ministry.id, officer_rank="joint secretray", **base), "user:n", document=order_pdf)
    assert "unknown government rank" in _checks(typo)["rank"][1]


def test_court_exempt_commission_not_allowed_for_takedown(agencies, order_pdf):
    court = legal.register_agency("High Court of Bombay", "court", "in", [], "user:admin")
    r = legal.file_request(
        _takedown(court.id, issuer_kind="court", officer_rank=None, officer_email=None), "user:n", document=order_pdf
    )
    assert _checks(r)["rank"] == (True, "court orders are exempt from the rank rule")
    ncpcr = legal.register_agency("NCPCR", "commission", "in", ["ncpcr.gov.in"], "user:admin")
    r = legal.file_request(_takedown(ncpcr.id, issuer_kind="commission", officer_email=None), "user:n", document=order_pdf)
    assert not _checks(r)["rank"][0]


def test_missing_basis_document_agency_and_wrong_domain(agencies):
    a, _ = agencies
    r = legal.file_request(_takedown(None, legal_basis=None, officer_email="someone@gmail.com"), "user:nodal")
    checks = _checks(r)
    assert not checks["legal_basis"][0] and "Rule 3(1)(d)" in checks["legal_basis"][1]
    assert not checks["document"][0] and "has not been received" in checks["document"][1]
    assert not checks["agency"][0] and "not registered" in checks["agency"][1]
    r = legal.file_request(_takedown(a.id, officer_email="someone@gmail.com"), "user:nodal")
    assert "'gmail.com' is not one of" in _checks(r)["agency"][1]


def test_document_added_later_passes_the_check(agencies, order_pdf):
    a, _ = agencies
    r = legal.file_request(_takedown(a.id), "user:nodal")
    assert r.status == "received" and r.status_reason == "checks failed: document"
    legal.add_document(r.id, order_pdf, "signed-order.pdf", "user:nodal")
    after = legal.get_request(r.id)
    assert after.status == "in_progress" and _checks(after)["document"][0]


def test_user_ncii_complaint_needs_no_agency_rank_or_document(db_url):
    r = legal.file_request(
        RequestIn(
            type="ncii_complaint",
            channel="staff",
            issuer_kind="user",
            summary="my intimate picture was posted without consent",
            targets=[{"kind": "url", "value": "https://platform.example/p/77"}],
        ),
        "user:grievance",
    )
    assert r.status == "in_progress" and r.legal_basis == "IT Rules 2021, Rule 3(2)(b)"
    assert r.due_at - r.received_at == dt.timedelta(hours=2)


def test_officer_answers_only_own_agencys_checks(agencies):
    a, b = agencies
    r = legal.file_request(_takedown(a.id), "user:nodal")  # no document yet
    with pytest.raises(legal.RequestNotFound):
        legal.answer_check(r.id, "document", "sent by post", "officer:9", "officer", agency_id=b.id)
    c = legal.answer_check(r.id, "document", "the signed copy was sent by post today", "officer:3", "officer", agency_id=a.id)
    assert not c.ok and c.answer_note.startswith("the signed copy")
    with pytest.raises(LegalForbidden):
        legal.answer_check(r.id, "document", "override", "officer:3", "officer", override=True, agency_id=a.id)
