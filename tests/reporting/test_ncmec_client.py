"""The CyberTipline client and the filing flow against the local simulator."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from lxml import etree

from suraksha.reporting.ncmec import (
    CyberTiplineClient,
    CyberTiplineError,
    FilingError,
    ReportFile,
    ReportValidationError,
    ResponseCode,
    file_report,
    report_xml,
    settle_open_report,
)
from suraksha.reporting.ncmec.enums import (
    PRODUCTION_BASE_URL,
    TEST_BASE_URL,
    FileRelevance,
    HashType,
    IndustryClassification,
)
from suraksha.reporting.ncmec.models import FileDetails, IncidentSummary, OriginalFileHash
from suraksha.reporting.ncmec.settings import NcmecSettings

from .ncmec_simulator import NcmecSimulator

PNG_A = b"\x89PNG\r\n\x1a\n" + b"benign test picture A" * 10
PNG_B = b"\x89PNG\r\n\x1a\n" + b"benign test picture B" * 10


def two_files() -> list[ReportFile]:
    return [
        ReportFile(
            filename=name,
            content=content,
            details=FileDetails(
                original_file_name=name,
                file_viewed_by_esp=True,
                publicly_available=False,
                file_relevance=FileRelevance.REPORTED,
                industry_classification=IndustryClassification.B2,
                original_file_hash=[OriginalFileHash(value=hashlib.md5(content).hexdigest(), hash_type=HashType.MD5)],
            ),
        )
        for name, content in (("a.png", PNG_A), ("b.png", PNG_B))
    ]


# --- environments and configuration --------------------------------------------------------------


def test_environment_picks_base_url():
    assert CyberTiplineClient(username="u", password="p").base_url == TEST_BASE_URL
    assert CyberTiplineClient(username="u", password="p", environment="production").base_url == PRODUCTION_BASE_URL
    assert (
        CyberTiplineClient(username="u", password="p", base_url="https://proxy.example/ispws/").base_url
        == "https://proxy.example/ispws"
    )
    with pytest.raises(ValueError):
        CyberTiplineClient(username="u", password="p", environment="staging")
    with pytest.raises(ValueError):
        CyberTiplineClient(username="u", password="")


def test_settings_from_environment(monkeypatch, sim):
    monkeypatch.setenv("SURAKSHA_NCMEC_ENVIRONMENT", "production")
    monkeypatch.setenv("SURAKSHA_NCMEC_USERNAME", sim.username)
    monkeypatch.setenv("SURAKSHA_NCMEC_PASSWORD", sim.password)
    settings = NcmecSettings()
    assert settings.configured
    assert sim.password not in repr(settings)
    client = CyberTiplineClient.from_settings(settings, transport=sim.transport())
    assert client.base_url == PRODUCTION_BASE_URL
    assert client.status().code == 0


def test_settings_without_credentials_refuse(monkeypatch):
    monkeypatch.delenv("SURAKSHA_NCMEC_USERNAME", raising=False)
    monkeypatch.delenv("SURAKSHA_NCMEC_PASSWORD", raising=False)
    settings = NcmecSettings()
    assert not settings.configured
    with pytest.raises(ValueError, match="SURAKSHA_NCMEC_USERNAME"):
        CyberTiplineClient.from_settings(settings)


def test_production_base_url_must_be_https():
    with pytest.raises(ValueError):
        NcmecSettings(environment="production", base_url="http://plain.example/ispws")


# --- endpoints ---------------------------------------------------------------------------------


def test_status(client, sim):
    result = client.status()
    assert result.code == 0
    assert sim.username in result.description
    assert result.request_id


def test_bad_credentials_raise_with_code_and_hide_the_password(sim, caplog):
    caplog.set_level(logging.DEBUG)
    secret = "wrong-secret-value"
    client = CyberTiplineClient(username=sim.username, password=secret, transport=sim.transport())
    with pytest.raises(CyberTiplineError) as info:
        client.status()
    err = info.value
    assert err.code == ResponseCode.AUTHENTICATION_REQUIRED
    assert err.http_status == 401
    assert not err.retryable
    assert secret not in str(err) and secret not in repr(client)
    assert secret not in caplog.text


def test_full_flow_two_files(client, sim, minimal_report, caplog):
    caplog.set_level(logging.DEBUG)
    result = file_report(client, minimal_report, two_files())
    assert sim.endpoints_called() == ["/submit", "/upload", "/fileinfo", "/upload", "/fileinfo", "/finish"]
    stored = sim.report(result.report_id)
    assert stored.state == "finished"
    assert set(result.files) == set(stored.files) and len(result.files) == 2
    assert {f.content for f in stored.files.values()} == {PNG_A, PNG_B}
    for sim_file in stored.files.values():
        details = etree.fromstring(sim_file.details)
        assert details.findtext("reportId") == str(result.report_id)
        assert details.findtext("fileId") == sim_file.file_id
        assert details.findtext("industryClassification") == "B2"
        assert details.findtext("originalFileHash") == sim_file.md5
    assert etree.fromstring(stored.xml).findtext("incidentSummary/incidentDateTime") == "2026-11-20T08:30:00.000Z"
    # the log names endpoints and codes, never bodies or credentials
    assert "/finish" in caplog.text
    assert sim.password not in caplog.text and "benign test picture" not in caplog.text


def test_step_by_step_and_retract(client, sim, minimal_report):
    report_id = client.submit(minimal_report)
    file_id = client.upload(report_id, "a.png", PNG_A)
    client.fileinfo(report_id, file_id, FileDetails(original_file_name="a.png"))
    client.retract(report_id)
    assert sim.report(report_id).state == "retracted"
    with pytest.raises(CyberTiplineError) as info:
        client.finish(report_id)
    assert info.value.code == ResponseCode.REPORT_ALREADY_RETRACTED


# --- order enforced by the simulator -----------------------------------------------------------


def test_upload_before_submit_is_rejected(client):
    with pytest.raises(CyberTiplineError) as info:
        client.upload(4242, "a.png", PNG_A)
    assert info.value.code == ResponseCode.REPORT_DOES_NOT_EXIST
    assert not info.value.retryable


def test_fileinfo_for_unknown_file_is_rejected(client, minimal_report):
    report_id = client.submit(minimal_report)
    with pytest.raises(CyberTiplineError) as info:
        client.fileinfo(report_id, "not-a-file", FileDetails())
    assert info.value.code == ResponseCode.FILE_DOES_NOT_EXIST


def test_finish_happens_once(client, minimal_report):
    report_id = client.submit(minimal_report)
    assert client.finish(report_id).report_id == report_id
    for call in (
        lambda: client.finish(report_id),
        lambda: client.upload(report_id, "late.png", PNG_A),
        lambda: client.retract(report_id),
    ):
        with pytest.raises(CyberTiplineError) as info:
            call()
        assert info.value.code == ResponseCode.REPORT_ALREADY_FINISHED


def test_simulator_rejects_out_of_order_and_malformed_xml(sim, minimal_report):
    good = report_xml(minimal_report)
    root = etree.fromstring(good)
    root.append(root[0])  # move incidentSummary after reporter
    swapped = etree.tostring(root)
    http = httpx.Client(base_url=TEST_BASE_URL, auth=(sim.username, sim.password), transport=sim.transport())
    headers = {"Content-Type": "text/xml; charset=utf-8"}
    answer = http.post("/submit", content=swapped, headers=headers)
    assert answer.status_code == 400
    assert etree.fromstring(answer.content).findtext("responseCode") == "4100"
    assert "'reporter': This element is not expected" in etree.fromstring(answer.content).findtext("responseDescription")
    answer = http.post("/submit", content=b"<report><incidentSummary>", headers=headers)
    assert etree.fromstring(answer.content).findtext("responseCode") == "4110"
    no_type = good.replace(b"<incidentType>", b"<incidentTypo>").replace(b"</incidentType>", b"</incidentTypo>")
    answer = http.post("/submit", content=no_type, headers=headers)
    assert etree.fromstring(answer.content).findtext("responseCode") == "4100"
    # NCMEC's value set, not the product's: the misspelt singular enticement type is refused
    singular = good.replace(
        b"Child Pornography (possession, manufacture, and distribution)", b"Online Enticement of Children for Sexual Act"
    )
    answer = http.post("/submit", content=singular, headers=headers)
    assert etree.fromstring(answer.content).findtext("responseCode") == "4100"
    assert "incidentType" in etree.fromstring(answer.content).findtext("responseDescription")
    assert sim.reports == {}


def test_simulator_refuses_to_start_without_ncmecs_schema(tmp_path):
    from suraksha.reporting.ncmec.xsd import SchemaMissing

    from .ncmec_simulator import NcmecSimulator

    with pytest.raises(SchemaMissing, match="SURAKSHA_REFERENCE_DIR"):
        NcmecSimulator(xsd_path=tmp_path / "absent.xsd")


def test_client_checks_raw_xml_before_sending(client, sim, minimal_report):
    root = etree.fromstring(report_xml(minimal_report))
    root.append(root[0])
    with pytest.raises(ValueError, match="out of order"):
        client.submit(etree.tostring(root))
    with pytest.raises(ValueError):
        client.submit(b"not xml")
    assert sim.calls == []


# --- missing or invalid data fails before anything is sent -------------------------------------


@pytest.mark.parametrize(
    "break_it, message",
    [
        (lambda r: setattr(r.reporter.reporting_person, "email", []), "reportingPerson/email"),
        (lambda r: setattr(r.reporter.reporting_person, "first_name", None), "reportingPerson/firstName"),
        (lambda r: setattr(r, "reporter", None), "report/reporter"),
        (lambda r: setattr(r.incident_summary, "incident_type", "Something else"), "incidentType"),
        (lambda r: setattr(r.incident_summary, "incident_date_time", None), "incidentDateTime"),
        (lambda r: setattr(r.incident_summary, "incident_date_time", datetime(2026, 1, 1)), "timezone-aware"),
        (lambda r: setattr(r.incident_summary, "report_annotations", ["gossip"]), "reportAnnotations"),
    ],
)
def test_invalid_report_raises_value_error_before_sending(client, sim, minimal_report, break_it, message):
    break_it(minimal_report)
    with pytest.raises(ValueError, match=message):
        file_report(client, minimal_report, two_files())
    assert sim.calls == []


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: setattr(f, "content", b""), "empty"),
        (lambda f: setattr(f, "filename", ""), "file name"),
        (lambda f: setattr(f.details, "file_relevance", FileRelevance.SUPPLEMENTAL_REPORTED), "industryClassification"),
        (lambda f: setattr(f.details, "industry_classification", "C3"), "industryClassification"),
        (lambda f: setattr(f.details, "original_file_hash", [OriginalFileHash(value="x", hash_type="CRC32")]), "hashType"),
    ],
)
def test_invalid_file_raises_before_sending(client, sim, minimal_report, change, message):
    files = two_files()
    change(files[1])
    with pytest.raises(ReportValidationError, match=message):
        file_report(client, minimal_report, files)
    assert sim.calls == []


def test_datetimes_are_sent_in_utc(client, sim, minimal_report):
    ist = timezone(timedelta(hours=5, minutes=30))
    minimal_report.incident_summary = IncidentSummary(
        incident_type=minimal_report.incident_summary.incident_type,
        incident_date_time=datetime(2026, 11, 20, 14, 0, 0, 123456, tzinfo=ist),
    )
    report_id = client.submit(minimal_report)
    xml = etree.fromstring(sim.report(report_id).xml)
    assert xml.findtext("incidentSummary/incidentDateTime") == "2026-11-20T08:30:00.123Z"


# --- failures and retries ----------------------------------------------------------------------


def test_server_error_midway_retracts(client, sim, minimal_report):
    sim.fail("/upload", "http_error", status=503, skip=1)  # the second upload fails
    with pytest.raises(FilingError) as info:
        file_report(client, minimal_report, two_files())
    err = info.value
    assert err.step == "upload" and err.retryable and err.retracted
    assert err.code == ResponseCode.SERVER_ERROR and err.http_status == 503
    assert sim.report(err.report_id).state == "retracted"
    assert sim.endpoints_called()[-1] == "/retract"


def test_retry_after_midway_failure_files_a_clean_report(client, sim, minimal_report):
    sim.fail("/fileinfo", "timeout")
    result = file_report(client, minimal_report, two_files(), attempts=2)
    states = {r.report_id: r.state for r in sim.reports.values()}
    assert sorted(states.values()) == ["finished", "retracted"]
    assert states[result.report_id] == "finished"
    assert len(sim.report(result.report_id).files) == 2


def test_non_retryable_failure_is_not_retried(client, sim, minimal_report):
    sim.fail("/fileinfo", "code", code=ResponseCode.VALIDATION_FAILED)
    with pytest.raises(FilingError) as info:
        file_report(client, minimal_report, two_files(), attempts=3)
    assert not info.value.retryable and info.value.retracted
    assert len(sim.reports) == 1


def test_submit_timeout_is_retryable_and_opens_nothing(client, sim, minimal_report):
    sim.fail("/submit", "timeout")
    with pytest.raises(FilingError) as info:
        file_report(client, minimal_report, two_files())
    assert info.value.step == "submit" and info.value.retryable and info.value.report_id is None
    assert info.value.code is None
    assert sim.reports == {}


def test_lost_finish_response_is_recognised_as_finished(client, sim, minimal_report):
    sim.fail("/finish", "lost_response")
    result = file_report(client, minimal_report, two_files(), attempts=3)
    assert [r.state for r in sim.reports.values()] == ["finished"]
    assert len(result.files) == 2
    assert sim.endpoints_called()[-2:] == ["/finish", "/retract"]


def test_finish_failure_not_processed_is_retracted(client, sim, minimal_report):
    sim.fail("/finish", "http_error", status=500)
    with pytest.raises(FilingError) as info:
        file_report(client, minimal_report, two_files())
    assert info.value.step == "finish" and info.value.retracted and info.value.retryable
    assert sim.report(info.value.report_id).state == "retracted"


def test_unknown_finish_outcome_is_never_retried(client, sim, minimal_report):
    sim.fail("/finish", "lost_response")
    sim.fail("/retract", "timeout")
    with pytest.raises(FilingError) as info:
        file_report(client, minimal_report, two_files(), attempts=3)
    err = info.value
    assert err.outcome_unknown and not err.retryable and not err.retracted
    assert len(sim.reports) == 1  # no second report was opened
    assert settle_open_report(client, err.report_id) is True  # later: NCMEC says it is finished


def test_settle_open_report_retracts_an_unfinished_one(client, sim, minimal_report):
    report_id = client.submit(minimal_report)
    assert settle_open_report(client, report_id) is False
    assert sim.report(report_id).state == "retracted"
    assert settle_open_report(client, report_id) is False  # already retracted: same answer


def test_proxy_error_page_is_retryable(client, sim):
    sim.fail("/status", "proxy_error")
    with pytest.raises(CyberTiplineError) as info:
        client.status()
    assert info.value.http_status == 502 and info.value.code is None and info.value.retryable


def test_state_error_in_http_200_still_raises(client, sim, minimal_report):
    report_id = client.submit(minimal_report)
    client.finish(report_id)
    with pytest.raises(CyberTiplineError) as info:
        client.finish(report_id)
    assert info.value.http_status == 200 and info.value.code == 5102 and not info.value.retryable


def test_md5_mismatch_on_upload_is_detected():
    def handler(request: httpx.Request) -> httpx.Response:
        body = (
            b"<reportResponse><responseCode>0</responseCode><responseDescription>Success</responseDescription>"
            b"<reportId>1</reportId><fileId>f1</fileId><hash>00000000000000000000000000000000</hash></reportResponse>"
        )
        return httpx.Response(200, content=body)

    client = CyberTiplineClient(username="u", password="p", transport=httpx.MockTransport(handler))
    with pytest.raises(CyberTiplineError, match="MD5 mismatch") as info:
        client.upload(1, "a.png", PNG_A)
    assert info.value.retryable


def test_success_without_report_id_is_an_error():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"<reportResponse><responseCode>0</responseCode></reportResponse>")

    client = CyberTiplineClient(username="u", password="p", transport=httpx.MockTransport(handler))
    with pytest.raises(CyberTiplineError, match="reportId"):
        client.submit(
            b"<report><incidentSummary><incidentType>Child Sex Trafficking</incidentType>"
            b"<incidentDateTime>2026-01-01T00:00:00.000Z</incidentDateTime></incidentSummary>"
            b"<reporter><reportingPerson><email>a@b.example</email></reportingPerson></reporter></report>"
        )


def test_response_with_entities_is_not_expanded():
    body = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<reportResponse><responseCode>0</responseCode><responseDescription>&x;</responseDescription></reportResponse>"
    )
    client = CyberTiplineClient(
        username="u", password="p", transport=httpx.MockTransport(lambda r: httpx.Response(200, content=body))
    )
    assert "root:" not in client.status().description


def test_simulator_state_is_per_instance():
    a, b = NcmecSimulator(), NcmecSimulator()
    assert a.reports is not b.reports
