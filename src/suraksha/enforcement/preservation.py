"""Preservation: ``preserve`` outbox messages -> encrypted copies in the evidence vault.

For each message, in ONE transaction: every media byte string the scan held for evidence
(``pending_media.held_for_evidence``) goes into the vault with the item's record, the held rows are
deleted and the message is marked delivered. A crash before the commit leaves everything as it
was (at worst an orphaned, undecryptable blob; see the evidence decisions); after it, the copy
exists exactly once. Retention: the longest of ``SURAKSHA_PRESERVE_JURISDICTIONS`` (default US,
one year under 18 U.S.C. 2258A) and the item's own country when a profile exists for it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import delete, select, update

from suraksha.db import session_scope, utcnow
from suraksha.outbox.models import OutboxMessage
from suraksha.enforcement.settings import get_enforcement_settings
from suraksha.db.sql import aware

log = logging.getLogger(__name__)

ACTOR = "system:dispatcher"
_COUNTRY_TO_PROFILE = {"IN": "in", "US": "us", "GB": "uk", "UK": "uk"}
_EU = {"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT", "LU", "MT",
       "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"}


def media_ref(item_id: int, position: int) -> str:
    """The vault's ``item_ref`` for one media of an item (``item:42:media:0``)."""
    return f"item:{item_id}:media:{position}"


def jurisdictions_for(country: str | None) -> list[str]:
    codes = [c.lower() for c in get_enforcement_settings().preserve_jurisdictions]
    c = (country or "").upper()
    extra = _COUNTRY_TO_PROFILE.get(c) or ("eu" if c in _EU else None)
    if extra and extra not in codes:
        codes.append(extra)
    return codes or ["us"]


def item_record(session: Any, item_id: int) -> dict[str, Any]:
    """What is kept with the bytes: the item, its account, context, signals, matches and verdict."""
    from suraksha.pipeline.models import Account, Item, ItemMatch, ItemMedia

    item = session.get(Item, item_id)
    account = session.get(Account, item.account_id) if item.account_id else None
    media = session.scalars(select(ItemMedia).where(ItemMedia.item_id == item_id).order_by(ItemMedia.position)).all()
    matches = session.scalars(select(ItemMatch).where(ItemMatch.item_id == item_id).order_by(ItemMatch.id)).all()
    return {
        "item": {"id": item.id, "platform_id": item.platform_id, "kind": item.kind, "text": item.text,
                 "links": list(item.links or []), "context": dict(item.context or {}),
                 "created_at": aware(item.created_at).isoformat(), "received_at": aware(item.received_at).isoformat()},
        "account": {"id": account.id, "platform_account_id": account.platform_account_id, "handle": account.handle} if account else None,
        "media": [{"position": m.position, "source_url": m.source_url, "mime": m.mime, "size": m.size, "sha256": m.sha256,
                   "md5": m.md5, "pdq": m.pdq} for m in media],
        "matches": [{"bank": m.bank, "label": m.label, "signal_type": m.signal_type, "distance": m.distance,
                     "media_position": m.media_position} for m in matches],
        "verdict": {"verdict": item.verdict, "rule": item.rule, "reasons": list(item.reasons or []), "actions": list(item.actions or [])},
    }


def preserve_pending(limit: int = 50) -> int:
    """Handle pending ``preserve`` messages; returns how many objects were written to the vault.

    A failure (vault key missing, disk full) is recorded on the message and retried with backoff.
    """
    written = 0
    with session_scope() as session:
        stmt = (select(OutboxMessage.id).where(OutboxMessage.topic == "preserve", OutboxMessage.status == "pending",
                                               OutboxMessage.next_attempt_at <= utcnow())
                .order_by(OutboxMessage.id).limit(limit))
        ids = list(session.scalars(stmt).all())
    for message_id in ids:
        try:
            written += _preserve_one(message_id)
        except Exception as exc:  # noqa: BLE001 - recorded on the message, retried with backoff
            log.exception("preserving for outbox message %s failed", message_id)
            with session_scope() as session:
                m = session.get(OutboxMessage, message_id)
                m.attempts = (m.attempts or 0) + 1
                m.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                m.next_attempt_at = utcnow() + dt.timedelta(seconds=min(3600, 2 ** m.attempts))
    return written


def _preserve_one(message_id: int) -> int:
    from suraksha import evidence
    from suraksha.pipeline.models import Item, PendingMedia

    written = 0
    with session_scope() as session:
        # First statement: a conditional write. It takes SQLite's write lock / PostgreSQL's row lock
        # until commit, so a second dispatcher waits and then finds the message no longer pending.
        took = session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == "pending")
                               .values(attempts=OutboxMessage.attempts + 1).execution_options(synchronize_session=False))
        if took.rowcount != 1:
            return 0  # another dispatcher handled it
        m = session.get(OutboxMessage, message_id)
        item = session.get(Item, m.item_id) if m.item_id is not None else None
        if item is None:
            m.status, m.last_error = "skipped", "item not found"
            return 0
        held = session.scalars(select(PendingMedia).where(PendingMedia.item_id == item.id,
                                                          PendingMedia.held_for_evidence.is_(True))
                               .order_by(PendingMedia.position, PendingMedia.id)).all()
        record = item_record(session, item.id)
        codes = jurisdictions_for((item.context or {}).get("country"))
        done: set[int] = set()
        for row in held:
            if row.position in done:
                continue
            done.add(row.position)
            evidence.preserve(media_ref(item.id, row.position), row.data, {**record, "media_position": row.position},
                              codes, ACTOR, session=session)
            written += 1
        if held:
            session.execute(delete(PendingMedia).where(PendingMedia.id.in_([r.id for r in held])))
        m.status = "delivered"
        m.last_error = None if held else "no media bytes were held (URL fetch failed or text-only item)"
    return written


def evidence_for_item(session: Any, item_id: int) -> dict[int, str]:
    """Media position -> evidence id of the preserved copies of an item's media."""
    from suraksha.evidence import Evidence

    prefix = f"item:{item_id}:media:"
    rows = session.execute(select(Evidence.id, Evidence.item_ref).where(Evidence.item_ref.like(prefix + "%"),
                                                                        Evidence.status == "preserved")
                           .order_by(Evidence.captured_at)).all()
    out: dict[int, str] = {}
    for ev_id, ref in rows:
        try:
            out.setdefault(int(ref[len(prefix):]), ev_id)
        except ValueError:
            continue
    return out
