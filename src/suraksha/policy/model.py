"""The facts a scan hands to the policy, and the verdict it gets back.

Plain dataclasses with no behaviour beyond (de)serialising, so the pipeline, the API and tests can
build them without importing the rule engine. Field names are the pipeline's contract
(``pipeline/scan.py``).

A verdict says what fired in two ways: ``reasons`` in words, for people, and ``facts``, for
programs: one ``Fact`` per condition that fired, with its ``FactKind`` (hash, link, text,
classifier, user report, context) and its details (bank, entry and distance; classifier, score and
value; the text hit). Transparency figures and reports read the facts, never the words, so
rewording a reason changes no figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from suraksha.policy.actions import ActionKind, ActionRequest

#: Verdicts from most lenient to strictest; the strictest verdict of all firing rules wins.
VERDICTS: tuple[str, ...] = ("allow", "review", "remove")

#: Kinds of text hit the signals package produces.
TEXT_KINDS: tuple[str, ...] = ("keyword", "regex", "onion", "link")

#: Kinds of item a platform submits. Defined here, the highest area that needs them (the policy's
#: ``item_kind`` condition); ingest validates against the same tuple.
ITEM_KINDS: tuple[str, ...] = ("post", "message", "comment", "profile", "file", "story", "other")

#: ``context.source`` values of an item submitted because a person reported it (``user_report`` facts).
USER_REPORT_SOURCES: tuple[str, ...] = ("complaint", "user_report")

#: Signal types whose matches are links, and text; every other signal type is a media hash.
LINK_SIGNAL_TYPES: frozenset[str] = frozenset({"url", "domain"})
TEXT_SIGNAL_TYPES: frozenset[str] = frozenset({"text"})
LINK_TEXT_KINDS: frozenset[str] = frozenset({"onion", "link"})


@dataclass(frozen=True)
class MatchFact:
    """A signal of the item hit an entry of ``bank`` (labelled ``label``) at ``distance``."""

    bank: str
    label: str
    signal_type: str
    distance: int
    transform: str | None = None  # e.g. a dihedral variant of the picture that matched
    entry_id: int | None = None  # the bank entry it hit, when known

    def to_json(self) -> dict[str, Any]:
        return {
            "bank": self.bank,
            "label": self.label,
            "signal_type": self.signal_type,
            "distance": self.distance,
            "transform": self.transform,
            "entry_id": self.entry_id,
        }


@dataclass(frozen=True)
class ScoreFact:
    """A classifier output, e.g. ``nudity`` = 0.93 (probabilities are 0..1), and which classifier gave it."""

    name: str
    value: float
    classifier: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"classifier": self.classifier, "name": self.name, "value": self.value}


@dataclass(frozen=True)
class TextFact:
    """A hit in the item's text or links: ``kind`` is keyword | regex | onion | link."""

    kind: str
    value: str

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value}


@dataclass
class ScanFacts:
    """Everything the policy may look at for one item."""

    matches: list[MatchFact] = field(default_factory=list)
    scores: list[ScoreFact] = field(default_factory=list)
    text_hits: list[TextFact] = field(default_factory=list)
    item_kind: str = "post"
    country: str | None = None  # ISO 3166-1 alpha-2 from the item's context, if known
    source: str | None = None  # the item's ``context.source`` (``complaint``, ``user_report``...), if given


class FactKind(StrEnum):
    """Which kind of condition fired. The value is stored with the verdict and counted by transparency."""

    HASH = "hash"  # a media hash (sha256, md5, pdq, vpdq...) matched a bank entry
    LINK = "link"  # a URL or domain matched a bank entry, or an onion address / link was found in the text
    TEXT = "text"  # the text matched a text-bank entry, or a keyword / regex hit
    CLASSIFIER = "classifier"  # a classifier score within a rule's bounds
    USER_REPORT = "user_report"  # the item came in because a person reported it (``user_report: true``)
    CONTEXT = "context"  # the item's circumstances: its kind, its country, ``always``, or an absence (``not``)


def match_kind(signal_type: str) -> FactKind:
    """The kind of fact a bank match of ``signal_type`` is: its registered type's category
    (``signals.types``: hash, link or text); a name no type is registered under counts by the
    names Suraksha has always used (url and domain are links, text is text, the rest hashes)."""
    # Imported here, not at the top: the registry loads the hashing code (numpy, about 0.25 s) and
    # ingest's schemas import this module for ITEM_KINDS; a policy's match condition loads it anyway.
    from suraksha.signals.types import find_signal_type

    registered = find_signal_type(signal_type)
    if registered is not None:
        return FactKind(registered.category.value)
    if signal_type in LINK_SIGNAL_TYPES:
        return FactKind.LINK
    if signal_type in TEXT_SIGNAL_TYPES:
        return FactKind.TEXT
    return FactKind.HASH


def text_kind(kind: str) -> FactKind:
    """The kind of fact a text hit of ``kind`` (keyword, regex, onion, link) is."""
    return FactKind.LINK if kind in LINK_TEXT_KINDS else FactKind.TEXT


@dataclass(frozen=True)
class Fact:
    """One condition that made a rule fire: its kind, the rule, and exactly one of its details.

    ``match`` for hash / link / text bank matches, ``score`` for classifier facts, ``text`` for text
    hits, ``condition`` and ``value`` for the others (``("country", "IN")``, ``("item_kind", "post")``,
    ``("always", None)``, ``("not", <the negated condition in words>)``, ``("user_report", <source>)``).
    """

    kind: FactKind
    rule: str = ""
    match: MatchFact | None = None
    score: ScoreFact | None = None
    text: TextFact | None = None
    condition: str | None = None
    value: str | None = None

    def __post_init__(self) -> None:
        details = sum(x is not None for x in (self.match, self.score, self.text, self.condition))
        if details != 1:
            raise ValueError(f"a fact has exactly one of match, score, text or condition, got {details}")

    def to_json(self) -> dict[str, Any]:
        """The stored form: ``{"kind", "rule"}`` plus ``match`` | ``score`` | ``text`` | ``condition`` (+ ``value``)."""
        out: dict[str, Any] = {"kind": self.kind.value, "rule": self.rule}
        if self.match is not None:
            out["match"] = self.match.to_json()
        elif self.score is not None:
            out["score"] = self.score.to_json()
        elif self.text is not None:
            out["text"] = self.text.to_json()
        else:
            out["condition"] = self.condition
            out["value"] = self.value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Fact:
        """The inverse of ``to_json`` (ValueError for an unknown kind or a malformed detail)."""
        kind = FactKind(data["kind"])
        rule = str(data.get("rule") or "")
        if (m := data.get("match")) is not None:
            return cls(
                kind,
                rule,
                match=MatchFact(
                    str(m["bank"]),
                    str(m["label"]),
                    str(m["signal_type"]),
                    int(m["distance"]),
                    m.get("transform"),
                    m.get("entry_id"),
                ),
            )
        if (s := data.get("score")) is not None:
            return cls(kind, rule, score=ScoreFact(str(s["name"]), float(s["value"]), s.get("classifier")))
        if (t := data.get("text")) is not None:
            return cls(kind, rule, text=TextFact(str(t["kind"]), str(t["value"])))
        return cls(kind, rule, condition=str(data["condition"]), value=data.get("value"))


def fact_kinds(stored: Any) -> frozenset[FactKind]:
    """The kinds in a stored facts list (``items.facts``; None or anything unreadable is none)."""
    if not isinstance(stored, list):
        return frozenset()
    out: set[FactKind] = set()
    for f in stored:
        if isinstance(f, Mapping):
            try:
                out.add(FactKind(str(f.get("kind"))))
            except ValueError:
                continue  # a kind from a newer version: not one this version counts
    return frozenset(out)


@dataclass
class Verdict:
    """What the policy decided for one item.

    ``rule`` is the deciding rule (the first firing rule with the winning verdict); ``fired`` lists
    every rule that fired, in policy order; ``reasons`` says in words, per firing rule, which facts
    made it fire, and ``facts`` says the same as data. ``actions`` never holds a priority: the
    highest priority asked for is ``priority``.
    """

    verdict: str
    actions: list[ActionRequest]
    rule: str | None
    reasons: list[str]
    priority: int = 0
    fired: list[str] = field(default_factory=list)
    facts: list[Fact] = field(default_factory=list)

    def asks_for(self, kind: ActionKind) -> bool:
        return any(a.kind is kind for a in self.actions)

    def stored_actions(self) -> list[str]:
        """The actions as stored with the item and shown by the API: ``["remove_item", "report:ncmec"]``."""
        return [str(a) for a in self.actions]

    def stored_facts(self) -> list[dict[str, Any]]:
        """The facts as stored with the item (``items.facts``, JSON)."""
        return [f.to_json() for f in self.facts]
