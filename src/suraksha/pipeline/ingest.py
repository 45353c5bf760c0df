"""Ingest: store an item and enqueue its scan in one transaction.

``submit_item`` is what ``POST /v1/items``, the CLI and stream consumers call. Everything is
validated before the transaction starts (so bad input stores nothing); the account, the item, its
media references, its inline bytes (``pending_media``) and its ``ScanJob`` commit together or not
at all. A resend with the same ``idempotency_key`` and the same body returns the stored item and
enqueues nothing; two concurrent sends with the same key are settled by the unique constraint. The
key is stored with the SHA-256 of the canonical request (``request_fingerprint``), so the same key
with a *different* body is refused (``IdempotencyConflict``, 409 naming the first item) instead of
being answered as the first item while the new content is dropped unscanned.

On PostgreSQL all of that is ONE statement (data-modifying CTEs, run in autocommit, so the
statement is the transaction): one round trip per submit instead of eight, which is what kept
PostgreSQL under 500 text items/s on two cores (docs/benchmarks.md). It also sends the
``NOTIFY`` that wakes workers in other processes. SQLite runs the same rows as a few Core
statements in one transaction (no round trips to save there); ``_store`` is that path, and what a
caller that already holds a transaction (backfill) uses.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from suraksha.config import get_settings
from suraksha.db import get_engine, session_scope, utcnow
from suraksha.db.sql import autocommit_engine, dialect_name
from suraksha.errors import Conflict, InvalidInput
from suraksha.items.models import Account, Item, ItemMedia, PendingMedia
from suraksha.pipeline import queue, wakeups
from suraksha.pipeline.models import ScanJob
from suraksha.pipeline.schemas import ItemIn
from suraksha.pipeline.settings import get_pipeline_settings


class IngestError(InvalidInput):
    """Bad input: the message says what is wrong (the API returns it with ``status_code``: 422, or
    413 over a size limit, 409 for an idempotency conflict)."""

    _CODES = {409: "conflict", 413: "payload_too_large"}

    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.status_code = self.http_status = status_code
        self.code = self._CODES.get(status_code, "invalid_request")


class IdempotencyConflict(IngestError, Conflict):
    """The idempotency key was used before with a different body: nothing stored (409).

    ``item_id`` is the item stored under the key the first time.
    """

    def __init__(self, key: str, item_id: int) -> None:
        super().__init__(
            f"idempotency_key {key!r} was already used for item {item_id} with a different body; nothing was "
            f"stored or scanned. Send new content with a new key (resending the first body unchanged answers "
            f"with item {item_id})",
            409,
        )
        self.item_id = item_id


@dataclass(frozen=True)
class _Prepared:
    payload: ItemIn
    inline: list[bytes | None]  # per media: decoded bytes, or None for a URL
    fingerprint: str | None = None  # request_fingerprint, when the item has an idempotency key


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


def request_fingerprint(prep: _Prepared) -> str:
    """SHA-256 of the canonical request: every field but the key, as validated (defaults filled in,
    times in UTC), in JSON with sorted keys; inline media count by the SHA-256 of their bytes, not
    their base64 text. Two sends that would store the same item have the same fingerprint."""
    p = prep.payload
    doc = p.model_dump(mode="json", exclude={"idempotency_key", "media"})
    doc["media"] = [
        {"url": m.url, "mime": m.mime, "sha256": hashlib.sha256(data).hexdigest() if data is not None else None}
        for m, data in zip(p.media, prep.inline)
    ]
    canonical = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _item_values(prep: _Prepared, now: Any) -> dict[str, Any]:
    """The new item's columns, every one given (the PostgreSQL statement has no ORM defaults)."""
    p = prep.payload
    return {
        "platform_id": p.platform_id,
        "kind": p.kind,
        "text": p.text,
        "links": list(p.links),
        "context": p.context.model_dump(mode="json", exclude_none=True),
        "idempotency_key": p.idempotency_key,
        "request_sha256": prep.fingerprint,
        "status": "queued",
        "created_at": p.context.created_at or now,
        "received_at": now,
        "retroactive": False,
        "reasons": [],
        "actions": [],
        "text_hits": [],
        "priority": 0,
    }


def _as_item(item_id: int, values: dict[str, Any], account_id: int | None) -> Item:
    """The stored item as an (unattached) ``Item``, built from what was inserted: no read back."""
    return Item(id=item_id, account_id=account_id, **values)


# ---------------------------------------------------------------- the generic path (SQLite; in a caller's transaction)
_items = Item.__table__
_insert_item = insert(_items).returning(_items.c.id)
_insert_media = insert(ItemMedia.__table__)
_insert_pending = insert(PendingMedia.__table__)
_insert_job = insert(ScanJob.__table__)
_upserts: dict[str, Any] = {}


def _account_upsert(dialect: str) -> Any:
    """``INSERT ... ON CONFLICT DO UPDATE ... RETURNING id``, built once per dialect."""
    if dialect not in _upserts:
        insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
        accounts = Account.__table__  # a Core insert: the ORM's bulk-insert path cost 0.6 ms a submit
        stmt = insert_fn(accounts).values(
            platform_account_id=bindparam("pid"),
            handle=bindparam("handle"),
            first_seen=bindparam("now"),
            last_seen=bindparam("now"),
        )
        _upserts[dialect] = stmt.on_conflict_do_update(
            index_elements=["platform_account_id"],
            set_={"last_seen": stmt.excluded.last_seen, "handle": func.coalesce(stmt.excluded.handle, accounts.c.handle)},
        ).returning(accounts.c.id)
    return _upserts[dialect]


def _account_id(session: Session | Connection, payload: ItemIn, now: Any) -> int | None:
    """Insert or touch the account in one statement."""
    if payload.account is None:
        return None
    return session.execute(
        _account_upsert(dialect_name(session)), {"pid": payload.account.id, "handle": payload.account.handle, "now": now}
    ).scalar_one()


def _store(session: Session | Connection, prep: _Prepared) -> Item:
    """Store the item, its media, its inline bytes and its scan job inside the caller's transaction
    (an ORM session, or a Core connection in a transaction)."""
    now = utcnow()
    values = _item_values(prep, now)
    account_id = _account_id(session, prep.payload, now)
    item_id = session.execute(_insert_item, {**values, "account_id": account_id}).scalar_one()
    media_rows, pending_rows = [], []
    for n, (media, data) in enumerate(zip(prep.payload.media, prep.inline)):
        media_rows.append(
            {
                "item_id": item_id,
                "position": n,
                "source_url": media.url,
                "mime": media.mime,
                "size": len(data) if data is not None else None,
            }
        )
        if data is not None:
            pending_rows.append({"item_id": item_id, "position": n, "data": data, "held_for_evidence": False, "created_at": now})
    if media_rows:
        session.execute(_insert_media, media_rows)
    if pending_rows:
        session.execute(_insert_pending, pending_rows)
    session.execute(_insert_job, {"item_id": item_id, "state": "queued", "attempts": 0, "available_at": now, "created_at": now})
    return _as_item(item_id, values, account_id)


# ---------------------------------------------------------------- PostgreSQL: one statement
# Every CTE that modifies data runs exactly once, all against one snapshot. The account is only
# touched and the item only inserted when the key is new; a concurrent send of the same key makes
# the item insert do nothing (ON CONFLICT), and then so do media, bytes and job, which insert
# from its RETURNING. The last SELECT answers (id, created): the new item, or the one stored
# under the key before this statement began; no row means a concurrent send won the race
# (committed after our snapshot), and the caller reads it back.
_PG_SUBMIT = """
WITH acc AS (
    INSERT INTO accounts (platform_account_id, handle, first_seen, last_seen)
    SELECT CAST(:account_pid AS varchar), CAST(:account_handle AS varchar), :received_at, :received_at
    WHERE CAST(:account_pid AS varchar) IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM items WHERE idempotency_key = CAST(:idempotency_key AS varchar))
    ON CONFLICT (platform_account_id) DO UPDATE
        SET last_seen = EXCLUDED.last_seen, handle = COALESCE(EXCLUDED.handle, accounts.handle)
    RETURNING id
), item AS (
    INSERT INTO items (platform_id, account_id, kind, text, links, context, idempotency_key, request_sha256,
                       status, created_at, received_at, retroactive, reasons, actions, text_hits, priority)
    SELECT :platform_id, (SELECT id FROM acc), :kind, :text, CAST(:links AS jsonb), CAST(:context AS jsonb),
           CAST(:idempotency_key AS varchar), CAST(:request_sha256 AS varchar), 'queued', :created_at, :received_at, false,
           '[]'::jsonb, '[]'::jsonb, '[]'::jsonb, 0
    WHERE NOT EXISTS (SELECT 1 FROM items WHERE idempotency_key = CAST(:idempotency_key AS varchar))
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, account_id
), media AS (
    INSERT INTO item_media (item_id, position, source_url, mime, size)
    SELECT item.id, m.position, m.url, m.mime, m.size
    FROM item, unnest(CAST(:m_position AS int[]), CAST(:m_url AS text[]), CAST(:m_mime AS text[]),
                      CAST(:m_size AS bigint[])) AS m(position, url, mime, size)
),{pending} job AS (
    INSERT INTO scan_jobs (item_id, state, attempts, available_at, created_at)
    SELECT id, 'queued', 0, :received_at, :received_at FROM item
)
SELECT item.id, item.account_id, true AS created FROM item, (SELECT pg_notify('{channel}', '')) AS wake
UNION ALL
SELECT id, account_id, false FROM items WHERE idempotency_key = CAST(:idempotency_key AS varchar)
"""
# Inline bytes go one parameter each: a bytea[] parameter travels as text (hex inside array
# syntax), which cost more than the whole rest of the submit; a plain bytea one travels as is.
_PG_PENDING = """ pending AS (
    INSERT INTO pending_media (item_id, position, data, held_for_evidence, created_at)
    SELECT item.id, p.position, p.data, false, :received_at
    FROM item, (VALUES {rows}) AS p(position, data)
),"""
_pg_submit: dict[int, Any] = {}


def _pg_submit_statement(n_inline: int) -> Any:
    """The statement for an item with `n_inline` inline media (built once per count)."""
    if n_inline not in _pg_submit:
        rows = ", ".join(f"(CAST(:p_position_{k} AS int), CAST(:p_data_{k} AS bytea))" for k in range(n_inline))
        pending = _PG_PENDING.format(rows=rows) if n_inline else ""
        _pg_submit[n_inline] = text(_PG_SUBMIT.format(pending=pending, channel=wakeups.NEW_WORK))
    return _pg_submit[n_inline]


def _submit_pg(prep: _Prepared) -> tuple[Item, bool] | None:
    """The one-statement submit; None when a concurrent send with the same key won."""
    p = prep.payload
    now = utcnow()
    values = _item_values(prep, now)
    params = {
        **values,
        "links": json.dumps(values["links"]),
        "context": json.dumps(values["context"]),
        "account_pid": p.account.id if p.account else None,
        "account_handle": p.account.handle if p.account else None,
        "m_position": list(range(len(p.media))),
        "m_url": [m.url for m in p.media],
        "m_mime": [m.mime for m in p.media],
        "m_size": [len(d) if d is not None else None for d in prep.inline],
    }
    inline = [(n, d) for n, d in enumerate(prep.inline) if d is not None]
    for k, (n, data) in enumerate(inline):
        params[f"p_position_{k}"], params[f"p_data_{k}"] = n, data
    with autocommit_engine().connect() as conn:
        row = conn.execute(_pg_submit_statement(len(inline)), params).first()
    if row is None:
        return None
    if not row.created:
        return _existing(p.idempotency_key), False  # type: ignore[arg-type]
    return _as_item(row.id, values, row.account_id), True


def _existing(key: str) -> Item | None:
    with session_scope() as session:
        return session.scalars(select(Item).where(Item.idempotency_key == key)).first()


def _same_request(found: Item, prep: _Prepared) -> Item:
    """The item stored under the key, when this send is the same request; else ``IdempotencyConflict``.
    An item stored without a fingerprint (before p0004, or by a backfill) is taken as the same."""
    if found.request_sha256 is not None and prep.fingerprint is not None and found.request_sha256 != prep.fingerprint:
        raise IdempotencyConflict(prep.payload.idempotency_key or "", found.id)
    return found


def submit_item(payload: ItemIn) -> tuple[Item, bool]:
    """Store the item and enqueue its scan; returns ``(item, created)``.

    ``created`` is False when ``idempotency_key`` was seen before with the same body: the stored
    item is returned and no second scan is enqueued. Raises ``IdempotencyConflict`` when the key
    was seen with a different body, and ``IngestError`` for bad input (nothing stored either way).
    """
    prep = _prepare(payload)
    key = payload.idempotency_key
    if key is not None:
        prep = dataclasses.replace(prep, fingerprint=request_fingerprint(prep))
    if get_engine().dialect.name == "postgresql":
        done = _submit_pg(prep)
        if done is None:
            found = _existing(key) if key is not None else None
            if found is None:
                raise RuntimeError("item with this idempotency key vanished while being stored")
            return _same_request(found, prep), False
        item, created = done
        if not created:
            item = _same_request(item, prep)
    else:
        if key is not None and (found := _existing(key)) is not None:
            return _same_request(found, prep), False
        try:
            with get_engine().begin() as conn:  # Core statements on a Core connection (no ORM session)
                item = _store(conn, prep)
        except IntegrityError:
            if key is None:
                raise
            # Another request with the same key committed first: answer with its item.
            found = _existing(key)
            if found is None:
                raise
            return _same_request(found, prep), False
        created = True
    if created:
        queue.notify_new_work()
    return item, created
