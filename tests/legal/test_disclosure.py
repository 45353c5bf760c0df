"""The issue's "done means": an officer of agency A files a data request; the nodal officer
gathers, marks one data point unavailable with a reason; a legal user approves; the package is
built; the officer of A downloads it and it verifies; a tampered copy fails; agency B is refused."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest
from tests.legal.helpers import SECRET, FakePlatformData, post

from suraksha import legal
from suraksha.audit import verify_chain
from suraksha.legal import LegalConflict, LegalForbidden, RequestIn, RequestNotFound

ALL_POINTS = ["subscriber_data", "ip_logs", "content_urls", "server_details", "linked_accounts", "content_media"]


@pytest.fixture
def connector(monkeypatch):
    from suraksha.enforcement.settings import reset_enforcement_settings

    monkeypatch.setenv("SURAKSHA_CONNECTOR_URL", "https://platform.example/suraksha")
    monkeypatch.setenv("SURAKSHA_CONNECTOR_SECRET", SECRET)
    reset_enforcement_settings()
    yield FakePlatformData()
    reset_enforcement_settings()


def _file(agency_id: int, pdf: bytes, server_details: bool = True) -> legal.schemas.RequestView:
    points = ALL_POINTS if server_details else [p for p in ALL_POINTS if p != "server_details"]
    return legal.file_request(
        RequestIn(
            type="data_request",
            jurisdiction="in",
            channel="portal",
            agency_id=agency_id,
            officer_id=11,
            officer_name="Insp. R. Patil",
            officer_rank="inspector",
            officer_email="r.patil@mhpolice.gov.in",
            issuer_kind="police",
            case_number="FIR 123/2026",
            legal_basis="BNSS s.94; IT Rules 2021 Rule 3(1)(j)",
            targets=[{"kind": "account", "value": "acct-1"}],
            data_points=points,
        ),
        "officer:11",
        document=pdf,
        document_name="notice.pdf",
    )


def test_data_request_to_verified_disclosure(agencies, order_pdf, connector, tmp_path):
    a, b = agencies
    first = post("p-1", "acct-1", media=True, links=["https://example.org/shared-link"])
    post("p-2", "acct-1", ip="2001:db8::5", port=443)
    r = _file(a.id, order_pdf)
    assert r.status == "in_progress"
    from suraksha.enforcement.actions import request_action

    request_action("remove_item", "user:rev", item_id=first, reason="policy: removed after review")

    # The officer sees their request; another agency's officer does not.
    assert legal.get_request(r.reference, agency_id=a.id).id == r.id
    with pytest.raises(RequestNotFound):
        legal.get_request(r.reference, agency_id=b.id)
    assert [x.id for x in legal.list_requests(agency_id=b.id)] == []

    legal.preserve_for_request(r.id, "user:nodal")  # the media is preserved and held first
    points = {p.key: p for p in legal.gather(r.id, "user:nodal", transport=connector.transport())}
    assert connector.refused == [] and connector.calls[0]["reference"] == r.reference
    assert points["subscriber_data"].status == "found"
    assert {row["source"] for row in points["subscriber_data"].rows} == {"suraksha", "platform"}
    assert {(row["ip"], row["port"]) for row in points["ip_logs"].rows} == {("203.0.113.7", 50123), ("2001:db8::5", 443)}
    assert [row["url"] for row in points["content_urls"].rows] == ["https://example.org/shared-link"]
    assert points["server_details"].status == "found"  # Suraksha holds the hosting region
    assert points["linked_accounts"].status == "pending"  # nothing links acct-1 to anyone
    assert points["content_media"].rows[0]["evidence_id"]

    # Approval is refused while a point is pending without a reason.
    with pytest.raises(LegalConflict, match="linked_accounts"):
        legal.approve(r.id, "user:lena", "legal")
    legal.mark_data_point(
        r.id, "linked_accounts", "unavailable", "no linked accounts found: no shared media, IP or device", "user:nodal"
    )
    # Only the legal role approves.
    with pytest.raises(LegalForbidden):
        legal.approve(r.id, "user:rev", "reviewer")
    approved = legal.approve(r.id, "user:lena", "legal", note="complete except linked accounts (none)")
    assert approved.status == "approved" and approved.approved_by == "user:lena"

    d = legal.build_package(r.id, "user:lena", "legal")
    got = legal.download_disclosure(d.id, "officer:11", a.id)
    assert got.filename.endswith(".zip")
    path = tmp_path / got.filename
    path.write_bytes(got.content)

    check = legal.verify_package(path, legal.public_key_b64())
    assert check.ok, check.errors
    with zipfile.ZipFile(io.BytesIO(got.content)) as z:
        names = set(z.namelist())
        assert {
            "cover_letter.pdf",
            "data/request.json",
            "data/subscriber_data.csv",
            "data/ip_logs.csv",
            "manifest.json",
            "manifest.sig",
            "public_key.txt",
        } <= names
        assert any(n.startswith("media/") for n in names)
        body = json.loads(z.read("data/request.json"))
        assert z.read("cover_letter.pdf").startswith(b"%PDF-")
    assert [(x["kind"], x["platform_item_id"]) for x in body["actions_taken"]] == [("remove_item", "p-1")]
    assert body["reports_filed"] == []
    statuses = {p["key"]: (p["status"], p["reason"]) for p in body["data_points"]}
    assert statuses["linked_accounts"] == ("unavailable", "no linked accounts found: no shared media, IP or device")
    assert body["complete"] is False

    # Agency B's officer is refused, and the refusal is on the audit record.
    with pytest.raises(LegalForbidden):
        legal.download_disclosure(d.id, "officer:99", b.id)
    after = legal.get_request(r.id)
    assert after.status == "answered" and after.disclosures[0].downloads == 1
    assert verify_chain().ok


def test_tampered_package_fails_verification(agencies, order_pdf, connector):
    a, _ = agencies
    post("p-1", "acct-1")
    r = _file(a.id, order_pdf)
    legal.gather(r.id, "user:nodal", transport=connector.transport())
    for key in ("linked_accounts", "content_media", "content_urls"):
        legal.mark_data_point(r.id, key, "unavailable", "nothing of this kind is held for the account", "user:nodal")
    legal.approve(r.id, "user:lena", "legal")
    d = legal.build_package(r.id, "user:lena", "legal")
    original = legal.download_disclosure(d.id, "user:lena", None).content

    def rewrite(change) -> bytes:
        src = zipfile.ZipFile(io.BytesIO(original))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            for name in src.namelist():
                data = change(name, src.read(name))
                if data is not None:
                    z.writestr(name, data)
            extra = change("__extra__", None)
            if extra is not None:
                z.writestr("data/extra.csv", extra)
        return out.getvalue()

    edited = rewrite(lambda n, b: b.replace(b"203.0.113.7", b"198.51.100.1") if n == "data/ip_logs.csv" else b)
    v = legal.verify_package(edited)
    assert not v.ok and v.errors == [next(e for e in v.errors if e.startswith("data/ip_logs.csv: SHA-256"))]

    def forge_manifest(n, b):
        if n != "manifest.json":
            return b
        m = json.loads(b)
        m["complete"] = True
        return json.dumps(m).encode()

    assert any("manifest.sig does not match" in e for e in legal.verify_package(rewrite(forge_manifest)).errors)
    assert any("not listed" in e for e in legal.verify_package(rewrite(lambda n, b: b"x" if n == "__extra__" else b)).errors)
    assert any("missing" in e for e in legal.verify_package(rewrite(lambda n, b: None if n == "cover_letter.pdf" else b)).errors)

    # Pinned to another key: refused even though the package is internally consistent.
    import base64

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from suraksha.legal.signing import new_private_key_b64, parse_public_key, public_key_raw

    other = Ed25519PrivateKey.from_private_bytes(base64.b64decode(new_private_key_b64()))
    pinned = legal.verify_package(original, base64.b64encode(public_key_raw(other)).decode())
    assert not pinned.ok and any("different public key" in e for e in pinned.errors)
    assert legal.verify_package(original).ok
    assert parse_public_key(legal.public_key_b64())


def test_production_refuses_to_sign_without_key(agencies, order_pdf, connector, monkeypatch):
    from suraksha.config import reset_settings
    from suraksha.legal import LegalError

    a, _ = agencies
    r = _file(a.id, order_pdf)
    for key in ALL_POINTS:
        legal.mark_data_point(r.id, key, "unavailable", "account unknown to the platform", "user:nodal")
    legal.approve(r.id, "user:lena", "legal")
    monkeypatch.setenv("SURAKSHA_MODE", "production")
    reset_settings()
    with pytest.raises(LegalError, match="SURAKSHA_DISCLOSURE_SIGNING_KEY is not set"):
        legal.build_package(r.id, "user:lena", "legal")
    assert legal.get_request(r.id).disclosures == []


def test_linked_accounts_come_from_the_account_network(agencies, order_pdf, connector):
    """Only strong links disclose an account as linked; each link says its strength (issue 13.4)."""
    a, _ = agencies
    from suraksha.db.session import session_scope
    from suraksha.items.models import Item

    r = _file(a.id, order_pdf)  # filed before Suraksha has seen the account: linked when gathering
    flagged = post("n-1", "acct-1", ip="198.51.100.20", links=["https://rare.example/folder/9"])
    post("n-2", "acct-other", ip="198.51.100.20", links=["https://rare.example/folder/9?utm_source=x"])  # same rare link
    post("n-3", "acct-ipmate", ip="198.51.100.20")  # the same IP near a flagged item only: a weak tie
    with session_scope() as s:
        s.get(Item, flagged).verdict = "review"
    points = {p.key: p for p in legal.gather(r.id, "user:nodal", transport=connector.transport())}
    linked = points["linked_accounts"]
    assert linked.status == "found", linked
    assert [(row["of_account"], row["platform_account_id"]) for row in linked.rows] == [("acct-1", "acct-other")]
    row = linked.rows[0]
    assert row["tie"] == "strong"
    assert row["linked_by"] == "strong: link https://rare.example/folder/9; weak: ip 198.51.100.20"


@pytest.mark.parametrize(
    "answer, error",
    [
        (lambda req: httpx.Response(500, text="boom"), "answered HTTP 500"),
        (lambda req: httpx.Response(200, text="<html>"), "not JSON"),
    ],
)
def test_platform_failure_is_recorded_and_loses_nothing(agencies, order_pdf, connector, answer, error):
    a, _ = agencies
    post("f-1", "acct-1")
    r = _file(a.id, order_pdf)
    points = {p.key: p for p in legal.gather(r.id, "user:nodal", transport=httpx.MockTransport(answer))}
    assert points["ip_logs"].status == "found"  # Suraksha's own records are still used
    assert points["subscriber_data"].sources == ["suraksha"]
    gathered = [e for e in legal.request_history(r.id) if e.action == "data.gathered"]
    assert error in gathered[-1].details["connector_error"]
