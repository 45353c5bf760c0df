"""Ingest: store an item and enqueue its scan in one transaction.

``submit_item`` is what ``POST /v1/items`` and the CLI call; ``submit_items`` (a batch, one
transaction) is what the stream consumer calls. Everything is validated before the transaction
starts (so bad input stores nothing); the account, the item, its media references, its inline
bytes (``pending_media``) and its ``ScanJob`` commit together or not at all.

The rows are written by ``suraksha.items.write.insert_items``, the one way to write an item: the
same Core statements on SQLite and PostgreSQL, one per table per batch. A repeat -- the same
``idempotency_key``, or the same ``platform`` and ``platform_id`` -- stores nothing and answers
with the stored item; the database settles concurrent sends (``ON CONFLICT DO NOTHING`` on the
unique key and the one-item-per-platform-item index). Every item is stored with the SHA-256 of
its canonical request (``request_fingerprint``), so a repeat with a *different* body is refused
(``IdempotencyConflict``, 409 naming the stored item) instead of being answered as the first
item while the new content is dropped unscanned.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import Connection, insert, text
from sqlalchemy.orm import Session

from suraksha.config import get_settings
from suraksha.db import get_engine, utcnow
from suraksha.db.sql import dialect_name
from suraksha.errors import Conflict, InvalidInput
from suraksha.items.models import Item
from suraksha.items.write import ItemRow, MediaRow, as_item, insert_items
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
    """The idempotency key, or the platform item id, was stored before with a different body:
    nothing stored (409).

    ``item_id`` is the item stored the first time.
    """

    def __init__(self, key: str, item_id: int, *, platform_item: tuple[str, str] | None = None) -> None:
        if platform_item is None:
            what = f"idempotency_key {key!r} was already used for item {item_id}"
            fix = "Send new content with a new key"
        else:
            what = f"platform item {platform_item[0]}/{platform_item[1]} is already stored as item {item_id}"
            fix = "One platform item is one item: send new content under its own platform_id"
        super().__init__(
            f"{what} with a different body; nothing was stored or scanned. {fix} (resending the first body "
            f"unchanged answers with item {item_id})",
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


def item_row(prep: _Prepared, *, retroactive: bool = False) -> ItemRow:
    """The validated request in the shape ``items.write`` stores."""
    p = prep.payload
    return ItemRow(
        platform=p.platform,
        platform_id=p.platform_id,
        kind=p.kind,
        text=p.text,
        links=list(p.links),
        context=p.context.model_dump(mode="json", exclude_none=True),
        created_at=p.context.created_at or utcnow(),
        idempotency_key=p.idempotency_key,
        request_sha256=prep.fingerprint,
        account_id=p.account.id if p.account else None,
        account_handle=p.account.handle if p.account else None,
        media=[MediaRow(m.url, m.mime, data) for m, data in zip(p.media, prep.inline)],
        retroactive=retroactive,
    )


_jobs = ScanJob.__table__
_insert_job = insert(_jobs)
_PG_NEW_WORK = text(f"SELECT pg_notify('{wakeups.NEW_WORK}', '')")


def _same_request(found: Item, prep: _Prepared) -> Item:
    """The stored item, when this send is the same request; else ``IdempotencyConflict``.
    An item stored without a fingerprint (before p0004, or by a backfill) is taken as the same."""
    if found.request_sha256 is not None and prep.fingerprint is not None and found.request_sha256 != prep.fingerprint:
        p = prep.payload
        if p.idempotency_key is not None and found.idempotency_key == p.idempotency_key:
            raise IdempotencyConflict(p.idempotency_key, found.id)
        raise IdempotencyConflict(p.idempotency_key or "", found.id, platform_item=(p.platform, p.platform_id))
    return found


def store_prepared(conn: Session | Connection, preps: list[_Prepared]) -> list[tuple[Item, bool] | IdempotencyConflict]:
    """Store the new items of ``preps`` and enqueue their scans, inside the caller's transaction.

    One entry per request, in order: ``(item, created)``, or the ``IdempotencyConflict`` of a repeat
    with a different body (which stores nothing). On PostgreSQL the transaction's commit also wakes
    idle workers in other processes (``NOTIFY``).
    """
    now = utcnow()
    rows = [item_row(p) for p in preps]
    written = insert_items(conn, rows, now=now)
    jobs = [
        {"item_id": w.item_id, "state": "queued", "attempts": 0, "available_at": now, "created_at": now}
        for w in written
        if w.created
    ]
    if jobs:
        conn.execute(_insert_job, jobs)
        if dialect_name(conn) == "postgresql":
            conn.execute(_PG_NEW_WORK)  # delivered at commit, never on rollback
    out: list[tuple[Item, bool] | IdempotencyConflict] = []
    for prep, row, w in zip(preps, rows, written):
        if w.created:
            out.append((as_item(w.item_id, row, w.account_id, now), True))
            continue
        assert w.existing is not None
        try:
            out.append((_same_request(w.existing, prep), False))
        except IdempotencyConflict as exc:
            out.append(exc)
    return out


def prepare(payload: ItemIn) -> _Prepared:
    """Validate the limits and decode inline media (raises ``IngestError``); fingerprint the request."""
    prep = _prepare(payload)
    return dataclasses.replace(prep, fingerprint=request_fingerprint(prep))


def submit_items(payloads: list[ItemIn], session: Session | None = None) -> list[tuple[Item, bool] | IngestError]:
    """Store a batch of items and enqueue their scans in ONE transaction (the stream consumer's call).

    One entry per payload, in order: ``(item, created)``, or the ``IngestError`` that payload earned
    (over a limit, or an ``IdempotencyConflict``); a bad payload stores nothing and does not stop the
    others. Commits only when it opened the unit of work (``session`` None).
    """
    out: list[tuple[Item, bool] | IngestError | None] = [None] * len(payloads)
    good: list[tuple[int, _Prepared]] = []
    for n, payload in enumerate(payloads):
        try:
            good.append((n, prepare(payload)))
        except IngestError as exc:
            out[n] = exc
    if good:
        preps = [p for _, p in good]
        if session is not None:
            stored = store_prepared(session, preps)
        else:
            with get_engine().connect() as conn:  # Core statements on a Core connection (no ORM session)
                with conn.begin() as tx:
                    stored = store_prepared(conn, preps)
                    if not any(not isinstance(r, Exception) and r[1] for r in stored):
                        # Nothing new (repeats, or a different body under a stored key): leave no
                        # trace — the account upsert ran before the repeat was known.
                        tx.rollback()
        for (n, _), result in zip(good, stored):
            out[n] = result
        if session is None and any(not isinstance(r, Exception) and r[1] for r in stored):
            queue.notify_new_work()
    return [r for r in out if r is not None]


def submit_item(payload: ItemIn, session: Session | None = None) -> tuple[Item, bool]:
    """Store the item and enqueue its scan; returns ``(item, created)``.

    ``created`` is False when the same request was stored before (same ``idempotency_key``, or same
    ``platform`` and ``platform_id``): the stored item is returned and no second scan is enqueued.
    Raises ``IdempotencyConflict`` when the repeat has a different body, and ``IngestError`` for bad
    input (nothing stored either way). Commits only when it opened the unit of work.
    """
    [result] = submit_items([payload], session=session)
    if isinstance(result, Exception):
        raise result
    return result
