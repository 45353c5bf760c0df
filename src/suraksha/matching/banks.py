"""Bank service: create and configure banks, add and remove their entries.

Every entry change is written together with a row in ``matching_changes`` (same transaction),
which every matcher process tails; that is how a new hash matches within a second everywhere
without rebuilding an index.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from suraksha.db import session_scope, unit_of_work
from suraksha.db.base import utcnow
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
BULK_MIN = 1000  # rows from which an insert stages them in bulk (COPY / INSERT ... SELECT)
IMPORT_CACHE_KIB = 256 * 1024  # SQLite page cache while a bulk insert runs (see _Stage._insert_sqlite)
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
    """Insert rows that are not yet in the bank and log each insert for the matchers.

    Sets of ``BULK_MIN`` rows or more (exchange fetches) take the bulk path of ``import_rows``."""
    if len(rows) >= BULK_MIN:
        bulk = AddResult()
        stage = _Stage(session, bank.id)
        size = _import_batch()
        try:
            for start in range(0, len(rows), size):
                part = rows[start : start + size]
                stage.insert([(r.signal_type, r.signal, stage.meta_json(r.metadata)) for r in part], bulk, keep_ids=True)
        finally:
            stage.close()
        return bulk
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


class LineCounter:
    """A text stream's lines, counted as a reader pulls them: an import that reads its rows through
    this names the file line of a bad row (the line where that row ended)."""

    def __init__(self, stream: Iterable[str]) -> None:
        self._lines = iter(stream)
        self.line = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        text = next(self._lines)
        self.line += 1
        return text


#: Rows per bulk statement of an import (COPY on PostgreSQL, one staged INSERT ... SELECT on SQLite).
def _import_batch() -> int:
    return INSERT_BATCH * 4


def import_rows(
    bank_name: str,
    rows: Iterable[SignalRow],
    *,
    progress: Callable[[AddResult], None] | None = None,
    lines: LineCounter | None = None,
    session: Session | None = None,
) -> AddResult:
    """Import many rows in one transaction: a bad row anywhere stores nothing.

    Bulk path (issue 15): rows are validated batch by batch, staged in a temporary table (COPY on
    PostgreSQL, ``executemany`` on SQLite) and moved into ``bank_entries`` by one
    ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` per batch, which writes the change-log rows
    for exactly the entries it inserted. Memory stays bounded for files of millions of rows.
    ``lines`` (the counter the rows were read through) makes errors name the file line as well.
    With ``session`` the caller's transaction is used and not committed.
    """
    total = AddResult()
    with unit_of_work(session) as s:
        bank = _bank(s, bank_name)
        stage = _Stage(s, bank.id)
        try:
            _import_into(stage, rows, total, progress, lines)
        finally:
            stage.close()
    return total


def _import_into(
    stage: _Stage,
    rows: Iterable[SignalRow],
    total: AddResult,
    progress: Callable[[AddResult], None] | None,
    lines: LineCounter | None,
) -> None:
    batch: list[tuple[str, str, str]] = []
    normalizers: dict[str, Callable[[str], str]] = {}
    size = _import_batch()
    for n, row in enumerate(rows, start=1):
        fn = normalizers.get(row.signal_type)
        if fn is None:
            st = find_signal_type(row.signal_type)
            if st is None:
                raise BankError(
                    f"{_where(n, lines)}: unknown signal type {row.signal_type!r} "
                    f"(expected one of {', '.join(signal_type_names())})"
                )
            fn = normalizers[row.signal_type] = st.normalize
        try:
            value = fn(row.signal)
        except ValueError as exc:
            raise BankError(f"{_where(n, lines)}: {exc}") from None
        batch.append((row.signal_type, value, stage.meta_json(row.metadata)))
        if len(batch) >= size:
            stage.insert(batch, total)
            batch = []
            if progress:
                progress(total)
    if batch:
        stage.insert(batch, total)
        if progress:
            progress(total)


def _meta_json(meta: dict[str, Any] | None) -> str:
    return json.dumps(meta, separators=(",", ":")) if meta else "{}"


def _where(n: int, lines: LineCounter | None) -> str:
    return f"line {lines.line} (row {n})" if lines is not None else f"row {n}"


class _Stage:
    """Moves validated rows into one bank in bulk, inside the caller's transaction."""

    def __init__(self, session: Session, bank_id: int) -> None:
        self.session = session
        self.bank_id = bank_id
        self.dialect = session.get_bind().dialect.name
        self.created = False
        self.now = utcnow()
        self.cache_was: int | None = None
        self._meta: dict[Any, str] = {}

    def close(self) -> None:
        """Give the connection back as it was (SQLite page cache size)."""
        if self.cache_was is not None:
            was, self.cache_was = self.cache_was, None
            try:
                self._raw().execute(f"PRAGMA cache_size={was}")
            except Exception:  # a broken connection: the pool discards it; keep the import's own error
                pass

    def meta_json(self, meta: dict[str, Any] | None) -> str:
        """Metadata as JSON text; the few distinct small dicts of a list (its label) are encoded once."""
        if not meta:
            return "{}"
        try:
            key = tuple(meta.items())
            text = self._meta.get(key)
        except TypeError:  # unhashable values (lists, dicts): encode each time
            return _meta_json(meta)
        if text is None:
            text = _meta_json(meta)
            if len(self._meta) < 1000:
                self._meta[key] = text
        return text

    def _raw(self) -> Any:
        # the DBAPI connection of the session's transaction (COPY and executemany need it)
        return self.session.connection().connection.driver_connection

    def insert(self, batch: Sequence[tuple[str, str, str]], total: AddResult, *, keep_ids: bool = False) -> None:
        """Add the batch's (signal type, signal, metadata JSON) rows not yet in the bank; count
        them (and, with ``keep_ids``, list their new entry ids) in ``total``."""
        if self.dialect == "postgresql":
            ids = self._insert_postgresql(batch)
        else:
            ids = self._insert_sqlite(batch)
        total.added += len(ids)
        total.duplicates += len(batch) - len(ids)
        if keep_ids:
            total.entry_ids.extend(ids)

    def _insert_postgresql(self, batch: Sequence[tuple[str, str, str]]) -> list[int]:
        conn = self._raw()
        with conn.cursor() as cur:
            if not self.created:
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS suraksha_import_stage"
                    " (ord bigint, signal_type text, signal text, metadata text) ON COMMIT DROP"
                )
                self.created = True
            cur.execute("TRUNCATE suraksha_import_stage")  # also rows of an earlier import in this transaction
            with cur.copy("COPY suraksha_import_stage (ord, signal_type, signal, metadata) FROM STDIN") as copy:
                for i, (st, value, meta) in enumerate(batch):
                    copy.write_row((i, st, value, meta))
            # one statement: the entries not yet in the bank, and a change-log row for each
            cur.execute(
                "WITH ins AS ("
                " INSERT INTO bank_entries (bank_id, signal_type, signal, metadata, enabled, created_at)"
                " SELECT %(bank)s, signal_type, signal, metadata::jsonb, true, %(now)s"
                " FROM suraksha_import_stage ORDER BY signal_type, signal"
                " ON CONFLICT (bank_id, signal_type, signal) DO NOTHING"
                " RETURNING id, signal_type, signal)"
                " INSERT INTO matching_changes (entry_id, bank_id, signal_type, signal, op, created_at)"
                " SELECT id, %(bank)s, signal_type, signal, 'add', %(now)s FROM ins ORDER BY id"
                " RETURNING entry_id",
                {"bank": self.bank_id, "now": self.now},
            )
            return [r[0] for r in cur.fetchall()]

    def _insert_sqlite(self, batch: Sequence[tuple[str, str, str]]) -> list[int]:
        conn = self._raw()
        if self.cache_was is None:
            # SQLite's default page cache (2 MiB) made every insert into the unique index a page
            # miss once the bank outgrew it: 39 -> 10 us per row (200k rows) with 256 MiB and rows
            # inserted in index order (ORDER BY below). Restored by close().
            self.cache_was = int(conn.execute("PRAGMA cache_size").fetchone()[0])
            conn.execute(f"PRAGMA cache_size={IMPORT_CACHE_KIB * -1}")
        # the same text SQLAlchemy's DateTime writes on SQLite, so the rows read back identically
        now = self.now.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
        cur = conn.cursor()
        try:
            if not self.created:
                cur.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS suraksha_import_stage"
                    " (ord INTEGER PRIMARY KEY, signal_type TEXT, signal TEXT, metadata TEXT)"
                )
                self.created = True
            cur.execute("DELETE FROM temp.suraksha_import_stage")
            cur.executemany("INSERT INTO temp.suraksha_import_stage (signal_type, signal, metadata) VALUES (?, ?, ?)", batch)
            cur.execute(
                "INSERT INTO bank_entries (bank_id, signal_type, signal, metadata, enabled, created_at)"
                " SELECT ?, signal_type, signal, metadata, 1, ? FROM temp.suraksha_import_stage"
                " WHERE true ORDER BY signal_type, signal"
                " ON CONFLICT (bank_id, signal_type, signal) DO NOTHING RETURNING id",
                (self.bank_id, now),
            )
            ids = [r[0] for r in cur.fetchall()]
            if ids:
                # the transaction holds SQLite's write lock: ids between the first and the last
                # inserted are exactly this statement's rows (every older row has a smaller id)
                cur.execute(
                    "INSERT INTO matching_changes (entry_id, bank_id, signal_type, signal, op, created_at)"
                    " SELECT id, bank_id, signal_type, signal, 'add', ? FROM bank_entries"
                    " WHERE id BETWEEN ? AND ? ORDER BY id",
                    (now, min(ids), max(ids)),
                )
                if cur.rowcount != len(ids):  # pragma: no cover - would mean another writer interleaved
                    raise Conflict("bank import: the change log does not match the inserted entries; nothing was stored")
            cur.execute("DELETE FROM temp.suraksha_import_stage")
            return ids
        finally:
            cur.close()
