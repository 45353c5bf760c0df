"""A Suraksha case summary -> CyberTipline report -> filed in the simulator."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from lxml import etree

from suraksha.reporting.ncmec import ReportValidationError, build_case_report, file_report, report_xml
from suraksha.reporting.ncmec.case import (
    CaseAccount,
    CaseDevice,
    CaseIpEvent,
    CaseItem,
    CaseMedia,
    CaseSummary,
    ReporterProfile,
    ReviewDecision,
)
from suraksha.reporting.ncmec.schema import check_element
from suraksha.reporting.ncmec.xml import build_file_details, file_details_xml

# Benign stand-ins for media bytes (the rule: tests use only benign content).
VAULT = {
    "m1": b"benign generated picture one",
    "m2": b"benign generated picture two",
}


def _hashes(data: bytes) -> dict[str, str]:
    return {
        "md5": hashlib.md5(data).hexdigest(),
        "sha1": hashlib.sha1(data).hexdigest(),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 20, hour, minute, tzinfo=UTC)


@pytest.fixture
def case() -> CaseSummary:
    return CaseSummary(
        case_id="case-17",
        reporter=ReporterProfile(
            platform="ExampleSocial",
            first_name="Asha",
            last_name="Rao",
            email="trust-safety@platform.example",
            phone="+91-80-5550-0100",
            legal_url="https://platform.example/legal",
        ),
        decision=ReviewDecision(industry_classification="A2", decided_at=t(12), escalate_reason=None),
        items=[
            CaseItem(
                platform_item_id="post-1",
                url="https://platform.example/p/1",
                posted_at=t(9, 15),
                media=[
                    CaseMedia(
                        media_id="m1",
                        filename="post-1.jpg",
                        **_hashes(VAULT["m1"]),
                        pdq="f" * 64,
                        uploaded_at=t(9, 14),
                        upload_ip=CaseIpEvent(ip="203.0.113.7", at=t(9, 14), port=51234),
                        publicly_available=True,
                    )
                ],
            ),
            CaseItem(
                platform_item_id="msg-9",
                kind="message",
                conversation_id="conv-3",
                posted_at=t(10),
                media=[
                    CaseMedia(media_id="m2", filename="msg-9.jpg", md5=_hashes(VAULT["m2"])["md5"], industry_classification="B1"),
                    CaseMedia(media_id="m1", filename="post-1.jpg"),  # same media forwarded: filed once
                ],
            ),
        ],
        account=CaseAccount(
            platform_account_id="acct-42",
            screen_name="seller42",
            display_names=["S"],
            emails=["seller42@mail.example"],
            profile_url="https://platform.example/u/seller42",
            ip_events=[CaseIpEvent(ip="198.51.100.9", at=t(8), event="Login", possible_proxy=False)],
            devices=[CaseDevice(id_type="IMEI", id_value="490154203237518", event="Login", at=t(8))],
            country_code="IN",
            suspended_at=t(12, 5),
        ),
    )


def test_case_maps_to_report_and_files(case):
    built = build_case_report(case)
    root = etree.fromstring(report_xml(built.report))
    assert check_element(root) == []
    assert root.findtext("incidentSummary/incidentType").startswith("Child Pornography")
    assert root.findtext("incidentSummary/incidentDateTime") == "2026-11-20T09:14:00.000Z"  # earliest upload
    assert [u.text for u in root.findall("internetDetails/webPageIncident/url")] == ["https://platform.example/p/1"]
    chat = root.find("internetDetails/chatImIncident")
    assert chat.findtext("chatClient") == "ExampleSocial" and chat.findtext("chatRoomName") == "conv-3"
    reported = root.find("personOrUserReported")
    assert reported.findtext("espIdentifier") == "acct-42"
    assert reported.findtext("espService") == "ExampleSocial"
    assert reported.findtext("personOrUserReportedPerson/email") == "seller42@mail.example"
    ip = reported.find("ipCaptureEvent")
    assert (ip.findtext("ipAddress"), ip.findtext("eventName"), ip.findtext("possibleProxy")) == (
        "198.51.100.9",
        "Login",
        "false",
    )
    assert reported.find("accountPermanentlyDisabled").get("disabledDate") == "2026-11-20T12:05:00.000Z"
    assert reported.findtext("estimatedLocation/countryCode") == "IN"
    assert root.findtext("reporter/legalURL") == "https://platform.example/legal"

    assert [f.media_id for f in built.files] == ["m1", "m2"]
    first = etree.fromstring(file_details_xml(_with_ids(built.files[0].details)))
    assert first.findtext("industryClassification") == "A2"
    assert first.findtext("fileRelevance") == "Reported"
    assert first.findtext("publiclyAvailable") == "true"
    assert {h.get("hashType"): h.text for h in first.findall("originalFileHash")} == {
        "MD5": _hashes(VAULT["m1"])["md5"],
        "SHA1": _hashes(VAULT["m1"])["sha1"],
    }
    extra = {p.findtext("name"): p.findtext("value") for p in first.findall("details[@type='HASH']/nameValuePair")}
    assert extra == {"SHA256": _hashes(VAULT["m1"])["sha256"], "PDQ": "f" * 64}
    upload_ip = first.find("ipCaptureEvent")
    assert (upload_ip.findtext("ipAddress"), upload_ip.findtext("eventName"), upload_ip.findtext("port")) == (
        "203.0.113.7",
        "Other",
        "51234",
    )
    assert first.findtext("locationOfFile") == "https://platform.example/p/1"
    second = build_file_details(_with_ids(built.files[1].details))
    assert second.findtext("industryClassification") == "B1"  # the media's own classification wins


def _with_ids(details):
    details.report_id, details.file_id = 1, "f"
    return details


def test_case_filed_end_to_end_in_the_simulator(case, client, sim):
    built = build_case_report(case)
    result = file_report(client, built.report, built.with_content(VAULT.__getitem__))
    stored = sim.report(result.report_id)
    assert stored.state == "finished"
    assert sorted(f.content for f in stored.files.values()) == sorted(VAULT.values())
    assert sim.endpoints_called() == ["/submit", "/upload", "/fileinfo", "/upload", "/fileinfo", "/finish"]


def test_case_without_items_is_refused(case):
    case.items = []
    with pytest.raises(ValueError, match="at least one item"):
        build_case_report(case)


def test_case_with_bad_classification_is_refused(case):
    case.decision.industry_classification = "A3"
    with pytest.raises(ReportValidationError, match="A3"):
        build_case_report(case)


def test_case_incident_time_falls_back_to_decision(case):
    for item in case.items:
        item.posted_at = None
        for media in item.media:
            media.uploaded_at = None
    built = build_case_report(case)
    assert built.report.incident_summary.incident_date_time == t(12)
    case.decision.decided_at = None
    with pytest.raises(ValueError, match="incident time"):
        build_case_report(case)


def test_case_without_account_or_reporter_email(case):
    case.account = None
    assert build_case_report(case).report.person_or_user_reported is None
    case.reporter.email = ""
    with pytest.raises(ValueError, match="reportingPerson"):
        report_xml(build_case_report(case).report)
