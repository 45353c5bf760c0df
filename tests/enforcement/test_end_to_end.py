"""Done means: from a csam bank match on an ingested item to an acknowledged removal webhook, a
preserved encrypted copy and a finished CyberTipline report in the simulator, automatically."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import func, select

from reporting.ncmec_simulator import NcmecSimulator
from suraksha.db import session_scope

from .helpers import csam_bank, jpeg_bytes, scan_all, submit


@pytest.fixture
def sim() -> NcmecSimulator:
    return NcmecSimulator()


@pytest.fixture
def full_dispatcher(dispatcher, sim):
    from suraksha.reporting.ncmec import CyberTiplineClient

    dispatcher.ncmec = CyberTiplineClient(username=sim.username, password=sim.password, transport=sim.transport())
    return dispatcher


def _reviewers():
    from suraksha.auth.service import create_user, list_users
    from suraksha.cases.service import Actor

    for name in ("rita", "raj"):
        create_user(name, "reviewer", password="correct horse battery", must_change_password=False)
    return [Actor(u.id, u.username, u.role) for u in list_users() if u.username in ("rita", "raj")]


def _finished_reports(sim: NcmecSimulator):
    return [r for r in sim.reports.values() if r.state == "finished"]


def test_csam_match_to_removal_preserved_copy_and_finished_cybertipline_report(full_dispatcher, platform, sim, reference_dir):
    from suraksha import evidence
    from suraksha.cases.models import ReviewTask
    from suraksha.cases.service import decide
    from suraksha.enforcement.actions import list_actions
    from suraksha.items.models import PendingMedia
    from suraksha.reporting.service import get_report, list_reports

    image = csam_bank(reference_dir)
    item_id = submit(
        "post-9001",
        "acct-77",
        [image],
        ip="203.0.113.7",
        port=51234,
        device_id="android-5f3a",
        url="https://platform.example/p/9001",
        created_at="2026-11-20T08:30:00+00:00",
    )
    harmless = submit("post-9002", "acct-78", [jpeg_bytes(3)])
    scan_all()

    full_dispatcher.run_once()

    # Removal and suspension acknowledged by the platform, each performed once.
    removals = platform.performed("remove_item")
    assert [r["item"]["platform_id"] for r in removals] == ["post-9001"]
    assert [r["account"]["platform_account_id"] for r in platform.performed("suspend_account")] == ["acct-77"]
    assert {a.status for a in list_actions()} == {"acknowledged"}
    assert not list_actions(item_id=harmless)

    # The media bytes are in the vault, encrypted, and gone from the pending table.
    with session_scope() as s:
        ev = s.scalars(select(evidence.Evidence).where(evidence.Evidence.item_ref == f"item:{item_id}:media:0")).one()
        assert s.scalar(select(func.count()).select_from(PendingMedia).where(PendingMedia.item_id == item_id)) == 0
    assert ev.sha256 == hashlib.sha256(image).hexdigest()
    blob = (evidence.vault.vault_dir() / ev.blob_name).read_bytes()
    assert image not in blob and image[:64] not in blob  # encrypted at rest
    assert evidence.read(ev.id, "user:auditor", "test: verify the preserved copy") == image

    # The default policy requires a reviewer before reporting: the report waits, says why, nothing sent.
    [report] = list_reports(destination="ncmec")
    assert report.state == "draft" and "review" in report.state_reason
    assert sim.reports == {}

    with session_scope() as s:
        task_id = s.scalar(select(ReviewTask.id).where(ReviewTask.item_id == item_id))
    first, second = _reviewers()
    decide(task_id, first, "csam", "A1")  # CSAM needs a second reviewer by default (cases settings)
    full_dispatcher.run_once()
    assert get_report(report.id).state == "draft" and sim.reports == {}
    decide(task_id, second, "csam", "A1")
    full_dispatcher.run_once()

    report = get_report(report.id)
    assert report.state == "finished", report.state_reason
    [filed] = _finished_reports(sim)
    assert report.external_id == str(filed.report_id)
    assert b"acct-77" in filed.xml and b"203.0.113.7" in filed.xml
    [f] = filed.files.values()
    assert f.content == image and b"A1" in f.details
    assert [e.to_state for e in report.events] == ["draft", "draft", "queued", "submitted", "finished"]

    # Further passes change nothing: filed exactly once, acted exactly once.
    full_dispatcher.run_once()
    full_dispatcher.run_once()
    assert len(_finished_reports(sim)) == 1 and len(sim.reports) == 1
    assert all(n == 1 for n in platform.effects.values())


def test_without_required_review_the_whole_flow_runs_unattended(
    full_dispatcher, platform, sim, reference_dir, tmp_path, monkeypatch
):
    from suraksha.pipeline.settings import reset_pipeline_settings
    from suraksha.policy import default_policy
    from suraksha.reporting.service import list_reports

    text = (__import__("importlib.resources").resources.files("suraksha.policy") / "default.yaml").read_text()
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(text.replace("require_review_before_report: true", "require_review_before_report: false"))
    monkeypatch.setenv("SURAKSHA_POLICY_PATH", str(policy_file))
    reset_pipeline_settings()

    image = csam_bank(reference_dir)
    submit("post-1", "acct-1", [image], ip="198.51.100.4")
    scan_all(default_policy())
    full_dispatcher.run_once()

    [report] = list_reports(destination="ncmec")
    assert report.state == "finished"
    assert len(_finished_reports(sim)) == 1
    assert len(platform.performed("remove_item")) == 1
