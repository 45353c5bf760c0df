"""What may reach a log: never item content, media bytes or personal data.

Two ways content reached the logs, and what stops each:

- A failed database statement. SQLAlchemy's error carries the statement's parameters (the item's
  text, account id, IP and picture bytes); the engine is built with ``hide_parameters=True``
  (``db.session``). PostgreSQL's own message can still quote the data (``DETAIL``/``CONTEXT:
  JSON data, line 1: {"note": ...``, ``invalid input syntax for type integer: "..."``), so
  ``install()`` puts a log record factory in place that replaces any database error in a record
  (its traceback, or an exception passed as an argument) with ``describe_exception``: the
  exception types, the SQLSTATE and the frames, never the message.
- An unexpected error while answering a request: the API logs it with ``describe_exception``
  only, whatever the exception (``api.errors``), and answers 500 itself so the server never
  prints the traceback either.

The access log keeps method, path and status; ``AccessQueryRedaction`` drops query strings
(``/m/lookup?signal=<text>``, ``?url=<media url>``).
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Iterator
from typing import Any

DB_MODULES = frozenset({"sqlalchemy", "psycopg", "psycopg2", "psycopg_pool", "sqlite3", "asyncpg"})

_lock = threading.Lock()
_installed = False


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """The exception, then its cause or context, and so on (each once)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def is_database_error(exc: BaseException) -> bool:
    """Whether the exception, or one it was raised from, comes from the database layer."""
    return any(type(e).__module__.split(".", 1)[0] in DB_MODULES for e in _chain(exc))


def _sqlstate(exc: BaseException) -> str | None:
    for e in _chain(exc):
        for holder in (e, getattr(e, "orig", None)):
            code = getattr(holder, "sqlstate", None) or getattr(holder, "pgcode", None)
            if isinstance(code, str) and code:
                return code
    return None


def describe_exception(exc: BaseException, *, frames: bool = True) -> str:
    """``DataError <- psycopg.DataError [SQLSTATE 22P05]``, the failed statement (placeholders, no
    values) and, with ``frames``, where it was raised (file, line, function, code line):
    everything needed to find the bug, nothing of the data it failed on (no message, no
    parameters, no local variables)."""
    names = [f"{type(e).__module__}.{type(e).__qualname__}".removeprefix("builtins.") for e in _chain(exc)]
    text = " <- ".join(names)
    state = _sqlstate(exc)
    if state:
        text += f" [SQLSTATE {state}]"
    statement = next((e.statement for e in _chain(exc) if isinstance(getattr(e, "statement", None), str)), None)
    if statement:  # our SQL, with placeholders: the values are never in it (all bound as parameters)
        text += "\nstatement: " + " ".join(statement.split())[:500]
    if frames and exc.__traceback__ is not None:
        stack = traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), capture_locals=False)
        text += "\nTraceback (messages withheld: they may quote stored data):\n" + "".join(stack.format()).rstrip()
    return text


def _redact_record(record: logging.LogRecord) -> None:
    exc_info = record.exc_info
    if exc_info and isinstance(exc_info, tuple) and exc_info[1] is not None and is_database_error(exc_info[1]):
        record.exc_text = describe_exception(exc_info[1])
        record.exc_info = None
    args = record.args
    if isinstance(args, tuple) and any(isinstance(a, BaseException) and is_database_error(a) for a in args):
        record.args = tuple(
            describe_exception(a, frames=False) if isinstance(a, BaseException) and is_database_error(a) else a for a in args
        )


def install() -> None:
    """Make every log record of this process safe from database error messages (idempotent).

    A record factory, not a handler filter: it holds for every logger and handler, including the
    ones a server configures after us (uvicorn replaces its handlers when it starts).
    """
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        logging.getLogger("uvicorn.access").addFilter(AccessQueryRedaction())
        _installed = True


class AccessQueryRedaction(logging.Filter):
    """Uvicorn's access line without the query string (``GET /m/lookup?… 200``): lookups carry
    text signals and media URLs there."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], args[2].split("?", 1)[0] + "?…", *args[3:])
        return True


def configure_cli_logging(level: int = logging.INFO) -> None:
    """The logging a long-running command (``suraksha worker``, ``dispatch``) sets up: one line per
    record on stderr, database errors redacted (``install``)."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install()
