"""India's monthly compliance report (IT Rules 2021 Rule 4(1)(d)), one per calendar month in IST.

Rule 4(1)(d) asks a significant social media intermediary to publish, every month, the complaints
received and the action taken on them, and the number of specific communication links or parts of
information removed or disabled through proactive monitoring with automated tools (Rule 4(4)).
The citations are read from the ``in`` jurisdiction profile (``obligations``), not written here.

Each line is one of the transparency figures of that month (``figures(by="month",
jurisdiction="in")``), so this report can never disagree with the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from suraksha.transparency.figures import AUTHORITY_NAMES, SIGNALS, PeriodFigures, figures

OBLIGATION_KEYS = ("monthly_compliance_report", "automated_tools")


@dataclass(frozen=True)
class Line:
    section: str
    measure: str
    value: int | float | None


@dataclass(frozen=True)
class MonthReport:
    month: str  # 2025-03
    start: dt.datetime
    end: dt.datetime
    lines: list[Line]

    def value(self, measure: str) -> int | float | None:
        return next(line.value for line in self.lines if line.measure == measure)


@dataclass(frozen=True)
class ComplianceReport:
    title: str
    citations: list[str]
    jurisdiction: str
    timezone: str
    generated_at: dt.datetime
    months: list[MonthReport]


def _lines(p: PeriodFigures) -> list[Line]:
    complaints = "A. Complaints (Rule 4(1)(d))"
    proactive = "B. Proactive monitoring (Rule 4(1)(d), Rule 4(4))"
    reports = "C. Reports to authorities"
    legal = "D. Orders and requests from authorities"
    out = [
        Line(complaints, "Complaints received", p.complaints_received),
        Line(complaints, "Complaints on which action was taken", p.complaints_actioned),
        Line(complaints, "Items identified through complaints", p.by_complaint),
        Line(proactive, "Items identified by proactive monitoring", p.proactive),
        Line(
            proactive, "Items removed or disabled after proactive monitoring with automated tools", p.removed_proactive_automated
        ),
        *[Line(proactive, f"Items identified by {s} signals", p.by_signal[s]) for s in SIGNALS],
        Line(proactive, "Communication links identified (link signals)", p.by_signal["link"]),
        Line(proactive, "Items removed (all)", p.removed),
        Line(proactive, "Items withheld in a country", p.withheld),
        Line(proactive, "Accounts suspended", p.accounts_suspended),
        Line(
            proactive,
            "Share of identified items found by automated tools",
            None if p.automated_share is None else round(p.automated_share, 4),
        ),
        *[Line(reports, f"Reports filed: {AUTHORITY_NAMES[d]}", r.filed) for d, r in p.reports.items()],
        Line(legal, "Orders and requests received", p.legal.received),
        Line(legal, "Answered", p.legal.answered),
        Line(legal, "Answered within the deadline", p.legal.answered_in_time),
        Line(legal, "Appeals (restorations requested)", p.appeals),
        Line(legal, "Restorations carried out", p.restorations),
    ]
    return out


def _citations() -> list[str]:
    from suraksha.jurisdictions.profiles import load_profile

    profile = load_profile("in")
    found = {o.key: o for o in profile.obligations}
    return [f"{found[k].citation}: {found[k].title}" for k in OBLIGATION_KEYS if k in found]


def compliance_report(start: dt.date | str, end: dt.date | str, *, now: dt.datetime | None = None) -> ComplianceReport:
    """The Rule 4(1)(d) report for every month touching ``start`` .. ``end`` (items in India)."""
    f = figures(start, end, by="month", jurisdiction="in", now=now)
    months = [MonthReport(p.label, p.start, p.end, _lines(p)) for p in f.periods]
    return ComplianceReport(
        "Monthly compliance report under Rule 4(1)(d) of the IT Rules, 2021",
        _citations(),
        "in",
        f.timezone,
        f.generated_at,
        months,
    )
