"""Policy: ordered, declarative YAML rules from a scan's facts to a verdict and actions.

- ``load_policy(text | path | mapping) -> Policy`` (``PolicyError`` on any mistake)
- ``default_policy() -> Policy``: the shipped ``default.yaml``
- ``Policy.evaluate(ScanFacts) -> Verdict``; ``Policy.settings``; ``Policy.review_required_before_report(dest)``
- actions: ``ActionRequest(kind: ActionKind, argument)`` (``suraksha.policy.actions``), one name per action
- facts and verdict: ``suraksha.policy.model``; a verdict's ``facts`` (``Fact``, ``FactKind``) say as
  data which kinds of condition fired
The rule language and its semantics: docs/policy.md.
"""

from suraksha.policy.actions import PLATFORM_ACTIONS, REPORT_DESTINATIONS, ActionKind, ActionRequest, InvalidAction
from suraksha.policy.engine import Policy, PolicySettings, Rule
from suraksha.policy.errors import PolicyError
from suraksha.policy.loader import default_policy, load_policy
from suraksha.policy.model import Fact, FactKind, MatchFact, ScanFacts, ScoreFact, TextFact, Verdict

__all__ = [
    "PLATFORM_ACTIONS",
    "REPORT_DESTINATIONS",
    "ActionKind",
    "ActionRequest",
    "Fact",
    "FactKind",
    "InvalidAction",
    "MatchFact",
    "Policy",
    "PolicyError",
    "PolicySettings",
    "Rule",
    "ScanFacts",
    "ScoreFact",
    "TextFact",
    "Verdict",
    "default_policy",
    "load_policy",
]
