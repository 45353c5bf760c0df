"""Ingest: store an item and enqueue its scan in one transaction.

``submit_item`` is what ``POST /v1/items``, the CLI and stream consumers call. Everything is
validated before the transaction starts (so bad input stores nothing); the account, the item, its
media references, its inline bytes (``pending_media``) and its ``ScanJob`` commit together or not
at all. A resend with the same ``idempotency_key`` returns the stored item and enqueues nothing;
two concurrent sends with the same key are settled by the unique constraint.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suraksha.config import get_settings
from suraksha.db import session_scope, utcnow
from suraksha.pipeline import queue
from suraksha.pipeline.models import Account, Item, ItemMedia, PendingMedia, ScanJob
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.settings import get_pipeline_settings
from suraksha.pipeline.sql import dialect_name


class IngestError(ValueError):
    """Bad input: the message says what is wrong (the API returns it with a 4xx)."""

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class _Prepared:
    payload: ItemIn
    inline: list[bytes | None]  # per media: decoded bytes, or None for a URL


def _prepare(payload: ItemIn) -> _Prepared:
    ps = get_pipeline_settings()
    max_bytes = get_settings().max_media_bytes
    if len(payload.media) > ps.max_media_per_item:
        raise IngestError(f"too many media: {len(payload.media)} (limit {ps.max_media_per_item})", 413)
    if len(payload.links) > ps.max_links_per_item:
        raise IngestError(f"too many links: {len(payload.links)} (limit {ps.max_links_per_item})", 413)
    if payload.text is not None and len(payload.text) > ps.max_text_chars:
        raise IngestError(f"text too long: {len(payload.text)} characters (limit {ps.max_text_chars})", 413)
    inline: list[bytes | None] = []
    for n, media in enumerate(payload.media):
        # A base64 string larger than 4/3 of the limit cannot decode under it: refuse before decoding.
        if media.data_base64 is not None and len(media.data_base64) > (max_bytes + 2) // 3 * 4 + 4:
            raise IngestError(f"media[{n}] is larger than the {max_bytes}-byte media limit", 413)
        try:
            data = media.decoded()
        except ValueError as exc:
            raise IngestError(f"media[{n}]: {exc}") from None
        if data is not None and len(data) > max_bytes:
            raise IngestError(f"media[{n}] is {len(data)} bytes, over the {max_bytes}-byte media limit", 413)
        inline.append(data)
    return _Prepared(payload, inline)


def _existing(session: Session, key: str) -> Item | None:
    return session.scalars(select(Item).where(Item.idempotency_key == key)).first()


def _account_id(session: Session, payload: ItemIn) -> int | None:
    """Insert or touch the account in one statement (``INSERT ... ON CONFLICT DO UPDATE``)."""
    if payload.account is None:
        return None
    now = utcnow()
    pid, handle = payload.account.id, payload.account.handle
    insert_fn = pg_insert if dialect_name(session) == "postgresql" else sqlite_insert
    stmt = insert_fn(Account).values(platform_account_id=pid, handle=handle, first_seen=now, last_seen=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=["platform_account_id"],
        set_={"last_seen": stmt.excluded.last_seen, "handle": func.coalesce(stmt.excluded.handle, Account.handle)},
    ).returning(Account.id)
    return session.execute(stmt).scalar_one()


def _store(session: Session, prep: _Prepared) -> Item:
    p = prep.payload
    now = utcnow()
    item = Item(
        platform_id=p.platform_id,
        account_id=_account_id(session, p),
        kind=p.kind,
        text=p.text,
        links=list(p.links),
        context=p.context.model_dump(mode="json", exclude_none=True),
        idempotency_key=p.idempotency_key,
        status="queued",
        created_at=p.context.created_at or now,
        received_at=now,
    )
    session.add(item)
    session.flush()
    media_rows, pending_rows = [], []
    for n, (media, data) in enumerate(zip(p.media, prep.inline)):
        media_rows.append({"item_id": item.id, "position": n, "source_url": media.url, "mime": media.mime,
                           "size": len(data) if data is not None else None})
        if data is not None:
            pending_rows.append({"item_id": item.id, "position": n, "data": data, "held_for_evidence": False,
                                 "created_at": now})
    if media_rows:
        session.execute(insert(ItemMedia), media_rows)
    if pending_rows:
        session.execute(insert(PendingMedia), pending_rows)
    session.add(ScanJob(item_id=item.id, state="queued", available_at=now, created_at=now))
    return item


def submit_item(payload: ItemIn) -> tuple[Item, bool]:
    """Store the item and enqueue its scan; returns ``(item, created)``.

    ``created`` is False when ``idempotency_key`` was seen before: the stored item is returned and
    no second scan is enqueued. Raises ``IngestError`` (nothing stored) for bad input.
    """
    prep = _prepare(payload)
    key = payload.idempotency_key
    if key is not None:
        with session_scope() as session:
            found = _existing(session, key)
            if found is not None:
                return found, False
    try:
        with session_scope() as session:
            item = _store(session, prep)
    except IntegrityError:
        if key is None:
            raise
        # Another request with the same key committed first: answer with its item.
        with session_scope() as session:
            found = _existing(session, key)
        if found is None:
            raise
        return found, False
    queue.notify_new_work()
    return item, True
