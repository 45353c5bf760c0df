"""What a report says about its items, gathered from the pipeline, review, enforcement, evidence and
audit tables into plain data that the NCMEC, India and UK builders map into their formats.

Two facts here keep reports truthful: ``original_views`` finds the audited reveals that actually
showed a person an ORIGINAL file (``media.view`` with ``served == "original"``, the bytes retained
and intact; previews, refused links and never-retained media do not count), and
``MediaFacts.signals`` keeps every hash known for a file (its own row and the bank matches), so a
file whose bytes were not retained is still reported by its hashes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from suraksha.cases.service import get_decision
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
    error: str | None = None  # why the pipeline could not fetch or decode it
    file_name: str | None = None  # the platform's name for the file, when it sent one
    signals: dict[str, str] = field(default_factory=dict)  # every hash known: signal type -> value
    identified_by: list[dict[str, Any]] = field(default_factory=list)  # the bank matches on this file


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
    retroactive: bool = False  # identified after the fact (a rescan or backfill of stored signals)

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
    def surface(self) -> str | None:
        """Where the platform showed the item (context ``surface``: "public feed", "direct message")."""
        value = self.context.get("surface")
        return str(value) if value else None

    @property
    def publicly_available(self) -> bool | None:
        """Whether online users could see the item, from its surface; None when the surface does not say."""
        return publicly_available(self.surface)

    @property
    def suspended_at(self) -> dt.datetime | None:
        times = [a.acknowledged_at for a in self.actions if a.kind == ActionKind.SUSPEND_ACCOUNT and a.acknowledged_at]
        return min(times) if times else None


_PRIVATE_WORDS = ("private", "direct", "dm", "message", "chat", "inbox", "closed", "secret", "friends", "draft")
_PUBLIC_WORDS = ("public", "feed", "timeline", "profile", "story", "stories", "reel", "channel", "search", "comment", "open")


def publicly_available(surface: str | None) -> bool | None:
    """Private words win ("private group" is not public); None when the surface names neither."""
    if not surface:
        return None
    words = {w for w in surface.lower().replace("-", " ").replace("_", " ").split()}
    if words & set(_PRIVATE_WORDS) or any(w.endswith("messages") for w in words):
        return False
    if words & set(_PUBLIC_WORDS):
        return True
    return None


def _file_name(context: dict[str, Any], position: int, source_url: str | None) -> str | None:
    """The platform's name for the file: context ``file_names`` (a list by media position), else the
    last part of the URL it was fetched from when that looks like a file name."""
    names = context.get("file_names") or context.get("filenames")
    name = names[position] if isinstance(names, list) and 0 <= position < len(names) else None
    if isinstance(name, str) and name:
        return name[:300]
    if source_url:
        from urllib.parse import unquote, urlsplit

        last = unquote(urlsplit(source_url).path.rsplit("/", 1)[-1])
        if "." in last.strip(".") and len(last) <= 300:
            return last
    return None


@dataclass(frozen=True)
class OriginalView:
    """The first audited showing of an original file to a person."""

    actor: str
    at: dt.datetime
    audit_seq: int


def original_views(session: Session, item_ids: list[int]) -> dict[tuple[int, int], OriginalView]:
    """(item id, media position) -> the first time a person was shown the ORIGINAL bytes of that
    file, from the audit log (see /work/notes/REVEAL.md in the project notes and ``web.media``):
    ``media.view`` by a ``user:`` actor with ``served == "original"``, ``retained`` true and no
    ``damaged`` key. A reveal grant, a preview, a refused link or missing bytes never count."""
    from suraksha.audit.models import AuditEvent

    if not item_ids:
        return {}
    out: dict[tuple[int, int], OriginalView] = {}
    rows = session.execute(
        select(AuditEvent.object_id, AuditEvent.actor, AuditEvent.at, AuditEvent.seq, AuditEvent.details)
        .where(
            AuditEvent.action == "media.view",
            AuditEvent.object_type == "item",
            AuditEvent.object_id.in_([str(i) for i in item_ids]),
            AuditEvent.actor_type == "user",  # a person (the log keeps "user" and the name apart)
        )
        .order_by(AuditEvent.seq)
    ).all()
    for object_id, actor, at, seq, details in rows:
        d = details if isinstance(details, dict) else {}
        if d.get("served") != "original" or d.get("retained") is not True or "damaged" in d:
            continue
        position = d.get("position")
        if not isinstance(position, int) or isinstance(position, bool):
            continue
        out.setdefault((int(object_id), position), OriginalView(f"user:{actor}", aware(at) or at, seq))
    return out


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
        media=_media_facts(item, media, matches, evidence, matched_positions),
        actions=[ActionFacts(a.kind, a.status, aware(a.acknowledged_at)) for a in actions],
        facts=_stored_facts(item.facts),
        retroactive=bool(item.retroactive) or any(m.retroactive for m in matches),
    )
    facts.decision = decision_for(item_id)
    return facts


_HASH_TYPES = ("md5", "sha1", "sha256", "pdq")


def _media_facts(item: Any, media: Any, matches: Any, evidence: dict[int, str], matched: set[int]) -> list[MediaFacts]:
    """One ``MediaFacts`` per stored media row, and one per matched position without a row (a
    match recorded for a file whose row is gone), each with every hash known for it."""
    context = dict(item.context or {})
    out: dict[int, MediaFacts] = {}
    for m in media:
        out[m.position] = MediaFacts(
            m.position,
            m.mime,
            m.size,
            m.sha256,
            m.md5,
            m.pdq,
            m.source_url,
            evidence.get(m.position),
            m.position in matched,
            error=m.error,
            file_name=_file_name(context, m.position, m.source_url),
            signals={k: v for k, v in (("md5", m.md5), ("sha256", m.sha256), ("pdq", m.pdq)) if v},
        )
    for match in matches:
        if match.media_position is None:
            continue
        facts = out.get(match.media_position)
        if facts is None:
            facts = out[match.media_position] = MediaFacts(
                match.media_position, None, None, None, None, None, None, evidence.get(match.media_position), True
            )
        if match.signal_type in _HASH_TYPES:  # the item's own hash that was looked up (matcher.Match.signal)
            facts.signals.setdefault(match.signal_type, match.signal)
        facts.identified_by.append(
            {"bank": match.bank, "label": match.label, "signal_type": match.signal_type, "distance": match.distance}
        )
    for facts in out.values():
        facts.md5 = facts.md5 or facts.signals.get("md5")
        facts.sha256 = facts.sha256 or facts.signals.get("sha256")
        facts.pdq = facts.pdq or facts.signals.get("pdq")
    return [out[p] for p in sorted(out)]


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
    d = get_decision(item_id)
    if d is None:
        return None
    return DecisionFacts(d.category, d.industry_class, d.decided_at, len(d.reviewer_ids), d.annotation)


def unavailable_reason(facts: SubjectFacts, media: MediaFacts) -> str | None:
    """Why a file's bytes cannot be sent with a report (None when a preserved copy exists)."""
    if media.evidence_id:
        return None
    if media.error:
        return f"the file could not be fetched or decoded when the item was scanned ({media.error[:300]})"
    if facts.retroactive:
        return "identified later by a rescan of stored hashes; the file itself was not retained when the item was first scanned"
    return "no copy of the file was preserved (the platform did not send its bytes, or they were not kept)"


def identification(media: MediaFacts) -> str:
    """How a file was identified, in words: the named lists it matched and how closely."""
    if not media.identified_by:
        return "not matched against a hash list (reported with the item)"
    parts = []
    for m in media.identified_by:
        how = "exact" if m["distance"] == 0 else f"distance {m['distance']}"
        parts.append(f"{str(m['signal_type']).upper()} hash match ({how}) to the list '{m['bank']}' (label {m['label']})")
    return "; ".join(dict.fromkeys(parts))
