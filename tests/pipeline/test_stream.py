"""Stream intake against the real NATS JetStream (127.0.0.1:4222; skipped with the reason when it
is not reachable), on SQLite and PostgreSQL: items are stored once, acknowledged after commit,
redelivered when not acknowledged (and then answered with the stored item), bad messages
dead-lettered with the reason; findings-only storage keeps no row for a benign item."""

from __future__ import annotations

import asyncio
import json
import socket
import uuid

import pytest
from sqlalchemy import func, select

from suraksha.db import session_scope
from suraksha.items.models import Item, ItemCount
from suraksha.pipeline import ingest, stream
from suraksha.pipeline.models import ScanJob

from .conftest import CSAM_IMAGE, b64

NATS_URL = "nats://127.0.0.1:4222"


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=1):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _reachable(), reason="NATS JetStream is not reachable at 127.0.0.1:4222")


@pytest.fixture
def names():
    """A stream, subject, durable and dead-letter subject of this test only; deleted afterwards."""
    tag = uuid.uuid4().hex[:10]
    n = {"stream": f"T_ITEMS_{tag}", "subject": f"t.items.{tag}", "dlq": f"t.dead.{tag}", "durable": f"c_{tag}"}
    yield n

    async def drop():
        import nats

        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        for s in (n["stream"], f"T_DEAD_{tag}"):
            try:
                await js.delete_stream(s)
            except Exception:  # noqa: BLE001 - already gone
                pass
        await nc.close()

    asyncio.run(drop())


async def _publish(names, bodies, headers=None):
    import nats
    from nats.js.api import StreamConfig

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    await js.add_stream(StreamConfig(name=names["stream"], subjects=[names["subject"]]))
    await js.add_stream(StreamConfig(name=f"T_DEAD_{names['stream'][8:]}", subjects=[names["dlq"]]))
    for n, body in enumerate(bodies):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        await js.publish(names["subject"], data, headers=(headers or {}).get(n))
    await nc.close()


async def _dead_letters(names):
    import nats

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    sub = await js.pull_subscribe(names["dlq"], durable=None, stream=f"T_DEAD_{names['stream'][8:]}")
    try:
        msgs = await sub.fetch(10, timeout=2)
    except (nats.errors.TimeoutError, TimeoutError):
        msgs = []
    out = [(m.headers or {}) for m in msgs]
    await nc.close()
    return out


async def _consume(names, *, ack_wait=120.0, **kw):
    from suraksha.pipeline.stream_nats import NatsSource

    source = await NatsSource.connect(
        NATS_URL,
        stream=names["stream"],
        subject=names["subject"],
        durable=names["durable"],
        dead_letter_subject=names["dlq"],
        ack_wait=ack_wait,
    )
    try:
        return await stream.consume(source, batch=kw.pop("batch", 50), fetch_timeout=0.5, **kw)
    finally:
        await source.close()


async def _pending(names):
    import nats

    nc = await nats.connect(NATS_URL)
    info = await nc.jetstream().consumer_info(names["stream"], names["durable"])
    await nc.close()
    return info.num_pending, info.num_ack_pending


def _counts():
    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(Item)), s.scalar(select(func.count()).select_from(ScanJob))


def test_items_are_stored_once_and_bad_messages_dead_lettered_with_reason(scanner, names):
    good = [{"platform_id": f"post-{n}", "text": f"hello {n}", "account": {"id": "u1"}} for n in range(3)]
    bodies = [*good, b"{not json", {"platform_id": "", "text": "x"}, good[0]]  # the last repeats post-0
    asyncio.run(_publish(names, bodies))
    stats = asyncio.run(_consume(names, idle_exit=1.0))
    assert (stats.stored, stats.repeat, stats.dead) == (3, 1, 2)
    assert _counts() == (3, 3)  # three items, three scans queued; the repeat made neither
    reasons = [h.get(stream.REASON_HEADER, "") for h in asyncio.run(_dead_letters(names))]
    assert len(reasons) == 2
    assert any(r.startswith("not JSON") for r in reasons)
    assert any("platform_id" in r for r in reasons)
    assert asyncio.run(_pending(names)) == (0, 0)  # everything acknowledged


def test_a_message_not_acknowledged_is_redelivered_and_answered_with_the_stored_item(scanner, names, monkeypatch):
    asyncio.run(_publish(names, [{"platform_id": "once", "text": "hello"}]))
    real_ack = None

    async def crash_before_ack(self, messages):  # the process "dies" after the commit, before the ack
        return None

    from suraksha.pipeline.stream_nats import NatsSource

    real_ack = NatsSource.ack
    monkeypatch.setattr(NatsSource, "ack", crash_before_ack)
    first = asyncio.run(_consume(names, ack_wait=1.0, max_messages=1))
    assert first.stored == 1 and _counts() == (1, 1)
    monkeypatch.setattr(NatsSource, "ack", real_ack)
    again = asyncio.run(_consume(names, ack_wait=1.0, idle_exit=3.0))
    assert again.repeat == 1 and again.stored == 0  # redelivered, same message id: the same item
    assert _counts() == (1, 1)
    assert asyncio.run(_pending(names)) == (0, 0)


def test_a_database_failure_redelivers_instead_of_losing_or_dead_lettering(scanner, names, monkeypatch):
    from sqlalchemy.exc import OperationalError

    asyncio.run(_publish(names, [{"platform_id": "later", "text": "hello"}]))
    real = ingest.submit_items
    calls = {"n": 0}

    def flaky(payloads, session=None):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("INSERT", {}, Exception("database is down"))
        return real(payloads, session=session)

    monkeypatch.setattr(ingest, "submit_items", flaky)
    stats = asyncio.run(_consume(names, idle_exit=4.0, retry_delay=0.5))
    assert stats.retried == 1 and stats.stored == 1 and stats.dead == 0
    assert _counts() == (1, 1)


def test_findings_only_keeps_no_row_for_a_benign_item_and_stores_a_finding(scanner, names, monkeypatch):
    bodies = [
        {"platform_id": "benign-1", "text": "a walk in the park"},
        {"platform_id": "benign-2", "kind": "message", "text": "see you"},
        {"platform_id": "known", "media": [{"data_base64": b64(CSAM_IMAGE)}], "account": {"id": "u9"}},
    ]
    asyncio.run(_publish(names, bodies))
    stats = asyncio.run(_consume(names, idle_exit=1.0, findings_only=True, scanner=scanner))
    assert (stats.counted, stats.stored) == (2, 1)
    with session_scope() as s:
        assert [i.platform_id for i in s.scalars(select(Item))] == ["known"]
        counts = {(c.platform, c.kind): c.benign for c in s.scalars(select(ItemCount))}
    assert counts == {("default", "post"): 1, ("default", "message"): 1}
