"""Reports through the outbox: once per (item, destination), gated by the review the policy
requires (two-person rule), withdrawn when review says no, retried on NCMEC failures, supplemental
reports linked to the first, every state change recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from enforcement.conftest import dispatcher, env, platform  # noqa: F401,E402 - shared fixtures
from enforcement.helpers import csam_bank, scan_all, submit
from reporting.ncmec_simulator import NcmecSimulator
from suraksha.db import session_scope
from suraksha.reporting.ncmec.enums import ResponseCode


@pytest.fixture
def sim() -> NcmecSimulator:
    return NcmecSimulator()


@pytest.fixture
def disp(dispatcher, sim):
    from suraksha.reporting.ncmec import CyberTiplineClient

    dispatcher.ncmec = CyberTiplineClient(username=sim.username, password=sim.password, transport=sim.transport())
    return dispatcher


@pytest.fixture
def people(env):
    from suraksha.auth.service import create_user, list_users
    from suraksha.cases.service import Actor

    for name in ("rita", "raj"):
        create_user(name, "reviewer", password="correct horse battery", must_change_password=False)
    return {u.username: Actor(u.id, u.username, u.role) for u in list_users()}


def _policy(tmp_path, monkeypatch, **settings) -> None:
    from importlib import resources

    from suraksha.pipeline.settings import reset_pipeline_settings

    text = (resources.files("suraksha.policy") / "default.yaml").read_text()
    for key, value in settings.items():
        old = next(line for line in text.splitlines() if line.strip().startswith(f"{key}:"))
        text = text.replace(old, f"  {key}: {value}")
    path = tmp_path / "policy.yaml"
    path.write_text(text)
    monkeypatch.setenv("SURAKSHA_POLICY_PATH", str(path))
    reset_pipeline_settings()


def _task(item_id: int) -> int:
    from suraksha.cases.models import ReviewTask

    with session_scope() as s:
        return s.scalar(select(ReviewTask.id).where(ReviewTask.item_id == item_id))


def test_one_report_per_item_and_destination_whatever_the_outbox_repeats(disp, sim, reference_dir, tmp_path, monkeypatch):
    from suraksha.dispatch import deliver
    from suraksha.outbox.models import OutboxMessage
    from suraksha.reporting.service import list_reports

    _policy(tmp_path, monkeypatch, require_review_before_report="false")
    image = csam_bank(reference_dir)
    item = submit("p1", "acct-1", [image], country="IN")
    scan_all()
    with session_scope() as s:  # a second message for the same subject (e.g. a rescan with another rule)
        s.add(
            OutboxMessage(
                topic="report",
                dedupe_key=f"{item}:report:ncmec:again",
                item_id=item,
                payload={"action": "report:ncmec", "destination": "ncmec"},
            )
        )
    disp.run_once()
    disp.run_once()
    assert deliver("report").made == 0
    reports = {r.destination: r for r in list_reports()}
    assert set(reports) == {"ncmec", "in_police"}
    assert reports["ncmec"].state == "finished" and len(sim.reports) == 1
    # India has no API: the package is ready for a person to send.
    assert reports["in_police"].state == "queued" and "send it to the police" in reports["in_police"].state_reason


def test_two_person_rule_holds_the_report_until_a_second_reviewer_agrees(disp, sim, people, reference_dir, tmp_path, monkeypatch):
    from suraksha.cases.service import decide
    from suraksha.cases.settings import reset_review_settings
    from suraksha.reporting.service import get_report, list_reports

    monkeypatch.setenv("SURAKSHA_REVIEW_SECOND_REVIEW", "")  # the review workspace would finalise with one reviewer
    reset_review_settings()
    _policy(tmp_path, monkeypatch, two_person_rule="true")
    item = submit("p1", "acct-1", [csam_bank(reference_dir)])
    scan_all()
    disp.run_once()
    [report] = list_reports(destination="ncmec")
    decide(_task(item), people["rita"], "csam", "A2")
    disp.run_once()
    report = get_report(report.id)
    assert report.state == "draft" and "two-person" in report.state_reason and sim.reports == {}
    reset_review_settings()


def test_review_saying_not_csam_withdraws_the_report_before_anything_is_sent(disp, sim, people, reference_dir, monkeypatch):
    from suraksha.cases.service import decide
    from suraksha.cases.settings import reset_review_settings
    from suraksha.reporting.service import get_report, list_reports

    monkeypatch.setenv("SURAKSHA_REVIEW_SECOND_REVIEW", "")
    reset_review_settings()
    item = submit("p1", "acct-1", [csam_bank(reference_dir)])
    scan_all()
    disp.run_once()
    decide(_task(item), people["rita"], "not_violating")
    disp.run_once()
    [report] = list_reports(destination="ncmec")
    report = get_report(report.id)
    assert report.state == "retracted" and "not_violating" in report.state_reason
    assert [e.to_state for e in report.events] == ["draft", "draft", "draft", "retracted"]
    assert "left out" in report.events[2].reason and report.item_ids == []
    assert sim.reports == {}
    reset_review_settings()


def test_ncmec_outage_retries_with_backoff_and_files_once(disp, sim, reference_dir, tmp_path, monkeypatch):
    from suraksha.reporting.models import Report
    from suraksha.reporting.service import get_report, list_reports

    _policy(tmp_path, monkeypatch, require_review_before_report="false")
    submit("p1", "acct-1", [csam_bank(reference_dir)])
    scan_all()
    sim.fail("/upload", "http_error", status=503)  # after /submit: the open report is retracted
    disp.run_once()
    [report] = list_reports(destination="ncmec")
    assert report.state == "failed" and not report.gave_up and "503" in report.state_reason
    disp.run_once()
    assert get_report(report.id).state == "failed"  # not due yet
    with session_scope() as s:
        s.get(Report, report.id).next_attempt_at = s.get(Report, report.id).created_at
    disp.run_once()
    report = get_report(report.id)
    assert report.state == "finished"
    assert sorted(r.state for r in sim.reports.values()) == ["finished", "retracted"]
    assert [e.to_state for e in report.events] == ["draft", "queued", "submitted", "failed", "submitted", "finished"]


def test_a_refused_report_fails_for_good_and_can_be_retried_by_hand(disp, sim, reference_dir, tmp_path, monkeypatch):
    from suraksha.reporting.service import get_report, list_reports, retry_report

    _policy(tmp_path, monkeypatch, require_review_before_report="false")
    submit("p1", "acct-1", [csam_bank(reference_dir)])
    scan_all()
    sim.fail("/submit", "code", status=200, code=ResponseCode.AUTHENTICATION_REQUIRED)
    disp.run_once()
    [report] = list_reports(destination="ncmec")
    assert report.state == "failed" and report.gave_up
    retry_report(report.id, "user:lead")
    disp.run_once()
    assert get_report(report.id).state == "finished"
    with pytest.raises(ValueError, match="only failed"):
        retry_report(report.id, "user:lead")


def test_missing_reporter_settings_fail_with_the_setting_to_fix(disp, sim, reference_dir, tmp_path, monkeypatch):
    from suraksha.reporting.service import list_reports
    from suraksha.reporting.settings import reset_reporting_settings

    _policy(tmp_path, monkeypatch, require_review_before_report="false")
    monkeypatch.delenv("SURAKSHA_REPORTER_EMAIL")
    reset_reporting_settings()
    submit("p1", "acct-1", [csam_bank(reference_dir)])
    scan_all()
    disp.run_once()
    [report] = list_reports(destination="ncmec")
    assert report.state == "failed" and report.gave_up and "SURAKSHA_REPORTER_EMAIL" in report.state_reason
    assert sim.reports == {}


def test_supplemental_report_links_to_the_first_and_names_it_at_ncmec(disp, sim, reference_dir, tmp_path, monkeypatch):
    from suraksha.reporting.service import file_supplemental, get_report, list_reports

    _policy(tmp_path, monkeypatch, require_review_before_report="false")
    submit("p1", "acct-1", [csam_bank(reference_dir)])
    scan_all()
    disp.run_once()
    [first] = list_reports(destination="ncmec")
    supp = file_supplemental(first.id, "user:lead", "The account also sent the file in 3 private chats.")
    assert first.subject == f"account:{first.account_id}:incident:1"
    assert supp.supplemental_to == first.id and supp.subject == f"{first.subject}:supplemental:1"
    assert supp.item_ids == first.item_ids == [first.item_id]
    disp.run_once()
    supp = get_report(supp.id)
    assert supp.state == "finished" and supp.external_id != first.external_id
    xml = sim.report(int(supp.external_id)).xml
    assert f"Supplemental to CyberTipline report {first.external_id}".encode() in xml
    assert f"<priorCTReports>{first.external_id}</priorCTReports>".encode() in xml
    with pytest.raises(ValueError, match="extra_info"):
        file_supplemental(first.id, "user:lead", "")


def test_bad_operations_get_clear_errors(env):
    from suraksha.reporting.service import ReportError, get_report, list_reports, record_delivery, retract_report

    with pytest.raises(ReportError, match="unknown state"):
        list_reports(state="sent")
    with pytest.raises(ReportError, match="unknown destination"):
        list_reports(destination="interpol")
    with pytest.raises(LookupError):
        get_report(12345)
    with pytest.raises(LookupError):
        retract_report(12345, "user:x", "why")
    with pytest.raises(ReportError, match="delivery method"):
        record_delivery(1, "pigeon", "user:x")
