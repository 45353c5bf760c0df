"""Evaluating a loaded policy: every rule in order, the strictest verdict wins.

Semantics (docs/policy.md says the same for policy authors):
- Rules are tested in file order. Every rule whose ``when`` holds *fires*; a firing rule with
  ``stop: true`` ends evaluation (rules after it are not tested, rules before it still count).
- The verdict is the strictest of the firing rules' verdicts (remove > review > allow); with none
  firing it is ``allow`` with no rule. ``Verdict.rule`` is the first firing rule with that verdict.
- Actions are the union of every firing rule's actions, in order of first appearance; ``priority``
  is the highest priority any firing rule asked for (0 when none did).
- ``reasons`` holds, for every firing rule, ``"<rule>: <fact>"`` for each fact that made it fire;
  ``facts`` holds the same facts as data (``Fact`` with its kind and ``rule``), in the same order.
Evaluation is pure and deterministic: the same facts always give the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from suraksha.policy.actions import REPORT_DESTINATIONS, ActionRequest
from suraksha.policy.conditions import Condition, Finding
from suraksha.policy.decisions import DecisionActions, default_decisions
from suraksha.policy.model import VERDICTS, Fact, ScanFacts, Verdict

_STRICTNESS = {v: i for i, v in enumerate(VERDICTS)}


@dataclass(frozen=True)
class Rule:
    name: str
    index: int  # 1-based position in the policy
    when: Condition
    verdict: str
    actions: tuple[ActionRequest, ...] = ()
    priority: int = 0
    stop: bool = False
    description: str = ""


@dataclass(frozen=True)
class PolicySettings:
    """Policy-wide switches read by enforcement, review and reporting (not by ``evaluate``).

    ``require_review_before_report``: destinations whose reports wait for a reviewer to confirm the
    material before they are submitted. Default: all of them (see docs/decisions.md for why).
    ``two_person_rule``: a removal or report decision needs a second reviewer to agree.
    """

    require_review_before_report: frozenset[str] = frozenset(REPORT_DESTINATIONS)
    two_person_rule: bool = False


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]
    settings: PolicySettings = field(default_factory=PolicySettings)
    source: str | None = None  # file path, or None for text / the shipped default
    #: One line per old spelling the file used (``remove`` for ``remove_item``...): still read, to be rewritten.
    deprecations: tuple[str, ...] = ()
    #: What a person's final decision does, per category (``policy.decisions``).
    decisions: DecisionActions = field(default_factory=default_decisions)

    def evaluate(self, facts: ScanFacts) -> Verdict:
        fired: list[tuple[Rule, list[Finding]]] = []
        for rule in self.rules:
            why = rule.when.test(facts)
            if why is None:
                continue
            fired.append((rule, why))
            if rule.stop:
                break
        if not fired:
            return Verdict(verdict="allow", actions=[], rule=None, reasons=[], priority=0, fired=[])
        verdict = max((r.verdict for r, _ in fired), key=_STRICTNESS.__getitem__)
        deciding = next(r for r, _ in fired if r.verdict == verdict)
        actions: dict[ActionRequest, None] = {}
        for r, _ in fired:
            actions.update(dict.fromkeys(r.actions))
        reasons = [f"{r.name}: {f.reason}" for r, why in fired for f in why]
        facts_fired: dict[Fact, None] = dict.fromkeys(replace(f.fact, rule=r.name) for r, why in fired for f in why)
        return Verdict(
            verdict=verdict,
            actions=list(actions),
            rule=deciding.name,
            reasons=list(dict.fromkeys(reasons)),
            priority=max(r.priority for r, _ in fired),
            fired=[r.name for r, _ in fired],
            facts=list(facts_fired),
        )

    def review_required_before_report(self, destination: str) -> bool:
        """Whether a report to ``destination`` must wait for a reviewer's confirmation."""
        return destination in self.settings.require_review_before_report

    def rule(self, name: str) -> Rule:
        for r in self.rules:
            if r.name == name:
                return r
        raise KeyError(name)
