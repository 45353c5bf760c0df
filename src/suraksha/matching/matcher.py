"""The matcher: every enabled bank's signals in memory-light indexes, kept current from the DB.

One matcher per process (``get_matcher()``). It starts from the persisted index snapshot in
``SURAKSHA_HOME/index`` and replays the ``matching_changes`` log written since that snapshot, so a
restart never rebuilds from bank rows, and it re-reads the change log at most every
``REFRESH_SECONDS`` on lookup, so an entry added, removed or disabled anywhere is (not) matched
within a second in every process, without rebuilding anything.

Bank settings (enabled, negative, threshold, transforms) are applied at lookup time, not baked into
the indexes, so changing them is instant too.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

from suraksha.config import get_settings
from suraksha.db import session_scope
from suraksha.matching.index.exact import ExactIndex
from suraksha.matching.index.pdq import PdqIndex, pdq_hex_to_bytes
from suraksha.matching.models import Bank, BankEntry, MatchingChange
from suraksha.signals import normalize_signal
from suraksha.signals.url import canonical_url, domain_of, domain_of_canonical

log = logging.getLogger(__name__)

REFRESH_SECONDS = 0.5
# A gap in the change sequence (a transaction still committing, or rolled back) is waited for this
# long before being skipped; PostgreSQL allocates sequence numbers before commit.
GAP_GRACE_SECONDS = 30.0
EXACT_TYPES = ("md5", "sha256", "url", "domain")
VPDQ_FRAME_DISTANCE = 31
VPDQ_FRAME_QUALITY = 50
VPDQ_MATCH_PERCENT = 80.0
MAX_FRAMES_PER_VIDEO = 1 << 20  # frame ids are entry_id * 2**20 + frame number


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


class Matcher:
    """Thread-safe; one per process."""

    def __init__(self, index_dir: Path | None = None) -> None:
        self._lock = threading.RLock()
        self.index_dir = index_dir
        self.pdq = PdqIndex()
        self.vpdq_frames = PdqIndex()
        self.exact = {t: ExactIndex() for t in EXACT_TYPES}
        self.vpdq_sizes: dict[int, int] = {}  # entry id -> number of hashable frames
        self.text_entries: dict[int, str] = {}  # entry id -> keyword
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
        self.pdq = PdqIndex.load(index_dir / "pdq")
        self.vpdq_frames = PdqIndex.load(index_dir / "vpdq")
        self.exact = {t: ExactIndex.load(index_dir / f"exact-{t}") for t in EXACT_TYPES}
        self.vpdq_sizes = {int(k): v for k, v in meta.get("vpdq_sizes", {}).items()}
        self.text_entries = {int(k): v for k, v in meta.get("text_entries", {}).items()}
        self._floor = int(meta["floor"])
        self._applied_above = set(meta.get("applied_above", []))

    def save(self) -> None:
        """Persist the indexes and the change-log position (atomic per file; state.json last)."""
        if self.index_dir is None:
            return
        with self._lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            self.pdq.save(self.index_dir / "pdq")
            self.vpdq_frames.save(self.index_dir / "vpdq")
            for t, idx in self.exact.items():
                idx.save(self.index_dir / f"exact-{t}")
            meta = {
                "floor": self._floor,
                "applied_above": sorted(self._applied_above),
                "vpdq_sizes": self.vpdq_sizes,
                "text_entries": self.text_entries,
                "saved_at": time.time(),
            }
            tmp = self.index_dir / "state.json.tmp"
            tmp.write_text(json.dumps(meta))
            tmp.replace(self.index_dir / "state.json")

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
        pdq_ids: list[int] = []
        pdq_hashes: list[bytes] = []
        exact: dict[str, tuple[list[int], list[str]]] = {t: ([], []) for t in EXACT_TYPES}
        for entry_id, signal_type, signal in rows:
            if signal_type == "pdq":
                pdq_ids.append(entry_id)
                pdq_hashes.append(pdq_hex_to_bytes(signal))
            elif signal_type in exact:
                exact[signal_type][0].append(entry_id)
                exact[signal_type][1].append(signal)
            elif signal_type == "vpdq":
                self._add_video(entry_id, signal)
            elif signal_type == "text":
                self.text_entries[entry_id] = signal
        if pdq_ids:
            self.pdq.add(np.asarray(pdq_ids, dtype=np.int64), np.frombuffer(b"".join(pdq_hashes), dtype=np.uint8).reshape(-1, 32))
        for t, (ids, values) in exact.items():
            if ids:
                self.exact[t].add(np.asarray(ids, dtype=np.int64), values)

    def _add_video(self, entry_id: int, signal: str) -> None:
        from suraksha.signals import vpdq_from_signal

        frames = [f for f in vpdq_from_signal(signal) if f.quality >= VPDQ_FRAME_QUALITY][: MAX_FRAMES_PER_VIDEO - 1]
        if not frames:
            return
        ids = np.asarray([entry_id * MAX_FRAMES_PER_VIDEO + n for n in range(len(frames))], dtype=np.int64)
        hashes = np.frombuffer(b"".join(pdq_hex_to_bytes(f.pdq) for f in frames), dtype=np.uint8).reshape(-1, 32)
        self.vpdq_frames.add(ids, hashes)
        self.vpdq_sizes[entry_id] = len(frames)

    def _apply_remove(self, entry_id: int, signal_type: str) -> None:
        if signal_type == "pdq":
            self.pdq.remove([entry_id])
        elif signal_type in self.exact:
            self.exact[signal_type].remove([entry_id])
        elif signal_type == "vpdq":
            n = self.vpdq_sizes.pop(entry_id, 0)
            self.vpdq_frames.remove(entry_id * MAX_FRAMES_PER_VIDEO + i for i in range(n))
        elif signal_type == "text":
            self.text_entries.pop(entry_id, None)
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
                    select(MatchingChange.seq, MatchingChange.entry_id, MatchingChange.signal_type, MatchingChange.signal, MatchingChange.op)
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

    def _hits_to_matches(self, signal_type: str, query: str, hits: list[tuple[int, int, str | None]]) -> list[Match]:
        """Resolve (entry id, distance, transform) hits into matches of enabled banks, best first."""
        refs = self._entries(h[0] for h in hits)
        best: dict[int, Match] = {}
        for entry_id, distance, transform in hits:
            ref = refs.get(entry_id)
            bank = self.banks.get(ref.bank_id) if ref else None
            if bank is None or not bank.enabled:
                continue
            if signal_type == "pdq":
                if distance > bank.threshold or (transform not in (None, "original") and not bank.transforms):
                    continue
            m = Match(bank.name, bank.id, bank.label, signal_type, query, entry_id, distance,
                      None if transform in (None, "original") else transform)
            prev = best.get(entry_id)
            if prev is None or (m.distance, m.transform is not None) < (prev.distance, prev.transform is not None):
                best[entry_id] = m
        return self._apply_negative(sorted(best.values(), key=lambda m: (m.distance, m.bank, m.entry_id)))

    def _apply_negative(self, matches: list[Match]) -> list[Match]:
        """A hit in a negative bank (a known false positive) suppresses every match of that signal."""
        if any(self.banks[m.bank_id].negative for m in matches):
            return []
        return matches

    def lookup(self, signal_type: str, value: str, *, canonical: bool = False) -> list[Match]:
        """Look up one signal (already canonical or not: it is normalised here, unless the caller
        says it is ``canonical``, i.e. what ``normalize_signal`` returned)."""
        self.refresh()
        if not canonical:
            value = normalize_signal(signal_type, value)
        with self._lock:
            if signal_type == "pdq":
                return self._lookup_pdq(value, [("original", value)])
            if signal_type in self.exact:
                return self._hits_to_matches(signal_type, value, [(i, 0, None) for i in self.exact[signal_type].query(value)])
            if signal_type == "vpdq":
                from suraksha.signals import vpdq_from_signal

                return self._lookup_video(value, vpdq_from_signal(value))
            if signal_type == "text":
                return self.lookup_text(value)
        raise ValueError(f"signal type {signal_type!r} cannot be looked up")

    def _max_threshold(self, transforms: bool) -> int:
        ts = [b.threshold for b in self.banks.values() if b.enabled and (b.transforms or not transforms)]
        return max(ts, default=-1)

    def _lookup_pdq(self, query: str, variants: list[tuple[str, str]]) -> list[Match]:
        hits: list[tuple[int, int, str | None]] = []
        for transform, hex_hash in variants:
            threshold = self._max_threshold(transforms=transform != "original")
            if threshold < 0:
                continue
            for entry_id, distance in self.pdq.query(pdq_hex_to_bytes(hex_hash), threshold):
                hits.append((entry_id, distance, transform))
        return self._hits_to_matches("pdq", query, hits)

    def lookup_pdq(self, hex_hash: str, dihedral: list[tuple[str, str]] | None = None) -> list[Match]:
        """A PDQ hash and, when given, its eight dihedral variants (rotations and mirrors)."""
        self.refresh()
        hex_hash = normalize_signal("pdq", hex_hash)
        variants = [("original", hex_hash)] + [(t, h) for t, h in (dihedral or []) if t != "original"]
        with self._lock:
            return self._lookup_pdq(hex_hash, variants)

    def _lookup_video(self, query: str, frames: list) -> list[Match]:
        good = [f for f in frames if f.quality >= VPDQ_FRAME_QUALITY]
        if not good:
            return []
        matched: dict[int, set[int]] = {}
        best_distance: dict[int, int] = {}
        for n, frame in enumerate(good):
            for frame_id, distance in self.vpdq_frames.query(pdq_hex_to_bytes(frame.pdq), VPDQ_FRAME_DISTANCE):
                entry_id = frame_id // MAX_FRAMES_PER_VIDEO
                matched.setdefault(entry_id, set()).add(n)
                best_distance[entry_id] = min(distance, best_distance.get(entry_id, 256))
        results = []
        for entry_id, frames_hit in matched.items():
            percent = 100.0 * len(frames_hit) / len(good)
            if percent >= VPDQ_MATCH_PERCENT:
                results.append((entry_id, best_distance[entry_id], percent))
        matches = self._hits_to_matches("vpdq", query, [(e, d, None) for e, d, _ in results])
        percents = {e: p for e, _, p in results}
        return [
            Match(m.bank, m.bank_id, m.label, m.signal_type, m.signal, m.entry_id, m.distance, None,
                  {"query_match_percent": round(percents[m.entry_id], 1)})
            for m in matches
        ]

    def lookup_text(self, text: str) -> list[Match]:
        """Keywords from `text` banks found in free text (case-insensitive, whole words)."""
        from suraksha.signals.text import TextRules, scan_text

        self.refresh()
        with self._lock:
            entries = dict(self.text_entries)
        if not entries or not text:
            return []
        by_keyword: dict[str, list[int]] = {}
        for entry_id, keyword in entries.items():
            by_keyword.setdefault(keyword.lower(), []).append(entry_id)
        hits = scan_text(text, TextRules(keywords=list(by_keyword), regexes=[]))
        found = {h.value.lower() for h in hits}
        pairs = [(e, 0, None) for k in found for e in by_keyword.get(k, [])]
        with self._lock:
            return self._hits_to_matches("text", text[:200], pairs)

    def lookup_media(self, ms: Any) -> list[Match]:
        """Every match for one piece of media: exact hashes, PDQ with transforms, vPDQ."""
        out: list[Match] = []
        out += self.lookup("sha256", ms.sha256)
        out += self.lookup("md5", ms.md5)
        if ms.pdq is not None and ms.pdq.quality >= 50:
            out += self.lookup_pdq(ms.pdq.hash, ms.pdq_dihedral)
        if ms.vpdq:
            from suraksha.signals import vpdq_to_signal

            self.refresh()
            with self._lock:
                out += self._lookup_video(vpdq_to_signal(ms.vpdq), ms.vpdq)
        return out

    def lookup_url(self, url: str) -> list[Match]:
        """A link: its canonical URL and its domain."""
        return self.lookup_link(canonical_url(url))

    def lookup_link(self, canonical: str) -> list[Match]:
        """A link already canonical (``canonical_url``): its URL and its domain, canonicalised once
        (a scan's links were three times per link, a fifth of a text item's scan)."""
        domain = domain_of_canonical(canonical)
        found = self.lookup("url", canonical, canonical=True)
        if not domain:
            return found
        # "www.www.x" is banked as "x" (normalize_domain strips one "www." more); an IPv6 literal is
        # no domain signal and is looked up as it is (normalising it raised and failed the scan).
        return found + self.lookup("domain", domain, canonical=not domain.startswith("www.") or ":" in domain)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "pdq": len(self.pdq),
                "vpdq_frames": len(self.vpdq_frames),
                "text": len(self.text_entries),
                **{t: len(i) for t, i in self.exact.items()},
                "change_floor": self._floor,
            }


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
