"""Ingest: one transaction, idempotency, validation before anything is stored."""

from __future__ import annotations

import threading

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from suraksha.db import session_scope
from suraksha.items.models import Account, Item, ItemMedia, PendingMedia
from suraksha.pipeline import ingest
from suraksha.pipeline.ingest import IngestError, submit_item
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.schemas import ItemIn

from .conftest import BENIGN_IMAGE, b64


def counts() -> dict[str, int]:
    with session_scope() as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (Account, Item, ItemMedia, PendingMedia, ScanJob)
        }


def payload(**kw) -> ItemIn:
    base = {
        "platform_id": "post-1",
        "account": {"id": "acct-1", "handle": "asha"},
        "text": "hello",
        "links": ["https://example.com/a"],
        "context": {"ip": "203.0.113.7", "port": 51234, "country": "in", "created_at": "2026-11-01T10:00:00Z"},
    }
    base.update(kw)
    return ItemIn.model_validate(base)


def test_submit_stores_item_media_and_job_together(db_url):
    item, created = submit_item(
        payload(media=[{"data_base64": b64(BENIGN_IMAGE), "mime": "image/jpeg"}, {"url": "https://cdn.example.com/x.jpg"}])
    )
    assert created and item.status == "queued"
    with session_scope() as s:
        row = s.get(Item, item.id)
        assert row.context["country"] == "IN" and row.context["ip"] == "203.0.113.7"
        assert row.created_at.replace(tzinfo=None).isoformat().startswith("2026-11-01T10:00")
        media = s.scalars(select(ItemMedia).where(ItemMedia.item_id == item.id).order_by(ItemMedia.position)).all()
        assert [(m.position, m.source_url, m.size) for m in media] == [
            (0, None, len(BENIGN_IMAGE)),
            (1, "https://cdn.example.com/x.jpg", None),
        ]
        assert s.scalars(select(PendingMedia.data).where(PendingMedia.item_id == item.id)).all() == [BENIGN_IMAGE]
        jobs = s.scalars(select(ScanJob).where(ScanJob.item_id == item.id)).all()
        assert [(j.state, j.attempts) for j in jobs] == [("queued", 0)]
        assert s.scalars(select(Account.platform_account_id)).all() == ["acct-1"]


def test_same_idempotency_key_returns_same_item_and_no_second_job(db_url):
    first, created1 = submit_item(payload(idempotency_key="k-1"))
    second, created2 = submit_item(payload(idempotency_key="k-1"))
    assert created1 is True and created2 is False
    assert second.id == first.id
    assert counts()["scan_jobs"] == 1 and counts()["items"] == 1


def test_same_idempotency_key_with_a_different_body_is_a_conflict(db_url):
    """The new content is not silently dropped: the sender learns the key is taken, and by which item."""
    first, _ = submit_item(payload(idempotency_key="k-1"))
    with pytest.raises(ingest.IdempotencyConflict, match=f"already used for item {first.id}") as caught:
        submit_item(payload(idempotency_key="k-1", text="a different body"))
    assert caught.value.item_id == first.id and caught.value.status_code == 409
    assert counts()["scan_jobs"] == 1 and counts()["items"] == 1


def test_concurrent_resends_with_one_key_store_one_item(db_url):
    results, errors = [], []
    barrier = threading.Barrier(6)

    def send():
        try:
            barrier.wait()
            results.append(submit_item(payload(idempotency_key="same-key")))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(6)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert not errors
    assert len({item.id for item, _ in results}) == 1
    assert sum(created for _, created in results) == 1
    assert counts()["items"] == 1 and counts()["scan_jobs"] == 1


def test_account_is_shared_and_handle_updated(db_url):
    submit_item(payload(platform_id="p1"))
    submit_item(payload(platform_id="p2", account={"id": "acct-1", "handle": "asha_new"}))
    submit_item(payload(platform_id="p3", account={"id": "acct-2"}))
    with session_scope() as s:
        rows = s.execute(select(Account.platform_account_id, Account.handle).order_by(Account.id)).all()
    assert rows == [("acct-1", "asha_new"), ("acct-2", None)]


@pytest.mark.parametrize(
    "media, reason",
    [
        ([{"data_base64": "not base64!!"}], "not valid base64"),
        ([{"data_base64": ""}], "empty"),
    ],
)
def test_bad_media_is_refused_and_nothing_stored(db_url, media, reason):
    with pytest.raises(IngestError, match=reason):
        submit_item(payload(media=media))
    assert counts() == {"accounts": 0, "items": 0, "item_media": 0, "pending_media": 0, "scan_jobs": 0}


def test_media_over_the_size_limit_is_refused(db_url, monkeypatch):
    from suraksha.config import reset_settings

    monkeypatch.setenv("SURAKSHA_MAX_MEDIA_BYTES", "1000")
    reset_settings()
    with pytest.raises(IngestError, match="1000-byte media limit") as err:
        submit_item(payload(media=[{"data_base64": b64(b"IMG" + b"x" * 1200)}]))
    assert err.value.status_code == 413
    with pytest.raises(IngestError, match="1000-byte media limit"):
        submit_item(payload(media=[{"data_base64": b64(b"x" * 5000)}]))  # refused before decoding
    assert counts()["items"] == 0


def test_too_many_media_refused(db_url, monkeypatch):
    monkeypatch.setenv("SURAKSHA_MAX_MEDIA_PER_ITEM", "2")
    from suraksha.pipeline.settings import reset_pipeline_settings

    reset_pipeline_settings()
    with pytest.raises(IngestError, match="too many media: 3"):
        submit_item(payload(media=[{"url": "https://a.example/1"}] * 3))
    assert counts()["items"] == 0


@pytest.mark.parametrize(
    "change, message",
    [
        ({"media": [{"url": "https://a.example/x", "data_base64": "aGk="}]}, "exactly one of"),
        ({"media": [{}]}, "exactly one of"),
        ({"media": [{"url": "file:///etc/passwd"}]}, "http:// or https://"),
        ({"context": {"ip": "999.1.1.1"}}, "not an IP address"),
        ({"context": {"port": 70000}}, "less than or equal"),
        ({"context": {"country": "I1"}}, "two-letter"),
        ({"platform_id": ""}, "at least 1"),
        ({"kind": "spaceship"}, "kind must be one of"),
        ({"surprise": 1}, "Extra inputs"),
    ],
)
def test_schema_rejects_bad_input_with_reason(change, message):
    with pytest.raises(ValidationError, match=message):
        payload(**change)


def test_failure_inside_the_transaction_stores_nothing(db_url, monkeypatch):
    """The scan job is written last; when writing it fails at run time, the account, item, media
    and bytes written before it in the same transaction are gone too."""
    from sqlalchemy import exc, text

    # The same statements on both databases (items.write, then the job): a job insert that fails.
    monkeypatch.setattr(ingest, "_insert_job", text("INSERT INTO scan_jobs (item_id) VALUES (NULL)"))
    with pytest.raises(exc.DBAPIError):
        submit_item(payload(media=[{"data_base64": b64(BENIGN_IMAGE)}]))
    assert counts() == {"accounts": 0, "items": 0, "item_media": 0, "pending_media": 0, "scan_jobs": 0}
