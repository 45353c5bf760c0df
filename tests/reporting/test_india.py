"""India: the POCSO rule 11 police package (JSON + PDF) and its delivery states."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from enforcement.conftest import dispatcher, env, platform  # noqa: F401 - shared fixtures
from enforcement.helpers import csam_bank, jpeg_bytes, scan_all, submit


@pytest.fixture
def india_report(dispatcher, reference_dir, tmp_path, monkeypatch):
    from importlib import resources

    from suraksha.pipeline.settings import reset_pipeline_settings
    from suraksha.reporting.service import list_reports

    text = (resources.files("suraksha.policy") / "default.yaml").read_text()
    (tmp_path / "p.yaml").write_text(text.replace("require_review_before_report: true", "require_review_before_report: false"))
    monkeypatch.setenv("SURAKSHA_POLICY_PATH", str(tmp_path / "p.yaml"))
    reset_pipeline_settings()
    image = csam_bank(reference_dir)
    submit(
        "post-77",
        "acct-9",
        [image, jpeg_bytes(2)],
        ip="49.36.12.7",
        port=50432,
        device_id="android-5f3a",
        country="IN",
        url="https://platform.example/p/77",
        surface="public feed",
        server="mum-edge-3",
        created_at="2026-11-20T20:15:00+00:00",
    )
    scan_all()
    dispatcher.run_once()
    [report] = list_reports(destination="in_police")
    return report


def test_package_holds_source_device_account_ip_time_platform_and_citations(india_report):
    from suraksha.reporting.service import package

    assert india_report.state == "queued"
    p = package(india_report.id)
    assert p["format"] == "suraksha.in.pocso-rule11/2"
    assert p["incident"]["platform"] == "Suraksha Test Platform" and p["incident"]["items"] == 1
    [item] = p["items"]
    assert item["displayed_at"] == "https://platform.example/p/77" and item["surface"] == "public feed"
    assert item["publicly_available"] is True  # from the surface
    assert item["platform_item_id"] == "post-77"
    assert item["posted_at"]["ist"] == "21-11-2026 01:45:00 IST"  # 20:15 UTC is 01:45 next day in India
    assert item["posted_at"]["utc"].startswith("2026-11-20T20:15:00")
    assert p["account"]["platform_account_id"] == "acct-9"
    assert p["devices"] == [{"device_id": "android-5f3a", "user_agent": None, "items": ["post-77"]}]
    assert p["network_evidence"] == [
        {"ip": "49.36.12.7", "port": 50432, "event": "upload", "at": item["posted_at"], "platform_item_id": "post-77"}
    ]
    assert p["hosting"] == [{"server": "mum-edge-3", "country": "IN"}]
    files = item["files"]
    assert [f["matched"] for f in files] == [True, False] and all(f["preserved_evidence_id"] for f in files)
    assert all(f["not_available"] is None for f in files)
    assert "hash match" in files[0]["identified_by"] and files[0]["viewed_by_person_at"] is None
    assert {a["action"]: a["status"] for a in p["actions_taken"]} == {
        "remove_item": "acknowledged",
        "suspend_account": "acknowledged",
    }
    assert p["account"]["suspended_at"] is not None
    bases = " ".join(c["legal_basis"] for c in p["legal_basis"])
    assert "POCSO Rules 2020 rule 11" in bases and "Rule 3(1)(g)" in bases
    assert p["receiving_unit"]["destination"] == "national_cybercrime_portal"
    assert p["delivery"] == {"method": None, "reference": None, "sent_at": None, "acknowledged": False, "acknowledged_at": None}
    assert item["review"] is None and "not yet reviewed" in p["incident"]["summary"]
    assert p["network"]["group_identifier"] is None and p["prior_reports"] == []


def test_sent_then_acknowledged_with_fir_number(india_report):
    from suraksha.reporting.service import get_report, package, record_acknowledgement, record_delivery

    sent_at = dt.datetime(2026, 11, 21, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    r = record_delivery(
        india_report.id,
        "portal",
        "user:nodal-officer",
        reference="CCRP-2026-112233",
        police_unit="Cyber Crime Police Station, Bengaluru",
        sent_at=sent_at,
    )
    assert r.state == "submitted" and r.delivery_method == "portal"
    p = package(india_report.id)
    assert p["receiving_unit"]["name"] == "Cyber Crime Police Station, Bengaluru"
    assert p["receiving_unit"]["destination"] == "sjpu_or_local_police"
    assert p["delivery"]["method"] == "portal" and p["delivery"]["reference"] == "CCRP-2026-112233"
    assert p["delivery"]["sent_at"]["ist"] == "21-11-2026 10:00:00 IST" and p["delivery"]["acknowledged"] is False

    r = record_acknowledgement(india_report.id, "user:nodal-officer", fir_number="FIR 0457/2026")
    assert r.state == "finished" and r.fir_number == "FIR 0457/2026"
    p = package(india_report.id)
    assert p["fir_number"] == "FIR 0457/2026" and p["delivery"]["acknowledged"] is True
    events = get_report(india_report.id).events
    assert [e.to_state for e in events][-2:] == ["submitted", "finished"]
    assert events[-2].actor == "user:nodal-officer" and events[-2].reason == "sent via portal"


def test_delivery_is_validated(india_report):
    from suraksha.reporting.service import ReportError, record_acknowledgement, record_delivery

    with pytest.raises(ReportError, match="police unit"):
        record_delivery(india_report.id, "email", "user:x")
    with pytest.raises(ReportError, match="time zone"):
        record_delivery(india_report.id, "email", "user:x", police_unit="SJPU Pune", sent_at=dt.datetime(2026, 1, 1))
    with pytest.raises(ReportError, match="only a submitted"):
        record_acknowledgement(india_report.id, "user:x")
    record_delivery(india_report.id, "in_person", "user:x", police_unit="SJPU Pune")
    with pytest.raises(ReportError, match="only a queued"):
        record_delivery(india_report.id, "email", "user:x", police_unit="SJPU Pune")


def test_pdf_is_a_letter_and_tables_and_survives_non_latin_text(india_report):
    from suraksha.reporting.india import TABLES, build_package, render_pdf
    from suraksha.reporting.service import package, package_pdf

    pdf = package_pdf(india_report.id)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", pdf)) >= 2  # a letter, then the tables
    text = _pdf_text(pdf)
    assert "Station House Officer" in text and "Yours faithfully" in text and "POCSO" in text
    for title in TABLES:
        assert title in text
    assert "21-11-2026 01:45:00 IST" in text and "2026-11-20T20:15:00" in text  # IST and UTC side by side
    assert "49.36.12.7" in text and "acct-9" in text and "post-77" in text
    p = package(india_report.id)
    p["account"]["handle"] = "@सुरक्षा_परीक्षण"  # a Devanagari handle must not break the PDF
    assert render_pdf(p).startswith(b"%PDF-")
    with pytest.raises(ValueError, match="delivery method"):
        from suraksha.reporting.subject import SubjectFacts

        build_package(
            SubjectFacts(1, "x", "post", None, None, {}, None, None, None, None, None, None, None),
            reference="r",
            reporter={},
            delivery={"method": "fax"},
        )


def _pdf_text(pdf: bytes) -> str:
    """The text of a PDF (pypdf: a test dependency)."""
    import io

    import pypdf

    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)


def test_pdf_is_only_for_india(dispatcher, india_report):
    from suraksha.reporting.service import ReportError, list_reports, package_pdf

    [ncmec] = list_reports(destination="ncmec")
    with pytest.raises(ReportError, match="India"):
        package_pdf(ncmec.id)
