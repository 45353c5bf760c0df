"""Text signals: keyword and regex lists, and onion addresses (links into hidden services).

Lists are supplied by the operator (policy settings, `text` banks); nothing is shipped here but the
onion-address pattern, which is structural (v2: 16, v3: 56 base32 characters).

Operator regexes run on every item's text, so one careless pattern (``(a+)+$``) must not be able to
stall a worker on a crafted post: they are compiled with RE2 (``google-re2``), whose matching time
is linear in the text. Constructs RE2 cannot run in linear time (backreferences, lookaround, atomic
groups, possessive quantifiers, conditionals) are refused when the rules load, naming the construct,
rather than quietly handed to Python's backtracking ``re``. Our own fixed patterns (onion
addresses, escaped keyword lists) stay on ``re``: they are ours and cannot backtrack badly.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import re2

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
            re.compile(r"(?<!\w)(" + "|".join(_phrase(w) for w in words) + r")(?!\w)", re.IGNORECASE) if words else None
        )
        self._words = {w: w for w in words}
        self._regexes: list[tuple[str, Any]] = [(pattern, compile_linear_regex(pattern)) for pattern in self.regexes]


# What RE2's parser says at the first construct it cannot run in linear time, and what to call it.
_UNSUPPORTED = (
    ("(?<=", "a lookbehind"),
    ("(?<!", "a negative lookbehind"),
    ("(?=", "a lookahead"),
    ("(?!", "a negative lookahead"),
    ("(?>", "an atomic group"),
    ("(?(", "a conditional group"),
    ("(?P", "a backreference"),
    ("\\k", "a backreference"),
    ("\\g", "a backreference"),
) + tuple((f"\\{d}", "a backreference") for d in "123456789")


def _re2_options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False  # the reason goes to the caller in the exception, not to stderr
    return options


@lru_cache(maxsize=512)
def compile_linear_regex(pattern: str) -> Any:
    """Compile an operator-supplied regex with RE2 (case-insensitive); InvalidSignal says why not.

    Cached (like ``re``'s own cache): rule lists are rebuilt per scan, and compiled RE2 objects are
    immutable and safe to share between threads.

    RE2 character classes (``\\w``, ``\\d``, ``\\s``, ``\\b``) are ASCII; use ``\\p{L}``,
    ``\\p{Devanagari}`` and the like for other scripts.
    """
    if not isinstance(pattern, str) or not pattern:
        raise InvalidSignal("a regex must be a non-empty string")
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise InvalidSignal(f"regex longer than {MAX_PATTERN_LENGTH} characters: {pattern[:60]!r}...")
    try:
        # Compiled over UTF-8 bytes (what RE2 works on): matching str costs the binding a character
        # offset conversion per match, several times slower than matching itself (measured).
        return re2.compile(pattern.encode("utf-8", "surrogatepass"), _re2_options())
    except re2.error as exc:
        raise InvalidSignal(_refusal(pattern, exc)) from None


def _refusal(pattern: str, exc: Exception) -> str:
    raw = exc.args[0] if exc.args else str(exc)
    message = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
    kind, _, where = message.partition(": ")
    if kind in ("invalid escape sequence", "invalid perl operator"):
        for prefix, construct in _UNSUPPORTED:
            if where.startswith(prefix):
                return f"regex {pattern!r} uses {construct} ({where}), which is not allowed: patterns must run in linear time"
    if kind == "bad repetition operator" and where[-1:] == "+":
        return f"regex {pattern!r} uses a possessive quantifier ({where}), which is not allowed: patterns must run in linear time"
    return f"invalid regex {pattern!r}: {message}"


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
    if rules._regexes:
        data = text.encode("utf-8", "surrogatepass")
        spans = [(pattern, m.start(), m.end()) for pattern, compiled in rules._regexes for m in compiled.finditer(data)]
        to_char = _char_offsets(data, len(text)) if spans else None
        for pattern, start, end in spans:
            hits.append(TextHit("regex", pattern, to_char(start), to_char(end)))
    return sorted(hits, key=lambda h: (h.start, h.end, h.kind))


def _char_offsets(data: bytes, length: int) -> Callable[[int], int]:
    """Byte offset in the UTF-8 text -> character offset (identity for ASCII text)."""
    if len(data) == length:
        return int
    import numpy as np

    leads = np.cumsum((np.frombuffer(data, dtype=np.uint8) & 0xC0) != 0x80)
    return lambda offset: int(leads[offset - 1]) if offset > 0 else 0


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
