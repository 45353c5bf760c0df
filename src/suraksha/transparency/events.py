"""The stored events the figures are computed from, read with portable SQL (SQLite and PostgreSQL).

Every function here returns plain rows for a UTC range; nothing is counted in Python that SQL can
answer per row (existence of a match, the first acknowledged removal, the latest review decision,
the filing time of a report). Bucketing into periods and percentiles happen in ``figures``:
``date_trunc`` and ``percentile_cont`` exist on PostgreSQL only, and the periods follow the
jurisdiction's time zone.

Definitions (docs/transparency.md says the same in words):

- every figure is **booked when it happened** (the event clock): an identification in the period
  it was confirmed, a removal when the platform acknowledged it, a report when it was filed, an
  answer when it was sent. A published month therefore never changes when a later rescan or review
  finds older content: that is booked in the month of the rescan or review. When the content was
  *posted* is a separate figure (``posted``), which can grow later and says so;
- an item is **identified** (a confirmed finding) when it matched a bank of known material or links
  (``item_matches``: at the match time), a reviewer's final decision called it violating (at the
  decision), or the platform acknowledged a removal or withholding requested for it (a complaint or
  an order: at the acknowledgement) — whichever came first;
- it is **flagged** when the scan's verdict was ``remove`` or ``review`` (at ``scanned_at``): flags
  are their own figure, confirmed or not, and are never rewritten by what happened later;
- it came **by complaint** when it was submitted because of one (``context.source`` is
  ``complaint`` or ``user_report``) or a legal request named it and the scan had not flagged it;
  otherwise it was found **proactively**;
- its signals are the kinds of the facts its verdict recorded (``items.facts``, written by the
  policy as data, never read from the words of ``reasons``): ``hash`` (a sha256 / md5 / pdq / vpdq
  bank match made a rule fire), ``link`` (a url / domain match, or an onion / link text hit),
  ``text`` (a text-bank match, or a keyword / regex text hit), ``classifier`` (a classifier score
  made a rule fire). A match or text hit that made no rule fire identified nothing and is not
  counted; an item with none of these was identified by people (``human``);
- **detected** at the earliest match time (``item_matches.matched_at``, a rescan's; a match made
  at scan time counts at ``scanned_at``), else at ``scanned_at``, and at ``scanned_at`` whenever a
  text hit or a classifier score made a rule fire at scan (a text or score fact);
- **removed** / **withheld** when the platform acknowledged the ``remove_item`` /
  ``withhold_in_country`` action (``actions.acknowledged_at``, set with the acknowledged delivery);
- a report is **filed** when NCMEC finished it (``finished_at``) or, for Indian police and the NCA,
  when a person recorded that it was sent (``submitted_at``, which keeps the real sending time).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, cast, exists, func, or_, select, true
from sqlalchemy.orm import Session

from suraksha.cases.models import ReviewDecision
from suraksha.enforcement.models import Action
from suraksha.items.models import Item, ItemMatch
from suraksha.legal.models import LegalRequest, LegalTarget
from suraksha.policy.actions import ActionKind
from suraksha.policy.model import USER_REPORT_SOURCES, FactKind
from suraksha.reporting.models import Report, ReportItem

#: Fact kinds that are automated signals, by the name the figures give them.
SIGNAL_FACTS: dict[FactKind, str] = {
    FactKind.HASH: "hash",
    FactKind.CLASSIFIER: "classifier",
    FactKind.LINK: "link",
    FactKind.TEXT: "text",
}
COMPLAINT_SOURCES = USER_REPORT_SOURCES
#: Bank labels of material depicting child sexual abuse or rape (the commission's question, IT Rules
#: Rule 4(4)). ``csam_url`` (links to such material) is not depiction and is left out.
ABUSE_LABELS = ("csam", "rape")
FLAGGED_VERDICTS = ("remove", "review")
#: Bank labels of links to such material (counted apart from posts depicting it).
LINK_LABELS = ("csam_url",)
#: Review categories of grooming / solicitation and sextortion (counted apart as well).
SOLICITATION_CATEGORIES = ("grooming", "sextortion")
TAKEDOWN_KINDS = (ActionKind.REMOVE_ITEM.value, ActionKind.WITHHOLD_IN_COUNTRY.value)
#: Review categories that say the item breaks no law: "not violating" and legal adult content.
NON_VIOLATING = ("not_violating", "adult")
#: Legal request types that are complaints (grievances) rather than orders or data requests.
COMPLAINT_REQUEST_TYPES = ("ncii_complaint", "removal_request", "grievance", "user_complaint")
#: Issuers whose requests are complaints (the legal area's complainants: a person or an NGO).
COMPLAINANT_ISSUERS = ("user", "ngo")


# --------------------------------------------------------------------------- items
@dataclass(frozen=True)
class ItemFacts:
    """One item and the time of each of its events (None: it did not happen)."""

    id: int
    created_at: dt.datetime  # posted
    scanned_at: dt.datetime | None
    detected_at: dt.datetime | None  # first signal (a match, or a rule firing at scan)
    identified_at: dt.datetime | None  # confirmed finding (see the module docstring)
    flagged_at: dt.datetime | None  # the scan flagged it (remove / review)
    removed_at: dt.datetime | None
    withheld_at: dt.datetime | None
    cleared_at: dt.datetime | None  # a reviewer's final "not violating" / adult
    retroactive: bool
    by_complaint: bool
    signals: frozenset[str]
    decision: str | None  # latest final review category
    country: str | None
    csam: bool  # a match labelled csam / rape or a final csam decision, not cleared by review
    csam_link: bool = False  # a link to CSAM (a csam_url match or a final csam_link decision), not depicting
    solicitation: bool = False  # grooming / solicitation or sextortion (a final decision)

    @property
    def cleared(self) -> bool:
        return self.decision in NON_VIOLATING

    @property
    def withheld(self) -> bool:
        return self.withheld_at is not None

    def clocks(self) -> tuple[dt.datetime | None, ...]:
        """Every event time of the item, the posting time first."""
        return (self.created_at, self.identified_at, self.flagged_at, self.removed_at, self.withheld_at, self.cleared_at)


def _json_text(column: Any) -> Any:
    """A JSON column as its text: decoding every row's JSON was most of the time of a large report."""
    return cast(column, Text)


def _country_filter(countries: tuple[str, ...] | None) -> Any:
    if not countries:
        return true()
    return Item.context["country"].as_string().in_(countries)


def _facts(raw: str | None) -> list[dict[str, Any]]:
    """``items.facts`` from its JSON text; items that fired nothing have none, so those are not parsed."""
    if not raw or raw.strip() in ("[]", "null"):
        return []
    value = json.loads(raw)
    return [f for f in value if isinstance(f, dict)] if isinstance(value, list) else []


def _signals(facts: list[dict[str, Any]]) -> frozenset[str]:
    """The automated signals among a verdict's facts (``hash``, ``classifier``, ``link``, ``text``)."""
    out: set[str] = set()
    for f in facts:
        try:
            kind = FactKind(f.get("kind"))
        except ValueError:
            continue  # a kind from a newer version: not one these figures count
        if kind in SIGNAL_FACTS:
            out.add(SIGNAL_FACTS[kind])
    return frozenset(out)


def _fired_at_scan(facts: list[dict[str, Any]]) -> bool:
    """A text hit or a classifier score made a rule fire (the scan itself detected it, not a match)."""
    return any(f.get("text") is not None or f.get("score") is not None for f in facts)


def identified_items(
    session: Session, start: dt.datetime, end: dt.datetime, countries: tuple[str, ...] | None = None
) -> Iterator[ItemFacts]:
    """Items with at least one event (posted, flagged, identified, removed, withheld, cleared) in
    ``[start, end)``, streamed, with the time of each of their events."""
    match = select(ItemMatch.id).where(ItemMatch.item_id == Item.id)
    has_csam = exists(match.where(ItemMatch.label.in_(ABUSE_LABELS)))
    has_csam_link = exists(match.where(ItemMatch.label.in_(LINK_LABELS)))
    retro_match = exists(match.where(ItemMatch.retroactive.is_(True)))
    detected = (
        select(func.min(func.coalesce(ItemMatch.matched_at, Item.scanned_at)))
        .where(ItemMatch.item_id == Item.id)
        .scalar_subquery()
    )
    first_retro = (
        select(func.min(ItemMatch.matched_at))
        .where(ItemMatch.item_id == Item.id, ItemMatch.retroactive.is_(True))
        .scalar_subquery()
    )

    def acknowledged(kind: ActionKind) -> Any:
        return (
            select(func.min(Action.acknowledged_at))
            .where(Action.item_id == Item.id, Action.kind == kind.value, Action.status == "acknowledged")
            .scalar_subquery()
        )

    takedown_asked = exists(select(Action.id).where(Action.item_id == Item.id, Action.kind.in_(TAKEDOWN_KINDS)))
    final = and_(ReviewDecision.item_id == Item.id, ReviewDecision.final.is_(True))
    decision = select(ReviewDecision.category).where(final).order_by(ReviewDecision.id.desc()).limit(1).scalar_subquery()
    decided_at = select(ReviewDecision.created_at).where(final).order_by(ReviewDecision.id.desc()).limit(1).scalar_subquery()
    violating_at = (
        select(func.min(ReviewDecision.created_at)).where(final, ReviewDecision.category.notin_(NON_VIOLATING)).scalar_subquery()
    )
    named = exists(select(LegalTarget.id).where(LegalTarget.item_id == Item.id))
    source = Item.context["source"].as_string()
    flagged = Item.verdict.in_(FLAGGED_VERDICTS)
    stmt = (
        select(
            Item.id,
            Item.created_at,
            Item.scanned_at,
            Item.retroactive,
            _json_text(Item.facts).label("facts"),
            Item.context["country"].as_string().label("country"),
            source.label("source"),
            flagged.label("flagged"),
            has_csam.label("has_csam"),
            has_csam_link.label("has_csam_link"),
            retro_match.label("retro_match"),
            detected.label("detected"),
            first_retro.label("first_retro"),
            acknowledged(ActionKind.REMOVE_ITEM).label("removed"),
            acknowledged(ActionKind.WITHHOLD_IN_COUNTRY).label("withheld"),
            decision.label("decision"),
            decided_at.label("decided_at"),
            violating_at.label("violating_at"),
            named.label("named"),
        )
        .where(
            Item.created_at < end,
            _country_filter(countries),
            or_(flagged, exists(match), exists(select(ReviewDecision.id).where(final)), takedown_asked, named),
        )
        .order_by(Item.id)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(stmt):
        complaint = (row.source in COMPLAINT_SOURCES) or (bool(row.named) and not row.flagged)
        decision_now = row.decision
        facts = _facts(row.facts)
        detected_at = detection_time(row.detected, row.scanned_at, facts)
        removed_at = _as_datetime(row.removed)
        withheld_at = _as_datetime(row.withheld)
        first_match = _as_datetime(row.detected)
        identified_at = _earliest(first_match, _as_datetime(row.violating_at), removed_at, withheld_at)
        if decision_now in NON_VIOLATING:
            identified_at = None  # a reviewer cleared it: not a finding, whatever matched
        cleared_at = _as_datetime(row.decided_at) if decision_now in NON_VIOLATING else None
        facts_out = ItemFacts(
            id=row.id,
            created_at=row.created_at,
            scanned_at=row.scanned_at,
            detected_at=detected_at,
            identified_at=identified_at,
            # A rescan that found a match re-evaluated the verdict: the flag is booked then, not at
            # the first scan (which the rescan's verdict overwrote).
            flagged_at=(_as_datetime(row.first_retro) or row.scanned_at) if row.flagged else None,
            removed_at=removed_at,
            withheld_at=withheld_at,
            cleared_at=cleared_at,
            retroactive=bool(row.retroactive) or bool(row.retro_match),
            by_complaint=complaint,
            signals=_signals(facts),
            decision=decision_now,
            country=row.country,
            csam=(bool(row.has_csam) or decision_now == "csam") and decision_now not in NON_VIOLATING,
            csam_link=(bool(row.has_csam_link) or decision_now == "csam_link") and decision_now not in NON_VIOLATING,
            solicitation=decision_now in SOLICITATION_CATEGORIES,
        )
        if any(_in(at, start, end) for at in facts_out.clocks()):
            yield facts_out


def _earliest(*values: dt.datetime | None) -> dt.datetime | None:
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _in(at: dt.datetime | None, start: dt.datetime, end: dt.datetime) -> bool:
    return at is not None and start <= at < end


def detection_time(first_match: Any, scanned_at: dt.datetime | None, facts: list[dict[str, Any]]) -> dt.datetime | None:
    """When the item was first detected: its earliest match (a rescan's ``matched_at``, else the
    scan), or the scan itself when a text hit or a classifier score made a rule fire then."""
    first = _as_datetime(first_match)
    scanned = scanned_at
    if first is None:
        return scanned
    if scanned is not None and _fired_at_scan(facts):
        return min(first, scanned)
    return first


def _as_datetime(value: Any) -> dt.datetime | None:
    """An aggregate over a datetime column: text on SQLite (stored in UTC), a datetime elsewhere."""
    if value is None:
        return None
    at = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    return at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at


# --------------------------------------------------------------------------- reports
@dataclass(frozen=True)
class ReportFacts:
    """A first report (not a supplemental) and the items it carries."""

    id: int
    item_ids: tuple[int, ...]
    destination: str
    state: str
    created_at: dt.datetime
    detected_at: dt.datetime | None  # the earliest detection of its items
    filed_at: dt.datetime | None

    @property
    def item_id(self) -> int | None:
        return self.item_ids[0] if self.item_ids else None


def reports(
    session: Session, start: dt.datetime, end: dt.datetime, countries: tuple[str, ...] | None = None
) -> list[ReportFacts]:
    """First reports (not supplementals) created or filed in ``[start, end)``, about items of the
    jurisdiction's countries (one report may carry several items of one account and incident)."""

    def within(col: Any) -> Any:
        return and_(col >= start, col < end)

    carried = select(ReportItem.report_id, ReportItem.item_id).where(ReportItem.excluded.is_(None))
    stmt = (
        select(
            Report.id,
            Report.item_id,
            Report.destination,
            Report.state,
            Report.created_at,
            Report.submitted_at,
            Report.finished_at,
        )
        .where(
            Report.supplemental_to.is_(None),
            or_(within(Report.created_at), within(Report.submitted_at), within(Report.finished_at)),
        )
        .order_by(Report.id)
    )
    rows = session.execute(stmt).all()
    ids = [r.id for r in rows]
    items_of: dict[int, set[int]] = {r.id: ({r.item_id} if r.item_id is not None else set()) for r in rows}
    for chunk in range(0, len(ids), 500):
        for link in session.execute(carried.where(ReportItem.report_id.in_(ids[chunk : chunk + 500]))):
            items_of[link.report_id].add(link.item_id)
    all_items = sorted({i for v in items_of.values() for i in v})
    detected: dict[int, dt.datetime | None] = {}
    first_match = (
        select(func.min(func.coalesce(ItemMatch.matched_at, Item.scanned_at)))
        .where(ItemMatch.item_id == Item.id)
        .scalar_subquery()
    )
    for chunk in range(0, len(all_items), 500):
        q = select(Item.id, Item.scanned_at, _json_text(Item.facts).label("facts"), first_match.label("detected")).where(
            Item.id.in_(all_items[chunk : chunk + 500]), _country_filter(countries)
        )
        for it in session.execute(q):
            detected[it.id] = detection_time(it.detected, it.scanned_at, _facts(it.facts))
    out = []
    for r in rows:
        mine = tuple(sorted(i for i in items_of[r.id] if i in detected))
        if not mine:
            continue  # no item of this jurisdiction (or its items are gone)
        if r.destination == "ncmec":
            filed = r.finished_at if r.state == "finished" else None
        else:
            filed = r.submitted_at if r.state in ("submitted", "finished") else None
        out.append(ReportFacts(r.id, mine, r.destination, r.state, r.created_at, _earliest(*(detected[i] for i in mine)), filed))
    return out


# --------------------------------------------------------------------------- accounts, appeals
def _posted_in(countries: tuple[str, ...] | None) -> Any:
    """An action belongs to a jurisdiction through its item, or (account actions) through an item
    the account posted there."""
    if not countries:
        return true()
    item_country = exists(select(Item.id).where(Item.id == Action.item_id, _country_filter(countries)))
    account_country = exists(select(Item.id).where(Item.account_id == Action.account_id, _country_filter(countries)))
    return or_(item_country, and_(Action.item_id.is_(None), account_country))


@dataclass(frozen=True)
class ActionFacts:
    id: int
    kind: str
    item_id: int | None
    account_id: int | None
    status: str
    created_at: dt.datetime
    acknowledged_at: dt.datetime | None


def account_and_restore_actions(
    session: Session, start: dt.datetime, end: dt.datetime, countries: tuple[str, ...] | None = None
) -> list[ActionFacts]:
    """Suspensions acknowledged in the range, and restores requested or acknowledged in it."""
    in_range = lambda col: and_(col >= start, col < end)  # noqa: E731
    stmt = (
        select(
            Action.id, Action.kind, Action.item_id, Action.account_id, Action.status, Action.created_at, Action.acknowledged_at
        )
        .where(
            or_(
                and_(
                    Action.kind == ActionKind.SUSPEND_ACCOUNT.value,
                    Action.status == "acknowledged",
                    in_range(Action.acknowledged_at),
                ),
                and_(Action.kind == ActionKind.RESTORE.value, or_(in_range(Action.created_at), in_range(Action.acknowledged_at))),
            ),
            _posted_in(countries),
        )
        .order_by(Action.id)
    )
    return [
        ActionFacts(r.id, r.kind, r.item_id, r.account_id, r.status, r.created_at, r.acknowledged_at)
        for r in session.execute(stmt)
    ]


# --------------------------------------------------------------------------- complaints, legal requests
@dataclass(frozen=True)
class ComplaintItem:
    id: int
    received_at: dt.datetime
    actioned_at: dt.datetime | None  # removal or withholding acknowledged

    @property
    def actioned(self) -> bool:
        return self.actioned_at is not None


def complaint_items(
    session: Session, start: dt.datetime, end: dt.datetime, countries: tuple[str, ...] | None = None
) -> list[ComplaintItem]:
    """Items submitted because of a complaint, received (``received_at``) or actioned (the takedown
    acknowledged) in ``[start, end)``."""
    actioned = (
        select(func.min(Action.acknowledged_at))
        .where(Action.item_id == Item.id, Action.kind.in_(TAKEDOWN_KINDS), Action.status == "acknowledged")
        .scalar_subquery()
    )
    stmt = (
        select(Item.id, Item.received_at, actioned.label("actioned"))
        .where(Item.context["source"].as_string().in_(COMPLAINT_SOURCES), Item.received_at < end, _country_filter(countries))
        .order_by(Item.id)
    )
    out = []
    for r in session.execute(stmt):
        c = ComplaintItem(r.id, r.received_at, _as_datetime(r.actioned))
        if _in(c.received_at, start, end) or _in(c.actioned_at, start, end):
            out.append(c)
    return out


@dataclass(frozen=True)
class RequestFacts:
    id: int
    type: str
    issuer_kind: str
    jurisdiction: str
    status: str
    received_at: dt.datetime
    due_at: dt.datetime
    answered_at: dt.datetime | None

    @property
    def complaint(self) -> bool:
        return self.issuer_kind in COMPLAINANT_ISSUERS or self.type in COMPLAINT_REQUEST_TYPES


def legal_requests(session: Session, start: dt.datetime, end: dt.datetime, jurisdiction: str | None = None) -> list[RequestFacts]:
    """Legal requests received or answered in ``[start, end)``."""
    R = LegalRequest
    stmt = (
        select(R.id, R.type, R.issuer_kind, R.jurisdiction, R.status, R.received_at, R.due_at, R.answered_at)
        .where(
            or_(and_(R.received_at >= start, R.received_at < end), and_(R.answered_at >= start, R.answered_at < end)),
            R.jurisdiction == jurisdiction if jurisdiction else true(),
        )
        .order_by(R.id)
    )
    return [
        RequestFacts(r.id, r.type, r.issuer_kind, r.jurisdiction, r.status, r.received_at, r.due_at, r.answered_at)
        for r in session.execute(stmt)
    ]
