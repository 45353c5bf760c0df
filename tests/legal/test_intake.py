"""Intake: every request type is accepted with its clock; bad input and bad PDFs are refused
and leave nothing behind; reminders and documents are logged against the request."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests.legal.conftest import IST, make_pdf

from suraksha import legal
from suraksha.db.session import session_scope
from suraksha.legal import LegalError, RequestIn


def _officer_request(agency_id: int, **kw) -> RequestIn:
    base = dict(
        type="data_request",
        jurisdiction="in",
        channel="portal",
        agency_id=agency_id,
        officer_id=7,
        officer_name="Insp. R. Patil",
        officer_rank="inspector",
        officer_email="r.patil@mhpolice.gov.in",
        issuer_kind="police",
        case_number="FIR 123/2026",
        legal_basis="BNSS s.94; IT Rules 3(1)(j)",
        targets=[{"kind": "account", "value": "acct-1"}],
        data_points=["subscriber_data", "ip_logs"],
    )
    base.update(kw)
    return RequestIn(**base)


def _counts() -> dict[str, int]:
    from suraksha.evidence import Evidence
    from suraksha.legal.models import LegalRequest

    with session_scope() as s:
        return {
            "requests": s.scalar(select(func.count()).select_from(LegalRequest)),
            "evidence": s.scalar(select(func.count()).select_from(Evidence)),
        }


def test_file_data_request_with_pdf(agencies, order_pdf):
    a, _ = agencies
    received = dt.datetime(2026, 12, 1, 10, 0, tzinfo=IST)
    r = legal.file_request(
        _officer_request(a.id, received_at=received), "officer:7", document=order_pdf, document_name="../../notice.pdf"
    )
    assert r.reference.startswith("LR-2026-") and len(r.reference) == len("LR-2026-000001")
    assert r.due_at == received + dt.timedelta(hours=72)
    assert r.due_at.utcoffset() == dt.timedelta(hours=5, minutes=30)
    assert r.status == "in_progress" and r.checks_ok
    assert [d.filename for d in r.documents] == ["notice.pdf"]
    assert {p.key: p.status for p in r.data_points} == {"subscriber_data": "pending", "ip_logs": "pending"}
    assert legal.get_request(r.reference).id == r.id
    assert [e.action for e in legal.request_history(r.id)][:2] == ["request.filed", "document.added"]


@pytest.mark.parametrize(
    "bad, message",
    [
        (b"", "empty"),
        (b"GIF89a" + b"\0" * 100, "not a PDF"),
        (make_pdf()[:-200], "truncated"),
        (b"%PDF-1.4\nhello\n%%EOF\n", "no objects"),
    ],
)
def test_bad_pdf_refused_and_nothing_stored(agencies, bad, message):
    a, _ = agencies
    with pytest.raises(LegalError, match=message):
        legal.file_request(_officer_request(a.id), "officer:7", document=bad, document_name="x.pdf")
    assert _counts() == {"requests": 0, "evidence": 0}


def test_oversized_pdf_refused(agencies, monkeypatch):
    from suraksha.legal.settings import reset_legal_settings

    monkeypatch.setenv("SURAKSHA_LEGAL_MAX_DOCUMENT_BYTES", "1000")
    reset_legal_settings()
    a, _ = agencies
    with pytest.raises(LegalError, match="more than the 1000-byte limit"):
        legal.file_request(_officer_request(a.id), "officer:7", document=make_pdf("x" * 3000), document_name="big.pdf")
    assert _counts()["requests"] == 0


def test_times_given_in_ist_are_the_same_instants_when_read_back(agencies):
    """SQLite keeps no zone: every stored time must be converted to UTC first."""
    a, _ = agencies
    start = dt.datetime(2026, 11, 1, 0, 0, tzinfo=IST)
    end = dt.datetime(2026, 11, 30, 23, 59, tzinfo=IST)
    received = dt.datetime(2026, 12, 1, 0, 10, tzinfo=IST)
    r = legal.file_request(_officer_request(a.id, period_from=start, period_to=end, received_at=received), "officer:7")
    back = legal.get_request(r.id)
    assert (back.period_from, back.period_to, back.received_at) == (start, end, received)
    assert back.reference.startswith("LR-2026-")  # 00:10 IST on 1 Dec is still 2026 in UTC
    rem = legal.add_reminder(r.id, "reminder", "officer:7", agency_id=a.id, received_at=received + dt.timedelta(hours=1))
    assert legal.get_request(r.id).reminders[0].received_at == rem.received_at == received + dt.timedelta(hours=1)
    made = legal.escalate_due(received + dt.timedelta(hours=40))
    assert [n.at for n in legal.list_notifications(r.id)] == [received + dt.timedelta(hours=40)] == [m.at for m in made]


def test_missing_targets_or_data_points_refused(agencies):
    a, _ = agencies
    with pytest.raises(LegalError, match="must say which data it asks for"):
        legal.file_request(_officer_request(a.id, data_points=[]), "officer:7")
    with pytest.raises(LegalError, match="must name the accounts, URLs or items"):
        legal.file_request(_officer_request(a.id, type="takedown_order", targets=[]), "officer:7")
    with pytest.raises(LegalError, match="needs the officer and the agency"):
        legal.file_request(_officer_request(None), "officer:7")
    with pytest.raises(LegalError, match="agency 999 is not registered"):
        legal.file_request(_officer_request(999), "officer:7")
    assert _counts() == {"requests": 0, "evidence": 0}
