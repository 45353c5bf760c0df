"""Linking a request's targets (as the officer wrote them) to the accounts and items Suraksha knows.

Resolved at intake and again before each piece of work, because an order may name an account
Suraksha has not seen yet (it was never scanned, or the platform submits its history later).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.items.models import Account, Item
from suraksha.legal.models import LegalRequest, LegalTarget
from suraksha.signals.errors import InvalidSignal
from suraksha.signals.url import canonical_url


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
    spellings = post_url_spellings(value)
    item = session.scalar(select(Item).where(Item.context["url"].as_string().in_(spellings)).order_by(Item.id.desc()).limit(1))
    return (item.account_id if item else None), (item.id if item else None)


def post_url_spellings(value: str) -> list[str]:
    """The ways a post's URL in an order may be stored with the item: as written, canonical as the
    scanner makes it (``signals.url.canonical_url``: scheme and host lower-case, default port and
    fragment gone, tracking parameters dropped), and that canonical form without its query and
    trailing slash, because share links add parameters the scanner keeps for ordinary links
    (``?s=20``) while a post is identified by its path."""
    out = [value.strip()]
    try:
        canon = canonical_url(value)
    except InvalidSignal:
        return out
    bare = urlunsplit(urlsplit(canon)._replace(query=""))
    for spelling in (canon, bare, bare.rstrip("/") if bare.count("/") > 3 else bare, bare.rstrip("/") + "/"):
        if spelling not in out:
            out.append(spelling)
    return out


def refresh(session: Session, req: LegalRequest) -> list[LegalTarget]:
    """The request's targets, with those not yet known resolved again (in the caller's transaction)."""
    rows = list(session.scalars(select(LegalTarget).where(LegalTarget.request_id == req.id).order_by(LegalTarget.id)).all())
    for t in rows:
        if t.account_id is None and t.item_id is None:
            t.account_id, t.item_id = resolve(session, t.kind, t.value)
    session.flush()
    return rows
