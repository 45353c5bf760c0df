"""Test doubles the pipeline tests hand to ``Scanner`` explicitly: a fake hasher, a dictionary
matcher and a miniature policy.

Nothing here replaces a module: every real module is imported for real, so a missing dependency
fails the suite instead of passing against a stand-in. ``DictMatcher`` answers like the real
matcher for exact signals; ``tests/matching/test_matcher_contract.py`` runs the same cases against
both.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from suraksha.matching.matcher import Match
from suraksha.policy.actions import ActionRequest
from suraksha.policy.model import ScanFacts
from suraksha.policy.model import Verdict as RealVerdict
from suraksha.signals.errors import CorruptMedia, MediaTooLarge, UnsupportedMedia
from suraksha.signals.url import canonical_url

__all__ = ["DictMatcher", "FakePolicy", "canonical_url", "media_signals"]


@dataclass(frozen=True)
class PdqResult:
    hash: str
    quality: int


@dataclass(frozen=True)
class MediaSignals:
    kind: str
    sha256: str
    md5: str
    pdq: PdqResult | None = None
    pdq_dihedral: list | None = None
    vpdq: list | None = None


def media_signals(data: bytes, mime: str | None = None, *, max_pixels: int, max_bytes: int, budget: Any = None) -> MediaSignals:
    """Fake: 'images' are any bytes starting with b'IMG'; b'CORRUPT' raises CorruptMedia (``budget``
    is accepted as the real function's is, and not spent: fake hashing costs nothing)."""
    if len(data) > max_bytes:
        raise MediaTooLarge(f"{len(data)} bytes over {max_bytes}")
    if data.startswith(b"CORRUPT"):
        raise CorruptMedia("truncated image data")
    if not data.startswith(b"IMG"):
        raise UnsupportedMedia("not an image or video")
    pdq = hashlib.sha256(b"pdq" + data).hexdigest()
    return MediaSignals("image", hashlib.sha256(data).hexdigest(), hashlib.md5(data).hexdigest(), PdqResult(pdq, 100), None, None)


class FakePolicy:
    """The shipped default, in miniature: csam -> remove+suspend+preserve+report; ncii -> remove+preserve;
    onion -> review high; nudity >= 0.8 -> review. Answers with the real ``Verdict`` and ``ActionRequest``s."""

    def evaluate(self, facts: ScanFacts) -> RealVerdict:
        def verdict(name: str, actions: list[str], rule: str | None, reasons: list[str], priority: int) -> Any:
            return RealVerdict(name, [ActionRequest.parse(a) for a in actions], rule, reasons, priority)

        labels = {m.label for m in facts.matches}
        if "csam" in labels:
            return verdict(
                "remove",
                ["remove_item", "suspend_account", "preserve", "report:ncmec", "report:in_police"],
                "csam-match",
                ["match in a csam bank"],
                100,
            )
        if "ncii" in labels:
            return verdict("remove", ["remove_item", "preserve"], "ncii-match", ["match in an ncii bank"], 80)
        if any(t.kind == "onion" for t in facts.text_hits) or "csam_url" in labels:
            return verdict("review", ["review:high"], "csam-links", ["onion or csam link"], 90)
        if any(s.name == "nudity" and s.value >= 0.8 for s in facts.scores):
            return verdict("review", ["review:nudity"], "nudity", ["nudity score"], 50)
        return verdict("allow", [], None, [], 0)


class DictMatcher:
    """Exact lookups against a {(signal_type, canonical value): [(bank, label, entry_id)]} table.

    The real matcher's contract for exact signals (sha256, md5, url, domain, text keywords) and
    exact PDQ; it has no distance search, no transforms and no negative banks.
    """

    def __init__(self, entries: dict[tuple[str, str], list[tuple[str, str, int]]] | None = None) -> None:
        self.entries = entries or {}

    def add(self, signal_type: str, value: str, bank: str, label: str, entry_id: int) -> None:
        self.entries.setdefault((signal_type, value), []).append((bank, label, entry_id))

    def lookup(self, signal_type: str, value: str, *, canonical: bool = False, related: bool = False) -> list[Match]:
        out = [Match(b, 1, label, signal_type, value, e, 0) for b, label, e in self.entries.get((signal_type, value), [])]
        if related and signal_type == "url":
            out += self.lookup("domain", value.split("://", 1)[-1].split("/", 1)[0].split(":")[0])
        return out

    def lookup_link(self, canonical: str) -> list[Match]:
        return self.lookup("url", canonical, canonical=True, related=True)

    def lookup_media(self, ms: Any) -> list[Match]:
        out = self.lookup("sha256", ms.sha256) + self.lookup("md5", ms.md5)
        if ms.pdq is not None:
            out += self.lookup("pdq", ms.pdq.hash)
        return out

    def lookup_text(self, text: str) -> list[Match]:
        words = set(re.findall(r"\w+", (text or "").lower()))
        return [
            Match(b, 1, label, "text", keyword, e, 0)
            for (signal_type, keyword), rows in self.entries.items()
            if signal_type == "text" and keyword.lower() in words
            for b, label, e in rows
        ]
