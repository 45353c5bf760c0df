"""JSON and CSV renderings of the three reports (figures, Rule 4(1)(d) compliance, commission summary).

JSON keeps the dataclasses' shape (nested, times in ISO 8601 with their zone). CSV is flat: the
figures are one row per period plus a ``total`` row, nested figures as dotted columns
(``reports.ncmec.filed``, ``upload_to_removal.median_seconds``); the compliance report is one row
per month and measure; the summary one row per year plus the total.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import asdict, is_dataclass
from typing import Any

from suraksha.transparency.compliance import ComplianceReport
from suraksha.transparency.figures import Figures, PeriodFigures
from suraksha.transparency.summary import CommissionSummary


def _plain(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def to_json(report: Figures | ComplianceReport | CommissionSummary) -> bytes:
    kind = {Figures: "figures", ComplianceReport: "compliance", CommissionSummary: "summary"}[type(report)]
    return (json.dumps({"kind": kind, **_plain(report)}, indent=2, ensure_ascii=False) + "\n").encode()


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys; lists are not expected in a figures row."""
    out: dict[str, Any] = {}
    for key, v in value.items():
        name = f"{prefix}{key}"
        if isinstance(v, dict):
            out.update(flatten(v, name + "."))
        else:
            out[name] = v
    return out


def period_row(p: PeriodFigures) -> dict[str, Any]:
    return {k: v for k, v in flatten(_plain(p)).items() if not k.endswith(".destination")}


def _csv(rows: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    # Columns are the union in order of appearance: legal.by_type.* differ between periods.
    fields = list(dict.fromkeys(k for row in rows for k in row))
    if rows:
        writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n", restval="")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue().encode()


def to_csv(report: Figures | ComplianceReport | CommissionSummary) -> bytes:
    if isinstance(report, Figures):
        rows = [period_row(p) for p in report.periods]
        total = period_row(report.total)
        total["label"] = "total"
        return _csv(rows + [total])
    if isinstance(report, ComplianceReport):
        return _csv(
            [
                {"month": m.month, "section": line.section, "measure": line.measure, "value": line.value}
                for m in report.months
                for line in m.lines
            ]
        )
    rows = [flatten(_plain(r)) for r in report.years]
    total = flatten(_plain(report.total))
    total["period"] = "total"
    return _csv(rows + [total])
