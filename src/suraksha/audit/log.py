"""Record audit events in the caller's transaction and verify the hash chain.

Each event's ``hash`` is SHA-256 over a canonical JSON of its fields and the previous event's
hash, so editing, deleting, reordering or inserting an event breaks the chain at that point;
the head row (last ``seq`` and ``hash``) catches deletion of the newest events. Appends are
serialized by locking the head row (PostgreSQL ``FOR UPDATE``; SQLite has one writer anyway), so
concurrent transactions on many machines still produce one unbroken chain.

What this cannot catch on its own: someone with write access who rewrites the whole chain and the
head consistently, or cuts the newest events and points the head at the new end. Against that the
head is published outside the database now and then (``audit.anchors``: ``suraksha audit anchor``,
and hourly by the dispatcher) and ``suraksha audit verify`` checks the last published anchor by
default (or ``--anchor SEQ:HASH``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import math
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from suraksha.audit.models import GENESIS_HASH, HEAD_ID, AuditEvent, AuditHead
from suraksha.db.base import utcnow

ACTOR_TYPES = ("user", "api_key", "system")

# The client address of the request being served, set by the web adapter for each staff request
# (``suraksha.web.security``): an event recorded without an explicit ``ip`` takes it, so a page's
# views, reveals and changes say where they came from without every service passing it along.
request_ip: ContextVar[str | None] = ContextVar("suraksha_audit_request_ip", default=None)


@dataclass(frozen=True)
class Actor:
    """Who did it: a staff user, an API key, or the system itself (a worker, the purge job)."""

    type: str
    id: str

    def __post_init__(self) -> None:
        if self.type not in ACTOR_TYPES:
            raise ValueError(f"actor type must be one of {', '.join(ACTOR_TYPES)}, not {self.type!r}")
        if not self.id or len(self.id) > 180:
            raise ValueError("actor id must be 1-180 characters")

    @classmethod
    def user(cls, name: str) -> Actor:
        return cls("user", str(name))

    @classmethod
    def api_key(cls, key_id: str | int) -> Actor:
        return cls("api_key", str(key_id))

    @classmethod
    def system(cls, component: str = "suraksha") -> Actor:
        return cls("system", component)

    @classmethod
    def parse(cls, value: Actor | str) -> Actor:
        """``Actor``, ``"api_key:12"``, ``"system:purge"``, ``"user:asha"`` or a bare user name."""
        if isinstance(value, Actor):
            return value
        if not isinstance(value, str):
            raise TypeError("actor must be an Actor or a string")
        kind, sep, rest = value.partition(":")
        if sep and kind in ACTOR_TYPES:
            return cls(kind, rest)
        return cls("user", value)

    def __str__(self) -> str:
        return f"{self.type}:{self.id}"


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    reason: str | None = None
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in audit details; give a timezone")
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, (dt.date, dt.time, uuid.UUID, PurePath)):
        return str(value) if not isinstance(value, dt.date) else value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (set, frozenset, tuple)):
        return sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
    if isinstance(value, bytes):
        raise TypeError("bytes in audit details: record a hash or a length, never content")
    raise TypeError(f"audit details must be JSON data; got {type(value).__name__}")


def _check_finite(value: Any) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("audit details may not contain NaN or infinity")
    if isinstance(value, dict):
        for v in value.values():
            _check_finite(v)
    elif isinstance(value, list):
        for v in value:
            _check_finite(v)


def normalise_details(details: dict[str, Any] | None) -> dict[str, Any]:
    """Details as they will read back from either database (plain JSON, string keys)."""
    if details is None:
        return {}
    if not isinstance(details, dict):
        raise TypeError("audit details must be a dict")
    data = json.loads(json.dumps(details, default=_json_default, allow_nan=False))
    _check_finite(data)
    return data


def _format_at(at: dt.datetime) -> str:
    if at.tzinfo is None:  # SQLite gives back naive datetimes; they were stored as UTC
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def compute_hash(
    *,
    seq: int,
    at: dt.datetime,
    actor_type: str,
    actor: str,
    action: str,
    object_type: str | None,
    object_id: str | None,
    details: dict[str, Any],
    ip: str | None,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of an event's fields and the previous hash."""
    payload = {
        "v": 1,
        "seq": seq,
        "at": _format_at(at),
        "actor_type": actor_type,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details,
        "ip": ip,
        "prev_hash": prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _event_hash(ev: AuditEvent) -> str:
    return compute_hash(
        seq=ev.seq,
        at=ev.at,
        actor_type=ev.actor_type,
        actor=ev.actor,
        action=ev.action,
        object_type=ev.object_type,
        object_id=ev.object_id,
        details=ev.details or {},
        ip=ev.ip,
        prev_hash=ev.prev_hash,
    )


def _lock_head(session: Session) -> AuditHead:
    """Take the append lock and return the head row, creating it on first use."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect!r}")
    if dialect == "sqlite":
        # Write first so this transaction holds SQLite's write lock before it reads the head.
        session.execute(
            update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq),
            execution_options={"synchronize_session": False},
        )
    # populate_existing: a head object left in the session by an earlier transaction is stale.
    locked = select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update().execution_options(populate_existing=True)
    head = session.execute(locked).scalar_one_or_none()
    if head is None:
        session.execute(
            insert(AuditHead)
            .values(id=HEAD_ID, seq=0, hash=GENESIS_HASH, updated_at=utcnow())
            .on_conflict_do_nothing(index_elements=["id"])
        )
        head = session.execute(locked).scalar_one()
    return head


def record(
    session: Session,
    actor: Actor | str,
    action: str,
    object_type: str | None,
    object_id: str | int | None,
    details: dict[str, Any] | None = None,
    *,
    ip: str | None = None,
    at: dt.datetime | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction (it commits or rolls back with the caller's work).

    The head row stays locked until that transaction ends, so keep audited transactions short.
    """
    who = Actor.parse(actor)
    if not action or len(action) > 100:
        raise ValueError("action must be 1-100 characters")
    if object_type is not None and len(object_type) > 50:
        raise ValueError("object_type must be at most 50 characters")
    object_id = None if object_id is None else str(object_id)
    if object_id is not None and len(object_id) > 200:
        raise ValueError("object_id must be at most 200 characters")
    if ip is None:
        ip = request_ip.get()
    if ip is not None and len(ip) > 64:
        raise ValueError("ip must be at most 64 characters")
    clean = normalise_details(details)
    when = at or utcnow()
    if when.tzinfo is None:
        raise ValueError("at must be timezone-aware")
    when = when.astimezone(dt.UTC)

    head = _lock_head(session)
    seq = head.seq + 1
    digest = compute_hash(
        seq=seq,
        at=when,
        actor_type=who.type,
        actor=who.id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=clean,
        ip=ip,
        prev_hash=head.hash,
    )
    event = AuditEvent(
        seq=seq,
        at=when,
        actor_type=who.type,
        actor=who.id,
        action=action,
        object_type=object_type,
        object_id=object_id,
        details=clean,
        ip=ip,
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(event)
    head.seq = seq
    head.hash = digest
    head.updated_at = utcnow()
    session.flush()
    return event


def _iter_events(session: Session, batch: int = 1000, after: int | None = None) -> Iterator[AuditEvent]:
    last = after
    while True:
        stmt = select(AuditEvent).order_by(AuditEvent.seq).limit(batch)
        if last is not None:
            stmt = stmt.where(AuditEvent.seq > last)
        rows = session.execute(stmt).scalars().all()
        if not rows:
            return
        yield from rows
        last = rows[-1].seq
        session.expunge_all()


class _Walk:
    """State of one pass along the chain: where it is, what it last saw, and the first break."""

    def __init__(self, anchor: tuple[int, str] | None) -> None:
        self.anchor = anchor
        self.prev_hash = GENESIS_HASH
        self.expected_seq = 1
        self.checked = 0
        self.anchor_seen = anchor is None

    @property
    def last_seq(self) -> int:
        return self.expected_seq - 1

    def start_at(self, session: Session, since: tuple[int, str]) -> tuple[int, str] | None:
        """Resume after ``since`` (verified earlier); (first bad seq, reason) if it no longer holds."""
        start = session.execute(select(AuditEvent).where(AuditEvent.seq == since[0])).scalar_one_or_none()
        if start is None:
            return since[0], f"anchor seq {since[0]} not found (events deleted)"
        if start.hash != since[1] or _event_hash(start) != start.hash:
            return since[0], "hash differs from the anchor (chain rewritten)"
        self.prev_hash, self.expected_seq = start.hash, start.seq + 1
        self.anchor_seen = self.anchor_seen or self.anchor == (start.seq, start.hash)
        return None

    def run(self, session: Session) -> tuple[int, str] | None:
        """Check every event after ``last_seq``; (first bad seq, reason) at the first break."""
        for ev in _iter_events(session, after=self.last_seq or None):
            if ev.seq != self.expected_seq:
                if ev.seq > self.expected_seq:
                    missing = f"{self.expected_seq}" if ev.seq == self.expected_seq + 1 else f"{self.expected_seq}-{ev.seq - 1}"
                    return self.expected_seq, f"event(s) {missing} missing (deleted)"
                return self.expected_seq, f"unexpected seq {ev.seq} after {self.expected_seq - 1}"
            if ev.prev_hash != self.prev_hash:
                return ev.seq, "prev_hash does not match the previous event (inserted, removed or reordered)"
            if _event_hash(ev) != ev.hash:
                return ev.seq, "hash does not match the event's content (edited)"
            if self.anchor is not None and ev.seq == self.anchor[0]:
                if ev.hash != self.anchor[1]:
                    return ev.seq, "hash differs from the anchor (chain rewritten)"
                self.anchor_seen = True
            self.prev_hash = ev.hash
            self.expected_seq += 1
            self.checked += 1
        return None


def _read_head(session: Session) -> AuditHead | None:
    # populate_existing: the walk expunges as it goes, and a head read earlier may be stale.
    return session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).execution_options(populate_existing=True)
    ).scalar_one_or_none()


def verify_chain(
    session: Session | None = None, anchor: tuple[int, str] | None = None, *, since: tuple[int, str] | None = None
) -> VerifyResult:
    """Walk the whole chain in ``seq`` order and report the first break.

    ``anchor``: a ``(seq, hash)`` pair recorded earlier outside the database; the event at that
    ``seq`` must still carry that hash (catches a consistently rewritten chain, and a chain cut
    back to before it). ``since``: such a pair already verified earlier; only that event and the
    ones after it are walked (the scheduled anchor publisher costs the new events, not the history).

    Safe on a live system: the head is read *after* the walk (an event and its head update commit
    together, so the head is then at least as far as the walk got); events appended meanwhile are
    walked too, until the walk reaches the head. Only a head with nothing more to walk towards is
    reported as deleted events.
    """
    if session is None:
        from suraksha.db import session_scope

        with session_scope() as own:
            return verify_chain(own, anchor, since=since)

    walk = _Walk(anchor)

    def result(ok: bool, first_bad: int | None = None, reason: str | None = None, head: AuditHead | None = None) -> VerifyResult:
        head = head if head is not None else _read_head(session)
        return VerifyResult(
            ok, walk.checked, first_bad, reason, head_seq=head.seq if head else 0, head_hash=head.hash if head else GENESIS_HASH
        )

    if since is not None:
        bad = walk.start_at(session, since)
        if bad is not None:
            return result(False, *bad)
    bad = walk.run(session)
    if bad is not None:
        return result(False, *bad)
    head = _read_head(session)
    while head is not None and head.seq > walk.last_seq:  # appended while we walked, or deleted?
        before = walk.last_seq
        bad = walk.run(session)
        if bad is not None:
            return result(False, *bad)
        if walk.last_seq == before:  # nothing more to walk: the head points past the last event
            break
        head = _read_head(session)

    last_seq = walk.last_seq
    if head is None:
        if walk.checked:
            return result(False, None, "audit head row is missing", head)
    elif head.seq != last_seq:
        if head.seq > last_seq:
            return result(
                False, last_seq + 1, f"head records {head.seq} events but the last is {last_seq}: newest events deleted", head
            )
        return result(False, head.seq + 1, f"events after head seq {head.seq} (appended without the head)", head)
    elif head.hash != walk.prev_hash:
        return result(False, last_seq or None, "head hash does not match the last event", head)
    if not walk.anchor_seen:
        assert anchor is not None
        if anchor[0] > last_seq:
            reason = (
                f"the chain ends at seq {last_seq}, before the anchor at seq {anchor[0]}: "
                "newest events deleted (tail cut, head rewritten)"
            )
        else:
            reason = f"anchor seq {anchor[0]} not found (events deleted)"
        return result(False, anchor[0], reason, head)
    return result(True, head=head)
