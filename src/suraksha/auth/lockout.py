"""Failed sign-in counting that holds under concurrency (staff users and portal officers).

An attempt is counted *before* its password is checked, by one conditional update that also
locks the account when the count reaches the limit::

    UPDATE t SET failed_logins = failed_logins + 1,
                 locked_until = CASE WHEN failed_logins + 1 >= :limit THEN :until ELSE locked_until END
    WHERE id = :id AND (locked_until IS NULL OR locked_until <= :now)
    RETURNING failed_logins, locked_until

No row back means the account is locked, and then no password is checked at all (argon2 is not
run). Of 30 wrong passwords sent at once with a limit of 5, exactly 5 pass this gate: the fifth
update sets ``locked_until`` and every later one finds the row locked (PostgreSQL re-evaluates
the condition after waiting for the row lock; SQLite runs writers one at a time). Counting before
checking (rather than after a failure, which let 30 concurrent checks run and lost increments) is
what bounds the checks. A successful sign-in clears the count in its own transaction; outcomes
that are not a guess at the secret (a deactivated officer's right password) give the count back.

After a lock-out expires the count stays at the limit, so the next failure locks again at once:
one guess per lock-out period, as before.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, or_, update
from sqlalchemy.orm import Session

from suraksha.db.session import session_scope


@dataclass(frozen=True)
class Attempt:
    """One counted attempt: the count including it, and the lock it set (None if it set none)."""

    row_id: int
    failures: int
    locked_until: dt.datetime | None


def begin_attempt(model: Any, row_id: int, *, now: dt.datetime, limit: int, lockout_minutes: int) -> Attempt | None:
    """Count an attempt on row ``row_id`` of ``model`` (a mapped class with ``id``,
    ``failed_logins`` and ``locked_until``) in its own committed transaction, so concurrent
    attempts see it before any password is checked. None: the account is locked; check nothing."""
    until = now + dt.timedelta(minutes=lockout_minutes)
    counted = model.failed_logins + 1
    stmt = (
        update(model)
        .where(model.id == row_id, or_(model.locked_until.is_(None), model.locked_until <= now))
        .values(failed_logins=counted, locked_until=case((counted >= limit, until), else_=model.locked_until))
        .returning(model.failed_logins)
        .execution_options(synchronize_session=False)
    )
    with session_scope() as session:
        failures = session.execute(stmt).scalar_one_or_none()
    if failures is None:
        return None
    return Attempt(row_id, failures, until if failures >= limit else None)


def clear(session: Session, model: Any, row_id: int, **values: Any) -> None:
    """A successful sign-in: the count and any lock are cleared (with ``values`` set too, e.g.
    ``last_login_at``), in the caller's transaction."""
    session.execute(
        update(model)
        .where(model.id == row_id)
        .values(failed_logins=0, locked_until=None, **values)
        .execution_options(synchronize_session=False)
    )


def give_back(session: Session, model: Any, attempt: Attempt) -> None:
    """Un-count an attempt that turned out not to be a guess (the right password on an account
    that cannot sign in for another reason), lifting the lock only if this attempt set it."""
    values: dict[str, Any] = {"failed_logins": model.failed_logins - 1}
    if attempt.locked_until is not None:
        values["locked_until"] = case((model.locked_until == attempt.locked_until, None), else_=model.locked_until)
    session.execute(
        update(model)
        .where(model.id == attempt.row_id, model.failed_logins > 0)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
