"""Enqueue in the caller's transaction; consume with one claim / lease / retry / dead-letter loop.

``enqueue`` writes a message in the transaction that decided it, so the message exists exactly when
the decision does. ``consume(topic, handler)`` carries messages out, for every topic alike:

1. **Claim** up to ``limit`` due messages of the topic in one short transaction: ``pending`` ones
   whose ``next_attempt_at`` has come, and ``claimed`` ones whose lease has run out (their
   dispatcher died). Each gets ``status='claimed'``, ``attempts + 1`` and a lease
   (``next_attempt_at = now + SURAKSHA_OUTBOX_LEASE_S``). PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so
   dispatchers side by side take different messages; SQLite: one conditional ``UPDATE`` (writers
   queue on its lock). The claim's attempt number is the fencing token below.
2. **Carry out** each claimed message in a transaction (its own, or shared by a group of
   ``per_transaction`` messages) whose first statement for it marks it ``delivered`` only if it is
   still claimed with that attempt number (a dispatcher whose lease ran out and was overtaken writes
   nothing), then runs ``handler(session, message)`` in the same transaction. The handler's writes
   and "delivered" commit together or not at all: exactly once. A group with a failure is rolled
   back and carried out again one message per transaction.
3. **On failure** (the handler raised) the transaction rolls back and, conditionally again, the
   message goes back to ``pending`` with exponential backoff (base * 2^(n-1), capped, 50-100 %
   jitter), or to ``dead`` after ``SURAKSHA_OUTBOX_MAX_ATTEMPTS`` tries: logged as ``ALERT``,
   counted in ``suraksha_outbox_dead_lettered_total{topic}``, sent again by ``retry``. A handler
   that raises ``Skip`` says the message can never be carried out: ``skipped``, with the reason.

A message whose handling kills the process every time (it never gets to step 3) is still
dead-lettered: its attempts were counted at each claim, and a claim past the limit dead-letters it
instead of running it again.

Only ``suraksha.dispatch`` (the composition root) knows which handler carries out which topic.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from prometheus_client import Counter
from sqlalchemy import Connection, and_, func, select, tuple_, update
from sqlalchemy.orm import Session

from suraksha.db import session_scope, utcnow
from suraksha.db.sql import aware, dialect_name, insert_ignoring_conflicts, insert_new
from suraksha.errors import InvalidInput, NotFound
from suraksha.outbox.models import STATUSES, TOPICS, UNFINISHED, OutboxMessage
from suraksha.outbox.settings import get_outbox_settings

log = logging.getLogger(__name__)

HANDLED = Counter("suraksha_outbox_messages", "Outbox messages handled, by topic and outcome.", ["topic", "outcome"])
DEAD_LETTERS = Counter("suraksha_outbox_dead_lettered", "Outbox messages dead-lettered (alert on any increase).", ["topic"])

_DB_MODULES = frozenset({"sqlalchemy", "psycopg", "psycopg2", "sqlite3"})


class Skip(Exception):
    """Raised by a handler: this message can never be carried out as written (the text says why).

    The message is marked ``skipped`` with the reason and never tried again."""


class OutboxError(InvalidInput):
    """An outbox operation that is not allowed as asked (the message says why)."""


class MessageNotFound(NotFound):
    pass


@dataclass(frozen=True)
class Message:
    """One message as a handler sees it (a copy: the loop, not the handler, sets its status)."""

    id: int
    topic: str
    dedupe_key: str
    item_id: int | None
    account_id: int | None
    payload: dict[str, Any]
    attempt: int  # 1 on the first try
    created_at: dt.datetime


@dataclass(frozen=True)
class Done:
    """What a handler made of a message: how many things it created (for the pass's counts) and an
    optional note kept on the delivered message (e.g. "no media bytes were held")."""

    made: int = 0
    note: str | None = None


Handler = Callable[[Session, Message], Done]


@dataclass
class Consumed:
    """What one ``consume`` call did, by outcome; ``made`` sums the handlers' ``Done.made``."""

    delivered: int = 0
    skipped: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0  # claimed, then overtaken by another dispatcher after the lease ran out
    made: int = 0

    @property
    def handled(self) -> int:
        return self.delivered + self.skipped

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class MessageView:
    id: int
    topic: str
    dedupe_key: str
    item_id: int | None
    account_id: int | None
    status: str
    attempts: int
    next_attempt_at: dt.datetime | None
    created_at: dt.datetime | None
    last_error: str | None
    payload: dict[str, Any]


def _view(m: OutboxMessage) -> MessageView:
    return MessageView(
        m.id,
        m.topic,
        m.dedupe_key,
        m.item_id,
        m.account_id,
        m.status,
        m.attempts,
        aware(m.next_attempt_at),
        aware(m.created_at),
        m.last_error,
        dict(m.payload or {}),
    )


# --------------------------------------------------------------------------- enqueue
def _row(
    topic: str, payload: dict[str, Any], dedupe_key: str, item_id: int | None, account_id: int | None, now: dt.datetime
) -> dict[str, Any]:
    if topic not in TOPICS:
        raise OutboxError(f"unknown outbox topic {topic!r}; expected one of {', '.join(TOPICS)}")
    if not dedupe_key:
        raise OutboxError("an outbox message needs a dedupe key")
    return {
        "topic": topic,
        "dedupe_key": dedupe_key,
        "item_id": item_id,
        "account_id": account_id,
        "payload": payload,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


def enqueue(
    session: Session,
    topic: str,
    payload: dict[str, Any],
    dedupe_key: str,
    *,
    item_id: int | None = None,
    account_id: int | None = None,
) -> int | None:
    """Add a message in the caller's transaction; its id, or None when ``dedupe_key`` was there already.

    Nothing is delivered before the caller commits (and nothing at all if it rolls back)."""
    return insert_new(
        session, OutboxMessage.__table__, _row(topic, payload, dedupe_key, item_id, account_id, utcnow()), ["dedupe_key"]
    )


def enqueue_many(session: Session | Connection, messages: Sequence[dict[str, Any]]) -> None:
    """Add many messages (dicts with ``topic``, ``payload``, ``dedupe_key`` and optionally ``item_id``,
    ``account_id``) in one statement in the caller's transaction; existing dedupe keys are left alone."""
    if not messages:
        return
    now = utcnow()
    rows = [_row(m["topic"], m["payload"], m["dedupe_key"], m.get("item_id"), m.get("account_id"), now) for m in messages]
    insert_ignoring_conflicts(session, OutboxMessage.__table__, rows, ["dedupe_key"])


def existing_keys(session: Session, dedupe_keys: Sequence[str]) -> set[str]:
    """Which of these dedupe keys are in the outbox already (to count what an enqueue adds)."""
    if not dedupe_keys:
        return set()
    return set(session.scalars(select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(dedupe_keys)))))


def unfinished(session: Session, topic: str, item_id: int) -> int:
    """Messages of ``topic`` for ``item_id`` not carried out yet (pending, claimed or dead): what
    must wait for them waits while this is non-zero (a report waits for its evidence copy)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.topic == topic, OutboxMessage.item_id == item_id, OutboxMessage.status.in_(UNFINISHED))
        )
        or 0
    )


# --------------------------------------------------------------------------- the loop
def backoff_seconds(attempt: int, base_s: float, max_s: float) -> float:
    """Exponential backoff with jitter: base * 2^(attempt-1), capped, then a random 50-100 % of it
    (dispatchers that failed together do not retry together)."""
    full = min(max_s, base_s * (2 ** max(attempt - 1, 0)))
    return full / 2 + random.uniform(0, full / 2)


def _why(exc: BaseException) -> str:
    """What is kept of a failure: a database error's message can quote the row's data, so only its type."""
    if type(exc).__module__.split(".", 1)[0] in _DB_MODULES:
        return f"{type(exc).__name__} (database error)"
    return f"{type(exc).__name__}: {exc}"[:2000]


def _claim(topic: str, limit: int) -> list[tuple[int, int]]:
    """Lease up to ``limit`` due messages of ``topic``; returns (id, attempt) pairs in id order."""
    now = utcnow()
    lease = dt.timedelta(seconds=get_outbox_settings().lease_s)
    due = and_(
        OutboxMessage.topic == topic, OutboxMessage.status.in_(("pending", "claimed")), OutboxMessage.next_attempt_at <= now
    )
    pick = select(OutboxMessage.id).where(due).order_by(OutboxMessage.id).limit(limit)
    with session_scope() as session:
        if dialect_name(session) == "postgresql":
            ids = list(session.scalars(pick.with_for_update(skip_locked=True)))
            if not ids:
                return []
            target = OutboxMessage.id.in_(ids)
        else:
            target = OutboxMessage.id.in_(pick.scalar_subquery())
        rows = session.execute(
            update(OutboxMessage)
            .where(target, due)
            .values(status="claimed", attempts=OutboxMessage.attempts + 1, next_attempt_at=now + lease)
            .returning(OutboxMessage.id, OutboxMessage.attempts)
            .execution_options(synchronize_session=False)
        ).all()
    return sorted((int(r[0]), int(r[1])) for r in rows)


def _mine(message_id: int, attempt: int) -> Any:
    return and_(OutboxMessage.id == message_id, OutboxMessage.status == "claimed", OutboxMessage.attempts == attempt)


def _alert(topic: str, message_id: int, dedupe_key: str, attempts: int, why: str) -> None:
    DEAD_LETTERS.labels(topic).inc()
    log.error(
        "ALERT outbox message %s (%s, key %s) dead-lettered after %s attempt(s): %s; retry with 'suraksha outbox retry %s'",
        message_id,
        topic,
        dedupe_key,
        attempts,
        why,
        message_id,
    )


def _carry_out(handler: Handler, claimed: Sequence[tuple[int, int]]) -> list[Done | None]:
    """Claimed (id, attempt) messages in ONE transaction: a fenced 'delivered' for all of them (the
    first statement, so it takes the locks), then the handler for each that was still ours. An entry
    is None for a message that was not (overtaken). Any handler error rolls back them all."""
    out: list[Done | None] = []
    with session_scope() as session:
        taken = set(
            session.scalars(
                update(OutboxMessage)
                .where(
                    tuple_(OutboxMessage.id, OutboxMessage.attempts).in_([tuple(c) for c in claimed]),
                    OutboxMessage.status == "claimed",
                )
                .values(status="delivered", last_error=None)
                .returning(OutboxMessage.id)
                .execution_options(synchronize_session=False)
            )
        )
        rows = {m.id: m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.id.in_(taken)))} if taken else {}
        for message_id, attempt in claimed:
            m = rows.get(message_id)
            if m is None:
                out.append(None)
                continue
            done = handler(
                session,
                Message(
                    m.id,
                    m.topic,
                    m.dedupe_key,
                    m.item_id,
                    m.account_id,
                    dict(m.payload or {}),
                    attempt,
                    aware(m.created_at) or utcnow(),
                ),
            )
            if done.note:
                m.last_error = done.note[:2000]
            out.append(done)
    return out


def _failed(topic: str, message_id: int, attempt: int, exc: BaseException) -> str:
    """Record a failed try (fenced); returns the outcome: skipped, retrying, dead or lost."""
    settings = get_outbox_settings()
    why = str(exc)[:2000] if isinstance(exc, Skip) else _why(exc)
    with session_scope() as session:
        m = session.scalars(select(OutboxMessage).where(_mine(message_id, attempt))).one_or_none()
        if m is None:
            return "lost"
        m.last_error = why
        if isinstance(exc, Skip):
            m.status = "skipped"
            log.warning("outbox message %s (%s) skipped: %s", message_id, topic, why)
            return "skipped"
        if attempt >= settings.max_attempts:
            m.status = "dead"
            key = m.dedupe_key
        else:
            m.status = "pending"
            m.next_attempt_at = utcnow() + dt.timedelta(
                seconds=backoff_seconds(attempt, settings.backoff_base_s, settings.backoff_max_s)
            )
            return "retrying"
    _alert(topic, message_id, key, attempt, why)
    return "dead"


def _dead_on_claim(topic: str, message_id: int, attempt: int) -> bool:
    """A message claimed past the limit: its earlier tries never finished (the process handling it
    stopped each time). Dead-letter it instead of running it again."""
    why = f"claimed {attempt - 1} times without finishing (the process handling it stopped each time)"
    with session_scope() as session:
        m = session.scalars(select(OutboxMessage).where(_mine(message_id, attempt))).one_or_none()
        if m is None:
            return False
        m.status, m.attempts, m.last_error = "dead", attempt - 1, why
        key = m.dedupe_key
    _alert(topic, message_id, key, attempt - 1, why)
    return True


def _count(out: Consumed, topic: str, outcome: str, done: Done | None = None) -> None:
    setattr(out, outcome, getattr(out, outcome) + 1)
    if done is not None:
        out.made += done.made
    HANDLED.labels(topic, outcome).inc()


def consume(topic: str, handler: Handler, *, limit: int = 100, per_transaction: int = 1) -> Consumed:
    """Claim up to ``limit`` due messages of ``topic`` and carry each out with ``handler`` (see the
    module docstring); returns the counts. A failing message never stops the others.

    ``per_transaction`` > 1 carries that many messages out in one transaction (one commit instead of
    one each: 2-3x the messages per second for handlers that only write rows). When any of them
    fails, that transaction is rolled back and its messages are carried out one by one, so the
    failure is recorded on its own message only. Keep it 1 for a handler with slow or outside work.
    """
    if topic not in TOPICS:
        raise OutboxError(f"unknown outbox topic {topic!r}; expected one of {', '.join(TOPICS)}")
    out = Consumed()
    max_attempts = get_outbox_settings().max_attempts
    runnable: list[tuple[int, int]] = []
    for message_id, attempt in _claim(topic, limit):
        if attempt > max_attempts:
            if _dead_on_claim(topic, message_id, attempt):
                _count(out, topic, "dead")
        else:
            runnable.append((message_id, attempt))
    step = max(1, per_transaction)
    for start in range(0, len(runnable), step):
        group = runnable[start : start + step]
        if len(group) > 1:
            try:
                results = _carry_out(handler, group)
            except Exception:  # noqa: BLE001 - rolled back; one by one below finds and records the failure
                pass
            else:
                for done in results:
                    _count(out, topic, "lost" if done is None else "delivered", done)
                continue
        for message_id, attempt in group:
            try:
                [done] = _carry_out(handler, [(message_id, attempt)])
            except Exception as exc:  # noqa: BLE001 - recorded on the message, retried with backoff
                if not isinstance(exc, Skip):
                    log.exception("outbox message %s (%s) failed on attempt %s", message_id, topic, attempt)
                _count(out, topic, _failed(topic, message_id, attempt, exc))
            else:
                _count(out, topic, "lost" if done is None else "delivered", done)
    return out


# --------------------------------------------------------------------------- people's view
def list_messages(
    session: Session, *, status: str | None = None, topic: str | None = None, item_id: int | None = None, limit: int = 100
) -> list[MessageView]:
    """Messages, newest first (``suraksha outbox list``)."""
    if status is not None and status not in STATUSES:
        raise OutboxError(f"unknown status {status!r}; expected one of {', '.join(STATUSES)}")
    if topic is not None and topic not in TOPICS:
        raise OutboxError(f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
    stmt = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(max(1, min(limit, 10_000)))
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    if topic:
        stmt = stmt.where(OutboxMessage.topic == topic)
    if item_id is not None:
        stmt = stmt.where(OutboxMessage.item_id == item_id)
    return [_view(m) for m in session.scalars(stmt)]


def counts(session: Session) -> dict[str, dict[str, int]]:
    """Messages per topic and status (for the CLI and /metrics)."""
    out: dict[str, dict[str, int]] = {}
    for topic, status, n in session.execute(
        select(OutboxMessage.topic, OutboxMessage.status, func.count()).group_by(OutboxMessage.topic, OutboxMessage.status)
    ):
        out.setdefault(topic, {})[status] = n
    return out


def retry(session: Session, message_id: int) -> MessageView:
    """Make a dead (or skipped) message due again now, with a fresh attempt count; its last error is
    kept until it succeeds. In the caller's transaction (the CLI records the audit event in it)."""
    m = session.get(OutboxMessage, message_id)
    if m is None:
        raise MessageNotFound(f"outbox message {message_id} not found")
    if m.status not in ("dead", "skipped"):
        raise OutboxError(f"outbox message {message_id} is {m.status}; only dead or skipped messages can be retried")
    m.status, m.attempts, m.next_attempt_at = "pending", 0, utcnow()
    session.flush()
    return _view(m)
