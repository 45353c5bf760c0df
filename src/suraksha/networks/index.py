"""Keeping ``network_keys`` up to date: every item's links, domains, IP and device, copied once.

``refresh_keys`` runs before each network computation (and from ``suraksha network refresh``). It
copies the items above the state's floor that are not marked yet, then raises the floor to the
newest item older than ``SURAKSHA_NETWORK_INDEX_SETTLE_S``: on PostgreSQL ids are handed out before
commit, so a younger item with a smaller id may still appear; items above the floor are therefore
looked at again (cheaply, by the marker) until they are old enough. Both inserts ignore conflicts,
so two processes refreshing at once do the same work twice at worst, never store a key twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from typing import Any

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from suraksha.db.base import utcnow
from suraksha.db.sql import insert_ignoring_conflicts
from suraksha.items.models import Item
from suraksha.networks.models import NetworkIndexedItem, NetworkIndexState, NetworkKey
from suraksha.networks.settings import get_network_settings

MAX_VALUE = 512
BATCH = 2000


def key_value(value: str) -> str:
    """How a key is stored: as itself, or as its SHA-256 when longer than the column."""
    return value if len(value) <= MAX_VALUE else "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def item_keys(links: Iterable[Any], text: str | None, context: dict[str, Any] | None) -> set[tuple[str, str]]:
    """The (kind, value) keys of one item: its links as the scan sees them (given and found in the
    text, canonical), their domains, its IP address and its device id."""
    from suraksha.signals.url import canonical_url, domain_of, extract_links

    raw = [str(u) for u in (links or [])]
    if text:
        raw += extract_links(text)
    keys: set[tuple[str, str]] = set()
    for link in dict.fromkeys(raw):
        try:
            canon = canonical_url(link)
            domain = domain_of(canon)
        except Exception:  # noqa: BLE001 - the scan notes malformed links; here they simply link nothing
            continue
        keys.add(("link", key_value(canon)))
        if domain:
            keys.add(("domain", key_value(domain)))
    ctx = context or {}
    for kind, field in (("ip", "ip"), ("device", "device_id")):
        value = ctx.get(field)
        if value not in (None, ""):
            keys.add((kind, key_value(str(value))))
    return keys


def _state_floor(session: Session) -> int:
    insert_ignoring_conflicts(session, NetworkIndexState.__table__, [{"id": 1, "floor": 0, "updated_at": utcnow()}], ["id"])
    return session.scalar(select(NetworkIndexState.floor).where(NetworkIndexState.id == 1)) or 0


def refresh_keys(session: Session, *, batch: int = BATCH, limit: int | None = None) -> int:
    """Copy the keys of every item not indexed yet (at most ``limit``); returns how many were indexed.

    The first run on a large history takes a while (about 2,000 items/s on SQLite); run
    ``suraksha network refresh`` once after upgrading, which commits batch by batch.
    """
    floor = _state_floor(session)
    done = 0
    cursor = floor
    marked = exists().where(NetworkIndexedItem.item_id == Item.id)
    while True:
        rows = session.execute(
            select(Item.id, Item.account_id, Item.links, Item.text, Item.context, Item.created_at)
            .where(Item.id > cursor, ~marked)
            .order_by(Item.id)
            .limit(batch)
        ).all()
        if not rows:
            break
        keys: list[dict[str, Any]] = []
        for item_id, account_id, links, text, context, created_at in rows:
            if account_id is None:
                continue
            for kind, value in item_keys(links, text, context):
                keys.append(
                    {"item_id": item_id, "account_id": account_id, "kind": kind, "value": value, "created_at": created_at}
                )
        if keys:
            insert_ignoring_conflicts(session, NetworkKey.__table__, keys, ["item_id", "kind", "value"])
        insert_ignoring_conflicts(session, NetworkIndexedItem.__table__, [{"item_id": r[0]} for r in rows], ["item_id"])
        done += len(rows)
        cursor = rows[-1][0]
        if limit is not None and done >= limit:
            break
    settled = utcnow() - dt.timedelta(seconds=get_network_settings().index_settle_s)
    new_floor = session.scalar(select(func.max(Item.id)).where(Item.id > floor, Item.received_at < settled))
    if new_floor is not None:
        session.execute(
            update(NetworkIndexState)
            .where(NetworkIndexState.id == 1, NetworkIndexState.floor < new_floor)
            .values(floor=new_floor, updated_at=utcnow())
        )
    session.flush()
    return done
