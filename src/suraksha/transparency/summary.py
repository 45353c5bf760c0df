"""The multi-year summary that answers a commission's question, exactly as it was asked:

    "How many posts depicting child sexual abuse and rape were identified, deleted and reported in
    the past four years, and were automated tools used?"

Per calendar year and in total, from the same figures as every other report (``AbuseFigures``:
items with a bank match labelled ``csam`` / ``rape`` or a reviewer's final CSAM decision, not
cleared by a later review), each booked in the year it happened. It answers the three parts of the
question from stored events: how many were identified, deleted and reported; which automated tools
found them (by name) and their share; and how reports reach law enforcement (per authority: how
many, median and 95th-percentile time from detection to filing). Links to such material and
grooming / solicitation are counted apart from posts depicting it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from suraksha.transparency.figures import SIGNALS, Figures, Latency, PeriodFigures, figures, share

QUESTION = (
    "How many posts depicting child sexual abuse and rape were identified, deleted and reported "
    "in the past four years, and were automated tools used?"
)
AUTHORITY_WORDS = {"ncmec": "NCMEC", "in_police": "Indian police", "uk_nca": "the UK's NCA"}
SIGNAL_WORDS = {"hash": "hash matching", "classifier": "image classifiers", "link": "link matching", "text": "text matching"}
#: The automated tools by name, as a commission asks for them (``by_tool`` keys).
TOOL_NAMES = {
    "hash": "PDQ / vPDQ perceptual hash and MD5 / SHA-256 matching against named hash lists",
    "classifier": "image classifier (nudity / CSAM score)",
    "link": "link matching against lists of known CSAM URLs and domains",
    "text": "text rules (keywords and patterns of solicitation)",
}
AUTHORITY_CHANNELS = {
    "ncmec": "NCMEC CyberTipline, filed through its API",
    "in_police": "Indian police under POCSO rule 11 (SJPU / cybercrime portal), a package sent by the nodal officer",
    "uk_nca": "UK National Crime Agency, a package sent by the nodal officer",
}


@dataclass(frozen=True)
class SummaryRow:
    period: str
    identified: int
    deleted: int
    reported: int
    found_by_automated_tools: int
    automated_share: float | None
    found_retroactively: int
    by_tool: dict[str, int]
    reported_to: dict[str, int]
    links_to_csam: int = 0
    solicitation: int = 0
    report_latency: dict[str, Latency] | None = None


@dataclass(frozen=True)
class CommissionSummary:
    question: str
    start: dt.date
    end: dt.date
    jurisdiction: str | None
    timezone: str
    generated_at: dt.datetime
    years: list[SummaryRow]
    total: SummaryRow
    automated_tools_used: bool
    answer: str


def _row(p: PeriodFigures) -> SummaryRow:
    a = p.abuse
    return SummaryRow(
        p.label,
        a.identified,
        a.removed,
        a.reported,
        a.automated,
        share(a.automated, a.identified),
        a.retroactive,
        dict(a.by_signal),
        dict(a.reported_to),
        a.links_to_csam,
        a.solicitation,
        dict(a.report_latency),
    )


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def answer_text(total: SummaryRow, start: dt.date, end: dt.date) -> str:
    """The answer in one paragraph, every number taken from ``total``."""
    used = total.found_by_automated_tools > 0
    tools = ", ".join(f"{SIGNAL_WORDS[s]} {total.by_tool[s]}" for s in SIGNALS if total.by_tool.get(s))
    to = ", ".join(f"{AUTHORITY_WORDS[d]} {n}" for d, n in total.reported_to.items() if n)
    text = (
        f"From {start.isoformat()} to {end.isoformat()}, {total.identified} posts depicting child sexual abuse or "
        f"rape were identified, {total.deleted} were deleted and {total.reported} were reported to the "
        f"authorities{f' ({to})' if to else ''}. Automated tools used: {'yes' if used else 'no'}"
    )
    if used:
        text += (
            f"; they found {total.found_by_automated_tools} of the {total.identified} posts "
            f"({_percent(total.automated_share)}): {tools}"
        )
    if total.found_retroactively:
        text += f". {total.found_retroactively} of the posts were found retroactively (a later scan of older content)"
    text += "."
    if total.links_to_csam or total.solicitation:
        text += (
            f" Counted apart: {total.links_to_csam} links to such material and {total.solicitation} cases of "
            "grooming, solicitation or sextortion."
        )
    reach = [
        f"{AUTHORITY_WORDS[d]}: {lat.count} reports, median {_hours(lat.median_seconds)} and 95th percentile "
        f"{_hours(lat.p95_seconds)} from detection"
        for d, lat in (total.report_latency or {}).items()
        if lat.count
    ]
    if reach:
        text += " Reports reached law enforcement as follows — " + "; ".join(reach) + "."
    return text


def _hours(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def commission_summary(
    start: dt.date | str, end: dt.date | str, *, jurisdiction: str | None = None, now: dt.datetime | None = None
) -> CommissionSummary:
    f: Figures = figures(start, end, by="year", jurisdiction=jurisdiction, now=now)
    total = _row(f.total)
    return CommissionSummary(
        QUESTION,
        f.start,
        f.end,
        f.jurisdiction,
        f.timezone,
        f.generated_at,
        [_row(p) for p in f.periods],
        total,
        total.found_by_automated_tools > 0,
        answer_text(total, f.start, f.end),
    )
