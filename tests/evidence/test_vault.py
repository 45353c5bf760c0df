"""Evidence vault: encrypted round trip, tamper detection, key rotation, retention, holds, purge."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from typer.testing import CliRunner

from suraksha.audit import verify_chain
from suraksha.audit.models import AuditEvent
from suraksha.config import reset_settings
from suraksha.db import session_scope
from suraksha.evidence import (
    Evidence,
    EvidenceKeyError,
    EvidenceNotFound,
    EvidencePurged,
    EvidenceTampered,
    active_holds,
    custody_log,
    ensure_key_configured,
    export,
    orphaned_blobs,
    place_hold,
    preserve,
    purge_expired,
    read,
    read_record,
    release_hold,
    rotate_keys,
    verify,
)
from suraksha.evidence.keys import key_id
from suraksha.evidence.vault import vault_dir

MARKER = b"SURAKSHA-PLAINTEXT-MARKER-7f3a"
KEY_A = bytes(range(32))
KEY_B = bytes(range(100, 132))
T0 = dt.datetime(2026, 4, 1, 10, 0, tzinfo=dt.UTC)


def b64(key: bytes) -> str:
    return base64.b64encode(key).decode()


def media(n: int = 0) -> bytes:
    # Benign bytes: a marker string (to search the disk for) inside pseudo-random filler.
    filler = hashlib.sha256(f"filler-{n}".encode()).digest() * 64
    return filler[:1000] + MARKER + f"-{n}".encode() + filler[1000:]


RECORD = {"platform_id": "post-1", "account": "acct-9", "text": MARKER.decode() + " caption", "ip": "198.51.100.4"}


@pytest.fixture
def vault(db_url, monkeypatch):
    for name in ("SURAKSHA_EVIDENCE_KEY_FILE", "SURAKSHA_EVIDENCE_OLD_KEYS", "SURAKSHA_MODE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", b64(KEY_A))
    return db_url


def use_keys(monkeypatch, current: bytes, *old: bytes) -> None:
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", b64(current))
    if old:
        monkeypatch.setenv("SURAKSHA_EVIDENCE_OLD_KEYS", ",".join(b64(k) for k in old))
    else:
        monkeypatch.delenv("SURAKSHA_EVIDENCE_OLD_KEYS", raising=False)


def blob_of(evidence_id: str) -> Path:
    with session_scope() as s:
        return vault_dir() / s.get(Evidence, evidence_id).blob_name


def run_sql(url: str, sql: str, **params) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text(sql), params)
    finally:
        engine.dispose()


def test_round_trip_with_custody_and_audit(vault):
    ev = preserve("item:1", media(1), RECORD, ["in"], "asha", now=T0)
    assert ev.sha256 == hashlib.sha256(media(1)).hexdigest()
    assert ev.md5 == hashlib.md5(media(1)).hexdigest()
    assert ev.size == len(media(1))
    assert ev.key_id == key_id(KEY_A)
    assert ev.sha256 not in ev.blob_name and ev.id in ev.blob_name  # random id, not content-addressed
    assert read(ev.id, "asha", "review of case 7") == media(1)
    assert read_record(ev.id, "asha", "review of case 7") == RECORD
    out = export(ev.id, "user:legal1", "disclosure for request DR-12")
    assert (out.media, out.record, out.sha256, out.md5) == (media(1), RECORD, ev.sha256, ev.md5)

    log = custody_log(ev.id)
    assert [(c.action, c.actor) for c in log] == [
        ("capture", "user:asha"),
        ("read", "user:asha"),
        ("read", "user:asha"),
        ("export", "user:legal1"),
    ]
    assert log[3].purpose == "disclosure for request DR-12"
    with session_scope() as s:
        actions = (
            s.execute(select(AuditEvent.action).where(AuditEvent.object_id == ev.id).order_by(AuditEvent.seq)).scalars().all()
        )
    assert actions == ["evidence.capture", "evidence.read", "evidence.read", "evidence.export"]
    assert verify_chain().ok
    with pytest.raises(ValueError, match="purpose"):
        read(ev.id, "asha", "  ")
    with pytest.raises(EvidenceNotFound):
        read("0" * 32, "asha", "x")


def test_bad_input_is_refused_and_nothing_stored(vault):
    with pytest.raises(ValueError, match="empty"):
        preserve("item:1", b"", RECORD, ["in"], "asha")
    with pytest.raises(ValueError, match="unknown jurisdiction"):
        preserve("item:1", media(), RECORD, ["in", "xx"], "asha")
    with pytest.raises(ValueError):
        preserve("item:1", media(), RECORD, [], "asha")
    with session_scope() as s:
        assert s.execute(select(Evidence)).first() is None
    assert not vault_dir().exists() or not any(vault_dir().rglob("*.bin"))


def test_flipped_byte_in_blob_is_detected(vault):
    ev = preserve("item:1", media(1), RECORD, ["in"], "asha")
    path = blob_of(ev.id)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(EvidenceTampered, match="does not authenticate"):
        read(ev.id, "asha", "review")
    with pytest.raises(EvidenceTampered):
        export(ev.id, "legal1", "disclosure")
    actions = [c.action for c in custody_log(ev.id)]
    assert actions == ["capture", "tamper_detected", "tamper_detected"]
    assert [o.ok for o in verify()] == [False]


def test_missing_or_swapped_blob_is_detected(vault):
    a = preserve("item:1", media(1), RECORD, ["in"], "asha")
    b = preserve("item:2", media(2), RECORD, ["in"], "asha")
    blob_of(b.id).write_bytes(blob_of(a.id).read_bytes())  # a valid blob, but another object's
    with pytest.raises(EvidenceTampered):
        read(b.id, "asha", "review")
    blob_of(a.id).unlink()
    with pytest.raises(EvidenceTampered, match="missing"):
        read(a.id, "asha", "review")


@pytest.mark.parametrize(
    "column,value,message",
    [
        ("sha256", "ab" * 32, "SHA-256"),
        ("md5", "cd" * 16, "MD5"),
    ],
)
def test_changed_hash_in_database_is_detected(vault, column, value, message):
    ev = preserve("item:1", media(1), RECORD, ["in"], "asha")
    run_sql(vault, f"UPDATE evidence SET {column} = :v WHERE id = :id", v=value, id=ev.id)
    with pytest.raises(EvidenceTampered, match=message):
        read(ev.id, "asha", "review")


def test_changed_wrapped_key_or_record_is_detected(vault):
    ev = preserve("item:1", media(1), RECORD, ["in"], "asha")
    other = preserve("item:2", media(2), {"x": 1}, ["in"], "asha")
    with session_scope() as s:
        wrapped_other = s.get(Evidence, other.id).wrapped_key
        record_other = s.get(Evidence, other.id).record_ciphertext
    run_sql(vault, "UPDATE evidence SET record_ciphertext = :v WHERE id = :id", v=record_other, id=ev.id)
    with pytest.raises(EvidenceTampered, match="record"):
        read_record(ev.id, "asha", "review")
    run_sql(vault, "UPDATE evidence SET wrapped_key = :v WHERE id = :id", v=wrapped_other, id=ev.id)
    with pytest.raises(EvidenceTampered, match="data key"):
        read(ev.id, "asha", "review")


def test_no_plaintext_on_disk(vault, tmp_path):
    for n in range(3):
        preserve(f"item:{n}", media(n), RECORD, ["in", "us"], "asha")
    ev = preserve("item:9", media(9), RECORD, ["us"], "asha")
    read(ev.id, "asha", "review")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.suffix == ".bin" for p in files)
    for path in files:  # the vault, the key file and (SQLite) the database and its WAL
        assert MARKER not in path.read_bytes(), path
    assert any(MARKER in media(n) for n in range(3))  # the marker is really in the plaintext


def test_blob_and_key_file_permissions(db_url, monkeypatch):
    for name in ("SURAKSHA_EVIDENCE_KEY", "SURAKSHA_EVIDENCE_KEY_FILE", "SURAKSHA_EVIDENCE_OLD_KEYS", "SURAKSHA_MODE"):
        monkeypatch.delenv(name, raising=False)
    first = ensure_key_configured()  # demo mode: a key file is generated
    from suraksha.evidence.keys import demo_key_path

    path = demo_key_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert ensure_key_configured() == first  # reused, not regenerated
    ev = preserve("item:1", media(1), RECORD, ["in"], "asha")
    assert stat.S_IMODE(blob_of(ev.id).stat().st_mode) == 0o600
    assert read(ev.id, "asha", "review") == media(1)


def test_production_without_key_is_a_startup_error(home, monkeypatch):
    for name in ("SURAKSHA_EVIDENCE_KEY", "SURAKSHA_EVIDENCE_KEY_FILE", "SURAKSHA_EVIDENCE_OLD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURAKSHA_MODE", "production")
    reset_settings()
    with pytest.raises(EvidenceKeyError, match="production mode needs an evidence master key"):
        ensure_key_configured()
    assert not (home / "keys").exists()
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", "bm90IGEga2V5")
    with pytest.raises(EvidenceKeyError, match="32 bytes"):
        ensure_key_configured()
    key_file = home / "master.key"
    key_file.write_text(f"# comment\n{b64(KEY_B)}\n{b64(KEY_A)}\n")
    monkeypatch.delenv("SURAKSHA_EVIDENCE_KEY")
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY_FILE", str(key_file))
    assert ensure_key_configured() == key_id(KEY_B)


def test_key_rotation_rewraps_without_touching_blobs(vault, monkeypatch):
    old = preserve("item:1", media(1), RECORD, ["in"], "asha")
    blob_before = blob_of(old.id).read_bytes()

    # B becomes current while A is still configured: old objects readable, new ones under B.
    use_keys(monkeypatch, KEY_B, KEY_A)
    assert read(old.id, "asha", "review") == media(1)
    new = preserve("item:2", media(2), RECORD, ["in"], "asha")
    assert new.key_id == key_id(KEY_B)

    # Without A, the old object cannot be read and the error says which key is missing.
    use_keys(monkeypatch, KEY_B)
    with pytest.raises(EvidenceKeyError, match=key_id(KEY_A)):
        read(old.id, "asha", "review")

    use_keys(monkeypatch, KEY_B, KEY_A)
    assert rotate_keys(KEY_B) == 1  # only the object still under A needed rewrapping
    assert blob_of(old.id).read_bytes() == blob_before  # blob not re-encrypted
    use_keys(monkeypatch, KEY_B)  # A can now be forgotten
    assert read(old.id, "asha", "review") == media(1)
    assert read(new.id, "asha", "review") == media(2)
    with session_scope() as s:
        assert set(s.execute(select(Evidence.key_id)).scalars()) == {key_id(KEY_B)}
    assert "rekey" in [c.action for c in custody_log(old.id)]

    # Rotating further to a key given as base64 text, then configuring only that one.
    key_c = os.urandom(32)
    assert rotate_keys(b64(key_c)) == 2
    use_keys(monkeypatch, key_c)
    assert read(old.id, "asha", "review") == media(1)
    assert verify_chain().ok


def test_retention_is_the_longest_that_applies(vault):
    india = preserve("item:1", media(1), RECORD, ["in"], "asha", now=T0)
    both = preserve("item:2", media(2), RECORD, ["in", "us"], "asha", now=T0)
    assert india.retention_until == T0 + dt.timedelta(days=180)
    assert both.retention_until == T0 + dt.timedelta(days=365)

    assert purge_expired(now=T0 + dt.timedelta(days=179)).purged == []
    result = purge_expired(now=T0 + dt.timedelta(days=181))
    assert result.purged == [india.id]
    assert read(both.id, "asha", "review") == media(2)
    assert purge_expired(now=T0 + dt.timedelta(days=366)).purged == [both.id]


def test_purge_keeps_a_tombstone_and_removes_the_blob(vault):
    ev = preserve("item:1", media(1), RECORD, ["in"], "asha", now=T0)
    path = blob_of(ev.id)
    assert purge_expired(now=T0 + dt.timedelta(days=200)).purged == [ev.id]
    assert not path.exists()
    with session_scope() as s:
        row = s.get(Evidence, ev.id)
        assert row.status == "purged" and row.wrapped_key is None and row.record_ciphertext is None
        assert row.sha256 == hashlib.sha256(media(1)).hexdigest()  # what existed stays known
    with pytest.raises(EvidencePurged):
        read(ev.id, "asha", "review")
    assert [c.action for c in custody_log(ev.id)] == ["capture", "purge"]
    assert purge_expired(now=T0 + dt.timedelta(days=400)).purged == []  # idempotent


def test_legal_hold_blocks_purge_until_every_hold_is_released(vault):
    held = preserve("item:1", media(1), RECORD, ["in"], "asha", now=T0)
    free = preserve("item:2", media(2), RECORD, ["in"], "asha", now=T0)
    place_hold([held.id], "preservation request from Cyber Cell", "PR-2026-17", "legal1")
    place_hold([held.id], "court order", "CO-44", "legal1")
    place_hold([held.id], "duplicate of the same request", "PR-2026-17", "legal1")  # idempotent per request
    assert len(active_holds(held.id)) == 2

    later = T0 + dt.timedelta(days=365)
    result = purge_expired(now=later)
    assert result.purged == [free.id] and result.held == [held.id]
    assert read(held.id, "asha", "review") == media(1)

    assert release_hold([held.id], "PR-2026-17", "legal1", "request closed") == 1
    assert purge_expired(now=later).held == [held.id]  # CO-44 still holds it
    assert release_hold([held.id], "CO-44", "legal1") == 1
    assert purge_expired(now=later).purged == [held.id]
    actions = [c.action for c in custody_log(held.id)]
    assert actions == ["capture", "hold", "hold", "read", "release", "release", "purge"]

    with pytest.raises(EvidencePurged):
        place_hold([held.id], "too late", "PR-9", "legal1")


def test_hold_is_all_or_nothing(vault):
    ev = preserve("item:1", media(1), RECORD, ["in"], "asha")
    with pytest.raises(EvidenceNotFound):
        place_hold([ev.id, "f" * 32], "order", "PR-1", "legal1")
    assert active_holds(ev.id) == []
    with pytest.raises(ValueError, match="reason"):
        place_hold([ev.id], " ", "PR-1", "legal1")


def test_capture_in_a_rolled_back_transaction_leaves_nothing_readable(vault):
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            preserve("item:1", media(1), RECORD, ["in"], "worker", session=s)
            raise RuntimeError("the verdict transaction failed")
    with session_scope() as s:
        assert s.execute(select(Evidence)).first() is None
    orphans = orphaned_blobs()
    assert len(orphans) == 1 and MARKER not in orphans[0].read_bytes()


def test_cli_verify_and_purge(vault):
    from suraksha.cli import app

    runner = CliRunner()
    a = preserve("item:1", media(1), RECORD, ["in"], "asha", now=T0)
    b = preserve("item:2", media(2), RECORD, ["in"], "asha", now=T0)
    ok = runner.invoke(app, ["evidence", "verify"])
    assert ok.exit_code == 0 and "2 of 2 evidence objects verified" in ok.output, ok.output

    place_hold([b.id], "order", "PR-1", "legal1")
    when = (T0 + dt.timedelta(days=200)).isoformat()
    dry = runner.invoke(app, ["evidence", "purge", "--dry-run", "--now", when])
    assert dry.exit_code == 0 and f"would purge {a.id}" in dry.output and f"kept {b.id}" in dry.output
    assert read(a.id, "asha", "still here after a dry run") == media(1)
    done = runner.invoke(app, ["evidence", "purge", "--now", when])
    assert done.exit_code == 0 and "1 purged, 1 kept under legal hold" in done.output
    assert runner.invoke(app, ["evidence", "purge", "--now", "2026-01-01T00:00:00"]).exit_code != 0

    path = blob_of(b.id)
    path.write_bytes(path.read_bytes()[:-1])
    bad = runner.invoke(app, ["evidence", "verify"])
    assert bad.exit_code == 1 and f"FAILED {b.id}" in bad.output
