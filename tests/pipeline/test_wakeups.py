"""Wake-ups across processes (PostgreSQL LISTEN/NOTIFY): ingest announces new work, recording a
scan announces the item, both only once committed; a listener turns them into the events that
idle workers and ``?wait=true`` requests sleep on. On SQLite there is nothing to listen to."""

from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import exc, text

from suraksha.db import get_engine
from suraksha.pipeline import ingest, queue, wakeups
from suraksha.pipeline.ingest import submit_item
from suraksha.pipeline.schemas import ItemIn

from .conftest import CSAM_IMAGE, b64


@pytest.fixture
def pg_listener(db_url):
    """A connection of our own, LISTENing like another process would."""
    if not db_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL only")
    conn = psycopg.connect(db_url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
    conn.execute(f"LISTEN {wakeups.NEW_WORK}")
    conn.execute(f"LISTEN {wakeups.SCANNED}")
    yield conn
    conn.close()
    wakeups.stop_listening()


def received(conn: psycopg.Connection) -> list[tuple[str, str]]:
    return [(n.channel, n.payload) for n in conn.notifies(timeout=1.0)]


def test_ingest_and_recording_announce_themselves_to_other_processes(pg_listener, scanner):
    item, _ = submit_item(ItemIn(platform_id="p1", account={"id": "a1"}, media=[{"data_base64": b64(CSAM_IMAGE)}]))
    assert (wakeups.NEW_WORK, "") in received(pg_listener)
    [job] = queue.claim_jobs("w", 8, 60)
    queue.finish_jobs("w", [(job.id, scanner.scan(job.item_id))])
    assert (wakeups.SCANNED, str(item.id)) in received(pg_listener)


def test_a_lost_lease_or_failed_ingest_announces_nothing(pg_listener, scanner, monkeypatch):
    item, _ = submit_item(ItemIn(platform_id="p1", text="hello"))
    [job] = queue.claim_jobs("w", 8, 60)
    received(pg_listener)
    assert queue.finish_jobs("someone-else", [(job.id, scanner.scan(item.id))]) == []
    assert received(pg_listener) == []
    monkeypatch.setattr(ingest, "_insert_job", text("INSERT INTO scan_jobs (item_id) VALUES (NULL)"))
    with pytest.raises(exc.DBAPIError):
        submit_item(ItemIn(platform_id="p2", text="never stored"))
    assert received(pg_listener) == []  # rolled back: nobody is woken for work that is not there


def test_listener_wakes_waiters_and_workers_of_this_process(pg_listener):
    assert wakeups.listen(wakeups.SCANNED, get_engine()) and wakeups.listen(wakeups.NEW_WORK, get_engine())
    wakeups._new_work.clear()
    with wakeups.watching(41) as scanned_41, wakeups.watching(42) as scanned_42:
        pg_listener.execute("SELECT pg_notify(%s, '40,42')", (wakeups.SCANNED,))  # as a worker elsewhere does
        assert scanned_42.wait(5)
        assert not scanned_41.is_set()
    pg_listener.execute("SELECT pg_notify(%s, '')", (wakeups.NEW_WORK,))
    assert wakeups._new_work.wait(5)


def test_sqlite_has_no_listener(db_url):
    if db_url.startswith("postgresql"):
        pytest.skip("SQLite only")
    assert wakeups.listen(wakeups.SCANNED, get_engine()) is False
