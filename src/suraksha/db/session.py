"""Engine and unit-of-work session scope."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, exc, make_url
from sqlalchemy.orm import Session, sessionmaker

from suraksha.config import get_settings, make_private, tighten

_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None


def make_engine(url: str) -> Engine:
    """Create an engine with the settings each backend needs to be safe under concurrency."""
    if url.startswith("sqlite"):
        # hide_parameters: a failed statement's error (logged, shown in tracebacks) names the
        # statement but never its values, which are item text, account ids, IPs and media bytes.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=10, max_overflow=20, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


# A pooled connection that sat unused this long is pinged before it is handed out (a server restart
# or an idle timeout may have closed it). SQLAlchemy's ``pool_pre_ping`` pings on every checkout,
# which was one extra round trip per statement on the ingest and scan paths, where connections are
# checked out hundreds of times a second; a connection used a moment ago is trusted, and if it did
# die in that moment the statement fails, the pool is invalidated, and the caller's retry (workers,
# dispatcher) or the client's (HTTP 5xx) gets a fresh one. docs/decisions.md, "Scan CPU".
PING_AFTER_IDLE_SECONDS = 5.0


def _ping_when_idle(engine: Engine) -> None:
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):  # pragma: no cover - trivial
        record.info["idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        idle_from = record.info.get("idle_from")
        if idle_from is None or time.monotonic() - idle_from < PING_AFTER_IDLE_SECONDS:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception:  # noqa: BLE001 - any failure means: do not hand this one out
            alive = False
        if not alive:
            raise exc.DisconnectionError("pooled connection was closed while idle")  # the pool reconnects and retries


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for another database or an in-memory one."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:") or parsed.query.get("mode") == "memory":
        return None  # a URI filename: SQLite parses it; left alone
    return Path(parsed.database)


def prepare_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 before SQLite opens it (SQLite would create it 0644 under the
    usual umask, and it holds pending media); tighten an existing one and its journal files with a
    warning. SQLite gives the -wal and -shm files it creates the database file's mode."""
    path = sqlite_path(url)
    if path is None or not path.parent.is_dir():
        return  # nothing to do, or SQLite reports the missing folder itself
    make_private(path, folder=False)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(path.with_name(path.name + suffix))


def get_engine() -> Engine:
    global _engine, _sessionmaker
    if _engine is None:
        settings = get_settings()
        if settings.resolved_database_url.startswith("sqlite"):
            settings.ensure_home()
            prepare_sqlite_file(settings.resolved_database_url)
        _engine = make_engine(settings.resolved_database_url)
        _sessionmaker = sessionmaker(_engine, expire_on_commit=False)
    return _engine


def reset_engine() -> None:
    """Dispose of the engine (tests point the settings at a new database)."""
    global _engine, _sessionmaker
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _sessionmaker = None


@contextmanager
def session_scope() -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error, always close."""
    get_engine()
    assert _sessionmaker is not None
    session = _sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """The caller's unit of work when it passes one (nothing is committed here: the caller commits
    once for its whole operation), else a new one that commits when the block ends.

    Every public service function that writes takes ``session: Session | None = None`` and runs its
    body in ``with unit_of_work(session) as s:`` — so a cross-area operation (an order executed, a
    decision acted on) is one transaction, and a single call from an adapter still commits.
    """
    if session is not None:
        yield session
        return
    with session_scope() as own:
        yield own
