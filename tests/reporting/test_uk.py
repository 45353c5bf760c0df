"""UK: the NCA report built from the same facts, selected by the item's country (GB)."""

from __future__ import annotations

import pytest

from enforcement.conftest import dispatcher, env, platform  # noqa: F401 - shared fixtures
from enforcement.helpers import csam_bank, scan_all, submit


def test_gb_items_get_an_nca_report_with_the_mapped_fields(dispatcher, reference_dir, tmp_path, monkeypatch):
    from importlib import resources

    from suraksha.pipeline.settings import reset_pipeline_settings
    from suraksha.reporting.service import list_reports, package, record_acknowledgement, record_delivery
    from suraksha.reporting.uk import FIELD_MAP

    text = (resources.files("suraksha.policy") / "default.yaml").read_text()
    (tmp_path / "p.yaml").write_text(text.replace("require_review_before_report: true", "require_review_before_report: false"))
    monkeypatch.setenv("SURAKSHA_POLICY_PATH", str(tmp_path / "p.yaml"))
    reset_pipeline_settings()
    image = csam_bank(reference_dir)
    submit("uk-post", "uk-acct", [image], ip="81.2.69.160", country="GB", device_id="ios-77", url="https://platform.example/p/uk")
    submit("in-post", "in-acct", [image], country="IN")
    scan_all()
    dispatcher.run_once()

    [nca] = list_reports(destination="uk_nca")  # only the GB item: the policy selects by jurisdiction
    assert nca.state == "queued"
    p = package(nca.id)
    assert p["format"] == "suraksha.uk.nca-csea/1"
    assert p["incident"]["platform_item_id"] == "uk-post" and p["incident"]["url"] == "https://platform.example/p/uk"
    assert p["suspect_user"]["platform_account_id"] == "uk-acct"
    assert p["suspect_user"]["ip_events"][0]["ip"] == "81.2.69.160"
    assert p["suspect_user"]["devices"] == [{"device_id": "ios-77", "user_agent": None}]
    assert p["uk_link"] == {"country": "GB", "rule": "csam-match"}
    assert p["content"]["files"][0]["sha256"] and p["content"]["files"][0]["preserved_evidence_id"]
    assert "Online Safety Act 2023 s.66" in p["legal_basis"][0]["legal_basis"]
    assert "portal" in p["submission"]["route"]
    top = {k.split(".")[0] for k in FIELD_MAP}
    assert top <= set(p)  # every documented mapping lands in the report

    record_delivery(nca.id, "portal", "user:compliance", reference="NCA-REF-1")
    r = record_acknowledgement(nca.id, "user:compliance", reference="NCA-ACK-9")
    assert r.state == "finished" and r.external_id == "NCA-ACK-9"
    assert package(nca.id)["submission"]["reference"] == "NCA-REF-1"
    with pytest.raises(ValueError, match="only a submitted"):
        record_acknowledgement(nca.id, "user:compliance")
