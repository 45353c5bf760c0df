"""``pdq``: Meta's 256-bit perceptual hash of a picture, matched within a Hamming distance.

Banks set their own threshold (``pdq_threshold``, 31 unless changed: PDQ's published operating
point); a picture is also looked up by its seven rotations and mirrors where a bank allows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from suraksha.signals.pdq import HASHABLE_QUALITY, hamming, normalize_pdq
from suraksha.signals.types.base import IndexKind, SignalCategory, SignalType

if TYPE_CHECKING:
    from suraksha.signals import MediaSignals

DEFAULT_THRESHOLD = 31


class PdqSignal(SignalType):
    name = "pdq"
    te_name = "pdq"
    index_kind = IndexKind.PDQ
    category = SignalCategory.HASH
    default_threshold = DEFAULT_THRESHOLD
    description = "PDQ hash of a picture (64 hex characters): near copies within a Hamming distance"

    def normalize(self, value: str) -> str:
        return normalize_pdq(value)

    def distance(self, query: str, banked: str) -> int:
        """Bits that differ (0-256)."""
        return hamming(query, banked)

    def examples(self) -> tuple[str, ...]:
        return (
            "e42926b9cb58d261383b699f0ff2e1076fe6183dff4986d82ca36da48034fc54",
            "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22",
        )

    def from_media(self, media: MediaSignals) -> list[tuple[str, str]]:
        """The hash and its dihedral variants; nothing for a picture too flat to match on (quality < 50)."""
        if media.pdq is None or media.pdq.quality < HASHABLE_QUALITY:
            return []
        return [("original", media.pdq.hash)] + [(t, h) for t, h in (media.pdq_dihedral or []) if t != "original"]
