"""Bank service: create and configure banks, add and remove their entries.

Every entry change is written together with a row in ``matching_changes`` (same transaction),
which every matcher process tails; that is how a new hash matches within a second everywhere
without rebuilding an index.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suraksha.db import session_scope
from suraksha.errors import Conflict, InvalidInput, NotFound
from suraksha.matching.models import Bank, BankEntry, MatchingChange
from suraksha.signals import media_signals
from suraksha.signals.errors import MediaError
from suraksha.signals.pdq import HASHABLE_QUALITY
from suraksha.signals.types import IndexKind, find_signal_type, signal_type_names, signal_types

BANK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
LABEL = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_PDQ_THRESHOLD = 63
INSERT_BATCH = 5000
#: Entry metadata saying which content a signal was taken from: ``photo`` or ``video`` (HMA's
#: content type names). Bank files use it to name a picture's MD5 as a picture's, not a video's.
CONTENT_TYPE = "content_type"
#: Media kind (``MediaSignals.kind``) -> content type.
CONTENT_TYPES = {"image": "photo", "video": "video"}


class BankError(InvalidInput):
    """Invalid bank operation (bad name, duplicate, bad threshold, bad signal)."""


class BankExists(Conflict, BankError):
    """The bank name is taken (409)."""


class BankNotFound(NotFound):
    def __init__(self, name: str) -> None:
        super().__init__(f"no bank named {name!r}")


@dataclass(frozen=True)
class BankInfo:
    id: int
    name: str
    label: str
    negative: bool
    enabled: bool
    pdq_threshold: int
    match_transforms: bool
    source: str
    description: str
    entries: int = 0

    @classmethod
    def of(cls, bank: Bank, entries: int = 0) -> BankInfo:
        return cls(
            id=bank.id,
            name=bank.name,
            label=bank.label,
            negative=bank.negative,
            enabled=bank.enabled,
            pdq_threshold=bank.pdq_threshold,
            match_transforms=bank.match_transforms,
            source=bank.source,
            description=bank.description,
            entries=entries,
        )


@dataclass(frozen=True)
class SignalRow:
    """One raw signal to add: its type, its value and free-form metadata."""

    signal_type: str
    signal: str
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass
class AddResult:
    added: int = 0
    duplicates: int = 0
    entry_ids: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # e.g. "pdq: quality 12 < 50"


def _validate_threshold(threshold: int) -> int:
    if not isinstance(threshold, int) or isinstance(threshold, bool) or not 0 <= threshold <= MAX_PDQ_THRESHOLD:
        raise BankError(f"PDQ threshold must be an integer from 0 to {MAX_PDQ_THRESHOLD}, got {threshold!r}")
    return threshold


def _validate_label(label: str) -> str:
    if not isinstance(label, str) or not LABEL.match(label):
        raise BankError(f"label must be lowercase letters, digits and '_' (e.g. csam, ncii, csam_url), got {label!r}")
    return label


def _bank(session: Session, name: str) -> Bank:
    bank = session.scalar(select(Bank).where(Bank.name == name))
    if bank is None:
        raise BankNotFound(name)
    return bank


def create_bank(
    name: str,
    label: str,
    *,
    negative: bool = False,
    pdq_threshold: int = 31,
    match_transforms: bool = True,
    source: str = "local",
    description: str = "",
) -> BankInfo:
    if not isinstance(name, str) or not BANK_NAME.match(name):
        raise BankError(
            f"bank name must be 1-100 letters, digits, '_', '.' or '-', starting with a letter or digit; got {name!r}"
        )
    _validate_label(label)
    _validate_threshold(pdq_threshold)
    with session_scope() as session:
        if session.scalar(select(Bank.id).where(Bank.name == name)) is not None:
            raise BankExists(f"a bank named {name!r} already exists")
        bank = Bank(
            name=name,
            label=label,
            negative=negative,
            enabled=True,
            pdq_threshold=pdq_threshold,
            match_transforms=match_transforms,
            source=source,
            description=description,
        )
        session.add(bank)
        session.flush()
        return BankInfo.of(bank)


def list_banks() -> list[BankInfo]:
    with session_scope() as session:
        counts = dict(
            session.execute(
                select(BankEntry.bank_id, func.count()).where(BankEntry.enabled.is_(True)).group_by(BankEntry.bank_id)
            ).all()
        )
        banks = session.scalars(select(Bank).order_by(Bank.name)).all()
        return [BankInfo.of(b, counts.get(b.id, 0)) for b in banks]


def get_bank(name: str) -> BankInfo:
    with session_scope() as session:
        bank = _bank(session, name)
        n = session.scalar(
            select(func.count()).select_from(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.enabled.is_(True))
        )
        return BankInfo.of(bank, n or 0)


def update_bank(
    name: str,
    *,
    enabled: bool | None = None,
    pdq_threshold: int | None = None,
    match_transforms: bool | None = None,
    label: str | None = None,
    description: str | None = None,
) -> BankInfo:
    """Change a bank's settings. Matchers re-read bank settings on every refresh (< 1 s)."""
    with session_scope() as session:
        bank = _bank(session, name)
        if enabled is not None:
            bank.enabled = enabled
        if pdq_threshold is not None:
            bank.pdq_threshold = _validate_threshold(pdq_threshold)
        if match_transforms is not None:
            bank.match_transforms = match_transforms
        if label is not None:
            bank.label = _validate_label(label)
        if description is not None:
            bank.description = description
        session.flush()
    return get_bank(name)


def normalize_rows(rows: Iterable[SignalRow], start: int = 1) -> list[SignalRow]:
    """Validate and canonicalise every row first, so a bad row stores nothing (all or nothing)."""
    out: list[SignalRow] = []
    for n, row in enumerate(rows, start=start):
        st = find_signal_type(row.signal_type)
        if st is None:
            raise BankError(
                f"row {n}: unknown signal type {row.signal_type!r} (expected one of {', '.join(signal_type_names())})"
            )
        try:
            value = st.normalize(row.signal)
        except ValueError as exc:
            raise BankError(f"row {n}: {exc}") from None
        out.append(SignalRow(row.signal_type, value, dict(row.metadata or {})))
    return out


def _insert_entries(session: Session, bank: Bank, rows: Sequence[SignalRow]) -> AddResult:
    """Insert rows that are not yet in the bank and log each insert for the matchers."""
    result = AddResult()
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    seen: set[tuple[str, str]] = set()
    unique_rows = []
    for row in rows:
        key = (row.signal_type, row.signal)
        if key in seen:
            result.duplicates += 1
            continue
        seen.add(key)
        unique_rows.append(row)
    for start in range(0, len(unique_rows), INSERT_BATCH):
        batch = unique_rows[start : start + INSERT_BATCH]
        stmt = (
            insert(BankEntry)
            .values(
                [
                    {"bank_id": bank.id, "signal_type": r.signal_type, "signal": r.signal, "extra": r.metadata, "enabled": True}
                    for r in batch
                ]
            )
            .on_conflict_do_nothing(index_elements=["bank_id", "signal_type", "signal"])
            .returning(BankEntry.id, BankEntry.signal_type, BankEntry.signal)
        )
        inserted = session.execute(stmt).all()
        result.added += len(inserted)
        result.duplicates += len(batch) - len(inserted)
        result.entry_ids.extend(r.id for r in inserted)
        if inserted:
            session.execute(
                cast(Table, MatchingChange.__table__).insert(),
                [
                    {"entry_id": r.id, "bank_id": bank.id, "signal_type": r.signal_type, "signal": r.signal, "op": "add"}
                    for r in inserted
                ],
            )
    return result


def add_signals(bank_name: str, rows: Iterable[SignalRow]) -> AddResult:
    """Add raw signals (hashes, URLs, domains...) to a bank. Rows already present count as duplicates."""
    clean = normalize_rows(rows)
    with session_scope() as session:
        bank = _bank(session, bank_name)
        return _insert_entries(session, bank, clean)


def content_rows(
    data: bytes, metadata: dict[str, Any] | None = None, *, mime: str | None = None
) -> tuple[list[SignalRow], list[str]]:
    """The bank rows for one piece of media: every registered type's signal in it (``from_media``:
    its cryptographic hashes and its perceptual hash), each recording the content type.

    An image whose PDQ quality is below 50 gets no PDQ row (too featureless to match safely);
    that is reported back, not an error.
    """
    try:
        ms = media_signals(data, mime)
    except MediaError:
        raise  # a MediaError is bad input already, typed by what is wrong (413, 415, corrupt)
    meta = dict(metadata or {})
    meta.setdefault(CONTENT_TYPE, CONTENT_TYPES.get(ms.kind, ms.kind))
    rows = []
    for st in signal_types():
        variants = st.from_media(ms)
        if not variants:
            continue
        # the original only: rotations and mirrors are looked up, never banked; a perceptual hash
        # keeps the picture's quality beside it
        quality = {"quality": ms.pdq.quality} if st.index_kind is IndexKind.PDQ and ms.pdq is not None else {}
        rows.append(SignalRow(st.name, variants[0][1], {**meta, **quality}))
    skipped: list[str] = []
    if ms.pdq is not None and not ms.pdq.hashable:
        skipped.append(f"pdq: quality {ms.pdq.quality} < {HASHABLE_QUALITY}, not hashable")
    return rows, skipped


def add_content(bank_name: str, data: bytes, metadata: dict[str, Any] | None = None, *, mime: str | None = None) -> AddResult:
    """Hash a media file and add all its signals to the bank."""
    rows, skipped = content_rows(data, metadata, mime=mime)
    result = add_signals(bank_name, rows)
    result.skipped.extend(skipped)
    return result


def _log_change(session: Session, entry: BankEntry, op: str) -> None:
    session.add(
        MatchingChange(entry_id=entry.id, bank_id=entry.bank_id, signal_type=entry.signal_type, signal=entry.signal, op=op)
    )


def remove_entry(bank_name: str, entry_id: int) -> None:
    """Delete an entry; matchers stop matching it on their next refresh."""
    with session_scope() as session:
        bank = _bank(session, bank_name)
        entry = session.get(BankEntry, entry_id)
        if entry is None or entry.bank_id != bank.id:
            raise NotFound(f"bank {bank_name!r} has no entry {entry_id}")
        if entry.enabled:
            _log_change(session, entry, "remove")
        session.delete(entry)


def set_entry_enabled(bank_name: str, entry_id: int, enabled: bool) -> None:
    """Disable (stop matching, keep the row) or re-enable an entry."""
    with session_scope() as session:
        bank = _bank(session, bank_name)
        entry = session.get(BankEntry, entry_id)
        if entry is None or entry.bank_id != bank.id:
            raise NotFound(f"bank {bank_name!r} has no entry {entry_id}")
        if entry.enabled != enabled:
            entry.enabled = enabled
            _log_change(session, entry, "add" if enabled else "remove")


@dataclass(frozen=True)
class EntryView:
    id: int
    bank: str
    signal_type: str
    signal: str
    metadata: dict[str, Any]
    enabled: bool


def iter_entries(bank_name: str, *, include_disabled: bool = False, batch: int = 10000) -> Iterable[EntryView]:
    """Stream a bank's entries in id order (exports of millions of rows stay in constant memory)."""
    last = 0
    while True:
        with session_scope() as session:
            bank = _bank(session, bank_name)
            q = select(BankEntry).where(BankEntry.bank_id == bank.id, BankEntry.id > last)
            if not include_disabled:
                q = q.where(BankEntry.enabled.is_(True))
            rows = session.scalars(q.order_by(BankEntry.id).limit(batch)).all()
            views = [EntryView(e.id, bank.name, e.signal_type, e.signal, dict(e.extra or {}), e.enabled) for e in rows]
        if not views:
            return
        yield from views
        last = views[-1].id


def import_rows(bank_name: str, rows: Iterable[SignalRow], *, progress: Any = None) -> AddResult:
    """Import many rows in one transaction: a bad row anywhere stores nothing.

    Rows are normalised and inserted batch by batch inside the one transaction, so memory stays
    bounded for files of millions of rows.
    """
    total = AddResult()
    with session_scope() as session:
        bank = _bank(session, bank_name)
        batch: list[SignalRow] = []
        seen = 0

        def flush() -> None:
            res = _insert_entries(session, bank, normalize_rows(batch, start=seen - len(batch) + 1))
            total.added += res.added
            total.duplicates += res.duplicates
            if progress:
                progress(total)

        for row in rows:
            seen += 1
            batch.append(row)
            if len(batch) >= INSERT_BATCH * 4:
                flush()
                batch = []
        if batch:
            flush()
    return total
