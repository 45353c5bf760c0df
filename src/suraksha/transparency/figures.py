"""Transparency figures for any period, computed from stored events (never typed in).

``figures(start, end, by=..., jurisdiction=...)`` reads the events (``transparency.events``) once
for the whole range and buckets them into calendar periods of the jurisdiction's time zone.

Every figure is booked **when it happened** (``transparency.events`` defines each event), so a
period's figures never change once the period is over: identifications when confirmed, flags when
the scan raised them, removals and suspensions when the platform acknowledged them, reports when
filed, legal answers when sent, appeals when asked, restorations when acknowledged. A backfill that
finds 2023 content in 2026 is booked in 2026. When the content was *posted* is a separate figure
(``posted``: identified items posted in the period, counted as of when the figures are made — the
one figure that can grow later, and is labelled so), which answers "content from the past four
years".
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from suraksha.db import session_scope
from suraksha.jurisdictions.profiles import EU_COUNTRIES
from suraksha.policy.actions import ActionKind
from suraksha.reporting.models import DESTINATIONS, REPORT_STATES
from suraksha.transparency import events as ev
from suraksha.transparency.periods import Granularity, Period, PeriodError, check_granularity, check_range, parse_day, split

SIGNALS = ("hash", "classifier", "link", "text")
AUTHORITY_NAMES = {"ncmec": "NCMEC (US)", "in_police": "Indian police (POCSO r.11)", "uk_nca": "NCA (UK)"}

#: Jurisdiction profile code -> the item countries (``context.country``) that belong to it.
JURISDICTION_COUNTRIES: dict[str, tuple[str, ...]] = {"in": ("IN",), "us": ("US",), "uk": ("GB",), "eu": EU_COUNTRIES}


# --------------------------------------------------------------------------- the figures' shapes
@dataclass(frozen=True)
class Latency:
    """Durations in seconds: how many, their median and 95th percentile (linear interpolation,
    as PostgreSQL's ``percentile_cont``); None when there is nothing to measure."""

    count: int
    median_seconds: float | None
    p95_seconds: float | None


@dataclass(frozen=True)
class AuthorityReports:
    destination: str
    reports: int  # first reports about items of the period (supplementals not counted)
    filed: int
    states: dict[str, int]  # current state -> reports


@dataclass(frozen=True)
class LegalFigures:
    received: int
    answered: int
    answered_in_time: int
    answered_late: int
    open_overdue: int  # not answered and past due when the figures were made
    by_type: dict[str, int]


@dataclass(frozen=True)
class AbuseFigures:
    """Items depicting child sexual abuse or rape (``events.ABUSE_LABELS`` or a CSAM decision)."""

    identified: int
    removed: int
    reported: int
    automated: int
    retroactive: int
    by_signal: dict[str, int]
    reported_to: dict[str, int]  # destination -> items with a filed report there
    links_to_csam: int = 0  # identified links to such material (not posts depicting it)
    solicitation: int = 0  # identified grooming / solicitation and sextortion
    # per authority: reports filed in the period about abuse items, and the time from detection
    report_latency: dict[str, Latency] = field(default_factory=dict)


@dataclass(frozen=True)
class PeriodFigures:
    label: str
    start: dt.datetime
    end: dt.datetime
    identified: int  # confirmed findings booked in the period
    flagged: int  # automated flags raised in the period (confirmed later or not)
    posted: int  # identified items (as of now) posted in the period: can grow later
    proactive: int
    by_complaint: int
    retroactive: int
    by_signal: dict[str, int]  # hash / classifier / link / text, and "human" (no automated signal)
    automated: int
    automated_share: float | None
    cleared_on_review: int
    removed: int
    withheld: int
    removed_proactive_automated: int
    items_reported: int
    reports: dict[str, AuthorityReports]
    accounts_suspended: int
    appeals: int
    restorations: int
    complaints_received: int
    complaints_actioned: int
    legal: LegalFigures
    upload_to_removal: Latency
    detection_to_report: Latency
    abuse: AbuseFigures


@dataclass(frozen=True)
class Figures:
    start: dt.date
    end: dt.date
    by: str
    jurisdiction: str | None
    timezone: str
    generated_at: dt.datetime
    periods: list[PeriodFigures]
    total: PeriodFigures
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- arithmetic
def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation between closest ranks; None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def latency(seconds: Sequence[float]) -> Latency:
    return Latency(len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.95))


def share(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


# --------------------------------------------------------------------------- the one entry point
def resolve_jurisdiction(code: str | None) -> tuple[str | None, tuple[str, ...] | None, ZoneInfo]:
    """(code, its countries, its time zone); no code: everything, in UTC."""
    if code is None or code == "":
        return None, None, ZoneInfo("UTC")
    from suraksha.jurisdictions.profiles import ProfileError, load_profile

    key = code.strip().lower()
    if key not in JURISDICTION_COUNTRIES:
        raise PeriodError(f"unknown jurisdiction {code!r}; choose one of {', '.join(JURISDICTION_COUNTRIES)}")
    try:
        zone = load_profile(key).zone
    except ProfileError as exc:
        raise PeriodError(str(exc)) from None
    return key, JURISDICTION_COUNTRIES[key], zone


def figures(
    start: dt.date | str,
    end: dt.date | str,
    *,
    by: Granularity | str = "month",
    jurisdiction: str | None = None,
    now: dt.datetime | None = None,
) -> Figures:
    """The figures for ``start`` .. ``end`` (days included), one row per period and a total.

    Raises ``PeriodError`` (a ``ValueError``) for an unusable range, granularity or jurisdiction.
    """
    first, last = parse_day(start, "from"), parse_day(end, "to")
    gran = check_granularity(by)
    now = now or dt.datetime.now(dt.UTC)
    code, countries, zone = resolve_jurisdiction(jurisdiction)
    check_range(first, last, today=now.astimezone(zone).date())
    periods = split(first, last, gran, zone)
    lo, hi = periods[0].start_utc, periods[-1].end_utc
    with session_scope() as session:
        items = list(ev.identified_items(session, lo, hi, countries))
        reports = ev.reports(session, lo, hi, countries)
        actions = ev.account_and_restore_actions(session, lo, hi, countries)
        complaints = ev.complaint_items(session, lo, hi, countries)
        requests = ev.legal_requests(session, lo, hi, code)
    whole = Period(f"{first.isoformat()}..{last.isoformat()}", periods[0].start, periods[-1].end)
    rows = [_one_period(*bucket, now) for bucket in _bucket(periods, items, reports, actions, complaints, requests)]
    total = _one_period(whole, items, reports, actions, complaints, requests, now)
    notes = [
        "Each figure is booked in the period it happened; 'posted' counts identified items by when they were posted "
        "and can grow when older content is found later."
    ]
    return Figures(first, last, gran, code, str(zone), now, rows, total, notes)


def _bucket(periods: list[Period], items, reports, actions, complaints, requests):
    """Yield (period, its items, reports, actions, complaints, requests), each by its own clock."""
    starts = [p.start_utc for p in periods]

    def index(at: dt.datetime | None) -> int | None:
        if at is None:
            return None
        i = bisect.bisect_right(starts, at) - 1
        return i if 0 <= i < len(periods) and at < periods[i].end_utc else None

    # An item or a report may have events in several periods (posted in one, removed in the next):
    # it is kept in each, and _one_period counts each figure only by its own clock.
    def spread(rows: Iterable, clocks) -> list[list]:
        out: list[list] = [[] for _ in periods]
        for r in rows:
            for i in {index(at) for at in clocks(r)} - {None}:
                out[i].append(r)
        return out

    g_items = spread(items, lambda r: r.clocks())
    g_reports = spread(reports, lambda r: (r.created_at, r.filed_at))
    g_complaints = spread(complaints, lambda r: (r.received_at, r.actioned_at))
    g_requests = spread(requests, lambda r: (r.received_at, r.answered_at))
    # An action may fall in two periods (restore asked in one, acknowledged in the next): keep it in
    # each, _one_period counts it only by the clock of the figure.
    g_actions: list[list] = [[] for _ in periods]
    for a in actions:
        for i in {index(a.created_at), index(a.acknowledged_at)} - {None}:
            g_actions[i].append(a)
    for n, p in enumerate(periods):
        yield p, g_items[n], g_reports[n], g_actions[n], g_complaints[n], g_requests[n]


def _within(at: dt.datetime | None, p: Period) -> bool:
    return at is not None and p.start_utc <= at < p.end_utc


def _one_period(
    p: Period,
    items: list[ev.ItemFacts],
    reports: list[ev.ReportFacts],
    actions: list[ev.ActionFacts],
    complaints: list[ev.ComplaintItem],
    requests: list[ev.RequestFacts],
    now: dt.datetime,
) -> PeriodFigures:
    def at(clock: str) -> list[ev.ItemFacts]:
        return [it for it in items if _within(getattr(it, clock), p)]

    found = at("identified_at")
    signals = Counter(s for it in found for s in it.signals)
    human = sum(1 for it in found if not it.signals)
    automated = len(found) - human
    by_complaint = sum(1 for it in found if it.by_complaint)
    removed = at("removed_at")
    filed = [r for r in reports if _within(r.filed_at, p)]
    reported_ids = {i for r in filed for i in r.item_ids}
    filed_to = {(i, r.destination) for r in filed for i in r.item_ids}

    per_dest: dict[str, AuthorityReports] = {}
    for dest in DESTINATIONS:
        made = [r for r in reports if r.destination == dest and _within(r.created_at, p)]
        states = Counter(r.state for r in made)
        per_dest[dest] = AuthorityReports(
            dest,
            len(made),
            sum(1 for r in filed if r.destination == dest),
            {s: states.get(s, 0) for s in REPORT_STATES},
        )

    suspended = {a.account_id for a in actions if a.kind == ActionKind.SUSPEND_ACCOUNT and _within(a.acknowledged_at, p)}
    appeals = sum(1 for a in actions if a.kind == ActionKind.RESTORE and _within(a.created_at, p))
    restorations = sum(
        1 for a in actions if a.kind == ActionKind.RESTORE and a.status == "acknowledged" and _within(a.acknowledged_at, p)
    )

    received = [r for r in requests if _within(r.received_at, p)]
    complaint_requests = [r for r in received if r.complaint]
    answered = [r for r in requests if _within(r.answered_at, p)]
    in_time = sum(1 for r in answered if r.answered_at is not None and r.answered_at <= r.due_at)
    overdue = sum(1 for r in received if r.answered_at is None and r.status not in ("rejected", "closed") and r.due_at < now)
    legal = LegalFigures(
        len(received),
        len(answered),
        in_time,
        len(answered) - in_time,
        overdue,
        dict(sorted(Counter(r.type for r in received).items())),
    )

    to_removal = [(it.removed_at - it.created_at).total_seconds() for it in removed if it.removed_at is not None]
    to_report = [(r.filed_at - r.detected_at).total_seconds() for r in filed if r.filed_at and r.detected_at]
    abuse = [it for it in found if it.csam]
    abuse_removed = [it for it in removed if it.csam]
    abuse_ids = {it.id for it in items if it.csam}
    abuse_reported = abuse_ids & reported_ids
    return PeriodFigures(
        label=p.label,
        start=p.start,
        end=p.end,
        identified=len(found),
        flagged=len(at("flagged_at")),
        posted=sum(1 for it in items if it.identified_at is not None and _within(it.created_at, p)),
        proactive=len(found) - by_complaint,
        by_complaint=by_complaint,
        retroactive=sum(1 for it in found if it.retroactive),
        by_signal={**{s: signals.get(s, 0) for s in SIGNALS}, "human": human},
        automated=automated,
        automated_share=share(automated, len(found)),
        cleared_on_review=len(at("cleared_at")),
        removed=len(removed),
        withheld=len(at("withheld_at")),
        removed_proactive_automated=sum(1 for it in removed if not it.by_complaint and it.signals),
        items_reported=len(reported_ids),
        reports=per_dest,
        accounts_suspended=len(suspended),
        appeals=appeals,
        restorations=restorations,
        complaints_received=sum(1 for c in complaints if _within(c.received_at, p)) + len(complaint_requests),
        complaints_actioned=sum(1 for c in complaints if _within(c.actioned_at, p)) + sum(1 for r in answered if r.complaint),
        legal=legal,
        upload_to_removal=latency(to_removal),
        detection_to_report=latency(to_report),
        abuse=AbuseFigures(
            len(abuse),
            len(abuse_removed),
            len(abuse_reported),
            sum(1 for it in abuse if it.signals),
            sum(1 for it in abuse if it.retroactive),
            {s: sum(1 for it in abuse if s in it.signals) for s in SIGNALS},
            {d: sum(1 for i in abuse_reported if (i, d) in filed_to) for d in DESTINATIONS},
            sum(1 for it in found if it.csam_link and not it.csam),
            sum(1 for it in found if it.solicitation),
            {
                d: latency(
                    [
                        (r.filed_at - r.detected_at).total_seconds()
                        for r in filed
                        if r.destination == d and r.filed_at and r.detected_at and any(i in abuse_ids for i in r.item_ids)
                    ]
                )
                for d in DESTINATIONS
            },
        ),
    )
