"""An account's own picture for the account page: its items, their matches, its cases.

Who the account is connected to is not answered here: that is ``networks.service.network_for``,
the one definition of linked accounts (evidence-anchored links, popularity caps), which the
account page shows beside this overview. See docs/decisions.md, "Account networks".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from suraksha.auth import audit
from suraksha.db import session_scope
from suraksha.errors import NotFound

MAX_ITEMS = 300


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
    cases: list[dict[str, Any]]


def _aware(v: dt.datetime | None) -> dt.datetime | None:
    return v.replace(tzinfo=dt.UTC) if v is not None and v.tzinfo is None else v


def account_overview(account_id: int, actor_name: str) -> AccountOverview:
    from suraksha.cases.models import Case, CaseAccount, ReviewDecision
    from suraksha.items.models import Account, Item, ItemMatch, ItemMedia

    with session_scope() as session:
        account = session.get(Account, account_id)
        if account is None:
            raise NotFound(f"account {account_id} not found")
        total = session.scalar(select(func.count()).select_from(Item).where(Item.account_id == account_id)) or 0
        items = session.scalars(
            select(Item).where(Item.account_id == account_id).order_by(Item.created_at.desc(), Item.id.desc()).limit(MAX_ITEMS)
        ).all()
        ids = [i.id for i in items]
        matches = session.scalars(select(ItemMatch).where(ItemMatch.item_id.in_(ids)).order_by(ItemMatch.id)).all() if ids else []
        decisions = {}
        if ids:
            for d in session.scalars(
                select(ReviewDecision).where(ReviewDecision.item_id.in_(ids), ReviewDecision.final.is_(True))
            ):
                decisions[d.item_id] = d
        media = session.scalars(select(ItemMedia).where(ItemMedia.item_id.in_(ids))).all() if ids else []
        labels: dict[int, set[str]] = {}
        for m in matches:
            labels.setdefault(m.item_id, set()).add(m.label)

        cases = session.scalars(
            select(Case).join(CaseAccount, CaseAccount.case_id == Case.id).where(CaseAccount.account_id == account_id)
        ).all()
        audit.record(session, actor_name, "account.view", "account", account_id, {})
        return AccountOverview(
            id=account.id,
            platform_account_id=account.platform_account_id,
            handle=account.handle,
            first_seen=_aware(account.first_seen),
            last_seen=_aware(account.last_seen),
            items_total=total,
            items=[
                {
                    "id": i.id,
                    "platform_id": i.platform_id,
                    "kind": i.kind,
                    "status": i.status,
                    "verdict": i.verdict,
                    "rule": i.rule,
                    "labels": sorted(labels.get(i.id, ())),
                    "created_at": _aware(i.created_at),
                    "media": sum(1 for m in media if m.item_id == i.id),
                    "links": list(i.links or []),
                    "ip": (i.context or {}).get("ip"),
                    "decision": (
                        f"{decisions[i.id].category} {decisions[i.id].industry_class or ''}".strip()
                        if i.id in decisions
                        else None
                    ),
                }
                for i in items
            ],
            matches=[
                {
                    "item_id": m.item_id,
                    "bank": m.bank,
                    "label": m.label,
                    "signal_type": m.signal_type,
                    "signal": m.signal,
                    "distance": m.distance,
                    "media_position": m.media_position,
                }
                for m in matches
            ],
            cases=[{"id": c.id, "title": c.title, "status": c.status} for c in cases],
        )
