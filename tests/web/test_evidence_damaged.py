"""Evidence that no longer reads back is never "media not retained": the review page and the media
endpoint say "evidence damaged — reported to admins", and the damage is logged (evidence id and
kind, no content), counted in /metrics and recorded as an audit event. Media that was never kept
still says "not retained"."""

from __future__ import annotations

import base64
import logging

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import delete, select

from .conftest import sign_in

DAMAGED = "evidence damaged — reported to admins"
KEY = base64.b64encode(bytes(range(32))).decode()


def _read_errors(kind: str) -> float:
    return REGISTRY.get_sample_value("suraksha_evidence_read_errors_total", {"kind": kind}) or 0.0


def _preserve_item_media(item_id: int) -> dict[int, str]:
    """Move an item's held media into the vault as the preservation dispatcher does (pending bytes
    deleted in the same transaction); position -> evidence id."""
    from suraksha import evidence
    from suraksha.db import session_scope
    from suraksha.enforcement.preservation import media_ref
    from suraksha.items.models import PendingMedia

    out = {}
    with session_scope() as s:
        rows = s.scalars(select(PendingMedia).where(PendingMedia.item_id == item_id).order_by(PendingMedia.position)).all()
        for row in rows:
            ev = evidence.preserve(
                media_ref(item_id, row.position), row.data, {"item_id": item_id}, ["in"], "system:preserve", session=s
            )
            out[row.position] = ev.id
        s.execute(delete(PendingMedia).where(PendingMedia.item_id == item_id))
    return out


def _blob(evidence_id: str):
    from suraksha.db import session_scope
    from suraksha.evidence import Evidence
    from suraksha.evidence.vault import vault_dir

    with session_scope() as s:
        return vault_dir() / s.get(Evidence, evidence_id).blob_name


def _task_of(item_id: int) -> int:
    from suraksha.cases.models import ReviewTask
    from suraksha.db import session_scope

    with session_scope() as s:
        return s.scalar(select(ReviewTask.id).where(ReviewTask.item_id == item_id))


@pytest.fixture
def vault_key(monkeypatch):
    """A chosen master key, set before the staff are created (their TOTP seeds are sealed with it)."""
    for name in ("SURAKSHA_EVIDENCE_KEY_FILE", "SURAKSHA_EVIDENCE_OLD_KEYS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", KEY)


def test_tampered_and_missing_evidence_say_damaged_and_are_reported(vault_key, app_client, seeded, caplog):
    from suraksha.audit.models import AuditEvent
    from suraksha.db import session_scope

    item = seeded["items"][0]
    ids = _preserve_item_media(item)
    assert sorted(ids) == [0, 1]
    c = app_client()
    assert sign_in(c, seeded["staff"]["reviewer"]).status_code == 303

    # Intact evidence: the page shows both previews (it used to say "not retained" once preserved).
    page = c.get(f"/review/tasks/{_task_of(item)}").text
    assert page.count('class="preview"') == 2 and DAMAGED not in page and "media not retained" not in page
    assert c.get(f"/media/{item}/0").status_code == 200

    # An attacker flips one bit of one blob and deletes the other.
    blob = _blob(ids[0])
    data = bytearray(blob.read_bytes())
    data[len(data) // 2] ^= 0x01
    blob.write_bytes(bytes(data))
    _blob(ids[1]).unlink()

    tamper0, missing0 = _read_errors("tamper"), _read_errors("missing_blob")
    caplog.set_level(logging.INFO)
    caplog.clear()
    page = c.get(f"/review/tasks/{_task_of(item)}").text
    assert page.count(DAMAGED) == 2 and "media not retained" not in page and 'class="preview"' not in page
    assert _read_errors("tamper") == tamper0 + 1 and _read_errors("missing_blob") == missing0 + 1

    r = c.get(f"/media/{item}/0")
    assert r.status_code == 410 and DAMAGED in r.text and b"\xff\xd8" not in r.content
    assert r.headers["x-suraksha-media"] == "damaged" and r.headers["x-suraksha-media-reason"] == "tamper"
    assert r.headers["cache-control"] == "no-store"
    r = c.get(f"/media/{item}/1")
    assert r.status_code == 410 and DAMAGED in r.text and r.headers["x-suraksha-media-reason"] == "missing_blob"
    assert _read_errors("tamper") == tamper0 + 2 and _read_errors("missing_blob") == missing0 + 2

    # Counted where Prometheus scrapes it.
    metrics = c.get("/metrics").text
    assert f'suraksha_evidence_read_errors_total{{kind="tamper"}} {tamper0 + 2}' in metrics
    assert 'suraksha_evidence_read_errors_total{kind="missing_key"}' in metrics  # every kind exported, alertable

    # One log line per failed read: evidence id and kind, nothing of the item.
    lines = [r.getMessage() for r in caplog.records if r.name == "suraksha.evidence.vault"]
    assert lines.count(f"evidence read error: evidence_id={ids[0]} kind=tamper") == 2
    assert lines.count(f"evidence read error: evidence_id={ids[1]} kind=missing_blob") == 2
    assert all(r.levelno == logging.ERROR for r in caplog.records if r.name == "suraksha.evidence.vault")

    # Audit: the vault's damage events (with kind) and the reviewer's media.view saying "damaged".
    who = seeded["staff"]["reviewer"].username
    with session_scope() as s:
        damage = [
            (e.object_id, e.actor, e.details["kind"])
            for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "evidence.tamper_detected").order_by(AuditEvent.seq))
        ]
        views = [
            e.details
            for e in s.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "media.view", AuditEvent.object_id == str(item))
                .order_by(AuditEvent.seq)
            )
        ]
    assert damage == [(ids[0], who, "tamper"), (ids[1], who, "missing_blob")] * 2
    assert views[-2:] == [
        {"position": 0, "requested": "preview", "retained": False, "served": "none", "damaged": "tamper"},
        {"position": 1, "requested": "preview", "retained": False, "served": "none", "damaged": "missing_blob"},
    ]

    # A reveal's one-time link to the original says the same, never hands out bytes.
    from .conftest import csrf_of

    url = c.post(f"/media/{item}/0/reveal", headers={"X-CSRF-Token": csrf_of(c)}).json()["original_url"]
    r = c.get(url)
    assert r.status_code == 410 and DAMAGED in r.text


def test_missing_master_key_and_digest_mismatch_are_damage_too(vault_key, app_client, seeded, monkeypatch):
    from sqlalchemy import update

    from suraksha.db import session_scope
    from suraksha.evidence import Evidence

    item = seeded["items"][0]
    ids = _preserve_item_media(item)
    with session_scope() as s:  # the row's capture hash no longer matches the (intact) bytes
        s.execute(update(Evidence).where(Evidence.id == ids[1]).values(sha256="ab" * 32))
    c = app_client()
    assert sign_in(c, seeded["staff"]["reviewer"]).status_code == 303
    digest0 = _read_errors("digest_mismatch")
    r = c.get(f"/media/{item}/1")
    assert r.status_code == 410 and r.headers["x-suraksha-media-reason"] == "digest_mismatch"
    assert _read_errors("digest_mismatch") == digest0 + 1

    # The master key the object was wrapped with is gone (rotated away without rewrapping).
    monkeypatch.setenv("SURAKSHA_EVIDENCE_KEY", base64.b64encode(bytes(range(100, 132))).decode())
    key0 = _read_errors("missing_key")
    page = c.get(f"/items/{item}").text
    assert page.count(DAMAGED) == 2 and "media not retained" not in page
    r = c.get(f"/media/{item}/0")
    assert r.status_code == 410 and r.headers["x-suraksha-media-reason"] == "missing_key"
    assert _read_errors("missing_key") == key0 + 3  # the item page checks both media, then the preview
    from suraksha.audit.models import AuditEvent

    with session_scope() as s:
        failed = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "evidence.read_failed", AuditEvent.object_id == ids[0])
        ).all()
    assert failed and all(e.details["kind"] == "missing_key" for e in failed)


def test_media_never_kept_still_says_not_retained(vault_key, app_client, seeded):
    item = seeded["items"][2]  # only its hashes were kept
    c = app_client()
    assert sign_in(c, seeded["staff"]["reviewer"]).status_code == 303
    before = sum(_read_errors(k) for k in ("tamper", "missing_blob", "missing_key", "digest_mismatch"))
    page = c.get(f"/items/{item}").text
    assert "media not retained" in page and DAMAGED not in page
    r = c.get(f"/media/{item}/0")
    assert r.status_code == 404 and "not retained" in r.text
    assert sum(_read_errors(k) for k in ("tamper", "missing_blob", "missing_key", "digest_mismatch")) == before
