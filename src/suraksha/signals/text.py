"""Text signals: keyword and regex lists, and onion addresses (links into hidden services).

Lists are supplied by the operator (policy settings, `text` banks); nothing is shipped here but the
onion-address pattern, which is structural (v2: 16, v3: 56 base32 characters).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from suraksha.signals.errors import InvalidSignal

# v3: 56 base32 characters whose last one encodes version 3 ('d'); v2 (retired in 2021, still
# posted): 16. Subdomains (www.<host>.onion) are reported as the service host.
_ONION = re.compile(r"(?<![a-z2-7])((?:[a-z2-7]{55}d|[a-z2-7]{16})\.onion)(?![a-z0-9-])", re.IGNORECASE)
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
    """Every keyword and regex hit, in order of position (spans let a reviewer see the context).

    Onion addresses are a separate call (``find_onion_addresses``) so a rule list is never needed
    to find them.
    """
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


def find_onion_addresses(text: str, *, verify_checksum: bool = False) -> list[str]:
    """Onion hosts mentioned anywhere in the text (with or without scheme), lower-cased, unique.

    ``verify_checksum`` keeps only v3 addresses whose built-in checksum is right (v2 has none), for
    callers that want to ignore look-alike strings; by default every well-formed address counts,
    because a deliberately mangled address is still worth a reviewer's look.
    """
    if not text:
        return []
    found = dict.fromkeys(m.group(1).lower() for m in _ONION.finditer(text))
    if verify_checksum:
        return [h for h in found if len(h) != 62 or onion_v3_checksum_ok(h)]
    return list(found)


def onion_v3_checksum_ok(host: str) -> bool:
    """True when a v3 onion host carries a valid checksum (rend-spec-v3: SHA3-256 of
    ".onion checksum" + public key + version, first two bytes), i.e. it can be a real service."""
    label = host.lower().removesuffix(".onion")
    if len(label) != 56:
        return False
    try:
        raw = base64.b32decode(label.upper())
    except ValueError:
        return False
    pubkey, checksum, version = raw[:32], raw[32:34], raw[34:]
    return version == b"\x03" and hashlib.sha3_256(b".onion checksum" + pubkey + version).digest()[:2] == checksum
