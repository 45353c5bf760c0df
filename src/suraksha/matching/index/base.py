"""The one interface the matcher sees for every index: add, remove, query, save and load.

Values are canonical signal strings (``SignalType.normalize``); each index turns them into its own
representation (32 bytes for PDQ, frames for vPDQ). ``query`` returns every live entry within the
threshold, as the brute-force ``SignalType.compare`` would (the contract test checks it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple, Protocol, Self


class Hit(NamedTuple):
    """One entry found by a query: its id, its distance and, for some kinds, how it matched."""

    id: int
    distance: int
    detail: Mapping[str, float] | None = None  # vPDQ: {"query_match_percent": 87.5}


class SignalIndex(Protocol):
    """An in-memory index over (entry id, canonical value) pairs, with its own persisted form."""

    def add(self, ids: Sequence[int], values: Sequence[str]) -> None:
        """Add entries; an id already present is replaced. Matchable when this returns."""

    def remove(self, ids: Iterable[int]) -> None:
        """Remove entries by id (unknown ids are ignored). Not matched when this returns."""

    def query(self, value: str, threshold: int) -> list[Hit]:
        """Every live entry within ``threshold`` of ``value``."""

    def __len__(self) -> int:
        """Entries held."""

    def save(self, directory: Path) -> None:
        """Write the index under ``directory`` (atomic per file)."""

    @classmethod
    def load(cls, directory: Path) -> Self:
        """Read what ``save`` wrote; raises ValueError when it is missing or damaged."""
