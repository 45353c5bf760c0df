"""The one way to write an item: Core inserts built from the tables, the same on SQLite and PostgreSQL.

``insert_items`` stores a batch of new items (their accounts, items, media references and inline
bytes) inside the caller's transaction and says, per item, whether it was stored now or which
stored item it repeats. Ingest (``POST /v1/items``, the CLI), the stream consumer and anything
else that creates items call it; the pipeline adds the scan jobs in the same transaction.

One statement per table per batch, whatever the batch size (a REST submit is a batch of one, a
stream fetch a batch of up to a few hundred): an account upsert, an item insert that skips a repeat
(``ON CONFLICT DO NOTHING``: the idempotency key and the one-item-per-platform-item index settle
concurrent sends in the database, never in Python), then media and bytes for the items stored.

Adding a column to ``items`` is a change in three places: the model (``items/models.py``), its
migration (``i`` branch), and ``ItemRow`` + ``_item_values`` here (where the value comes from).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Connection, Table, and_, bindparam, func, insert, or_, select, tuple_
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from suraksha.db.sql import dialect_name
from suraksha.items.models import Account, Item, ItemMedia, PendingMedia

_items = cast(Table, Item.__table__)
_accounts = cast(Table, Account.__table__)
_media = cast(Table, ItemMedia.__table__)
_pending = cast(Table, PendingMedia.__table__)


@dataclass(frozen=True)
class MediaRow:
    url: str | None
    mime: str | None
    data: bytes | None  # inline bytes (kept in pending_media until the scan), None for a URL


@dataclass(frozen=True)
class ItemRow:
    """A validated new item, in the shape the tables want (built by ``pipeline.ingest``)."""

    platform: str
    platform_id: str
    kind: str
    text: str | None
    links: list[str]
    context: dict[str, Any]
    created_at: dt.datetime
    idempotency_key: str | None = None
    request_sha256: str | None = None
    account_id: str | None = None  # the platform's account id
    account_handle: str | None = None
    media: list[MediaRow] = field(default_factory=list)
    retroactive: bool = False


@dataclass(frozen=True)
class Written:
    """One row's outcome: ``created`` with the new id, or the stored item it repeats (``existing``)."""

    item_id: int
    account_id: int | None
    created: bool
    existing: Item | None = None  # the stored item (detached) when not created


def _item_values(row: ItemRow, account_id: int | None, now: dt.datetime) -> dict[str, Any]:
    """Every column of a new item, given (no ORM defaults run on a Core insert)."""
    return {
        "platform": row.platform,
        "platform_id": row.platform_id,
        "account_id": account_id,
        "kind": row.kind,
        "text": row.text,
        "links": list(row.links),
        "context": row.context,
        "idempotency_key": row.idempotency_key,
        "request_sha256": row.request_sha256,
        "status": "queued",
        "created_at": row.created_at,
        "received_at": now,
        "retroactive": row.retroactive,
        "reasons": [],
        "actions": [],
        "text_hits": [],
        "priority": 0,
    }


def as_item(item_id: int, row: ItemRow, account_id: int | None, now: dt.datetime) -> Item:
    """The stored item as an (unattached) ``Item``, built from what was inserted: no read back."""
    return Item(id=item_id, **_item_values(row, account_id, now))


_statements: dict[tuple[str, str], Any] = {}


def _statement(conn: Session | Connection, name: str) -> Any:
    """The account upsert or the item insert for the connection's dialect, built once (bound
    parameters only, so SQLAlchemy compiles it once: a statement with the values inlined cost a
    compile per submit, most of a submit's time)."""
    dialect = dialect_name(conn)
    key = (dialect, name)
    if key not in _statements:
        insert_fn = pg_insert if dialect == "postgresql" else sqlite_insert
        if name == "account":
            stmt = insert_fn(_accounts).values(
                platform_account_id=bindparam("pid"),
                handle=bindparam("handle"),
                first_seen=bindparam("now"),
                last_seen=bindparam("now"),
            )
            _statements[key] = stmt.on_conflict_do_update(
                index_elements=["platform_account_id"],
                set_={"last_seen": stmt.excluded.last_seen, "handle": func.coalesce(stmt.excluded.handle, _accounts.c.handle)},
            ).returning(_accounts.c.id, _accounts.c.platform_account_id)
        else:
            _statements[key] = (
                insert_fn(_items)
                .on_conflict_do_nothing()
                .returning(_items.c.id, _items.c.platform, _items.c.platform_id, _items.c.account_id)
            )
    return _statements[key]


def _upsert_accounts(conn: Session | Connection, rows: list[ItemRow], now: dt.datetime) -> dict[str, int]:
    """Insert or touch every account of the batch in one statement: platform account id -> id."""
    seen: dict[str, str | None] = {}
    for row in rows:
        if row.account_id is not None:
            seen[row.account_id] = row.account_handle or seen.get(row.account_id)
    if not seen:
        return {}
    params = [{"pid": pid, "handle": handle, "now": now} for pid, handle in seen.items()]
    return {pid: aid for aid, pid in conn.execute(_statement(conn, "account"), params)}


def _key_of(row: ItemRow) -> tuple[str, str]:
    return (row.platform, row.platform_id)


def insert_items(conn: Session | Connection, rows: list[ItemRow], *, now: dt.datetime) -> list[Written]:
    """Store the rows that are new, inside the caller's transaction; one ``Written`` per row, in order.

    A row is a repeat when its idempotency key or its (platform, platform_id) is stored already, or
    appears earlier in the same batch: it stores nothing and its ``Written`` carries the stored item
    (``existing``; for a repeat inside the batch, the batch's first row as stored).
    Whether the repeat is the same request (``request_sha256``) is for the caller to judge.
    """
    out: list[Written | None] = [None] * len(rows)
    first: dict[tuple[str, str], int] = {}  # batch position of the first row per platform item
    first_key: dict[str, int] = {}
    fresh: list[int] = []
    for n, row in enumerate(rows):
        if _key_of(row) in first or (row.idempotency_key is not None and row.idempotency_key in first_key):
            continue
        first[_key_of(row)] = n
        if row.idempotency_key is not None:
            first_key[row.idempotency_key] = n
        fresh.append(n)
    accounts = _upsert_accounts(conn, [rows[n] for n in fresh], now)
    values = [_item_values(rows[n], accounts.get(rows[n].account_id or ""), now) for n in fresh]
    created: dict[tuple[str, str], tuple[int, int | None]] = {}
    if values:
        for r in conn.execute(_statement(conn, "item"), values):
            created[(r.platform, r.platform_id)] = (r.id, r.account_id)
    media, pending = [], []
    for n in fresh:
        row = rows[n]
        if _key_of(row) not in created:
            continue
        item_id, account_id = created[_key_of(row)]
        out[n] = Written(item_id, account_id, True)
        for position, m in enumerate(row.media):
            media.append(
                {
                    "item_id": item_id,
                    "position": position,
                    "source_url": m.url,
                    "mime": m.mime,
                    "size": len(m.data) if m.data is not None else None,
                }
            )
            if m.data is not None:
                pending.append(
                    {"item_id": item_id, "position": position, "data": m.data, "held_for_evidence": False, "created_at": now}
                )
    if media:
        conn.execute(insert(_media), media)
    if pending:
        conn.execute(insert(_pending), pending)
    missing = [n for n in fresh if out[n] is None]
    if missing:
        stored = find_stored(conn, [rows[n] for n in missing])
        for n, item in zip(missing, stored):
            if item is None:  # neither key nor platform item stored, yet the insert did nothing
                raise RuntimeError(f"item {rows[n].platform}/{rows[n].platform_id} was refused by the database and not found")
            out[n] = Written(item.id, item.account_id, False, item)
    for n, row in enumerate(rows):
        if out[n] is None:  # a repeat inside the batch: answered as the first
            key = row.idempotency_key
            n0 = first_key[key] if key is not None and key in first_key else first[_key_of(row)]
            w = out[n0]
            assert w is not None
            existing = w.existing or as_item(w.item_id, rows[n0], w.account_id, now)
            out[n] = Written(w.item_id, w.account_id, False, existing)
    return [w for w in out if w is not None]


def find_stored(conn: Session | Connection, rows: list[ItemRow]) -> list[Item | None]:
    """The stored item each row repeats (same idempotency key, else same platform item), or None."""
    keys = [r.idempotency_key for r in rows if r.idempotency_key is not None]
    pairs = [_key_of(r) for r in rows]
    cond = and_(tuple_(_items.c.platform, _items.c.platform_id).in_(pairs), _items.c.duplicate_of.is_(None))
    if keys:
        cond = or_(cond, _items.c.idempotency_key.in_(keys))
    found = [Item(**dict(r._mapping)) for r in conn.execute(select(_items).where(cond))]
    by_key = {i.idempotency_key: i for i in found if i.idempotency_key is not None}
    by_pair = {(i.platform, i.platform_id): i for i in found if i.duplicate_of is None}
    return [by_key.get(r.idempotency_key or "") or by_pair.get(_key_of(r)) for r in rows]
