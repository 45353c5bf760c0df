"""The condition language of ``when:``: a small tree of typed tests, parsed once, never eval'd.

A condition is a mapping with one key (several keys mean all of them):

    match:     {label, bank, signal_type, transform, max_distance}   any bank match satisfying all
    score:     {name, gte, gt, lte, lt}                              any classifier score in bounds
    text:      {kind, value}                                         any text hit (keyword/regex/onion/link)
    item_kind: post | [post, message]                                the item's kind
    country:   IN | [IN, GB]                                         the item's country (context)
    user_report: true                                                the item came in because a person reported it
    all: [...] / any: [...] / not: {...}                            combinators
    always: true                                                     fires on every item

``test`` returns None when the condition does not hold, otherwise one ``Finding`` per fact that
made it hold: the words for people (the verdict's ``reasons``) and the ``Fact`` for programs (the
verdict's ``facts``, which transparency counts), so a verdict says exactly why it was reached and
nothing downstream has to read the words.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from suraksha.errors import InvalidInput
from suraksha.policy.model import (
    ITEM_KINDS,
    TEXT_KINDS,
    USER_REPORT_SOURCES,
    Fact,
    FactKind,
    MatchFact,
    ScanFacts,
    ScoreFact,
    TextFact,
    match_kind,
    text_kind,
)

KEYS: tuple[str, ...] = ("match", "score", "text", "item_kind", "country", "user_report", "all", "any", "not", "always")
MATCH_KEYS: tuple[str, ...] = ("label", "bank", "signal_type", "transform", "max_distance")
SCORE_KEYS: tuple[str, ...] = ("name", "gte", "gt", "lte", "lt")
TEXT_KEYS: tuple[str, ...] = ("kind", "value")
_BOUNDS = {"gte": ">=", "gt": ">", "lte": "<=", "lt": "<"}
_MAX_DEPTH = 32


class ConditionError(InvalidInput):
    """A condition is invalid; ``field`` is its dotted path inside the rule (``when.all[1].match.label``)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def suggest(word: Any, choices: Sequence[str]) -> str:
    """' (did you mean 'x'?)' for a near miss, else ''."""
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_key(key: Any, allowed: Sequence[str]) -> str:
    return f"unknown key {key!r}{suggest(key, allowed)}; expected one of {', '.join(allowed)}"


def _clip(value: str, n: int = 100) -> str:
    return value if len(value) <= n else value[: n - 1] + "…"


def _num(v: float) -> str:
    return f"{v:.4g}"


# --------------------------------------------------------------------------- nodes
@dataclass(frozen=True)
class Finding:
    """One reason a condition holds: ``reason`` in words, ``fact`` as data (its ``rule`` is set by the engine)."""

    reason: str
    fact: Fact


def _context(reason: str, condition: str, value: str | None = None) -> Finding:
    return Finding(reason, Fact(FactKind.CONTEXT, condition=condition, value=value))


def _unique(found: list[Finding]) -> list[Finding]:
    """In order, without repeats (the same match met twice is one reason)."""
    return list(dict.fromkeys(found))


class Condition:
    def test(self, facts: ScanFacts) -> list[Finding] | None:  # pragma: no cover - interface
        raise NotImplementedError

    def describe(self) -> str:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class Always(Condition):
    def test(self, facts: ScanFacts) -> list[Finding] | None:
        return [_context("always", "always")]

    def describe(self) -> str:
        return "always"


@dataclass(frozen=True)
class MatchCond(Condition):
    labels: frozenset[str] | None = None
    banks: frozenset[str] | None = None
    signal_types: frozenset[str] | None = None
    transforms: frozenset[str] | None = None
    max_distance: int | None = None

    def _holds(self, m: MatchFact) -> bool:
        return (
            (self.labels is None or m.label in self.labels)
            and (self.banks is None or m.bank in self.banks)
            and (self.signal_types is None or m.signal_type in self.signal_types)
            and (self.transforms is None or (m.transform or "") in self.transforms)
            and (self.max_distance is None or m.distance <= self.max_distance)
        )

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        found = [Finding(describe_match(m), Fact(match_kind(m.signal_type), match=m)) for m in facts.matches if self._holds(m)]
        return _unique(found) or None

    def describe(self) -> str:
        parts = [
            _set_words("label", self.labels),
            _set_words("bank", self.banks),
            _set_words("signal type", self.signal_types),
            _set_words("transform", self.transforms),
        ]
        if self.max_distance is not None:
            parts.append(f"distance <= {self.max_distance}")
        parts = [p for p in parts if p]
        return "match" + (f" ({', '.join(parts)})" if parts else "")


@dataclass(frozen=True)
class ScoreCond(Condition):
    names: frozenset[str]
    bounds: tuple[tuple[str, float], ...]  # (op, value), op in gte/gt/lte/lt

    def _holds(self, s: ScoreFact) -> bool:
        if s.name not in self.names:
            return False
        v = float(s.value)
        if math.isnan(v):
            return False
        for op, bound in self.bounds:
            if op == "gte" and not v >= bound:
                return False
            if op == "gt" and not v > bound:
                return False
            if op == "lte" and not v <= bound:
                return False
            if op == "lt" and not v < bound:
                return False
        return True

    def _bounds_words(self) -> str:
        return ", ".join(f"{_BOUNDS[op]} {_num(b)}" for op, b in self.bounds)

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        found = [
            Finding(f"score {s.name} {_num(float(s.value))} ({self._bounds_words()})", Fact(FactKind.CLASSIFIER, score=s))
            for s in facts.scores
            if self._holds(s)
        ]
        return _unique(found) or None

    def describe(self) -> str:
        return f"score {'/'.join(sorted(self.names))} {self._bounds_words()}"


@dataclass(frozen=True)
class TextCond(Condition):
    kinds: frozenset[str] | None = None
    values: frozenset[str] | None = None  # compared case-insensitively

    def _holds(self, t: TextFact) -> bool:
        return (self.kinds is None or t.kind in self.kinds) and (self.values is None or t.value.casefold() in self.values)

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        found = [Finding(describe_text(t), Fact(text_kind(t.kind), text=t)) for t in facts.text_hits if self._holds(t)]
        return _unique(found) or None

    def describe(self) -> str:
        parts = [_set_words("kind", self.kinds), _set_words("value", self.values)]
        parts = [p for p in parts if p]
        return "text hit" + (f" ({', '.join(parts)})" if parts else "")


@dataclass(frozen=True)
class ItemKindCond(Condition):
    kinds: frozenset[str]

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        if facts.item_kind not in self.kinds:
            return None
        return [_context(f"item kind {facts.item_kind}", "item_kind", facts.item_kind)]

    def describe(self) -> str:
        return f"item kind {'/'.join(sorted(self.kinds))}"


@dataclass(frozen=True)
class CountryCond(Condition):
    countries: frozenset[str]

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        c = (facts.country or "").upper()
        return [_context(f"country {c}", "country", c)] if c in self.countries else None

    def describe(self) -> str:
        return f"country {'/'.join(sorted(self.countries))}"


@dataclass(frozen=True)
class UserReportCond(Condition):
    """The item was submitted because a person reported it (``context.source`` complaint / user_report)."""

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        if facts.source not in USER_REPORT_SOURCES:
            return None
        return [
            Finding(
                f"reported by a user ({facts.source})", Fact(FactKind.USER_REPORT, condition="user_report", value=facts.source)
            )
        ]

    def describe(self) -> str:
        return "a user report"


@dataclass(frozen=True)
class AllCond(Condition):
    parts: tuple[Condition, ...]

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        found: list[Finding] = []
        for p in self.parts:
            r = p.test(facts)
            if r is None:
                return None
            found += r
        return _unique(found)

    def describe(self) -> str:
        return "all of (" + "; ".join(p.describe() for p in self.parts) + ")"


@dataclass(frozen=True)
class AnyCond(Condition):
    parts: tuple[Condition, ...]

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        found: list[Finding] = []
        held = False
        for p in self.parts:  # every branch that holds is a reason, not just the first
            r = p.test(facts)
            if r is not None:
                held = True
                found += r
        return _unique(found) if held else None

    def describe(self) -> str:
        return "any of (" + "; ".join(p.describe() for p in self.parts) + ")"


@dataclass(frozen=True)
class NotCond(Condition):
    part: Condition

    def test(self, facts: ScanFacts) -> list[Finding] | None:
        if self.part.test(facts) is not None:
            return None
        return [_context(f"no {self.part.describe()}", "not", self.part.describe())]

    def describe(self) -> str:
        return f"not {self.part.describe()}"


# --------------------------------------------------------------------------- wording
def describe_match(m: MatchFact) -> str:
    """e.g. "match in bank 'known' (label csam, pdq distance 4)"."""
    extra = f", transform {m.transform}" if m.transform else ""
    return f"match in bank {m.bank!r} (label {m.label}, {m.signal_type} distance {m.distance}{extra})"


def describe_text(t: TextFact) -> str:
    value = _clip(t.value)
    if t.kind == "onion":
        return f"onion address {value} in the text"
    if t.kind == "keyword":
        return f"keyword {value!r} in the text"
    if t.kind == "regex":
        return f"text matching a regex: {value!r}"
    if t.kind == "link":
        return f"link {value}"
    return f"{t.kind} hit {value!r}"


def _set_words(name: str, values: frozenset[str] | None) -> str:
    if values is None:
        return ""
    return f"{name} {'/'.join(sorted(values))}"


# --------------------------------------------------------------------------- parsing
def parse_condition(raw: Any, path: str = "when", depth: int = 0) -> Condition:
    """Parse a ``when:`` value; raises ConditionError naming the exact field."""
    if depth > _MAX_DEPTH:
        raise ConditionError(path, f"conditions nested deeper than {_MAX_DEPTH} levels")
    if not isinstance(raw, Mapping):
        raise ConditionError(path, f"must be a mapping such as {{match: {{label: csam}}}}, got {_type(raw)}")
    if not raw:
        raise ConditionError(path, "empty condition; write `always: true` for a rule that fires on every item")
    parts = [_parse_one(key, value, path, depth) for key, value in raw.items()]
    return parts[0] if len(parts) == 1 else AllCond(tuple(parts))


def _parse_one(key: Any, value: Any, path: str, depth: int) -> Condition:
    here = f"{path}.{key}"
    if key == "match":
        return _parse_match(value, here)
    if key == "score":
        return _parse_score(value, here)
    if key == "text":
        return _parse_text(value, here)
    if key == "item_kind":
        return ItemKindCond(_strings(value, here, allowed=ITEM_KINDS))
    if key == "country":
        return CountryCond(_countries(value, here))
    if key == "user_report":
        if value is not True:
            raise ConditionError(here, "must be true (for items nobody reported, write `not: {user_report: true}`)")
        return UserReportCond()
    if key in ("all", "any"):
        if not isinstance(value, list) or not value:
            raise ConditionError(here, f"must be a non-empty list of conditions, got {_type(value)}")
        parts = tuple(parse_condition(v, f"{here}[{i}]", depth + 1) for i, v in enumerate(value))
        return AllCond(parts) if key == "all" else AnyCond(parts)
    if key == "not":
        return NotCond(parse_condition(value, here, depth + 1))
    if key == "always":
        if value is not True:
            raise ConditionError(here, "must be true (leave the rule out to never fire it)")
        return Always()
    raise ConditionError(path, unknown_key(key, KEYS))


def _mapping(value: Any, path: str, allowed: Sequence[str]) -> Mapping[str, Any]:
    if value is None:
        value = {}
    if not isinstance(value, Mapping):
        raise ConditionError(path, f"must be a mapping, got {_type(value)}")
    for k in value:
        if k not in allowed:
            raise ConditionError(path, unknown_key(k, allowed))
    return value


def _parse_match(value: Any, path: str) -> MatchCond:
    from suraksha.signals import SIGNAL_TYPES

    m = _mapping(value, path, MATCH_KEYS)
    max_distance = m.get("max_distance")
    if max_distance is not None:
        if isinstance(max_distance, bool) or not isinstance(max_distance, int) or max_distance < 0:
            raise ConditionError(f"{path}.max_distance", f"must be a whole number >= 0, got {max_distance!r}")
    return MatchCond(
        labels=_strings(m["label"], f"{path}.label") if "label" in m else None,
        banks=_strings(m["bank"], f"{path}.bank") if "bank" in m else None,
        signal_types=_strings(m["signal_type"], f"{path}.signal_type", allowed=SIGNAL_TYPES) if "signal_type" in m else None,
        transforms=_strings(m["transform"], f"{path}.transform") if "transform" in m else None,
        max_distance=max_distance,
    )


def _parse_score(value: Any, path: str) -> ScoreCond:
    m = _mapping(value, path, SCORE_KEYS)
    if "name" not in m:
        raise ConditionError(f"{path}.name", "missing: which score, e.g. name: nudity")
    bounds: list[tuple[str, float]] = []
    for op in ("gte", "gt", "lte", "lt"):
        if op not in m:
            continue
        b = m[op]
        if isinstance(b, bool) or not isinstance(b, (int, float)) or not math.isfinite(b):
            raise ConditionError(f"{path}.{op}", f"must be a number, got {b!r}")
        bounds.append((op, float(b)))
    if not bounds:
        raise ConditionError(path, "needs at least one bound: gte, gt, lte or lt")
    return ScoreCond(_strings(m["name"], f"{path}.name"), tuple(bounds))


def _parse_text(value: Any, path: str) -> TextCond:
    m = _mapping(value, path, TEXT_KEYS)
    kinds = _strings(m["kind"], f"{path}.kind", allowed=TEXT_KINDS) if "kind" in m else None
    values = frozenset(v.casefold() for v in _strings(m["value"], f"{path}.value")) if "value" in m else None
    return TextCond(kinds, values)


def _strings(value: Any, path: str, allowed: Sequence[str] | None = None) -> frozenset[str]:
    items = value if isinstance(value, list) else [value]
    if not items:
        raise ConditionError(path, "must not be an empty list")
    out = []
    for i, v in enumerate(items):
        where = f"{path}[{i}]" if isinstance(value, list) else path
        if not isinstance(v, str) or not v.strip():
            raise ConditionError(where, f"must be a non-empty string or a list of them, got {v!r}")
        if allowed is not None and v not in allowed:
            raise ConditionError(where, f"{v!r} is not one of {', '.join(allowed)}{suggest(v, allowed)}")
        out.append(v)
    return frozenset(out)


def _countries(value: Any, path: str) -> frozenset[str]:
    items = value if isinstance(value, list) else [value]
    out = []
    for i, v in enumerate(items):
        where = f"{path}[{i}]" if isinstance(value, list) else path
        out.append(country_code(v, where))
    if not out:
        raise ConditionError(path, "must not be an empty list")
    return frozenset(out)


def country_code(v: Any, path: str) -> str:
    """An ISO 3166-1 alpha-2 code, upper-cased; YAML's ``NO`` -> false trap gets its own hint."""
    if isinstance(v, bool):
        raise ConditionError(path, f"YAML read {v!r} as a boolean; quote the country code, e.g. 'NO'")
    if not isinstance(v, str) or len(v) != 2 or not v.isascii() or not v.isalpha():
        raise ConditionError(path, f"must be a two-letter ISO 3166-1 country code such as IN, got {v!r}")
    return v.upper()


def _type(v: Any) -> str:
    if v is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(v), type(v).__name__
    )
