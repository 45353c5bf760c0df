"""What a person's final decision does: the policy's actions per decision category.

A scan's rules act on what a machine found; a reviewer's final decision acts on what a person saw,
whatever flagged the item (a bank match, a classifier, a user report, a text or link rule, a
rescan). The policy file says, per category, which actions that decision takes::

    decisions:
      csam: [remove_item, suspend_account, preserve, "report:ncmec"]
      grooming: [remove_item, suspend_account, preserve, "report:ncmec"]
      not_violating: [restore, notify_user]
    reports_by_country:          # authorities an item's country adds to any reporting decision
      IN: [in_police]            # POCSO Act s.19-21, POCSO Rules 2020 rule 11
      GB: [uk_nca]               # Online Safety Act 2023 s.66

``restore`` (and the ``notify_user`` that goes with it) is allowed only for ``not_violating`` and is
carried out only when the item was actioned automatically (the cases area checks the actions on
record). A category missing from the file takes the shipped default below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from suraksha.policy.actions import REPORT_DESTINATIONS, ActionKind, ActionRequest, InvalidAction, country_code
from suraksha.policy.errors import PolicyError

#: Decision categories, the one spelling everywhere (cases, reports, transparency, the UI).
#: ``csam`` is an image or video (with an industry class A1-B2); ``csam_link`` a link to CSAM;
#: ``grooming`` grooming or solicitation (NCMEC "Online Enticement of Children for Sexual Acts");
#: ``sextortion`` sexual extortion of a child.
DECISION_CATEGORIES: tuple[str, ...] = (
    "not_violating",
    "csam",
    "csam_link",
    "grooming",
    "sextortion",
    "ncii",
    "adult",
    "other",
)
#: What a decision may ask for (no review: it is the review; no withholding: that is a legal order's).
DECISION_ACTIONS: frozenset[ActionKind] = frozenset(
    {
        ActionKind.REMOVE_ITEM,
        ActionKind.SUSPEND_ACCOUNT,
        ActionKind.PRESERVE,
        ActionKind.REPORT,
        ActionKind.RESTORE,
        ActionKind.NOTIFY_USER,
    }
)
_CHILD_SAFETY = ("remove_item", "suspend_account", "preserve", "report:ncmec")
DEFAULT_DECISIONS: dict[str, tuple[str, ...]] = {
    "not_violating": ("restore", "notify_user"),
    "csam": _CHILD_SAFETY,
    "csam_link": _CHILD_SAFETY,
    "grooming": _CHILD_SAFETY,
    "sextortion": _CHILD_SAFETY,
    "ncii": ("remove_item", "preserve"),
    "adult": (),
    "other": ("remove_item",),
}
DEFAULT_REPORTS_BY_COUNTRY: dict[str, tuple[str, ...]] = {"IN": ("in_police",), "GB": ("uk_nca",)}


@dataclass(frozen=True)
class DecisionActions:
    """Per category, the actions a final decision takes; per country, the extra report destinations."""

    by_category: Mapping[str, tuple[ActionRequest, ...]] = field(default_factory=dict)
    reports_by_country: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def for_decision(self, category: str, country: str | None) -> tuple[ActionRequest, ...]:
        """The actions of a final decision on an item posted from ``country``: the category's, plus a
        report to each authority the country requires when the category reports at all."""
        if category not in DECISION_CATEGORIES:
            raise PolicyError(f"unknown decision category {category!r}; expected one of {', '.join(DECISION_CATEGORIES)}")
        actions = list(self.by_category.get(category, ()))
        if any(a.kind is ActionKind.REPORT for a in actions):
            for dest in self.reports_by_country.get((country or "").upper(), ()):
                request = ActionRequest(ActionKind.REPORT, dest)
                if request not in actions:
                    actions.append(request)
        return tuple(actions)


def _parse_actions(category: str, raw: Any) -> tuple[ActionRequest, ...]:
    where = f"decisions.{category}"
    if not isinstance(raw, list):
        raise PolicyError(f"must be a list of actions, got {type(raw).__name__}", field=where)
    out: list[ActionRequest] = []
    for j, text in enumerate(raw):
        try:
            request = ActionRequest.parse(text)
        except InvalidAction as exc:
            raise PolicyError(str(exc), field=f"{where}[{j}]") from None
        if request.kind not in DECISION_ACTIONS:
            raise PolicyError(
                f"a decision cannot ask for {str(request)!r}; expected one of "
                f"{', '.join(sorted(k.value for k in DECISION_ACTIONS))}",
                field=f"{where}[{j}]",
            )
        if request.kind in (ActionKind.RESTORE, ActionKind.NOTIFY_USER) and category != "not_violating":
            raise PolicyError(f"{request.kind.value} belongs to not_violating only", field=f"{where}[{j}]")
        if category == "not_violating" and request.kind not in (ActionKind.RESTORE, ActionKind.NOTIFY_USER):
            raise PolicyError(f"a not-violating decision cannot ask for {request.kind.value}", field=f"{where}[{j}]")
        if request not in out:
            out.append(request)
    return tuple(out)


def parse_decisions(raw_decisions: Any, raw_reports: Any) -> DecisionActions:
    """The ``decisions`` and ``reports_by_country`` sections (absent: the shipped defaults)."""
    if raw_decisions is None:
        raw_decisions = {}
    if not isinstance(raw_decisions, Mapping):
        raise PolicyError("must be a mapping from decision category to a list of actions", field="decisions")
    for key in raw_decisions:
        if key not in DECISION_CATEGORIES:
            raise PolicyError(
                f"unknown decision category {key!r}; expected one of {', '.join(DECISION_CATEGORIES)}", field=f"decisions.{key}"
            )
    by_category = {
        c: _parse_actions(c, list(raw_decisions[c]) if c in raw_decisions and raw_decisions[c] is not None else [])
        if c in raw_decisions
        else tuple(ActionRequest.parse(a) for a in DEFAULT_DECISIONS[c])
        for c in DECISION_CATEGORIES
    }
    if raw_reports is None:
        reports = dict(DEFAULT_REPORTS_BY_COUNTRY)
    else:
        if not isinstance(raw_reports, Mapping):
            raise PolicyError("must be a mapping from country code to report destinations", field="reports_by_country")
        reports = {}
        for country, dests in raw_reports.items():
            where = f"reports_by_country.{country}"
            try:
                code = country_code(country)
            except InvalidAction as exc:
                raise PolicyError(str(exc), field=where) from None
            if not isinstance(dests, list) or any(d not in REPORT_DESTINATIONS for d in dests):
                raise PolicyError(f"must be a list of destinations from {', '.join(REPORT_DESTINATIONS)}", field=where)
            reports[code] = tuple(dict.fromkeys(dests))
    return DecisionActions(by_category, reports)


def default_decisions() -> DecisionActions:
    return parse_decisions(None, None)
