"""PDF renderings (fpdf2) of the figures, the Rule 4(1)(d) compliance report and the commission summary.

The PDF is a printed copy: every number in it comes from the same dataclasses as the JSON and CSV,
and the charts (``charts``) are embedded as PNG.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from suraksha.transparency.compliance import ComplianceReport
from suraksha.transparency.figures import AUTHORITY_NAMES, SIGNALS, Figures, Latency, PeriodFigures
from suraksha.transparency.summary import CommissionSummary

_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def hours(seconds: float | None) -> str:
    """A duration for people: hours up to two days, days beyond (a backfilled item's removal took years)."""
    if seconds is None:
        return "-"
    return f"{seconds / 3600:.2f} h" if seconds < 48 * 3600 else f"{seconds / 86400:.1f} d"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


class _Doc:
    """A small wrapper: one font family (DejaVu when installed, else Latin-1 core font), headings,
    paragraphs, tables and images."""

    def __init__(self, title: str, landscape: bool = False) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(orientation="L" if landscape else "P", format="A4")
        self.pdf.set_title(title)
        self.pdf.set_creator("Suraksha")
        if _FONT.is_file() and _FONT_BOLD.is_file():
            self.pdf.add_font("body", "", str(_FONT))
            self.pdf.add_font("body", "B", str(_FONT_BOLD))
            self.family, self.clean = "body", (lambda s: s)
        else:
            self.family = "helvetica"
            self.clean = lambda s: s.encode("latin-1", "replace").decode("latin-1")
        self.pdf.set_auto_page_break(True, margin=12)
        self.pdf.add_page()
        self.width = self.pdf.w - self.pdf.l_margin - self.pdf.r_margin
        self.heading(title, 14)

    def heading(self, text: str, size: int = 11) -> None:
        self.pdf.set_font(self.family, "B", size)
        self.pdf.multi_cell(self.width, size * 0.6, self.clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def para(self, text: str, size: int = 9) -> None:
        self.pdf.set_font(self.family, "", size)
        self.pdf.multi_cell(self.width, 5, self.clean(text), new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(1)

    def table(self, header: list[str], rows: list[list[Any]], size: int = 7, first_col: float = 2.0) -> None:
        self.pdf.set_font(self.family, "", size)
        widths = (first_col, *([1.0] * (len(header) - 1)))
        with self.pdf.table(col_widths=widths, text_align="LEFT", line_height=size * 0.55, first_row_as_headings=True) as table:
            for values in [header, *rows]:
                row = table.row()
                for v in values:
                    row.cell(self.clean("-" if v is None else str(v)))
        self.pdf.ln(2)

    def image(self, png: bytes) -> None:
        self.pdf.image(io.BytesIO(png), w=min(self.width, 240))
        self.pdf.ln(2)

    def output(self) -> bytes:
        return bytes(self.pdf.output())


# --------------------------------------------------------------------------- figures
FIGURE_COLUMNS = (
    "ident.",
    "proact.",
    "compl.",
    "retro.",
    "hash",
    "class.",
    "link",
    "text",
    "human",
    "auto %",
    "removed",
    "withh.",
    "reported",
    "susp.",
    "to removal median",
    "p95",
)
LEGEND = (
    "ident. identified; proact. proactively; compl. by complaint or order; retro. found retroactively; "
    "hash / class.(ifier) / link / text: signals that identified the items (an item can have several); human: no "
    "automated signal; auto %: share found by automated tools; withh. withheld in a country; reported: items with a "
    "filed report; susp. accounts suspended; to removal: upload to acknowledged removal."
)


def _figure_row(p: PeriodFigures) -> list[Any]:
    return [
        p.label,
        p.identified,
        p.proactive,
        p.by_complaint,
        p.retroactive,
        *[p.by_signal[s] for s in SIGNALS],
        p.by_signal["human"],
        percent(p.automated_share),
        p.removed,
        p.withheld,
        p.items_reported,
        p.accounts_suspended,
        hours(p.upload_to_removal.median_seconds),
        hours(p.upload_to_removal.p95_seconds),
    ]


def _latency(name: str, lat: Latency) -> str:
    return f"{name}: {lat.count} measured, median {hours(lat.median_seconds)}, 95th percentile {hours(lat.p95_seconds)}"


def figures_pdf(f: Figures) -> bytes:
    from suraksha.transparency.charts import automation_chart, trend_chart

    doc = _Doc("Suraksha transparency figures", landscape=True)
    where = f"jurisdiction {f.jurisdiction}" if f.jurisdiction else "all jurisdictions"
    doc.para(
        f"Period {f.start.isoformat()} to {f.end.isoformat()} by {f.by}, {where}, periods in {f.timezone}. "
        f"Generated {f.generated_at.isoformat(timespec='seconds')} from stored events. Every figure counts in the period "
        "it happened (found, removed, reported, answered); 'posted' counts findings by when the content was posted."
    )
    doc.table(
        ["period", *FIGURE_COLUMNS], [_figure_row(p) for p in f.periods] + [["total", *_figure_row(f.total)[1:]]], first_col=1.4
    )
    doc.para(LEGEND, 7)
    t = f.total
    doc.heading("Totals")
    lines = [
        f"Identified {t.identified} (proactively {t.proactive}, by complaint {t.by_complaint}; found retroactively "
        f"{t.retroactive}); cleared on review {t.cleared_on_review}.",
        "By signal: "
        + ", ".join(f"{s} {t.by_signal[s]}" for s in (*SIGNALS, "human"))
        + f". Found by automated tools: {t.automated} ({percent(t.automated_share)}).",
        f"Removed {t.removed} (proactively with automated tools {t.removed_proactive_automated}), withheld {t.withheld}, "
        f"accounts suspended {t.accounts_suspended}, appeals {t.appeals}, restorations {t.restorations}.",
        "Reports: "
        + "; ".join(
            f"{AUTHORITY_NAMES[d]} {r.reports} ({r.filed} filed" + "".join(f", {s} {n}" for s, n in r.states.items() if n) + ")"
            for d, r in t.reports.items()
        )
        + f". Items reported: {t.items_reported}.",
        f"Legal requests received {t.legal.received}, answered {t.legal.answered}, in time {t.legal.answered_in_time}, "
        f"late {t.legal.answered_late}, open past due {t.legal.open_overdue}. Complaints received {t.complaints_received}, "
        f"actioned {t.complaints_actioned}.",
        _latency("Upload to removal", t.upload_to_removal) + ". " + _latency("Detection to report", t.detection_to_report) + ".",
    ]
    for line in lines + list(f.notes):
        doc.para(line)
    if f.periods:
        doc.image(trend_chart(f))
        doc.image(automation_chart(f))
    return doc.output()


# --------------------------------------------------------------------------- compliance
def compliance_pdf(c: ComplianceReport) -> bytes:
    doc = _Doc(c.title)
    doc.para(
        f"Jurisdiction: India; months in {c.timezone}. Generated {c.generated_at.isoformat(timespec='seconds')} "
        "from stored events; each figure counts in the month it happened, so a published month never changes."
    )
    for citation in c.citations:
        doc.para(f"Legal basis: {citation}", 8)
    for m in c.months:
        doc.heading(f"Month {m.month}")
        rows = [[line.section, line.measure, percent(line.value) if "Share" in line.measure else line.value] for line in m.lines]
        doc.table(["section", "measure", "value"], rows, size=8, first_col=1.6)
    return doc.output()


# --------------------------------------------------------------------------- summary
def summary_pdf(s: CommissionSummary) -> bytes:
    from suraksha.transparency.charts import summary_chart

    doc = _Doc("Child sexual abuse and rape material: identified, deleted, reported")
    doc.para(f"Question: {s.question}")
    doc.heading("Answer")
    doc.para(s.answer, 10)
    rows = [
        [
            r.period,
            r.identified,
            r.deleted,
            r.reported,
            *r.reported_to.values(),
            r.found_by_automated_tools,
            percent(r.automated_share),
            r.found_retroactively,
        ]
        for r in [*s.years, s.total]
    ]
    rows[-1][0] = "total"
    doc.table(
        [
            "year",
            "identified",
            "deleted",
            "reported",
            "to NCMEC",
            "to Indian police",
            "to NCA",
            "by automated tools",
            "share",
            "found retroactively",
        ],
        rows,
        size=8,
        first_col=1.0,
    )
    doc.para(
        f"Automated tools used: {'yes' if s.automated_tools_used else 'no'}. Years are calendar years in {s.timezone}; "
        "a post counts in the year it was found, deleted or reported (content found later counts when it was found)."
    )
    if s.years:
        doc.image(summary_chart(s))
    return doc.output()
