"""HMA's view of Suraksha's banks: *content* (the signals of one photo or video, or one set of
hashes, under one id), bank deletion and renaming, and the index's build state.

HMA (OpenMediaMatch) banks *content*: one id for all the signals of one upload, returned by every
lookup that hits any of them. Suraksha banks *entries* (one signal each). Content added through the
HMA routes is a group of entries: the first entry's id is the content id, every entry of the group
records it under ``metadata["content"]``, and the content's own entry lists the group under
``metadata["content_entries"]``. An entry added any other way is content of one signal, its own id.
Nothing here changes how matching works: the matcher still matches entries; lookups on the HMA
routes map each matched entry to its content id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, delete, func, literal, select
from sqlalchemy.orm import Session

from suraksha.db import unit_of_work
from suraksha.errors import Conflict, NotFound
from suraksha.matching.banks import (
    BANK_NAME,
    CONTENT_TYPE,
    BankError,
    BankExists,
    BankNotFound,
    SignalRow,
    _bank,
    _insert_entries,
    _log_change,
    normalize_rows,
)
from suraksha.matching.models import Bank, BankEntry, ExchangeCheckpoint, MatchingChange
from suraksha.signals.types import find_signal_type

#: Metadata keys of a content group (see the module docstring).
CONTENT = "content"
CONTENT_ENTRIES = "content_entries"
#: HMA's magic values of ``disable_until_ts``.
DISABLED, ENABLED = 0, 1


@dataclass(frozen=True)
class ContentView:
    id: int
    bank: str
    bank_enabled: bool
    enabled: bool
    #: threatexchange signal type name (``pdq``, ``video_md5``...) -> value
    signals: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None


def te_name(entry: BankEntry) -> str:
    st = find_signal_type(entry.signal_type)
    content = (entry.extra or {}).get(CONTENT_TYPE)
    name = st.te_name_for(content if isinstance(content, str) else None) if st is not None else None
    return name or entry.signal_type


def add_content(bank_name: str, rows: Sequence[SignalRow], *, session: Session | None = None) -> tuple[int, dict[str, str]]:
    """Add the signals of one piece of content as one group; returns the content id and the
    signals stored (threatexchange names). A signal the bank already holds keeps its own content;
    when every signal was there already, the id is the content of the first one."""
    if not rows:
        raise BankError("No signals given")
    clean = normalize_rows(rows)
    with unit_of_work(session) as s:
        bank = _bank(s, bank_name)
        result = _insert_entries(s, bank, clean)
        new = s.scalars(select(BankEntry).where(BankEntry.id.in_(result.entry_ids)).order_by(BankEntry.id)).all()
        if new:
            content_id = new[0].id
            for e in new:
                extra = dict(e.extra or {})
                extra[CONTENT] = content_id
                if e.id == content_id:
                    extra[CONTENT_ENTRIES] = [x.id for x in new]
                e.extra = extra
        else:
            first = clean[0]
            existing = s.scalar(
                select(BankEntry).where(
                    BankEntry.bank_id == bank.id, BankEntry.signal_type == first.signal_type, BankEntry.signal == first.signal
                )
            )
            assert existing is not None  # a duplicate of a row in the bank
            content_id = int((existing.extra or {}).get(CONTENT, existing.id))
        s.flush()
        signals: dict[str, str] = {}
        for row in clean:
            st = find_signal_type(row.signal_type)
            content = row.metadata.get(CONTENT_TYPE)
            name = st.te_name_for(content if isinstance(content, str) else None) if st is not None else None
            signals[name or row.signal_type] = row.signal
        return content_id, signals


def content_ids(entry_ids: Iterable[int], *, session: Session | None = None) -> dict[int, int]:
    """Matched entry id -> the id of the content it belongs to."""
    ids = sorted(set(entry_ids))
    if not ids:
        return {}
    with unit_of_work(session) as s:
        rows = s.execute(select(BankEntry.id, BankEntry.extra).where(BankEntry.id.in_(ids))).all()
    out = {i: i for i in ids}
    for entry_id, extra in rows:
        group = (extra or {}).get(CONTENT)
        if isinstance(group, int):
            out[entry_id] = group
    return out


def _group(s: Session, bank: Bank, content_id: int) -> list[BankEntry]:
    head = s.get(BankEntry, content_id)
    if head is None or head.bank_id != bank.id or (head.extra or {}).get(CONTENT, head.id) != head.id:
        raise NotFound(f"content '{content_id}' not found")
    ids = (head.extra or {}).get(CONTENT_ENTRIES) or [head.id]
    entries = s.scalars(select(BankEntry).where(BankEntry.id.in_(ids), BankEntry.bank_id == bank.id)).all()
    return [e for e in entries if (e.extra or {}).get(CONTENT, e.id) == head.id]


def get_content(bank_name: str, content_id: int, *, session: Session | None = None) -> ContentView:
    with unit_of_work(session) as s:
        bank = _bank(s, bank_name)
        group = _group(s, bank, content_id)
        head = next(e for e in group if e.id == content_id)
        meta = {k: v for k, v in (head.extra or {}).items() if k not in (CONTENT, CONTENT_ENTRIES, CONTENT_TYPE, "quality")}
        return ContentView(
            id=content_id,
            bank=bank.name,
            bank_enabled=bank.enabled,
            enabled=any(e.enabled for e in group),
            signals={te_name(e): e.signal for e in sorted(group, key=lambda e: e.id)},
            metadata=meta,
            created_at=head.created_at,
        )


def set_content_enabled(bank_name: str, content_id: int, enabled: bool, *, session: Session | None = None) -> None:
    """Stop matching the content (its rows stay) or match it again; matchers follow in < 1 s."""
    with unit_of_work(session) as s:
        for e in _group(s, _bank(s, bank_name), content_id):
            if e.enabled != enabled:
                e.enabled = enabled
                _log_change(s, e, "add" if enabled else "remove")


def remove_content(bank_name: str, content_id: int, *, session: Session | None = None) -> int:
    """Delete every entry of the content; returns how many were deleted (0: no such content)."""
    with unit_of_work(session) as s:
        bank = _bank(s, bank_name)
        try:
            group = _group(s, bank, content_id)
        except NotFound:
            return 0
        for e in group:
            if e.enabled:
                _log_change(s, e, "remove")
            s.delete(e)
        return len(group)


def delete_bank(bank_name: str, *, session: Session | None = None) -> int:
    """Delete a bank and all its entries; matchers drop them on their next refresh. Returns the
    number of entries deleted."""
    with unit_of_work(session) as s:
        bank = _bank(s, bank_name)
        enabled = select(BankEntry.id, BankEntry.bank_id, BankEntry.signal_type, BankEntry.signal, literal("remove")).where(
            BankEntry.bank_id == bank.id, BankEntry.enabled.is_(True)
        )
        s.execute(
            cast(Table, MatchingChange.__table__)
            .insert()
            .from_select(["entry_id", "bank_id", "signal_type", "signal", "op"], enabled)
        )
        n = s.scalar(select(func.count()).select_from(BankEntry).where(BankEntry.bank_id == bank.id)) or 0
        s.execute(delete(BankEntry).where(BankEntry.bank_id == bank.id))
        s.execute(delete(ExchangeCheckpoint).where(ExchangeCheckpoint.bank_id == bank.id))
        s.delete(bank)
        return int(n)


def rename_bank(bank_name: str, new_name: str, *, session: Session | None = None) -> None:
    """Rename a bank. Matches name the bank at lookup time, so the new name shows within a second."""
    if not isinstance(new_name, str) or not BANK_NAME.match(new_name):
        raise BankError(f"bank name must be 1-100 letters, digits, '_', '.' or '-'; got {str(new_name)[:100]!r}")
    with unit_of_work(session) as s:
        bank = _bank(s, bank_name)
        if new_name == bank.name:
            return
        if s.scalar(select(Bank.id).where(Bank.name == new_name)) is not None:
            raise BankExists(f"a bank named {new_name!r} already exists")
        bank.name = new_name


@dataclass(frozen=True)
class IndexState:
    """One signal type in the database and in this process's index."""

    db_size: int
    newest_db_item: int  # unix seconds of the newest change to an entry of this type (0: none)
    built_to: int  # unix seconds of the newest change the index has applied (-1: none)


def index_state(signal_type: str, change_floor: int, *, session: Session | None = None) -> IndexState:
    """The database side of HMA's index status: entries of ``signal_type`` that match, the time of
    the newest change to them, and the time of the newest change at or below ``change_floor``
    (the change-log position every change up to which the matcher has applied)."""
    with unit_of_work(session) as s:
        db_size = s.scalar(
            select(func.count())
            .select_from(BankEntry)
            .join(Bank, Bank.id == BankEntry.bank_id)
            .where(BankEntry.signal_type == signal_type, BankEntry.enabled.is_(True))
        )
        newest = s.scalar(select(func.max(MatchingChange.created_at)).where(MatchingChange.signal_type == signal_type))
        built = s.scalar(
            select(func.max(MatchingChange.created_at)).where(
                MatchingChange.signal_type == signal_type, MatchingChange.seq <= change_floor
            )
        )
    return IndexState(
        db_size=int(db_size or 0),
        newest_db_item=int(newest.timestamp()) if newest else 0,
        built_to=int(built.timestamp()) if built else -1,
    )


def exchange_links(*, session: Session | None = None) -> dict[str, ExchangeLink]:
    """Bank name -> its exchange link, for every bank linked to an exchange."""
    with unit_of_work(session) as s:
        rows = s.execute(select(Bank, ExchangeCheckpoint).join(ExchangeCheckpoint, ExchangeCheckpoint.bank_id == Bank.id)).all()
        return {
            b.name: ExchangeLink(
                bank=b.name,
                api=x.exchange,
                enabled=b.enabled,
                config=dict(x.config or {}),
                checkpoint=dict(x.checkpoint or {}),
                fetched_at=x.fetched_at,
                entries_fetched=x.entries_fetched,
            )
            for b, x in rows
        }


@dataclass(frozen=True)
class ExchangeLink:
    bank: str
    api: str
    enabled: bool
    config: dict[str, Any]
    checkpoint: dict[str, Any]
    fetched_at: dt.datetime | None
    entries_fetched: int


__all__ = [
    "BankNotFound",
    "Conflict",
    "ContentView",
    "ExchangeLink",
    "IndexState",
    "add_content",
    "content_ids",
    "delete_bank",
    "exchange_links",
    "get_content",
    "index_state",
    "remove_content",
    "rename_bank",
    "set_content_enabled",
]
