"""``text``: a keyword or phrase, found case-insensitively as whole words in an item's text."""

from __future__ import annotations

from suraksha.signals.errors import InvalidSignal
from suraksha.signals.text import TextRules, scan_text
from suraksha.signals.types.base import IndexKind, SignalCategory, SignalType

MAX_LENGTH = 1000


class TextSignal(SignalType):
    name = "text"
    te_name = "raw_text"
    index_kind = IndexKind.KEYWORDS
    category = SignalCategory.TEXT
    description = f"a keyword or phrase (1-{MAX_LENGTH} characters), matched as whole words, any case"

    def normalize(self, value: str) -> str:
        """Lower case, whitespace runs as one space."""
        v = " ".join(value.split()).lower() if isinstance(value, str) else ""
        if not v or len(v) > MAX_LENGTH:
            raise InvalidSignal(f"a text signal is 1-{MAX_LENGTH} characters")
        return v

    def distance(self, query: str, banked: str) -> int:
        """0 when the banked keyword occurs in the query text as whole words, else 1."""
        return 0 if scan_text(query, TextRules(keywords=[banked], regexes=[])) else 1

    def examples(self) -> tuple[str, ...]:
        return ("secret meetup", "known-bad phrase")
