"""Stream intake: items in the ``POST /v1/items`` shape, read from a durable stream.

The contract every source keeps (NATS JetStream is ``stream_nats.NatsSource``; a Kafka source is
one more module implementing ``Source``):

- ``fetch(batch, timeout)`` returns up to ``batch`` messages, each a ``Message`` with a stable
  ``id`` (the same on every redelivery: JetStream's ``Nats-Msg-Id`` header or ``<stream>:<seq>``;
  Kafka's ``<topic>:<partition>:<offset>``), its ``data`` (one JSON item) and ``deliveries``.
- A message is acknowledged (``ack``) only after its item is durably accepted: committed in the
  database (or, with findings-only storage, scanned benign and counted in a committed transaction).
  A crash before the ack redelivers it; the message id is the item's ``idempotency_key`` (unless
  the item carries its own), so a redelivery answers with the stored item and creates nothing.
- A message that can never be accepted (not JSON, not a valid item, over a limit, a repeat with a
  different body) goes to the dead-letter subject with the reason (``dead_letter``: published
  durably, then the original acknowledged). A failure of ours (database down) is ``retry``: not
  acknowledged, redelivered after ``delay`` seconds, never dead-lettered.
- Order is not promised across messages; each is handled exactly once in effect.

``handle_batch`` is the source-independent part (synchronous: it talks to the database);
``consume`` is the loop around a source.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import ValidationError

from suraksha.pipeline import ingest
from suraksha.pipeline.schemas import ItemIn

log = logging.getLogger(__name__)

#: Header a publisher sets to name its message (JetStream dedupes on it too); also our key.
MESSAGE_ID_HEADER = "Nats-Msg-Id"
#: Headers on a dead-lettered message.
REASON_HEADER = "Suraksha-Reason"
ORIGIN_HEADER = "Suraksha-Origin"


class Message(Protocol):
    """One message of a source."""

    @property
    def id(self) -> str: ...  # stable across redeliveries

    @property
    def data(self) -> bytes: ...

    @property
    def deliveries(self) -> int: ...  # 1 on the first delivery


class Source(Protocol):
    """A durable stream of items (see the module docstring for the contract)."""

    async def fetch(self, batch: int, timeout: float) -> list[Any]: ...

    async def ack(self, messages: list[Any]) -> None: ...

    async def retry(self, messages: list[Any], delay: float) -> None: ...

    async def dead_letter(self, message: Any, reason: str) -> None: ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """What became of one message: ``stored`` (new item), ``repeat`` (answered with a stored item),
    ``counted`` (benign, findings-only: no item row), ``dead`` (dead-lettered with ``reason``)."""

    kind: str
    item_id: int | None = None
    reason: str | None = None


@dataclass
class Stats:
    messages: int = 0
    stored: int = 0
    repeat: int = 0
    counted: int = 0
    dead: int = 0
    retried: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcomes: list[Outcome]) -> None:
        self.batches += 1
        for o in outcomes:
            self.messages += 1
            setattr(self, o.kind, getattr(self, o.kind) + 1)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "errors"} | {"last_errors": self.errors[-5:]}


def _reason(exc: ValidationError) -> str:
    """Pydantic's errors as one line: ``field: message; ...`` (no input values echoed)."""
    parts = []
    for e in exc.errors(include_url=False, include_input=False)[:5]:
        where = ".".join(str(x) for x in e.get("loc", ())) or "item"
        parts.append(f"{where}: {e.get('msg')}")
    return "invalid item: " + "; ".join(parts)


def parse(message: Any, max_bytes: int) -> ItemIn | str:
    """The message's item, with the message id as its idempotency key when it has none; or the
    reason it can never be one."""
    data = message.data
    if len(data) > max_bytes:
        return f"message is {len(data)} bytes, over the {max_bytes}-byte limit"
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"not JSON: {exc.__class__.__name__} at position {getattr(exc, 'pos', getattr(exc, 'start', '?'))}"
    if not isinstance(doc, dict):
        return "not a JSON object (an item in the POST /v1/items shape)"
    if doc.get("idempotency_key") is None:
        doc["idempotency_key"] = str(message.id)[:200]
    try:
        return ItemIn.model_validate(doc)
    except ValidationError as exc:
        return _reason(exc)


def handle_batch(
    messages: list[Any],
    *,
    max_bytes: int,
    findings_only: bool = False,
    scanner: Any = None,
) -> list[Outcome]:
    """Accept one fetched batch: one ``Outcome`` per message, in order (synchronous: database work).

    Valid items are stored together in one transaction (``ingest.submit_items``). With
    ``findings_only`` each item is scanned here first: a benign one is only counted (one
    ``item_counts`` upsert for the batch) and stored nowhere; the others are stored in full and
    queued as any item (the worker records their scan). Raises for failures of ours (database
    down): then no message of the batch is acknowledged, and all come again.
    """
    out: list[Outcome | None] = [None] * len(messages)
    items: list[tuple[int, ItemIn]] = []
    for n, message in enumerate(messages):
        parsed = parse(message, max_bytes)
        if isinstance(parsed, str):
            out[n] = Outcome("dead", reason=parsed)
        else:
            items.append((n, parsed))
    if findings_only and items:
        from suraksha.pipeline import scan

        keep: list[tuple[int, ItemIn]] = []
        benign: list[tuple[int, ItemIn]] = []
        for n, payload in items:
            try:
                prep = ingest.prepare(payload)
            except ingest.IngestError as exc:
                out[n] = Outcome("dead", reason=str(exc))
                continue
            result = (scanner or scan.get_scanner()).scan_unstored(prep)
            if scan.is_benign(result, getattr(payload.context, "source", None)):
                benign.append((n, payload))
            else:
                keep.append((n, payload))
        if benign:
            scan.count_benign([(p.platform, p.kind) for _, p in benign], day=dt.datetime.now(dt.UTC).date())
            for n, _ in benign:
                out[n] = Outcome("counted")
        items = keep
    if items:
        results = ingest.submit_items([p for _, p in items])
        for (n, _), r in zip(items, results):
            if isinstance(r, Exception):
                out[n] = Outcome("dead", reason=str(r))
            else:
                item, created = r
                out[n] = Outcome("stored" if created else "repeat", item_id=item.id)
    return [o for o in out if o is not None]


async def consume(
    source: Source,
    *,
    batch: int = 100,
    fetch_timeout: float = 1.0,
    retry_delay: float = 5.0,
    max_messages: int | None = None,
    idle_exit: float | None = None,
    stop: asyncio.Event | None = None,
    findings_only: bool = False,
    max_bytes: int | None = None,
    scanner: Any = None,
    on_batch: Callable[[list[Outcome]], None] | None = None,
) -> Stats:
    """Read, accept and acknowledge batches until ``stop`` is set, ``max_messages`` were handled, or
    nothing came for ``idle_exit`` seconds. Returns what became of the messages."""
    from suraksha.config import get_settings

    limit = max_bytes or (get_settings().max_media_bytes * 4 // 3 + 1_000_000)
    stats = Stats()
    idle_since = asyncio.get_running_loop().time()
    while not (stop is not None and stop.is_set()):
        if max_messages is not None and stats.messages >= max_messages:
            break
        want = batch if max_messages is None else max(1, min(batch, max_messages - stats.messages))
        messages = await source.fetch(want, fetch_timeout)
        if not messages:
            if idle_exit is not None and asyncio.get_running_loop().time() - idle_since >= idle_exit:
                break
            continue
        idle_since = asyncio.get_running_loop().time()
        try:
            outcomes = await asyncio.to_thread(
                handle_batch, messages, max_bytes=limit, findings_only=findings_only, scanner=scanner
            )
        except Exception as exc:  # noqa: BLE001 - ours (database down, a bug): redeliver, never dead-letter
            stats.retried += len(messages)
            stats.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
            log.warning(
                "stream batch of %d not accepted (%s); redelivery in %.0f s", len(messages), type(exc).__name__, retry_delay
            )
            await source.retry(messages, retry_delay)
            continue
        for message, outcome in zip(messages, outcomes):
            if outcome.kind == "dead":
                await source.dead_letter(message, outcome.reason or "refused")
        await source.ack(messages)  # every one now: stored, counted, or its dead letter stored
        stats.add(outcomes)
        if on_batch is not None:
            on_batch(outcomes)
    return stats
