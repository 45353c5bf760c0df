"""Reports tell the truth (issue 13.3): one report per reported user and incident with all its files,
``fileViewedByEsp`` only from an audited reveal of the original, files not kept reported by their
hashes and the reason, follow-ups naming the earlier reports, the network's group identifier, and
every document NCMEC receives valid against NCMEC's own schema (the simulator checks it)."""

from __future__ import annotations

import pytest
from lxml import etree
from sqlalchemy import select, update

from enforcement.conftest import dispatcher, env, platform  # noqa: F401 - shared fixtures
from enforcement.helpers import csam_bank, scan_all, submit
from reporting.ncmec_simulator import NcmecSimulator


@pytest.fixture
def sim() -> NcmecSimulator:
    return NcmecSimulator()


@pytest.fixture
def disp(dispatcher, sim, tmp_path, monkeypatch):
    from importlib import resources

    from suraksha.pipeline.settings import reset_pipeline_settings
    from suraksha.reporting.ncmec import CyberTiplineClient

    text = (resources.files("suraksha.policy") / "default.yaml").read_text()
    (tmp_path / "p.yaml").write_text(text.replace("require_review_before_report: true", "require_review_before_report: false"))
    monkeypatch.setenv("SURAKSHA_POLICY_PATH", str(tmp_path / "p.yaml"))
    reset_pipeline_settings()
    dispatcher.ncmec = CyberTiplineClient(username=sim.username, password=sim.password, transport=sim.transport())
    return dispatcher


def _steps_before_filing() -> None:
    """Run the outbox steps that make actions, evidence copies and drafts, without filing anything."""
    from suraksha.dispatch import deliver

    for topic in ("action", "preserve", "review", "report"):
        deliver(topic)


def _view(item_id: int, position: int, **detail) -> None:
    from suraksha import audit
    from suraksha.db import session_scope

    with session_scope() as s:
        audit.record(s, "user:rita", "media.view", "item", item_id, {"position": position, **detail})


def _filed(sim: NcmecSimulator, report_id: int):
    """The report XML and the fileDetails documents NCMEC received, parsed."""
    sim_report = sim.report(report_id)
    details = [etree.fromstring(f.details) for f in sim_report.files.values()]
    return etree.fromstring(sim_report.xml), details


def _xsd_errors(document: bytes) -> list[str]:
    from suraksha.reporting.ncmec.xsd import schema_errors

    return schema_errors(document)


def test_one_report_per_account_with_every_file_viewed_only_where_an_original_was_shown(disp, sim, reference_dir):
    from suraksha.reporting.service import list_reports

    image = csam_bank(reference_dir)
    variant = (reference_dir / "pdq" / "bridge-mods" / "blur-a-little.jpg").read_bytes()
    first = submit("p1", "acct-1", [image], url="https://platform.example/p/1", surface="public feed", ip="49.36.12.7")
    second = submit("p2", "acct-1", [variant], surface="direct message", file_names=["holiday.jpg"])
    other = submit("p3", "acct-2", [image])
    scan_all()
    _steps_before_filing()
    # Only a person's audited showing of the ORIGINAL bytes counts (decisions helper's REVEAL.md):
    _view(first, 0, requested="original", served="original", retained=True)
    _view(second, 0, requested="preview", served="preview", retained=True)  # a blurred preview
    _view(second, 0, requested="original", served="original", retained=False)  # old row: nothing was there
    _view(second, 0, requested="original", served="original", retained=True, damaged="tampered")
    disp.run_once()

    ncmec = {r.account_id: r for r in list_reports(destination="ncmec")}
    assert len(ncmec) == 2 and len(sim.reports) == 2  # one per account, not one per post
    [mine] = [r for r in ncmec.values() if set(r.item_ids) == {first, second}]
    assert mine.state == "finished" and mine.subject.endswith(":incident:1")
    assert {r.item_ids[0] for r in ncmec.values() if r.id != mine.id} == {other}
    for sim_report in sim.reports.values():  # what NCMEC received passes NCMEC's schema
        assert _xsd_errors(sim_report.xml) == []
        assert all(_xsd_errors(f.details) == [] for f in sim_report.files.values())

    report, files = _filed(sim, int(mine.external_id))
    assert report.findtext("incidentSummary/incidentType") == "Child Pornography (possession, manufacture, and distribution)"
    assert report.findtext("incidentSummary/platform") == "Suraksha Test Platform"
    assert len(files) == 2
    by_item = {f.findtext("fileName").split("-")[0]: f for f in files}
    viewed, not_viewed = by_item[f"item{first}"], by_item[f"item{second}"]
    assert viewed.findtext("fileViewedByEsp") == "true"
    assert not_viewed.findtext("fileViewedByEsp") == "false"
    notes = [e.text for e in not_viewed.findall("additionalInfo")]
    assert any("hash match" in n and "'known-csam'" in n for n in notes), notes
    assert any("Not viewed by a person" in n for n in notes)
    assert viewed.findtext("publiclyAvailable") == "true" and not_viewed.findtext("publiclyAvailable") == "false"
    assert not_viewed.findtext("originalFileName") == "holiday.jpg"
    assert viewed.findtext("locationOfFile") == "https://platform.example/p/1"
    assert [e.text for e in report.findall("personOrUserReported/ipCaptureEvent/ipAddress")] == ["49.36.12.7"]


def test_a_file_not_kept_is_reported_by_its_hashes_with_the_reason(disp, sim, reference_dir):
    from suraksha.db import session_scope
    from suraksha.evidence.models import Evidence
    from suraksha.items.models import Item, ItemMedia, PendingMedia
    from suraksha.reporting.service import list_reports

    image = csam_bank(reference_dir)
    kept = submit("p1", "acct-1", [image])
    lost = submit("p2", "acct-1", [image])
    scan_all()
    _steps_before_filing()
    with session_scope() as s:  # as for an item found by a rescan: stored hashes, no bytes kept
        s.execute(update(Evidence).where(Evidence.item_ref.like(f"item:{lost}:%")).values(status="purged"))
        s.execute(PendingMedia.__table__.delete().where(PendingMedia.item_id == lost))
        s.execute(update(Item).where(Item.id == lost).values(retroactive=True))
        sha256, md5 = s.execute(select(ItemMedia.sha256, ItemMedia.md5).where(ItemMedia.item_id == lost)).one()
    disp.run_once()

    [report_row] = list_reports(destination="ncmec")
    assert report_row.state == "finished" and set(report_row.item_ids) == {kept, lost}
    report, files = _filed(sim, int(report_row.external_id))
    assert [f.findtext("fileName").split("-")[0] for f in files] == [f"item{kept}"]  # only bytes we have are sent
    info = report.findtext("additionalInfo")
    assert "File not attached: item p2 file 0" in info
    assert sha256 in info and md5 in info and "'known-csam'" in info
    assert "rescan" in info and "not retained" in info
    assert _xsd_errors(sim.report(int(report_row.external_id)).xml) == []


def test_a_later_incident_is_a_follow_up_naming_the_first_report(disp, sim, reference_dir):
    from suraksha.reporting.service import list_reports

    image = csam_bank(reference_dir)
    submit("p1", "acct-1", [image])
    scan_all()
    disp.run_once()
    [first] = list_reports(destination="ncmec")
    assert first.state == "finished"
    root, _ = _filed(sim, int(first.external_id))
    assert root.findall("personOrUserReported/priorCTReports") == []

    later = submit("p2", "acct-1", [image])
    scan_all()
    disp.run_once()
    follow = next(r for r in list_reports(destination="ncmec") if r.id != first.id)
    assert follow.state == "finished" and follow.item_ids == [later] and follow.subject.endswith(":incident:2")
    root, _ = _filed(sim, int(follow.external_id))
    assert [e.text for e in root.findall("personOrUserReported/priorCTReports")] == [first.external_id]
    assert _xsd_errors(sim.report(int(follow.external_id)).xml) == []


def test_an_account_in_a_network_carries_its_group_identifier(disp, sim, reference_dir):
    from suraksha.reporting.service import get_report, list_reports

    image = csam_bank(reference_dir)
    submit("p1", "acct-1", [image])
    submit("p2", "acct-2", [image])  # the same known file from two accounts links them
    scan_all()
    disp.run_once()
    reports = list_reports(destination="ncmec")
    assert len(reports) == 2
    groups = set()
    for r in reports:
        assert r.state == "finished"
        root, _ = _filed(sim, int(r.external_id))
        groups.add(root.findtext("personOrUserReported/groupIdentifier"))
        assert get_report(r.id).group_identifier == root.findtext("personOrUserReported/groupIdentifier")
    [group] = groups
    assert group and group.startswith("suraksha-network-")
    india = list_reports(destination="in_police")
    assert all(r.group_identifier == group for r in india)


def test_review_leaves_one_item_out_and_files_the_rest(dispatcher, sim, reference_dir, monkeypatch):
    from suraksha.auth.service import create_user, list_users
    from suraksha.cases.models import ReviewTask
    from suraksha.cases.service import Actor, decide
    from suraksha.cases.settings import reset_review_settings
    from suraksha.db import session_scope
    from suraksha.reporting.ncmec import CyberTiplineClient
    from suraksha.reporting.service import get_report, list_reports

    monkeypatch.setenv("SURAKSHA_REVIEW_SECOND_REVIEW", "")
    reset_review_settings()  # the review workspace would otherwise ask for a second reviewer
    dispatcher.ncmec = CyberTiplineClient(username=sim.username, password=sim.password, transport=sim.transport())
    create_user("rita", "reviewer", password="correct horse battery", must_change_password=False)
    [rita] = [Actor(u.id, u.username, u.role) for u in list_users() if u.username == "rita"]
    image = csam_bank(reference_dir)
    yes = submit("p1", "acct-1", [image])
    no = submit("p2", "acct-1", [image])
    scan_all()
    dispatcher.run_once()
    [draft] = list_reports(destination="ncmec")
    assert draft.state == "draft" and set(draft.item_ids) == {yes, no}  # waits for review of both
    with session_scope() as s:
        tasks = {t.item_id: t.id for t in s.scalars(select(ReviewTask).where(ReviewTask.item_id.in_([yes, no])))}
    decide(tasks[no], rita, "not_violating")
    dispatcher.run_once()
    assert get_report(draft.id).state == "draft"  # still waiting for the other item
    decide(tasks[yes], rita, "csam", industry_class="A2")
    dispatcher.run_once()
    report = get_report(draft.id)
    assert report.state == "finished" and report.item_ids == [yes]
    assert any(e.reason and f"item {no} left out" in e.reason for e in report.events)
    _, files = _filed(sim, int(report.external_id))
    assert [f.findtext("industryClassification") for f in files] == ["A2"]
    # a review decision is not a viewing: no audited reveal showed the original, so NCMEC is told false
    assert [f.findtext("fileViewedByEsp") for f in files] == ["false"]


@pytest.mark.parametrize(
    ("surface", "public"),
    [
        ("public feed", True),
        ("profile", True),
        ("direct message", False),
        ("private group", False),
        ("Direct-Messages", False),
        ("stories", True),
        ("", None),
        ("somewhere", None),
    ],
)
def test_publicly_available_comes_from_the_surface(surface, public):
    from suraksha.reporting.subject import publicly_available

    assert publicly_available(surface) is public


def test_india_gets_one_package_per_account_with_every_item_and_its_network(disp, sim, reference_dir):
    import io

    import pypdf

    from suraksha.reporting.service import list_reports, package, package_pdf, record_acknowledgement, record_delivery

    image = csam_bank(reference_dir)
    submit("post-1", "acct-1", [image], ip="49.36.12.7", country="IN", created_at="2026-11-20T20:15:00+00:00")
    submit("post-2", "acct-1", [image], ip="49.36.12.8", country="IN", created_at="2026-11-21T03:00:00+00:00")
    submit("post-3", "acct-2", [image], country="IN")  # links acct-1 and acct-2 (the same known file)
    scan_all()
    disp.run_once()
    packages = {r.account_id: r for r in list_reports(destination="in_police")}
    assert len(packages) == 2
    [mine] = [r for r in packages.values() if len(r.item_ids) == 2]
    p = package(mine.id)
    assert [i["platform_item_id"] for i in p["items"]] == ["post-1", "post-2"]
    assert p["incident"]["first_posted_at"]["ist"] == "21-11-2026 01:45:00 IST"
    assert p["incident"]["last_posted_at"]["ist"] == "21-11-2026 08:30:00 IST"
    assert [e["ip"] for e in p["network_evidence"]] == ["49.36.12.7", "49.36.12.8"]
    assert p["network"]["group_identifier"].startswith("suraksha-network-") and p["network"]["accounts"] == 2
    assert {m["platform_account_id"] for m in p["network"]["members"]} == {"acct-1", "acct-2"}
    record_delivery(mine.id, "portal", "user:nodal", police_unit="Cyber Crime PS, Bengaluru")
    record_acknowledgement(mine.id, "user:nodal", fir_number="FIR 0457/2026")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(package_pdf(mine.id))).pages)
    assert "Cyber Crime PS, Bengaluru" in text and "FIR 0457/2026" in text
    assert "post-1" in text and "post-2" in text and "acct-2" in text
    assert "21-11-2026 08:30:00 IST" in text and "2026-11-21T03:00:00" in text
