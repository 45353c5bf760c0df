"""What a report says about its subject (one item), gathered from the pipeline, review, enforcement
and evidence tables into plain data that the NCMEC, India and UK builders map into their formats."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.db.sql import aware
from suraksha.errors import NotFound
from suraksha.policy.actions import ActionKind
from suraksha.policy.model import Fact, FactKind


@dataclass
class MediaFacts:
    position: int
    mime: str | None
    size: int | None
    sha256: str | None
    md5: str | None
    pdq: str | None
    source_url: str | None
    evidence_id: str | None  # the preserved copy, if any
    matched: bool  # this media hit a bank entry


@dataclass
class DecisionFacts:
    category: str
    industry_class: str | None
    decided_at: dt.datetime
    reviewers: int
    annotation: str = ""


@dataclass
class ActionFacts:
    kind: str
    status: str
    acknowledged_at: dt.datetime | None


@dataclass
class SubjectFacts:
    item_id: int
    platform_item_id: str
    item_kind: str
    posted_at: dt.datetime | None
    received_at: dt.datetime | None
    context: dict[str, Any]
    account_id: int | None
    platform_account_id: str | None
    handle: str | None
    account_first_seen: dt.datetime | None
    account_last_seen: dt.datetime | None
    verdict: str | None
    rule: str | None
    matches: list[dict[str, Any]] = field(default_factory=list)
    media: list[MediaFacts] = field(default_factory=list)
    decision: DecisionFacts | None = None
    actions: list[ActionFacts] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)  # what made the policy's rules fire (items.facts)

    @property
    def detected_by(self) -> frozenset[FactKind]:
        """The kinds of condition that fired on the item (hash, link, classifier...), read as data."""
        return frozenset(f.kind for f in self.facts)

    @property
    def ip(self) -> str | None:
        return self.context.get("ip")

    @property
    def port(self) -> int | None:
        return self.context.get("port")

    @property
    def device_id(self) -> str | None:
        return self.context.get("device_id")

    @property
    def country(self) -> str | None:
        return self.context.get("country")

    @property
    def url(self) -> str | None:
        """Where the platform displayed the item (context ``url``), if the platform sent it."""
        return self.context.get("url") or self.context.get("permalink")

    @property
    def suspended_at(self) -> dt.datetime | None:
        times = [a.acknowledged_at for a in self.actions if a.kind == ActionKind.SUSPEND_ACCOUNT and a.acknowledged_at]
        return min(times) if times else None


def gather(session: Session, item_id: int) -> SubjectFacts:
    """Everything known about one item, for a report. Raises LookupError if the item is gone."""
    from suraksha.enforcement.models import Action, ActionItem
    from suraksha.enforcement.preservation import evidence_for_item
    from suraksha.items.models import Account, Item, ItemMatch, ItemMedia

    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} not found")
    account = session.get(Account, item.account_id) if item.account_id else None
    matches = session.scalars(select(ItemMatch).where(ItemMatch.item_id == item_id).order_by(ItemMatch.id)).all()
    matched_positions = {m.media_position for m in matches if m.media_position is not None}
    evidence = evidence_for_item(session, item_id)
    media = session.scalars(select(ItemMedia).where(ItemMedia.item_id == item_id).order_by(ItemMedia.position)).all()
    action_ids = select(ActionItem.action_id).where(ActionItem.item_id == item_id)
    actions = (
        session.scalars(
            select(Action)
            .where(
                (Action.item_id == item_id)
                | Action.id.in_(action_ids)
                | ((Action.account_id == item.account_id) & (Action.kind == ActionKind.SUSPEND_ACCOUNT.value))
            )
            .order_by(Action.id)
        ).all()
        if item.account_id
        else session.scalars(
            select(Action).where((Action.item_id == item_id) | Action.id.in_(action_ids)).order_by(Action.id)
        ).all()
    )
    facts = SubjectFacts(
        item_id=item.id,
        platform_item_id=item.platform_id,
        item_kind=item.kind,
        posted_at=aware(item.created_at),
        received_at=aware(item.received_at),
        context=dict(item.context or {}),
        account_id=item.account_id,
        platform_account_id=account.platform_account_id if account else None,
        handle=account.handle if account else None,
        account_first_seen=aware(account.first_seen) if account else None,
        account_last_seen=aware(account.last_seen) if account else None,
        verdict=item.verdict,
        rule=item.rule,
        matches=[
            {
                "bank": m.bank,
                "label": m.label,
                "signal_type": m.signal_type,
                "distance": m.distance,
                "media_position": m.media_position,
            }
            for m in matches
        ],
        media=[
            MediaFacts(
                m.position,
                m.mime,
                m.size,
                m.sha256,
                m.md5,
                m.pdq,
                m.source_url,
                evidence.get(m.position),
                m.position in matched_positions,
            )
            for m in media
        ],
        actions=[ActionFacts(a.kind, a.status, aware(a.acknowledged_at)) for a in actions],
        facts=_stored_facts(item.facts),
    )
    facts.decision = decision_for(item_id)
    return facts


def _stored_facts(stored: Any) -> list[Fact]:
    """``items.facts`` as ``Fact`` objects; an entry this version cannot read is left out, not guessed."""
    out = []
    for f in stored if isinstance(stored, list) else []:
        try:
            out.append(Fact.from_json(f))
        except (KeyError, TypeError, ValueError):
            continue
    return out


def decision_for(item_id: int) -> DecisionFacts | None:
    """The final review decision on the item (cases area), if there is one."""
    try:
        from suraksha.cases.service import get_decision
    except ImportError:  # pragma: no cover - cases not installed
        return None
    d = get_decision(item_id)
    if d is None:
        return None
    return DecisionFacts(d.category, d.industry_class, d.decided_at, len(d.reviewer_ids), d.annotation)
