"""The stored events the figures are computed from, read with portable SQL (SQLite and PostgreSQL).

Every function here returns plain rows for a UTC range; nothing is counted in Python that SQL can
answer per row (existence of a match, the first acknowledged removal, the latest review decision,
the filing time of a report). Bucketing into periods and percentiles happen in ``figures``:
``date_trunc`` and ``percentile_cont`` exist on PostgreSQL only, and the periods follow the
jurisdiction's time zone.

Definitions (docs/transparency.md says the same in words):

- an item is **identified** when the scan flagged it (verdict ``remove`` or ``review``), a
  reviewer's final decision called it violating, a removal or withholding was requested for it,
  or a legal request / complaint named it;
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

from sqlalchemy import Text, and_, cast, exists, func, literal, or_, select, true
from sqlalchemy.orm import Session

from suraksha.cases.models import ReviewDecision
from suraksha.enforcement.models import Action
from suraksha.items.models import Item, ItemMatch
from suraksha.policy.actions import ActionKind
from suraksha.policy.model import USER_REPORT_SOURCES, FactKind
from suraksha.reporting.models import Report

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
TAKEDOWN_KINDS = (ActionKind.REMOVE_ITEM.value, ActionKind.WITHHOLD_IN_COUNTRY.value)
#: Review categories that say the item breaks no law: "not violating" and legal adult content.
NON_VIOLATING = ("not_violating", "adult")
#: Legal request types that are complaints (grievances) rather than orders or data requests.
COMPLAINT_REQUEST_TYPES = ("ncii_complaint", "removal_request", "grievance", "user_complaint")
#: Issuers whose requests are complaints (the legal area's complainants: a person or an NGO).
COMPLAINANT_ISSUERS = ("user", "ngo")


def aware(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def legal_models() -> Any:
    """The legal area's models, or None where that area is not installed."""
    try:
        from suraksha.legal import models
    except ImportError:
        return None
    return models


# --------------------------------------------------------------------------- items
@dataclass(frozen=True)
class ItemFacts:
    id: int
    created_at: dt.datetime
    scanned_at: dt.datetime | None
    detected_at: dt.datetime | None
    removed_at: dt.datetime | None
    withheld: bool
    retroactive: bool
    by_complaint: bool
    signals: frozenset[str]
    decision: str | None  # latest final review category
    country: str | None
    csam: bool  # a match labelled csam / rape or a final csam decision, not cleared by review

    @property
    def cleared(self) -> bool:
        return self.decision in NON_VIOLATING


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
    """Identified items posted (``created_at``) in ``[start, end)``, streamed, with their facts."""
    match = select(ItemMatch.id).where(ItemMatch.item_id == Item.id)
    has_csam = exists(match.where(ItemMatch.label.in_(ABUSE_LABELS)))
    retro_match = exists(match.where(ItemMatch.retroactive.is_(True)))
    detected = (
        select(func.min(func.coalesce(ItemMatch.matched_at, Item.scanned_at)))
        .where(ItemMatch.item_id == Item.id)
        .scalar_subquery()
    )
    removed = (
        select(func.min(Action.acknowledged_at))
        .where(Action.item_id == Item.id, Action.kind == ActionKind.REMOVE_ITEM.value, Action.status == "acknowledged")
        .scalar_subquery()
    )
    withheld = exists(
        select(Action.id).where(
            Action.item_id == Item.id, Action.kind == ActionKind.WITHHOLD_IN_COUNTRY.value, Action.status == "acknowledged"
        )
    )
    takedown_asked = exists(select(Action.id).where(Action.item_id == Item.id, Action.kind.in_(TAKEDOWN_KINDS)))
    decision = (
        select(ReviewDecision.category)
        .where(ReviewDecision.item_id == Item.id, ReviewDecision.final.is_(True))
        .order_by(ReviewDecision.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    violating_decision = exists(
        select(ReviewDecision.id).where(
            ReviewDecision.item_id == Item.id, ReviewDecision.final.is_(True), ReviewDecision.category.notin_(NON_VIOLATING)
        )
    )
    legal = legal_models()
    named = (
        exists(select(legal.LegalTarget.id).where(legal.LegalTarget.item_id == Item.id)) if legal is not None else literal(False)
    )
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
            retro_match.label("retro_match"),
            detected.label("detected"),
            removed.label("removed"),
            withheld.label("withheld"),
            decision.label("decision"),
            named.label("named"),
        )
        .where(
            Item.created_at >= start,
            Item.created_at < end,
            _country_filter(countries),
            or_(flagged, violating_decision, takedown_asked, named),
        )
        .order_by(Item.id)
        .execution_options(yield_per=2000)
    )
    for row in session.execute(stmt):
        complaint = (row.source in COMPLAINT_SOURCES) or (bool(row.named) and not row.flagged)
        decision_now = row.decision
        facts = _facts(row.facts)
        yield ItemFacts(
            id=row.id,
            created_at=aware(row.created_at),
            scanned_at=aware(row.scanned_at),
            detected_at=detection_time(row.detected, row.scanned_at, facts),
            removed_at=aware(_as_datetime(row.removed)),
            withheld=bool(row.withheld),
            retroactive=bool(row.retroactive) or bool(row.retro_match),
            by_complaint=complaint,
            signals=_signals(facts),
            decision=decision_now,
            country=row.country,
            csam=(bool(row.has_csam) or decision_now == "csam") and decision_now not in NON_VIOLATING,
        )


def detection_time(first_match: Any, scanned_at: dt.datetime | None, facts: list[dict[str, Any]]) -> dt.datetime | None:
    """When the item was first detected: its earliest match (a rescan's ``matched_at``, else the
    scan), or the scan itself when a text hit or a classifier score made a rule fire then."""
    first = aware(_as_datetime(first_match))
    scanned = aware(scanned_at)
    if first is None:
        return scanned
    if scanned is not None and _fired_at_scan(facts):
        return min(first, scanned)
    return first


def _as_datetime(value: Any) -> dt.datetime | None:
    """Aggregates over a datetime column come back as text on SQLite."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


# --------------------------------------------------------------------------- reports
@dataclass(frozen=True)
class ReportFacts:
    id: int
    item_id: int | None
    destination: str
    state: str
    item_created_at: dt.datetime
    detected_at: dt.datetime | None
    filed_at: dt.datetime | None


def reports(
    session: Session, start: dt.datetime, end: dt.datetime, countries: tuple[str, ...] | None = None
) -> list[ReportFacts]:
    """First reports (not supplementals) about items posted in ``[start, end)``."""
    detected = (
        select(func.min(func.coalesce(ItemMatch.matched_at, Item.scanned_at)))
        .where(ItemMatch.item_id == Item.id)
        .scalar_subquery()
    )
    stmt = (
        select(
            Report.id,
            Report.item_id,
            Report.destination,
            Report.state,
            Report.submitted_at,
            Report.finished_at,
            Item.created_at,
            Item.scanned_at,
            _json_text(Item.facts).label("facts"),
            detected.label("detected"),
        )
        .join(Item, Item.id == Report.item_id)
        .where(Report.supplemental_to.is_(None), Item.created_at >= start, Item.created_at < end, _country_filter(countries))
        .order_by(Report.id)
    )
    out = []
    for r in session.execute(stmt):
        if r.destination == "ncmec":
            filed = r.finished_at if r.state == "finished" else None
        else:
            filed = r.submitted_at if r.state in ("submitted", "finished") else None
        out.append(
            ReportFacts(
                r.id,
                r.item_id,
                r.destination,
                r.state,
                aware(r.created_at),
                detection_time(r.detected, r.scanned_at, _facts(r.facts)),
                aware(filed),
            )
        )
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
        ActionFacts(r.id, r.kind, r.item_id, r.account_id, r.status, aware(r.created_at), aware(r.acknowledged_at))
        for r in session.execute(stmt)
    ]


# --------------------------------------------------------------------------- complaints, legal requests
@dataclass(frozen=True)
class ComplaintItem:
    id: int
    received_at: dt.datetime
    actioned: bool  # removal or withholding acknowledged


def complaint_items(
    session: Session, start: dt.datetime, end: dt.datetime, countries: tuple[str, ...] | None = None
) -> list[ComplaintItem]:
    """Items submitted because of a complaint, by when the complaint reached us (``received_at``)."""
    actioned = exists(
        select(Action.id).where(Action.item_id == Item.id, Action.kind.in_(TAKEDOWN_KINDS), Action.status == "acknowledged")
    )
    stmt = (
        select(Item.id, Item.received_at, actioned.label("actioned"))
        .where(
            Item.context["source"].as_string().in_(COMPLAINT_SOURCES),
            Item.received_at >= start,
            Item.received_at < end,
            _country_filter(countries),
        )
        .order_by(Item.id)
    )
    return [ComplaintItem(r.id, aware(r.received_at), bool(r.actioned)) for r in session.execute(stmt)]


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
    """Legal requests received in ``[start, end)``; empty where the legal area has no table yet."""
    legal = legal_models()
    if legal is None:
        return []
    R = legal.LegalRequest
    stmt = (
        select(R.id, R.type, R.issuer_kind, R.jurisdiction, R.status, R.received_at, R.due_at, R.answered_at)
        .where(R.received_at >= start, R.received_at < end, R.jurisdiction == jurisdiction if jurisdiction else true())
        .order_by(R.id)
    )
    return [
        RequestFacts(
            r.id, r.type, r.issuer_kind, r.jurisdiction, r.status, aware(r.received_at), aware(r.due_at), aware(r.answered_at)
        )
        for r in session.execute(stmt)
    ]
