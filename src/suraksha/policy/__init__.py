"""Policy: ordered, declarative YAML rules from a scan's facts to a verdict and actions.

- ``load_policy(text | path | mapping) -> Policy`` (``PolicyError`` on any mistake)
- ``default_policy() -> Policy``: the shipped ``default.yaml``
- ``Policy.evaluate(ScanFacts) -> Verdict``; ``Policy.settings``; ``Policy.review_required_before_report(dest)``
- facts and verdict: ``suraksha.policy.model``
The rule language and its semantics: docs/policy.md.
"""

from suraksha.policy.engine import REPORT_DESTINATIONS, Policy, PolicySettings, Rule
from suraksha.policy.errors import PolicyError
from suraksha.policy.loader import default_policy, load_policy
from suraksha.policy.model import MatchFact, ScanFacts, ScoreFact, TextFact, Verdict

__all__ = [
    "REPORT_DESTINATIONS", "MatchFact", "Policy", "PolicyError", "PolicySettings", "Rule", "ScanFacts", "ScoreFact",
    "TextFact", "Verdict", "default_policy", "load_policy",
]
