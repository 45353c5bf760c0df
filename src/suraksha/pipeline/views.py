"""Read side of the pipeline: an item with its scan, an account with its history, waiting for a verdict.

These return the pydantic models of ``schemas.py`` so the REST API only serialises them.
"""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import bindparam, exists, func, select

from suraksha.db import get_engine, session_scope
from suraksha.db.sql import autocommit_engine, aware
from suraksha.errors import NotFound
from suraksha.items.models import Account, Item, ItemMatch, ItemMedia, ItemScore
from suraksha.pipeline import wakeups
from suraksha.pipeline.schemas import AccountItemView, AccountView, ItemView, MatchView, MediaView, ScoreView

MAX_WAIT_SECONDS = 10.0
FINAL_STATUSES = ("done", "failed")


class ItemNotFound(NotFound):
    pass


class AccountNotFound(NotFound):
    pass


def _media_view(m: ItemMedia) -> MediaView:
    signals = {
        k: v for k, v in (("sha256", m.sha256), ("md5", m.md5), ("pdq", m.pdq), ("pdq_quality", m.pdq_quality)) if v is not None
    }
    if m.vpdq:
        signals["vpdq"] = m.vpdq
    return MediaView(
        position=m.position,
        source="url" if m.source_url else "inline",
        url=m.source_url,
        mime=m.mime,
        size=m.size,
        kind=m.kind,
        signals=signals,
        error=m.error,
    )


_items, _accounts = Item.__table__, Account.__table__
_media, _matches, _scores = ItemMedia.__table__, ItemMatch.__table__, ItemScore.__table__
_read_item = (
    select(
        _items,
        _accounts.c.platform_account_id.label("account_platform_id"),
        _accounts.c.handle.label("account_handle"),
        exists().where(_media.c.item_id == _items.c.id).label("has_media"),
        exists().where(_matches.c.item_id == _items.c.id).label("has_matches"),
        exists().where(_scores.c.item_id == _items.c.id).label("has_scores"),
    )
    .outerjoin(_accounts, _accounts.c.id == _items.c.account_id)
    .where(_items.c.id == bindparam("item_id"))
)
_read_media = select(_media).where(_media.c.item_id == bindparam("item_id")).order_by(_media.c.position)
_read_matches = select(_matches).where(_matches.c.item_id == bindparam("item_id")).order_by(_matches.c.id)
_read_scores = select(_scores).where(_scores.c.item_id == bindparam("item_id")).order_by(_scores.c.id)


def get_item(item_id: int) -> ItemView:
    """The item, its status and, once scanned, its signals, matches, scores and verdict.

    Core reads without a transaction around them, and only of the parts the item has: on the
    `?wait=true` path this read is part of the measured ingest-to-verdict time.
    """
    key = {"item_id": item_id}
    with autocommit_engine().connect() as conn:
        item = conn.execute(_read_item, key).first()
        if item is None:
            raise ItemNotFound(f"item {item_id} not found")
        media = conn.execute(_read_media, key).all() if item.has_media else []
        matches = conn.execute(_read_matches, key).all() if item.has_matches else []
        scores = conn.execute(_read_scores, key).all() if item.has_scores else []
    account = (
        {"id": item.account_id, "platform_account_id": item.account_platform_id, "handle": item.account_handle}
        if item.account_id is not None
        else None
    )
    return ItemView(
        id=item.id,
        platform_id=item.platform_id,
        account=account,
        kind=item.kind,
        status=item.status,
        verdict=item.verdict,
        rule=item.rule,
        reasons=list(item.reasons or []),
        actions=list(item.actions or []),
        facts=list(item.facts or []),
        priority=item.priority,
        text_hits=list(item.text_hits or []),
        links=list(item.links or []),
        context=dict(item.context or {}),
        created_at=aware(item.created_at),
        received_at=aware(item.received_at),
        scanned_at=aware(item.scanned_at),
        error=item.error,
        media=[_media_view(m) for m in media],
        matches=[
            MatchView(
                media_position=m.media_position,
                bank=m.bank,
                label=m.label,
                signal_type=m.signal_type,
                signal=m.signal,
                entry_id=m.entry_id,
                distance=m.distance,
                transform=m.transform,
            )
            for m in matches
        ],
        scores=[ScoreView(media_position=s.media_position, classifier=s.classifier, name=s.name, value=s.value) for s in scores],
    )


def wait_for_verdict(item_id: int, timeout: float = MAX_WAIT_SECONDS) -> ItemView:
    """Wait (at most 10 s) until the item is scanned; returns its view either way (check ``status``).

    Woken by the scan itself (in-process workers; PostgreSQL NOTIFY from workers anywhere), so the
    wait costs one cheap status read per wake-up, not a full read every few milliseconds; without
    a listener (SQLite, workers in other processes) it looks again every 5 ms.
    """
    deadline = time.monotonic() + min(max(timeout, 0.0), MAX_WAIT_SECONDS)
    with wakeups.watching(item_id) as scanned:
        woken = False
        while True:
            listening = wakeups.listen(wakeups.SCANNED, get_engine(), max(0.0, min(1.0, deadline - time.monotonic())))
            if woken:  # announced as scanned: read the whole item at once (no separate status read)
                view = get_item(item_id)
                if view.status in FINAL_STATUSES:
                    return view
            status = _status(item_id)
            remaining = deadline - time.monotonic()
            if status is None or status in FINAL_STATUSES or remaining <= 0:
                break
            poll = wakeups.FALLBACK_POLL_SECONDS if listening else wakeups.LOCAL_POLL_SECONDS
            woken = scanned.wait(min(poll, remaining))
            scanned.clear()
    return get_item(item_id)


_status_of = select(Item.status).where(Item.id == bindparam("item_id"))


def _status(item_id: int) -> str | None:
    with autocommit_engine().connect() as conn:  # one read, no transaction around it
        return conn.execute(_status_of, {"item_id": item_id}).scalar()


def get_account(account_id: int | str, *, limit: int = 100) -> AccountView:
    """An account (by our id, or by the platform's account id as a string) and its matched items."""
    with session_scope() as session:
        account = None
        if isinstance(account_id, int):
            account = session.get(Account, account_id)
        if account is None:
            account = session.scalars(select(Account).where(Account.platform_account_id == str(account_id))).first()
        if account is None:
            raise AccountNotFound(f"account {account_id} not found")
        total = session.scalar(select(func.count()).select_from(Item).where(Item.account_id == account.id)) or 0
        verdicts = dict(
            session.execute(
                select(Item.verdict, func.count())
                .where(Item.account_id == account.id, Item.verdict.is_not(None))
                .group_by(Item.verdict)
            ).all()
        )
        label_rows = session.execute(
            select(ItemMatch.item_id, ItemMatch.label)
            .join(Item, Item.id == ItemMatch.item_id)
            .where(Item.account_id == account.id)
            .distinct()
        ).all()
        labels_by_item: dict[int, set[str]] = {}
        for item_id, label in label_rows:
            labels_by_item.setdefault(item_id, set()).add(label)
        label_counts = Counter(label for labels in labels_by_item.values() for label in labels)
        matched_ids = sorted(labels_by_item, reverse=True)[:limit]
        items = (
            session.scalars(select(Item).where(Item.id.in_(matched_ids)).order_by(Item.created_at.desc(), Item.id.desc())).all()
            if matched_ids
            else []
        )
        return AccountView(
            id=account.id,
            platform_account_id=account.platform_account_id,
            handle=account.handle,
            first_seen=aware(account.first_seen),
            last_seen=aware(account.last_seen),
            items_total=total,
            items_matched=len(labels_by_item),
            verdicts=verdicts,
            labels=dict(label_counts),
            matched_items=[
                AccountItemView(
                    id=i.id,
                    platform_id=i.platform_id,
                    created_at=aware(i.created_at),
                    status=i.status,
                    verdict=i.verdict,
                    rule=i.rule,
                    labels=sorted(labels_by_item.get(i.id, ())),
                )
                for i in items
            ],
        )


def accounts_sharing_media(sha256: str) -> list[int]:
    """Ids of the accounts whose items carried media with this SHA-256 (the '23 accounts' question)."""
    with session_scope() as session:
        return list(
            session.scalars(
                select(Item.account_id)
                .join(ItemMedia, ItemMedia.item_id == Item.id)
                .where(ItemMedia.sha256 == sha256, Item.account_id.is_not(None))
                .distinct()
                .order_by(Item.account_id)
            ).all()
        )
