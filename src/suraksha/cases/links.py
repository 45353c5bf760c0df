"""An account's whole picture: its items, their matches, and the accounts linked to it by shared
media (same SHA-256 or PDQ), shared links, or shared IP addresses."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from suraksha.auth import audit
from suraksha.db import session_scope

MAX_ITEMS = 300
MAX_KEYS = 200  # distinct hashes/links/IPs of the account looked up for links


@dataclass
class LinkedAccount:
    id: int
    platform_account_id: str
    handle: str | None
    media: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    ips: set[str] = field(default_factory=set)

    @property
    def strength(self) -> int:
        return len(self.media) * 3 + len(self.links) * 2 + len(self.ips)


@dataclass
class AccountOverview:
    id: int
    platform_account_id: str
    handle: str | None
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    items_total: int
    items: list[dict[str, Any]]
    matches: list[dict[str, Any]]
    linked: list[LinkedAccount]
    cases: list[dict[str, Any]]


def _aware(v: dt.datetime | None) -> dt.datetime | None:
    return v.replace(tzinfo=dt.timezone.utc) if v is not None and v.tzinfo is None else v


def account_overview(account_id: int, actor_name: str) -> AccountOverview:
    from suraksha.cases.models import Case, CaseAccount, ReviewDecision
    from suraksha.pipeline.models import Account, Item, ItemMatch, ItemMedia

    with session_scope() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise LookupError(f"account {account_id} not found")
        total = session.scalar(select(func.count()).select_from(Item).where(Item.account_id == account_id)) or 0
        items = session.scalars(select(Item).where(Item.account_id == account_id)
                                .order_by(Item.created_at.desc(), Item.id.desc()).limit(MAX_ITEMS)).all()
        ids = [i.id for i in items]
        matches = session.scalars(select(ItemMatch).where(ItemMatch.item_id.in_(ids)).order_by(ItemMatch.id)).all() if ids else []
        decisions = {}
        if ids:
            for d in session.scalars(select(ReviewDecision).where(ReviewDecision.item_id.in_(ids), ReviewDecision.final.is_(True))):
                decisions[d.item_id] = d
        media = session.scalars(select(ItemMedia).where(ItemMedia.item_id.in_(ids))).all() if ids else []
        labels: dict[int, set[str]] = {}
        for m in matches:
            labels.setdefault(m.item_id, set()).add(m.label)

        linked: dict[int, LinkedAccount] = {}

        def link(row_account: int, kind: str, value: str) -> None:
            if row_account == account_id:
                return
            if row_account not in linked:
                a = session.get(Account, row_account)
                if a is None:
                    return
                linked[row_account] = LinkedAccount(a.id, a.platform_account_id, a.handle)
            getattr(linked[row_account], kind).add(value)

        sha = sorted({m.sha256 for m in media if m.sha256})[:MAX_KEYS]
        pdq = sorted({m.pdq for m in media if m.pdq})[:MAX_KEYS]
        if sha:
            for acc, value in session.execute(select(Item.account_id, ItemMedia.sha256).join(ItemMedia, ItemMedia.item_id == Item.id)
                                              .where(ItemMedia.sha256.in_(sha), Item.account_id.is_not(None)).distinct()):
                link(acc, "media", f"sha256:{value[:16]}…")
        if pdq:
            for acc, value in session.execute(select(Item.account_id, ItemMedia.pdq).join(ItemMedia, ItemMedia.item_id == Item.id)
                                              .where(ItemMedia.pdq.in_(pdq), Item.account_id.is_not(None)).distinct()):
                link(acc, "media", f"pdq:{value[:16]}…")
        links = sorted({str(u) for i in items for u in (i.links or [])})[:MAX_KEYS]
        ips = sorted({str((i.context or {}).get("ip")) for i in items if (i.context or {}).get("ip")})[:MAX_KEYS]
        dialect = session.get_bind().dialect.name
        if links:
            for acc, value in _shared_links(session, dialect, links):
                link(acc, "links", value)
        if ips:
            ip_expr = Item.context["ip"].as_string()
            for acc, value in session.execute(select(Item.account_id, ip_expr).where(ip_expr.in_(ips), Item.account_id.is_not(None)).distinct()):
                link(acc, "ips", value)

        cases = session.scalars(select(Case).join(CaseAccount, CaseAccount.case_id == Case.id).where(CaseAccount.account_id == account_id)).all()
        audit.record(session, actor_name, "account.view", "account", account_id, {})
        return AccountOverview(
            id=account.id, platform_account_id=account.platform_account_id, handle=account.handle,
            first_seen=_aware(account.first_seen), last_seen=_aware(account.last_seen), items_total=total,
            items=[{"id": i.id, "platform_id": i.platform_id, "kind": i.kind, "status": i.status, "verdict": i.verdict,
                    "rule": i.rule, "labels": sorted(labels.get(i.id, ())), "created_at": _aware(i.created_at),
                    "media": sum(1 for m in media if m.item_id == i.id), "links": list(i.links or []),
                    "ip": (i.context or {}).get("ip"),
                    "decision": (f"{decisions[i.id].category} {decisions[i.id].industry_class or ''}".strip() if i.id in decisions else None)}
                   for i in items],
            matches=[{"item_id": m.item_id, "bank": m.bank, "label": m.label, "signal_type": m.signal_type,
                      "signal": m.signal, "distance": m.distance, "media_position": m.media_position} for m in matches],
            linked=sorted(linked.values(), key=lambda a: (-a.strength, a.id)),
            cases=[{"id": c.id, "title": c.title, "status": c.status} for c in cases],
        )


def _shared_links(session, dialect: str, links: list[str]):
    """(account_id, link) for items of any account that carry one of these links."""
    from sqlalchemy import text

    if dialect == "postgresql":
        sql = text("SELECT DISTINCT i.account_id, l.value FROM items i, jsonb_array_elements_text(i.links) AS l(value) "
                   "WHERE i.account_id IS NOT NULL AND l.value = ANY(:links)")
        return session.execute(sql, {"links": links}).all()
    out = []
    for start in range(0, len(links), 200):
        chunk = links[start:start + 200]
        marks = ", ".join(f":l{n}" for n in range(len(chunk)))
        sql = text(f"SELECT DISTINCT i.account_id, j.value FROM items i, json_each(i.links) AS j "
                   f"WHERE i.account_id IS NOT NULL AND j.value IN ({marks})")
        out.extend(session.execute(sql, {f"l{n}": v for n, v in enumerate(chunk)}).all())
    return out
