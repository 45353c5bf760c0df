"""Text signals: keyword and regex lists, and onion addresses (links into hidden services).

Lists are supplied by the operator (policy settings, `text` banks); nothing is shipped here but the
onion-address pattern, which is structural (v2: 16, v3: 56 base32 characters).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from suraksha.signals.errors import InvalidSignal

_ONION = re.compile(r"(?<![a-z2-7])((?:[a-z2-7]{56}|[a-z2-7]{16})\.onion)\b", re.IGNORECASE)
MAX_PATTERN_LENGTH = 1000


@dataclass(frozen=True)
class TextHit:
    kind: str  # "keyword" | "regex" | "onion"
    value: str  # the configured keyword / pattern, or the onion host
    start: int
    end: int


@dataclass
class TextRules:
    """Compiled once; keywords are case-insensitive whole words/phrases, regexes case-insensitive."""

    keywords: Sequence[str] = field(default_factory=list)
    regexes: Sequence[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        words = sorted({k.strip().lower() for k in self.keywords if k and k.strip()}, key=len, reverse=True)
        self._keyword_re = (
            re.compile(r"(?<!\w)(" + "|".join(_phrase(w) for w in words) + r")(?!\w)", re.IGNORECASE)
            if words else None
        )
        self._words = {w: w for w in words}
        self._regexes: list[tuple[str, re.Pattern[str]]] = []
        for pattern in self.regexes:
            if len(pattern) > MAX_PATTERN_LENGTH:
                raise InvalidSignal(f"regex longer than {MAX_PATTERN_LENGTH} characters: {pattern[:60]!r}...")
            try:
                self._regexes.append((pattern, re.compile(pattern, re.IGNORECASE)))
            except re.error as exc:
                raise InvalidSignal(f"invalid regex {pattern!r}: {exc}") from None


def _phrase(word: str) -> str:
    """A keyword as a pattern; any run of whitespace matches the spaces inside a phrase."""
    return r"\s+".join(re.escape(part) for part in word.split())


def scan_text(text: str, rules: TextRules) -> list[TextHit]:
    """Every keyword and regex hit, in order of position."""
    if not text:
        return []
    hits: list[TextHit] = []
    if rules._keyword_re is not None:
        for m in rules._keyword_re.finditer(text):
            key = re.sub(r"\s+", " ", m.group(1).lower())
            hits.append(TextHit("keyword", rules._words.get(key, key), m.start(), m.end()))
    for pattern, compiled in rules._regexes:
        for m in compiled.finditer(text):
            hits.append(TextHit("regex", pattern, m.start(), m.end()))
    return sorted(hits, key=lambda h: (h.start, h.end, h.kind))


def find_onion_addresses(text: str) -> list[str]:
    """Onion hosts mentioned anywhere in the text (with or without scheme), lower-cased, unique."""
    if not text:
        return []
    return list(dict.fromkeys(m.group(1).lower() for m in _ONION.finditer(text)))
