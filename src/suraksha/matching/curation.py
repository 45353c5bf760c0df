"""Bank curation by staff: the audited changes and the read side the bank pages need.

``banks.py`` holds the bank operations themselves (shared with the CLI, the API and exchanges);
this module adds what a person doing them owes the record: who did it, why (a removal needs a
reason), and what it was (the removed entry's type and value are kept in the audit event, since
the row itself is deleted). Each change is booked after it committed, in its own transaction, so
the log never claims a change that did not happen.

Read side: a page of a bank's entries with a total (search by value prefix or entry id, filter by
signal type) and an exchange's status (which exchange, when it last fetched, how many entries).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from suraksha.audit.log import Actor, record
from suraksha.db import session_scope, unit_of_work
from suraksha.errors import InvalidInput, NotFound
from suraksha.matching import banks
from suraksha.matching.formats import read_rows, write_entries
from suraksha.matching.models import Bank, BankEntry, ExchangeCheckpoint
from suraksha.signals.types import find_signal_type, signal_type_names

MAX_PAGE_SIZE = 500
MAX_REASON = 500
MAX_QUERY = 300


@dataclass(frozen=True)
class EntryRow:
    id: int
    signal_type: str
    signal: str
    metadata: dict[str, Any]
    enabled: bool
    created_at: dt.datetime


@dataclass(frozen=True)
class EntryPage:
    entries: list[EntryRow]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class ExchangeStatus:
    exchange: str
    fetched_at: dt.datetime | None
    entries_fetched: int
    config_keys: list[str]


def _audit(actor: Actor | str, action: str, bank: str, details: dict[str, Any]) -> None:
    with session_scope() as s:
        record(s, actor, action, "bank", bank, details)


def _bank_id(session: Session, name: str) -> int:
    bank_id = session.scalar(select(Bank.id).where(Bank.name == name))
    if bank_id is None:
        raise banks.BankNotFound(name)
    return int(bank_id)


def _entry_filter(stmt: Select[Any], bank_id: int, query: str | None, signal_type: str | None) -> Select[Any]:
    stmt = stmt.where(BankEntry.bank_id == bank_id)
    if signal_type:
        if find_signal_type(signal_type) is None:
            raise InvalidInput(f"unknown signal type {signal_type!r} (one of {', '.join(signal_type_names())})")
        stmt = stmt.where(BankEntry.signal_type == signal_type)
    if query:
        q = query.strip()
        if len(q) > MAX_QUERY:
            raise InvalidInput(f"search text is too long (at most {MAX_QUERY} characters)")
        escaped = q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        cond = BankEntry.signal.like(escaped + "%", escape="\\")
        if q.isdigit() and len(q) < 19:
            stmt = stmt.where(or_(cond, BankEntry.id == int(q)))
        else:
            stmt = stmt.where(cond)
    return stmt


def entry_page(
    bank_name: str,
    *,
    query: str | None = None,
    signal_type: str | None = None,
    limit: int = 50,
    offset: int = 0,
    session: Session | None = None,
) -> EntryPage:
    """A page of a bank's entries (newest first, disabled ones included) and how many match.

    ``query`` matches the start of a signal's value (hashes are stored lower-case) or an entry id."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page size must be from 1 to {MAX_PAGE_SIZE}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")
    with unit_of_work(session) as s:
        bank_id = _bank_id(s, bank_name)
        total = s.scalar(_entry_filter(select(func.count()).select_from(BankEntry), bank_id, query, signal_type)) or 0
        rows = s.scalars(
            _entry_filter(select(BankEntry), bank_id, query, signal_type)
            .order_by(BankEntry.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return EntryPage(
            entries=[EntryRow(e.id, e.signal_type, e.signal, dict(e.extra or {}), e.enabled, e.created_at) for e in rows],
            total=int(total),
            limit=limit,
            offset=offset,
        )


def exchange_status(bank_name: str, *, session: Session | None = None) -> ExchangeStatus | None:
    """The exchange a bank is fed from and its last fetch; None for a bank no exchange feeds."""
    with unit_of_work(session) as s:
        bank_id = _bank_id(s, bank_name)
        cp = s.scalar(select(ExchangeCheckpoint).where(ExchangeCheckpoint.bank_id == bank_id))
        if cp is None:
            return None
        return ExchangeStatus(cp.exchange, cp.fetched_at, cp.entries_fetched, sorted((cp.config or {}).keys()))


def create(
    actor: Actor | str,
    name: str,
    label: str,
    *,
    negative: bool = False,
    pdq_threshold: int = 31,
    match_transforms: bool = True,
    description: str = "",
) -> banks.BankInfo:
    info = banks.create_bank(
        name, label, negative=negative, pdq_threshold=pdq_threshold, match_transforms=match_transforms, description=description
    )
    _audit(
        actor,
        "bank.create",
        name,
        {"label": label, "negative": negative, "pdq_threshold": pdq_threshold, "match_transforms": match_transforms},
    )
    return info


def configure(
    actor: Actor | str,
    name: str,
    *,
    enabled: bool | None = None,
    pdq_threshold: int | None = None,
    match_transforms: bool | None = None,
    description: str | None = None,
) -> banks.BankInfo:
    """Change a bank's settings; the audit event holds each changed setting's old and new value."""
    before = banks.get_bank(name)
    after = banks.update_bank(
        name, enabled=enabled, pdq_threshold=pdq_threshold, match_transforms=match_transforms, description=description
    )
    changed = {
        field: {"from": getattr(before, field), "to": getattr(after, field)}
        for field in ("enabled", "pdq_threshold", "match_transforms", "description")
        if getattr(before, field) != getattr(after, field)
    }
    if changed:
        _audit(actor, "bank.configure", name, {"changed": changed})
    return after


def add_hash(actor: Actor | str, bank_name: str, signal_type: str, value: str, note: str = "") -> banks.AddResult:
    """Add one signal typed in by a person (validated and canonicalised by its signal type)."""
    meta = {"note": note.strip()[:MAX_REASON]} if note.strip() else {}
    result = banks.add_signals(bank_name, [banks.SignalRow(signal_type, value, meta)])
    _audit(
        actor,
        "bank.entry.add",
        bank_name,
        {"signal_type": signal_type, "entry_ids": result.entry_ids, "duplicates": result.duplicates, "via": "hash"},
    )
    return result


def add_file(actor: Actor | str, bank_name: str, data: bytes, *, mime: str | None = None, note: str = "") -> banks.AddResult:
    """Hash one media file and add its signals (the file itself is not kept)."""
    meta = {"note": note.strip()[:MAX_REASON]} if note.strip() else {}
    result = banks.add_content(bank_name, data, meta, mime=mime)
    _audit(
        actor,
        "bank.entry.add",
        bank_name,
        {"entry_ids": result.entry_ids, "duplicates": result.duplicates, "skipped": result.skipped, "via": "file"},
    )
    return result


def remove(actor: Actor | str, bank_name: str, entry_id: int, reason: str) -> EntryRow:
    """Remove one entry for a stated reason; the audit event keeps what it was."""
    why = reason.strip()
    if not why:
        raise InvalidInput("say why the entry is removed (e.g. 'false positive: a stock photo')")
    if len(why) > MAX_REASON:
        raise InvalidInput(f"the reason is too long (at most {MAX_REASON} characters)")
    with session_scope() as s:
        bank_id = _bank_id(s, bank_name)
        e = s.get(BankEntry, entry_id)
        if e is None or e.bank_id != bank_id:
            raise NotFound(f"bank {bank_name!r} has no entry {entry_id}")
        gone = EntryRow(e.id, e.signal_type, e.signal, dict(e.extra or {}), e.enabled, e.created_at)
    banks.remove_entry(bank_name, entry_id)
    _audit(
        actor,
        "bank.entry.remove",
        bank_name,
        {"entry_id": entry_id, "signal_type": gone.signal_type, "signal": gone.signal, "reason": why},
    )
    return gone


def import_text(actor: Actor | str, bank_name: str, text: str, fmt: str, *, filename: str = "") -> banks.AddResult:
    """Import a bank file (CSV or threatexchange text); a bad row anywhere stores nothing."""
    result = banks.import_rows(bank_name, read_rows(io.StringIO(text), fmt))
    _audit(
        actor,
        "bank.import",
        bank_name,
        {"format": fmt, "file": filename[:200], "added": result.added, "duplicates": result.duplicates},
    )
    return result


def export_text(actor: Actor | str, bank_name: str, fmt: str) -> tuple[str, dict[str, int]]:
    """The bank's enabled entries as a file; booked as ``bank.export`` before it is handed out."""
    info = banks.get_bank(bank_name)
    out = io.StringIO()
    counts = write_entries(banks.iter_entries(bank_name), out, fmt, label=info.label)
    _audit(actor, "bank.export", bank_name, {"format": fmt, **counts})
    return out.getvalue(), counts
