"""The facts a scan hands to the policy, and the verdict it gets back.

Plain dataclasses with no behaviour, so the pipeline, the API and tests can build them without
importing the rule engine. Field names are the pipeline's contract (``pipeline/scan.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Verdicts from most lenient to strictest; the strictest verdict of all firing rules wins.
VERDICTS: tuple[str, ...] = ("allow", "review", "remove")

#: Kinds of text hit the signals package produces.
TEXT_KINDS: tuple[str, ...] = ("keyword", "regex", "onion", "link")


@dataclass(frozen=True)
class MatchFact:
    """A signal of the item hit an entry of ``bank`` (labelled ``label``) at ``distance``."""

    bank: str
    label: str
    signal_type: str
    distance: int
    transform: str | None = None  # e.g. a dihedral variant of the picture that matched


@dataclass(frozen=True)
class ScoreFact:
    """A classifier output, e.g. ``nudity`` = 0.93 (probabilities are 0..1)."""

    name: str
    value: float


@dataclass(frozen=True)
class TextFact:
    """A hit in the item's text or links: ``kind`` is keyword | regex | onion | link."""

    kind: str
    value: str


@dataclass
class ScanFacts:
    """Everything the policy may look at for one item."""

    matches: list[MatchFact] = field(default_factory=list)
    scores: list[ScoreFact] = field(default_factory=list)
    text_hits: list[TextFact] = field(default_factory=list)
    item_kind: str = "post"
    country: str | None = None  # ISO 3166-1 alpha-2 from the item's context, if known


@dataclass
class Verdict:
    """What the policy decided for one item.

    ``rule`` is the deciding rule (the first firing rule with the winning verdict); ``fired`` lists
    every rule that fired, in policy order; ``reasons`` says, per firing rule, which facts made it fire.
    ``actions`` never holds ``priority:<n>``: the highest priority asked for is ``priority``.
    """

    verdict: str
    actions: list[str]
    rule: str | None
    reasons: list[str]
    priority: int = 0
    fired: list[str] = field(default_factory=list)
