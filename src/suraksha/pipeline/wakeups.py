"""Wake-ups: tell workers there is new work, and waiters that an item was scanned, without polling.

Inside one process these are plain ``threading`` events (in-process ingest wakes in-process
workers; in-process workers wake ``?wait=true`` requests). Across processes, on PostgreSQL, the
same events are set by ``LISTEN``: ingest's statement sends ``NOTIFY suraksha_new_work`` and the
finishing transaction sends ``NOTIFY suraksha_scanned, '<item ids>'``, both delivered at commit
(never for a rolled-back transaction). One listener thread per channel per process holds its own
connection and turns notifications into the events.

Polling stays as the fallback, never the main path: on SQLite (no cross-process notifications)
waiters poll every few milliseconds as before; on PostgreSQL they re-check every
``FALLBACK_POLL_SECONDS`` in case a notification was missed while the listener reconnected.
Measured effect: docs/benchmarks.md (ingest) and docs/decisions.md ("Pipeline: LISTEN/NOTIFY").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Engine

log = logging.getLogger(__name__)

NEW_WORK = "suraksha_new_work"
SCANNED = "suraksha_scanned"
FALLBACK_POLL_SECONDS = 0.5  # PostgreSQL with a live listener: a missed notification costs at most this
LOCAL_POLL_SECONDS = 0.005  # no listener (SQLite): how often a waiter looks again

_new_work = threading.Event()
_finished = threading.Condition()
_watch_lock = threading.Lock()
_watchers: dict[int, list[threading.Event]] = {}


# ---------------------------------------------------------------- new work
def new_work() -> None:
    """Wake this process's idle workers now (other processes get ingest's NOTIFY)."""
    _new_work.set()


def wait_for_work(timeout: float) -> None:
    """Sleep until new work is announced or `timeout` seconds pass."""
    if _new_work.wait(timeout):
        _new_work.clear()


# ---------------------------------------------------------------- scanned items
def scanned(item_ids: Iterable[int]) -> None:
    """Wake whoever waits for these items (and anyone waiting for any scan)."""
    with _watch_lock:
        for item_id in item_ids:
            for event in _watchers.get(item_id, ()):
                event.set()
    with _finished:
        _finished.notify_all()


def wait_for_any_scan(timeout: float) -> None:
    """Block until some item is scanned (here, or elsewhere when listening), or `timeout` seconds."""
    with _finished:
        _finished.wait(timeout)


@contextmanager
def watching(item_id: int) -> Iterator[threading.Event]:
    """An event set when `item_id` is scanned. Register BEFORE checking the item's status, so a
    scan that finishes between the check and the wait is not missed."""
    event = threading.Event()
    with _watch_lock:
        _watchers.setdefault(item_id, []).append(event)
    try:
        yield event
    finally:
        with _watch_lock:
            events = _watchers.get(item_id, [])
            if event in events:
                events.remove(event)
            if not events:
                _watchers.pop(item_id, None)


def _on_scanned(payload: str) -> None:
    if not payload:  # (re)connected: what was scanned meanwhile is unknown, so every waiter looks again
        with _watch_lock:
            payload = ",".join(str(item_id) for item_id in _watchers)
    scanned(int(part) for part in payload.split(",") if part.strip().isdigit())


def _on_new_work(_payload: str) -> None:
    _new_work.set()


# ---------------------------------------------------------------- PostgreSQL LISTEN
class _Listener(threading.Thread):
    """Holds one connection that LISTENs on `channel` and calls `handler(payload)` per notification."""

    def __init__(self, engine: Engine, channel: str, handler) -> None:
        super().__init__(daemon=True, name=f"listen-{channel}")
        self.engine = engine
        self.channel = channel
        self.handler = handler
        self.stopping = threading.Event()
        self.live = threading.Event()  # LISTEN is active right now

    def run(self) -> None:
        backoff = 0.2
        pool = self.engine.pool
        while not self.stopping.is_set():
            conn = None
            try:
                raw = self.engine.raw_connection()
                conn = raw.driver_connection
                raw.detach()  # ours for good: not returned to the pool
                conn.autocommit = True
                conn.execute(f"LISTEN {self.channel}")
                self.live.set()
                backoff = 0.2
                self.handler("")  # anything sent while we were not listening: look once
                while not self.stopping.is_set():
                    for note in conn.notifies(timeout=1.0):
                        self.handler(note.payload)
            except Exception as exc:  # noqa: BLE001 - database away: waiters poll meanwhile
                if self.engine.pool is not pool:  # the engine was disposed (reset_engine): nobody listens here any more
                    self.stopping.set()
                if not self.stopping.is_set():
                    log.warning("LISTEN %s lost (%s); waiters poll until it is back", self.channel, exc)
            finally:
                self.live.clear()
                if conn is not None:
                    try:
                        conn.close()
                    except Exception:  # noqa: BLE001
                        pass
            self.stopping.wait(backoff)
            backoff = min(5.0, backoff * 2)


_listeners: dict[str, _Listener] = {}
_listeners_lock = threading.Lock()
_HANDLERS = {NEW_WORK: _on_new_work, SCANNED: _on_scanned}


def listen(channel: str, engine: Engine, first_wait: float = 1.0) -> bool:
    """Make sure this process listens on `channel` (PostgreSQL only); True when the listener is live.

    The call that starts the listener waits up to `first_wait` seconds for the LISTEN to be in place. A listener made for another
    engine (tests point the settings at a new database) is stopped and replaced.
    """
    if engine.dialect.name != "postgresql":
        return False
    with _listeners_lock:
        current = _listeners.get(channel)
        if current is not None and current.engine is not engine:
            current.stopping.set()
            current = None
        started = current is None or not current.is_alive()
        if started:
            current = _Listener(engine, channel, _HANDLERS[channel])
            _listeners[channel] = current
            current.start()
    return current.live.wait(first_wait) if started else current.live.is_set()


def stop_listening() -> None:
    """Stop every listener of this process (tests, shutdown)."""
    with _listeners_lock:
        for listener in _listeners.values():
            listener.stopping.set()
        _listeners.clear()
