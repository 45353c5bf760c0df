"""The matcher: every enabled bank's signals in memory-light indexes, kept current from the DB.

One matcher per process (``get_matcher()``). It starts from the persisted index snapshot in
``SURAKSHA_HOME/index`` and replays the ``matching_changes`` log written since that snapshot, so a
restart never rebuilds from bank rows, and it re-reads the change log at most every
``REFRESH_SECONDS`` on lookup, so an entry added, removed or disabled anywhere is (not) matched
within a second in every process, without rebuilding anything.

Bank settings (enabled, negative, threshold, transforms) are applied at lookup time, not baked into
the indexes, so changing them is instant too.

Nothing here names a signal type: each registered type (``suraksha.signals.types``) gets one index,
of the class its ``index_kind`` is bound to (``matching.index.kinds``), and says itself what a piece
of media or a link carries (``from_media``, ``related``). What the matcher knows is per index
kind: banks' ``pdq_threshold`` applies to PDQ-kind signals, free text is searched by keyword kinds.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from suraksha.config import get_settings
from suraksha.db import session_scope
from suraksha.matching.index.base import SignalIndex
from suraksha.matching.index.kinds import index_class
from suraksha.matching.models import Bank, BankEntry, MatchingChange
from suraksha.signals.types import IndexKind, SignalType, get_signal_type, signal_types

if TYPE_CHECKING:
    from suraksha.signals import MediaSignals

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5
# A gap in the change sequence (a transaction still committing, or rolled back) is waited for this
# long before being skipped; PostgreSQL allocates sequence numbers before commit.
GAP_GRACE_SECONDS = 30.0
#: The snapshot's layout: one folder per signal type, named after it. Layout 1 (``exact-md5``...,
#: vPDQ frame counts and keywords inside ``state.json``) is rebuilt once from bank rows.
SNAPSHOT_LAYOUT = 2
LEGACY_FOLDERS = ("exact-md5", "exact-sha256", "exact-url", "exact-domain")
#: A link in an item is looked up as this signal type, with the signals it carries (its domain).
LINK_SIGNAL_TYPE = "url"
#: Free text is recorded on a keyword match cut to this many characters (it is the item's text,
#: not a banked value).
SHOWN_TEXT = 200


@dataclass(frozen=True)
class Match:
    """A query signal hitting a bank entry."""

    bank: str
    bank_id: int
    label: str
    signal_type: str
    signal: str  # the query's signal (for pdq: the hash that was looked up, before transforms)
    entry_id: int
    distance: int
    transform: str | None = None
    detail: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class _BankConf:
    id: int
    name: str
    label: str
    negative: bool
    enabled: bool
    threshold: int
    transforms: bool


@dataclass(frozen=True)
class _EntryRef:
    bank_id: int
    signal: str


class _StaleSnapshot(Exception):
    """A snapshot written by another layout, or without a registered type: rebuilt, not an error."""


#: (entry id, distance, transform, detail) found by one query
_RawHit = tuple[int, int, str | None, Mapping[str, float] | None]


class Matcher:
    """Thread-safe; one per process.

    Holds one index per registered signal type, of the class its ``index_kind`` names
    (``matching.index.kinds``). Types registered after the matcher was built are not held by it.
    """

    def __init__(self, index_dir: Path | None = None) -> None:
        self._lock = threading.RLock()
        self.index_dir = index_dir
        self.types: dict[str, SignalType] = {st.name: st for st in signal_types()}
        self.indexes: dict[str, SignalIndex] = {name: index_class(st)() for name, st in self.types.items()}
        self.banks: dict[int, _BankConf] = {}
        self._floor = 0  # every change with seq <= floor is applied
        self._applied_above: set[int] = set()
        self._gaps_seen: dict[int, float] = {}
        self._last_refresh = 0.0
        self._entry_cache: OrderedDict[int, _EntryRef | None] = OrderedDict()
        self.loaded = False

    # ----------------------------------------------------------------- loading / persistence
    @classmethod
    def open(cls, index_dir: Path | None = None) -> Matcher:
        """Load the persisted snapshot when there is one, else build once from bank rows."""
        index_dir = index_dir or get_settings().index_dir
        matcher = cls(index_dir)
        state = index_dir / "state.json"
        if state.exists():
            try:
                matcher._load_snapshot(index_dir)
            except _StaleSnapshot as exc:
                log.info("index snapshot in %s %s; building it once from bank rows", index_dir, exc)
                matcher = cls(index_dir)
                matcher._build_from_rows()
            except Exception:  # a corrupt snapshot must not stop scanning: rebuild from rows
                log.exception("index snapshot in %s unreadable; rebuilding from bank rows", index_dir)
                matcher = cls(index_dir)
                matcher._build_from_rows()
        else:
            matcher._build_from_rows()
        matcher.refresh(force=True)
        matcher.loaded = True
        return matcher

    def _load_snapshot(self, index_dir: Path) -> None:
        meta = json.loads((index_dir / "state.json").read_text())
        if meta.get("layout") != SNAPSHOT_LAYOUT:
            raise _StaleSnapshot(f"has layout {meta.get('layout', 1)!r}, not {SNAPSHOT_LAYOUT}")
        missing = sorted(set(self.types) - set(meta.get("types", [])))
        if missing:
            raise _StaleSnapshot(f"has no index for {', '.join(missing)}")
        self.indexes = {name: index_class(st).load(index_dir / name) for name, st in self.types.items()}
        self._floor = int(meta["floor"])
        self._applied_above = set(meta.get("applied_above", []))

    def save(self) -> None:
        """Persist the indexes and the change-log position (atomic per file; state.json last)."""
        if self.index_dir is None:
            return
        with self._lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            for name, index in self.indexes.items():
                index.save(self.index_dir / name)
            meta = {
                "layout": SNAPSHOT_LAYOUT,
                "types": sorted(self.indexes),
                "floor": self._floor,
                "applied_above": sorted(self._applied_above),
                "saved_at": time.time(),
            }
            tmp = self.index_dir / "state.json.tmp"
            tmp.write_text(json.dumps(meta))
            tmp.replace(self.index_dir / "state.json")
            for old in LEGACY_FOLDERS:  # a layout-1 snapshot's leftovers, unread since
                shutil.rmtree(self.index_dir / old, ignore_errors=True)

    def _build_from_rows(self) -> None:
        """First start (or lost snapshot): read every enabled entry once, in id order, in batches."""
        with session_scope() as session:
            top = session.scalar(select(MatchingChange.seq).order_by(MatchingChange.seq.desc()).limit(1)) or 0
        last_id = 0
        while True:
            with session_scope() as session:
                rows = session.execute(
                    select(BankEntry.id, BankEntry.signal_type, BankEntry.signal)
                    .where(BankEntry.enabled.is_(True), BankEntry.id > last_id)
                    .order_by(BankEntry.id)
                    .limit(50000)
                ).all()
            if not rows:
                break
            self._apply_adds([(r.id, r.signal_type, r.signal) for r in rows])
            last_id = rows[-1].id
        # Changes up to `top` are reflected in the rows read above; replay from there. Changes made
        # while we read are replayed too (re-adding an entry is idempotent).
        self._floor = max(0, top - 10000)
        self._applied_above = set()

    # ----------------------------------------------------------------- applying changes
    def _apply_adds(self, rows: Iterable[tuple[int, str, str]]) -> None:
        """Add entries to the index of their type; types this matcher does not hold are skipped."""
        by_type: dict[str, dict[int, str]] = {}
        for entry_id, signal_type, signal in rows:
            if signal_type in self.indexes:
                by_type.setdefault(signal_type, {})[entry_id] = signal  # the last change of an id wins
        for signal_type, entries in by_type.items():
            self.indexes[signal_type].add(list(entries), list(entries.values()))

    def _apply_remove(self, entry_id: int, signal_type: str) -> None:
        index = self.indexes.get(signal_type)
        if index is not None:
            index.remove([entry_id])
        self._entry_cache.pop(entry_id, None)

    def refresh(self, force: bool = False) -> None:
        """Apply bank settings and entry changes written since the last refresh."""
        now = time.monotonic()
        if not force and now - self._last_refresh < REFRESH_SECONDS:
            return
        with self._lock:
            if not force and now - self._last_refresh < REFRESH_SECONDS:
                return
            with session_scope() as session:
                banks = session.scalars(select(Bank)).all()
                changes = session.execute(
                    select(
                        MatchingChange.seq,
                        MatchingChange.entry_id,
                        MatchingChange.signal_type,
                        MatchingChange.signal,
                        MatchingChange.op,
                    )
                    .where(MatchingChange.seq > self._floor)
                    .order_by(MatchingChange.seq)
                ).all()
            self.banks = {
                b.id: _BankConf(b.id, b.name, b.label, b.negative, b.enabled, b.pdq_threshold, b.match_transforms) for b in banks
            }
            pending_adds: list[tuple[int, str, str]] = []
            for c in changes:
                if c.seq in self._applied_above:
                    continue
                if c.op == "add":
                    pending_adds.append((c.entry_id, c.signal_type, c.signal))
                else:
                    if pending_adds:
                        self._apply_adds(pending_adds)
                        pending_adds = []
                    self._apply_remove(c.entry_id, c.signal_type)
                self._applied_above.add(c.seq)
            if pending_adds:
                self._apply_adds(pending_adds)
            self._advance_floor(now)
            self._last_refresh = time.monotonic()

    def _advance_floor(self, now: float) -> None:
        while self._applied_above:
            nxt = self._floor + 1
            if nxt in self._applied_above:
                self._applied_above.discard(nxt)
                self._floor = nxt
                self._gaps_seen.pop(nxt, None)
                continue
            if nxt > max(self._applied_above):
                break
            first_seen = self._gaps_seen.setdefault(nxt, now)
            if now - first_seen < GAP_GRACE_SECONDS:
                break
            self._gaps_seen.pop(nxt, None)  # rolled back long ago: skip it
            self._floor = nxt

    # ----------------------------------------------------------------- lookups
    def _entries(self, ids: Iterable[int]) -> dict[int, _EntryRef]:
        ids = list(ids)
        missing = [i for i in ids if i not in self._entry_cache]
        if missing:
            with session_scope() as session:
                rows = session.execute(
                    select(BankEntry.id, BankEntry.bank_id, BankEntry.signal, BankEntry.enabled).where(BankEntry.id.in_(missing))
                ).all()
            found = {r.id: (_EntryRef(r.bank_id, r.signal) if r.enabled else None) for r in rows}
            for i in missing:
                self._entry_cache[i] = found.get(i)
                while len(self._entry_cache) > 100_000:
                    self._entry_cache.popitem(last=False)
        return {i: ref for i in ids if (ref := self._entry_cache.get(i)) is not None}

    def _hits_to_matches(self, st: SignalType, query: str, hits: list[_RawHit]) -> list[Match]:
        """Resolve hits into matches of enabled banks, best first.

        Banks carry one distance threshold, ``pdq_threshold``, for PDQ-kind signals (the index was
        queried at the largest); a transformed variant (rotation, mirror) counts only in banks that
        match transforms.
        """
        if not hits:  # the common case on the hot path: nothing to resolve
            return []
        refs = self._entries(h[0] for h in hits)
        per_bank_threshold = st.index_kind is IndexKind.PDQ
        best: dict[int, Match] = {}
        for entry_id, distance, transform, detail in hits:
            ref = refs.get(entry_id)
            bank = self.banks.get(ref.bank_id) if ref else None
            if bank is None or not bank.enabled:
                continue
            if per_bank_threshold and distance > bank.threshold:
                continue
            if transform not in (None, "original") and not bank.transforms:
                continue
            m = Match(
                bank.name,
                bank.id,
                bank.label,
                st.name,
                query,
                entry_id,
                distance,
                None if transform in (None, "original") else transform,
                dict(detail or {}),
            )
            prev = best.get(entry_id)
            if prev is None or (m.distance, m.transform is not None) < (prev.distance, prev.transform is not None):
                best[entry_id] = m
        return self._apply_negative(sorted(best.values(), key=lambda m: (m.distance, m.bank, m.entry_id)))

    def _apply_negative(self, matches: list[Match]) -> list[Match]:
        """A hit in a negative bank (a known false positive) suppresses every match of that signal."""
        if any(self.banks[m.bank_id].negative for m in matches):
            return []
        return matches

    def _query_threshold(self, st: SignalType, transformed: bool) -> int | None:
        """The distance to query the index at: for PDQ kinds the largest threshold of an enabled bank
        (that matches transforms, for a variant), None when there is no such bank; else the type's."""
        if st.index_kind is not IndexKind.PDQ:
            return st.default_threshold
        thresholds = [b.threshold for b in self.banks.values() if b.enabled and (b.transforms or not transformed)]
        return max(thresholds, default=None)

    def _lookup(self, st: SignalType, query: str, variants: list[tuple[str, str]]) -> list[Match]:
        """Matches of one canonical signal, given as (transform, value) variants ("original" first)."""
        index = self.indexes.get(st.name)
        if index is None:
            raise ValueError(f"signal type {st.name!r} cannot be looked up (registered after the matcher was built)")
        hits: list[_RawHit] = []
        for transform, value in variants:
            threshold = self._query_threshold(st, transformed=transform != "original")
            if threshold is None:
                continue
            hits.extend((h.id, h.distance, transform, h.detail) for h in index.query(value, threshold))
        shown = query[:SHOWN_TEXT] if st.index_kind is IndexKind.KEYWORDS else query
        return self._hits_to_matches(st, shown, hits)

    def lookup(self, signal_type: str, value: str, *, canonical: bool = False, related: bool = False) -> list[Match]:
        """Look up one signal (already canonical or not: it is normalised here, unless the caller
        says it is ``canonical``, i.e. what the type's ``normalize`` returned). ``related`` looks
        up the signals the value carries too (a URL: its domain), after its own matches.

        An unknown type or a malformed value raises InvalidSignal (a ValueError)."""
        self.refresh()
        st = get_signal_type(signal_type)
        if not canonical:
            value = st.normalize(value)
        with self._lock:
            out = self._lookup(st, value, [("original", value)])
            if related:
                for name, carried in st.related(value):
                    out += self._lookup(get_signal_type(name), carried, [("original", carried)])
        return out

    def lookup_text(self, text: str) -> list[Match]:
        """Keywords of every keyword-kind bank (``text``) found in free text (case-insensitive, whole words)."""
        self.refresh()
        if not text:
            return []
        out: list[Match] = []
        with self._lock:
            for st in self.types.values():
                if st.index_kind is IndexKind.KEYWORDS:
                    out += self._lookup(st, text, [("original", text)])
        return out

    def lookup_media(self, ms: MediaSignals) -> list[Match]:
        """Every match for one piece of media: each type's signals in it (``SignalType.from_media``:
        exact hashes, PDQ with its rotations and mirrors, vPDQ)."""
        self.refresh()
        out: list[Match] = []
        with self._lock:
            for st in self.types.values():
                variants = st.from_media(ms)
                if variants:
                    out += self._lookup(st, variants[0][1], variants)
        return out

    def lookup_url(self, url: str) -> list[Match]:
        """A link: its canonical URL and its domain."""
        return self.lookup(LINK_SIGNAL_TYPE, url, related=True)

    def lookup_link(self, canonical: str) -> list[Match]:
        """A link already canonical (``canonical_url``): its URL and its domain, canonicalised once
        (a scan's links were three times per link, a fifth of a text item's scan)."""
        return self.lookup(LINK_SIGNAL_TYPE, canonical, canonical=True, related=True)

    def stats(self) -> dict[str, int]:
        """Entries per signal type's index (videos for vPDQ), and the change-log position."""
        with self._lock:
            return {**{name: len(index) for name, index in self.indexes.items()}, "change_floor": self._floor}


_matcher: Matcher | None = None
_matcher_lock = threading.Lock()


def get_matcher() -> Matcher:
    """The process-wide matcher (loaded on first use)."""
    global _matcher
    if _matcher is None:
        with _matcher_lock:
            if _matcher is None:
                _matcher = Matcher.open()
    return _matcher


def reset_matcher() -> None:
    """Drop the process-wide matcher (tests; after the database URL changes)."""
    global _matcher
    _matcher = None
