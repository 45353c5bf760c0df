"""Authenticator codes (TOTP) for staff users and portal officers: seeds sealed at rest, each code
accepted once.

Seeds are stored sealed (AES-256-GCM) with the master key of the evidence vault
(``suraksha.db.keyring``), bound to their table and row, so a copy of the database (a backup, a
read-only SQL injection) does not hand out second factors. Only sign-in and enrolment open them.

Single use holds under concurrency: a code is accepted only by a conditional update that moves
the account's ``totp_last_step`` forward (``... WHERE totp_last_step IS NULL OR totp_last_step <
:step``); of any number of requests carrying the same code at the same moment exactly one updates
the row (PostgreSQL re-checks the condition after the row lock; SQLite runs writers one at a time).
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from typing import Any

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from suraksha.db.keyring import (
    EvidenceKeyError,
    SealedValueError,
    is_sealed,
    load_keyring,
    open_field,
    seal_field,
    sealed_key_id,
)
from suraksha.errors import InvalidInput

log = logging.getLogger(__name__)
CODE = re.compile(r"^\d{6}$")


class TotpSealError(InvalidInput):
    """A seed cannot be sealed (no master key configured); the message says what to set."""


def new_secret() -> str:
    """A fresh base32 seed (160 bits) for an authenticator app."""
    return pyotp.random_base32()


def _binding(table: str, row_id: int) -> str:
    return f"{table}.totp_secret/{row_id}"


def seal_secret(table: str, row_id: int, secret: str) -> str:
    """The stored form of ``secret`` for row ``row_id`` of ``table`` (sealed with the current key)."""
    try:
        return seal_field(secret, _binding(table, row_id))
    except EvidenceKeyError as exc:
        raise TotpSealError(f"cannot store the authenticator secret: {exc}") from None


def open_secret(table: str, row_id: int, stored: str | None) -> str | None:
    """The seed of a row, or None when it has none or it does not open (altered, moved, unsealed,
    or its key is not configured); the failure is logged without the value, and the caller
    treats the account as having no valid second factor (the sign-in fails, closed)."""
    if not stored:
        return None
    try:
        return open_field(stored, _binding(table, row_id))
    except (SealedValueError, EvidenceKeyError) as exc:
        hint = "" if is_sealed(stored) else " (a plain seed: run `suraksha db upgrade` to seal it)"
        log.error("TOTP secret of %s %s cannot be used: %s%s", table, row_id, exc, hint)
        return None


def needs_reseal(stored: str | None) -> bool:
    """Whether a sealed seed is under a key other than the current one (after a key rotation)."""
    if not is_sealed(stored):
        return False
    try:
        return sealed_key_id(stored) != load_keyring().current_id  # type: ignore[arg-type]
    except (SealedValueError, EvidenceKeyError):
        return False


def matching_step(secret: str | None, code: str | None, *, now: float | None = None) -> int | None:
    """The 30 s step whose code ``code`` is (the current one or a neighbour, for clock drift), or
    None. Pure: nothing is marked used here; ``claim_step`` does that."""
    code = (code or "").strip().replace(" ", "")
    if not secret or not CODE.match(code):
        return None
    totp = pyotp.TOTP(secret)
    now = time.time() if now is None else now
    found = None
    for offset in (-1, 0, 1):  # every candidate is compared, so timing does not say which matched
        step = int(now // totp.interval) + offset
        if secrets.compare_digest(totp.at(step * totp.interval), code) and found is None:
            found = step
    return found


def claim_step(session: Session, model: Any, row_id: int, step: int) -> bool:
    """Mark ``step`` used for the row, atomically: True for exactly one caller per step, False
    when this step or a later one was already accepted (a replayed or concurrent code).

    ``model`` is a mapped class with ``id`` and ``totp_last_step`` (``StaffUser``, ``Officer``).
    Runs in the caller's transaction, which must commit before the code counts as used; on
    SQLite make it the transaction's first write, so the row is read under the write lock."""
    result = session.execute(
        update(model)
        .where(model.id == row_id, or_(model.totp_last_step.is_(None), model.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1
