"""One index class per ``IndexKind``, each behind the ``SignalIndex`` interface.

- ``ExactSignalIndex`` (``exact``): equal strings, over ``ExactIndex``.
- ``PdqSignalIndex`` (``pdq``): Hamming radius over ``PdqIndex`` (exact, incremental).
- ``FrameSignalIndex`` (``frames``): every good frame of every video in one ``PdqIndex``; a video
  matches when vPDQ's share of the query's frames is found in it.
- ``KeywordSignalIndex`` (``keywords``): whole-word keywords found in free text.

``index_class(signal_type)`` is the binding the matcher uses: a new signal type of an existing kind
needs no code here.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Self

import numpy as np

from suraksha.matching.index.base import Hit, SignalIndex
from suraksha.matching.index.exact import ExactIndex
from suraksha.matching.index.pdq import PdqIndex, pdq_hex_to_bytes
from suraksha.signals.text import TextRules, scan_text
from suraksha.signals.types import IndexKind, SignalType
from suraksha.signals.types.vpdq import FRAME_QUALITY, VpdqSignal
from suraksha.signals.video import frames_from_signal

__all__ = [
    "INDEX_CLASSES",
    "ExactSignalIndex",
    "FrameSignalIndex",
    "KeywordSignalIndex",
    "PdqSignalIndex",
    "index_class",
]

FORMAT_VERSION = 1


def _write_json(path: Path, data: object) -> None:
    """Atomic: a temporary file, fsynced, then renamed over ``path``."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w") as f:
        json.dump(data, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _read_json(path: Path, kind: str) -> dict[str, object]:
    try:
        meta = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ValueError(f"no readable {kind} index at {path}: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_VERSION or meta.get("kind") != kind:
        raise ValueError(f"unsupported {kind} index format at {path}")
    return meta


def _hashes(values: Iterable[str]) -> np.ndarray:
    return np.frombuffer(b"".join(pdq_hex_to_bytes(v) for v in values), dtype=np.uint8).reshape(-1, 32)


class ExactSignalIndex:
    """Equal canonical strings; every hit has distance 0 (the threshold does not matter)."""

    def __init__(self, index: ExactIndex | None = None) -> None:
        self._index = index if index is not None else ExactIndex()

    def add(self, ids: Sequence[int], values: Sequence[str]) -> None:
        self._index.add(np.asarray(ids, dtype=np.int64), list(values))

    def remove(self, ids: Iterable[int]) -> None:
        self._index.remove(list(ids))

    def query(self, value: str, threshold: int) -> list[Hit]:
        return [Hit(i, 0) for i in self._index.query(value)]

    def __len__(self) -> int:
        return len(self._index)

    def save(self, directory: Path) -> None:
        self._index.save(directory)

    @classmethod
    def load(cls, directory: Path) -> Self:
        return cls(ExactIndex.load(directory))


class PdqSignalIndex:
    """PDQ hashes within a Hamming distance (hex strings in, (id, distance) out)."""

    def __init__(self, index: PdqIndex | None = None) -> None:
        self._index = index if index is not None else PdqIndex()

    def add(self, ids: Sequence[int], values: Sequence[str]) -> None:
        if len(ids):
            self._index.add(np.asarray(ids, dtype=np.int64), _hashes(values))

    def remove(self, ids: Iterable[int]) -> None:
        self._index.remove(ids)

    def query(self, value: str, threshold: int) -> list[Hit]:
        return [Hit(i, d) for i, d in self._index.query(pdq_hex_to_bytes(value), threshold)]

    def __len__(self) -> int:
        return len(self._index)

    def save(self, directory: Path) -> None:
        self._index.save(directory)

    @classmethod
    def load(cls, directory: Path) -> Self:
        return cls(PdqIndex.load(directory))


class FrameSignalIndex:
    """Videos as their good frames in one PDQ index; frame ids are ``entry id * 2**20 + n``.

    ``query`` takes a vPDQ signal and the per-frame distance; a video is a hit when at least
    ``VpdqSignal.match_percent`` of the query's good frames are within it of one of the video's
    frames, with the nearest frame's distance and the share found in ``detail``.
    """

    MAX_FRAMES = 1 << 20  # frames kept per video (a frame id packs the entry id and the frame number)

    def __init__(self, frames: PdqIndex | None = None, sizes: dict[int, int] | None = None) -> None:
        self._frames = frames if frames is not None else PdqIndex()
        self._sizes: dict[int, int] = dict(sizes or {})  # entry id -> frames indexed
        self._lock = threading.Lock()

    def _frame_ids(self, entry_id: int, n: int) -> list[int]:
        return [entry_id * self.MAX_FRAMES + k for k in range(n)]

    def add(self, ids: Sequence[int], values: Sequence[str]) -> None:
        for entry_id, value in zip(ids, values, strict=True):
            frames = [f for f in frames_from_signal(value) if f.quality >= FRAME_QUALITY][: self.MAX_FRAMES - 1]
            with self._lock:
                old = self._sizes.pop(entry_id, 0)
                if old:
                    self._frames.remove(self._frame_ids(entry_id, old))
                if frames:  # a video with no good frame cannot match: not indexed
                    self._frames.add(
                        np.asarray(self._frame_ids(entry_id, len(frames)), dtype=np.int64), _hashes(f.pdq for f in frames)
                    )
                    self._sizes[entry_id] = len(frames)

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for entry_id in ids:
                n = self._sizes.pop(entry_id, 0)
                if n:
                    self._frames.remove(self._frame_ids(entry_id, n))

    def query(self, value: str, threshold: int) -> list[Hit]:
        good = [f for f in frames_from_signal(value) if f.quality >= FRAME_QUALITY]
        if not good:
            return []
        matched: dict[int, set[int]] = {}
        nearest: dict[int, int] = {}
        for n, frame in enumerate(good):
            for frame_id, distance in self._frames.query(pdq_hex_to_bytes(frame.pdq), threshold):
                entry_id = frame_id // self.MAX_FRAMES
                matched.setdefault(entry_id, set()).add(n)
                nearest[entry_id] = min(distance, nearest.get(entry_id, distance))
        hits = []
        for entry_id, frames_hit in matched.items():
            percent = 100.0 * len(frames_hit) / len(good)
            if percent >= VpdqSignal.match_percent:
                hits.append(Hit(entry_id, nearest[entry_id], {"query_match_percent": round(percent, 1)}))
        return hits

    def __len__(self) -> int:
        return len(self._sizes)

    @property
    def frames(self) -> int:
        """Frames held (what the index's memory grows with)."""
        return len(self._frames)

    def save(self, directory: Path) -> None:
        """The frames as a PDQ index in ``directory``, the frame counts beside it in ``sizes.json``."""
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            sizes = dict(self._sizes)
            self._frames.save(directory)
        _write_json(directory / "sizes.json", {"format": FORMAT_VERSION, "kind": "frames", "sizes": sizes})

    @classmethod
    def load(cls, directory: Path) -> Self:
        meta = _read_json(directory / "sizes.json", "frames")
        sizes = meta.get("sizes")
        try:
            if not isinstance(sizes, dict):
                raise TypeError("no sizes")
            parsed = {int(k): int(v) for k, v in sizes.items()}
        except (TypeError, ValueError):
            raise ValueError(f"frames index at {directory} has damaged sizes") from None
        return cls(PdqIndex.load(directory), parsed)


class KeywordSignalIndex:
    """Keywords (canonical: lower case, single spaces) found as whole words in a query text.

    The keyword pattern is compiled once per change of the keyword set, not per query.
    """

    def __init__(self, entries: dict[int, str] | None = None) -> None:
        self._by_id: dict[int, str] = dict(entries or {})
        self._lock = threading.Lock()
        self._compiled: tuple[TextRules, dict[str, list[int]]] | None = None

    def add(self, ids: Sequence[int], values: Sequence[str]) -> None:
        with self._lock:
            self._by_id.update(zip(ids, values, strict=True))
            self._compiled = None

    def remove(self, ids: Iterable[int]) -> None:
        with self._lock:
            for i in ids:
                self._by_id.pop(i, None)
            self._compiled = None

    def _rules(self) -> tuple[TextRules, dict[str, list[int]]]:
        with self._lock:
            if self._compiled is None:
                by_keyword: dict[str, list[int]] = {}
                for entry_id, keyword in self._by_id.items():
                    by_keyword.setdefault(keyword.lower(), []).append(entry_id)
                self._compiled = (TextRules(keywords=list(by_keyword), regexes=[]), by_keyword)
            return self._compiled

    def query(self, value: str, threshold: int) -> list[Hit]:
        if not value or not self._by_id:
            return []
        rules, by_keyword = self._rules()
        found = {h.value.lower() for h in scan_text(value, rules)}
        return [Hit(entry_id, 0) for keyword in found for entry_id in by_keyword.get(keyword, [])]

    def __len__(self) -> int:
        return len(self._by_id)

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        with self._lock:
            entries = {str(k): v for k, v in self._by_id.items()}
        _write_json(directory / "keywords.json", {"format": FORMAT_VERSION, "kind": "keywords", "entries": entries})

    @classmethod
    def load(cls, directory: Path) -> Self:
        entries = _read_json(directory / "keywords.json", "keywords").get("entries")
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise ValueError(f"keyword index at {directory} is damaged")
        try:
            return cls({int(k): v for k, v in entries.items()})
        except ValueError:
            raise ValueError(f"keyword index at {directory} is damaged") from None


INDEX_CLASSES: dict[IndexKind, type[SignalIndex]] = {
    IndexKind.EXACT: ExactSignalIndex,
    IndexKind.PDQ: PdqSignalIndex,
    IndexKind.FRAMES: FrameSignalIndex,
    IndexKind.KEYWORDS: KeywordSignalIndex,
}


def index_class(signal_type: SignalType) -> type[SignalIndex]:
    """The index class that holds ``signal_type`` (by its ``index_kind``)."""
    return INDEX_CLASSES[signal_type.index_kind]
