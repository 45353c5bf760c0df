"""The one call the adapters (CLI, API, web) make: build a report of a kind in a format.

``render_report("summary", "pdf", "2022-01-01", "2025-12-31")`` -> ``Rendered(content, media_type,
filename)``. Bad input raises ``PeriodError`` (a ``ValueError``) with the reason, before any query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from suraksha.transparency.periods import PeriodError

KINDS = ("figures", "compliance", "summary")
FORMATS = ("json", "csv", "pdf")
MEDIA_TYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8", "pdf": "application/pdf"}


@dataclass(frozen=True)
class Rendered:
    content: bytes
    media_type: str
    filename: str


def build(
    kind: str,
    start: dt.date | str,
    end: dt.date | str,
    *,
    by: str = "month",
    jurisdiction: str | None = None,
    now: dt.datetime | None = None,
) -> Any:
    """The report object (``Figures``, ``ComplianceReport`` or ``CommissionSummary``)."""
    if kind == "figures":
        from suraksha.transparency.figures import figures

        return figures(start, end, by=by, jurisdiction=jurisdiction, now=now)
    if kind == "compliance":
        from suraksha.transparency.compliance import compliance_report

        if jurisdiction not in (None, "", "in"):
            raise PeriodError("the Rule 4(1)(d) compliance report is India's; use --jurisdiction in or leave it out")
        return compliance_report(start, end, now=now)
    if kind == "summary":
        from suraksha.transparency.summary import commission_summary

        return commission_summary(start, end, jurisdiction=jurisdiction, now=now)
    raise PeriodError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")


def render_report(
    kind: str,
    fmt: str,
    start: dt.date | str,
    end: dt.date | str,
    *,
    by: str = "month",
    jurisdiction: str | None = None,
    now: dt.datetime | None = None,
) -> Rendered:
    if fmt not in FORMATS:
        raise PeriodError(f"format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    if kind not in KINDS:
        raise PeriodError(f"kind must be one of {', '.join(KINDS)}, not {kind!r}")
    report = build(kind, start, end, by=by, jurisdiction=jurisdiction, now=now)
    if fmt == "json":
        from suraksha.transparency.exports import to_json

        content = to_json(report)
    elif fmt == "csv":
        from suraksha.transparency.exports import to_csv

        content = to_csv(report)
    else:
        from suraksha.transparency import pdf

        content = {"figures": pdf.figures_pdf, "compliance": pdf.compliance_pdf, "summary": pdf.summary_pdf}[kind](report)
    where = f"-{report.jurisdiction}" if getattr(report, "jurisdiction", None) else ""
    name = f"suraksha-{kind}-{report_start(report)}-{report_end(report)}{where}.{fmt}"
    return Rendered(content, MEDIA_TYPES[fmt], name)


def report_start(report: Any) -> str:
    if hasattr(report, "start") and isinstance(report.start, dt.date):
        return report.start.isoformat()
    return report.months[0].month if report.months else "none"


def report_end(report: Any) -> str:
    if hasattr(report, "end") and isinstance(report.end, dt.date):
        return report.end.isoformat()
    return report.months[-1].month if report.months else "none"
