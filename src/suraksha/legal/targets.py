"""Linking a request's targets (as the officer wrote them) to the accounts and items Suraksha knows.

Resolved at intake and again before each piece of work, because an order may name an account
Suraksha has not seen yet (it was never scanned, or the platform submits its history later).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.items.models import Account, Item
from suraksha.legal.models import LegalRequest, LegalTarget


def resolve(session: Session, kind: str, value: str) -> tuple[int | None, int | None]:
    """(account_id, item_id) for a target: platform account id or handle; platform item id or our
    item id; an item's ``context.url``. Nones when Suraksha knows nothing of it."""
    if kind == "account":
        acc = session.scalar(select(Account).where(Account.platform_account_id == value))
        if acc is None:
            acc = session.scalar(select(Account).where(Account.handle == value.lstrip("@")).order_by(Account.id).limit(1))
        return (acc.id if acc else None), None
    if kind == "item":
        item = session.scalar(select(Item).where(Item.platform_id == value).order_by(Item.id.desc()).limit(1))
        if item is None and value.isdigit():
            item = session.get(Item, int(value))
        return (item.account_id if item else None), (item.id if item else None)
    item = session.scalar(select(Item).where(Item.context["url"].as_string() == value).order_by(Item.id.desc()).limit(1))
    return (item.account_id if item else None), (item.id if item else None)


def refresh(session: Session, req: LegalRequest) -> list[LegalTarget]:
    """The request's targets, with those not yet known resolved again (in the caller's transaction)."""
    rows = list(session.scalars(select(LegalTarget).where(LegalTarget.request_id == req.id).order_by(LegalTarget.id)).all())
    for t in rows:
        if t.account_id is None and t.item_id is None:
            t.account_id, t.item_id = resolve(session, t.kind, t.value)
    session.flush()
    return rows
