"""Every way a preserved object can fail to read back has a kind, and every failed read, export or
verify is reported the same way: one log line (id and kind, no content), the Prometheus counter,
and a custody + audit event."""

from __future__ import annotations

import logging

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select, update

from suraksha.audit.models import AuditEvent
from suraksha.db import session_scope
from suraksha.evidence import Evidence, EvidenceKeyError, EvidenceUnreadable, custody_log, export, preserve, read, verify

from .test_vault import KEY_A, KEY_B, MARKER, RECORD, b64, blob_of, media, use_keys


@pytest.fixture
def vault(db_url, monkeypatch):
    for name in ("SURAKSHA_EVIDENCE_KEY_FILE", "SURAKSHA_EVIDENCE_OLD_KEYS", "SURAKSHA_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", b64(KEY_A))
    return db_url


def _count(kind: str) -> float:
    return REGISTRY.get_sample_value("suraksha_evidence_read_errors_total", {"kind": kind}) or 0.0


def _flip(ev_id: str) -> None:
    path = blob_of(ev_id)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0x80
    path.write_bytes(bytes(data))


def _digest(ev_id: str) -> None:
    with session_scope() as s:
        s.execute(update(Evidence).where(Evidence.id == ev_id).values(md5="cd" * 16))


@pytest.mark.parametrize(
    "damage,kind,custody",
    [
        (_flip, "tamper", "tamper_detected"),
        (lambda ev_id: blob_of(ev_id).unlink(), "missing_blob", "tamper_detected"),
        (_digest, "digest_mismatch", "tamper_detected"),
        ("missing_key", "missing_key", "read_failed"),
    ],
)
def test_each_kind_is_logged_counted_and_audited(vault, monkeypatch, caplog, damage, kind, custody):
    ev = preserve("item:1:media:0", media(1), RECORD, ["in"], "system:preserve")
    if damage == "missing_key":
        use_keys(monkeypatch, KEY_B)
    else:
        damage(ev.id)
    before = _count(kind)
    caplog.set_level(logging.INFO)
    with pytest.raises(EvidenceUnreadable) as err:
        read(ev.id, "asha", "review of case 7")
    assert err.value.kind == kind and err.value.evidence_id == ev.id
    if kind == "missing_key":
        assert isinstance(err.value, EvidenceKeyError)  # configuring the key is the fix
    with pytest.raises(EvidenceUnreadable):
        export(ev.id, "user:legal1", "disclosure")
    assert [o.ok for o in verify([ev.id])] == [False]
    assert _count(kind) == before + 3

    lines = [r for r in caplog.records if r.name == "suraksha.evidence.vault"]
    assert [r.getMessage() for r in lines] == [f"evidence read error: evidence_id={ev.id} kind={kind}"] * 3
    assert all(r.levelno == logging.ERROR for r in lines)
    assert MARKER.decode() not in caplog.text and "acct-9" not in caplog.text and "198.51.100.4" not in caplog.text

    assert [c.action for c in custody_log(ev.id)] == ["capture", custody, custody, custody]
    with session_scope() as s:
        events = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_id == ev.id, AuditEvent.action == f"evidence.{custody}")
            .order_by(AuditEvent.seq)
        ).all()
    assert [(e.actor, e.details["kind"], e.details["purpose"]) for e in events] == [
        ("asha", kind, "review of case 7"),
        ("legal1", kind, "disclosure"),
        ("evidence-verify", kind, "integrity check"),
    ]
