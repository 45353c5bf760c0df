"""Preservation: ``preserve`` outbox messages -> encrypted copies in the evidence vault.

For each message, in ONE transaction (the outbox loop's): every media byte string the scan held for
evidence (``pending_media.held_for_evidence``) goes into the vault with the item's record, the held
rows are deleted and the message is marked delivered. A crash before the commit leaves everything
as it was (at worst an orphaned, undecryptable blob; see the evidence decisions); after it, the copy
exists exactly once. Retention: the longest of ``SURAKSHA_PRESERVE_JURISDICTIONS`` (default US,
one year under 18 U.S.C. 2258A) and the item's own country when a profile exists for it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from suraksha import evidence
from suraksha.db.sql import aware
from suraksha.enforcement.settings import get_enforcement_settings
from suraksha.items.models import Account, Item, ItemMatch, ItemMedia, PendingMedia
from suraksha.jurisdictions.profiles import EU_COUNTRIES
from suraksha.outbox import Done, Message, Skip

ACTOR = "system:dispatcher"
_COUNTRY_TO_PROFILE = {"IN": "in", "US": "us", "GB": "uk", "UK": "uk"}


def media_ref(item_id: int, position: int) -> str:
    """The vault's ``item_ref`` for one media of an item (``item:42:media:0``)."""
    return f"item:{item_id}:media:{position}"


def jurisdictions_for(country: str | None) -> list[str]:
    codes = [c.lower() for c in get_enforcement_settings().preserve_jurisdictions]
    c = (country or "").upper()
    extra = _COUNTRY_TO_PROFILE.get(c) or ("eu" if c in EU_COUNTRIES else None)
    if extra and extra not in codes:
        codes.append(extra)
    return codes or ["us"]


def item_record(session: Any, item_id: int) -> dict[str, Any]:
    """What is kept with the bytes: the item, its account, context, signals, matches and verdict."""
    item = session.get(Item, item_id)
    account = session.get(Account, item.account_id) if item.account_id else None
    media = session.scalars(select(ItemMedia).where(ItemMedia.item_id == item_id).order_by(ItemMedia.position)).all()
    matches = session.scalars(select(ItemMatch).where(ItemMatch.item_id == item_id).order_by(ItemMatch.id)).all()
    return {
        "item": {
            "id": item.id,
            "platform_id": item.platform_id,
            "kind": item.kind,
            "text": item.text,
            "links": list(item.links or []),
            "context": dict(item.context or {}),
            "created_at": aware(item.created_at).isoformat(),
            "received_at": aware(item.received_at).isoformat(),
        },
        "account": {"id": account.id, "platform_account_id": account.platform_account_id, "handle": account.handle}
        if account
        else None,
        "media": [
            {
                "position": m.position,
                "source_url": m.source_url,
                "mime": m.mime,
                "size": m.size,
                "sha256": m.sha256,
                "md5": m.md5,
                "pdq": m.pdq,
            }
            for m in media
        ],
        "matches": [
            {
                "bank": m.bank,
                "label": m.label,
                "signal_type": m.signal_type,
                "distance": m.distance,
                "media_position": m.media_position,
            }
            for m in matches
        ],
        "verdict": {
            "verdict": item.verdict,
            "rule": item.rule,
            "reasons": list(item.reasons or []),
            "actions": list(item.actions or []),
        },
    }


def take_preserve_message(session: Session, message: Message) -> Done:
    """A ``preserve`` outbox message -> encrypted copies of the item's held media in the vault, in the
    caller's transaction (the outbox loop's, which marks the message delivered in it).

    Every media byte string the scan held for evidence goes into the vault with the item's record,
    and the held rows are deleted: a crash before the commit leaves everything as it was (at worst an
    orphaned, undecryptable blob); after it, the copy exists exactly once. A failure (vault key
    missing, disk full) rolls all of it back and the loop retries the message with backoff.
    Returns how many objects were written. Wired to the topic by ``suraksha.dispatch``.
    """
    item = session.get(Item, message.item_id) if message.item_id is not None else None
    if item is None:
        raise Skip("item not found")
    held = session.scalars(
        select(PendingMedia)
        .where(PendingMedia.item_id == item.id, PendingMedia.held_for_evidence.is_(True))
        .order_by(PendingMedia.position, PendingMedia.id)
    ).all()
    record = item_record(session, item.id)
    codes = jurisdictions_for((item.context or {}).get("country"))
    written = 0
    done: set[int] = set()
    for row in held:
        if row.position in done:
            continue
        done.add(row.position)
        evidence.preserve(
            media_ref(item.id, row.position), row.data, {**record, "media_position": row.position}, codes, ACTOR, session=session
        )
        written += 1
    if held:
        session.execute(delete(PendingMedia).where(PendingMedia.id.in_([r.id for r in held])))
    return Done(written, None if held else "no media bytes were held (URL fetch failed or text-only item)")


def evidence_for_item(session: Any, item_id: int) -> dict[int, str]:
    """Media position -> evidence id of the preserved copies of an item's media."""
    prefix = f"item:{item_id}:media:"
    rows = session.execute(
        select(evidence.Evidence.id, evidence.Evidence.item_ref)
        .where(evidence.Evidence.item_ref.like(prefix + "%"), evidence.Evidence.status == "preserved")
        .order_by(evidence.Evidence.captured_at)
    ).all()
    out: dict[int, str] = {}
    for ev_id, ref in rows:
        try:
            out.setdefault(int(ref[len(prefix) :]), ev_id)
        except ValueError:
            continue
    return out
