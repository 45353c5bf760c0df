"""Review and cases: the service functions behind the workspace (the web layer only renders).

Tasks come from the scan's outbox (topic ``review``, ``take_review_message``), exactly once per
(item, queue): the insert ignores conflicts on that pair and the message is marked delivered in the
same transaction, so concurrent or repeated deliveries never duplicate a task. Decisions follow the second-review rule, and
only a final decision feeds banks, cases and reports (``get_decision``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import case as sa_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from suraksha.auth import audit
from suraksha.auth.models import StaffUser
from suraksha.cases import categories
from suraksha.cases.actions import enqueue_decision_actions
from suraksha.cases.categories import INDUSTRY_CLASSES, REPORTABLE
from suraksha.cases.models import (
    CATEGORIES,
    Case,
    CaseAccount,
    CaseItem,
    MediaReveal,
    ReviewDecision,
    ReviewTask,
)
from suraksha.cases.settings import get_review_settings
from suraksha.db import session_scope
from suraksha.db.base import utcnow
from suraksha.db.sql import insert_new
from suraksha.errors import Forbidden, InvalidInput, NotFound
from suraksha.items.models import Item
from suraksha.outbox import Done, Message, Skip

CATEGORY_LABELS = categories.LABELS
BANK_LABEL_FOR = {"csam": "csam", "ncii": "ncii", "csam_link": "csam_url"}
#: The queue appeals wait in (``cases.appeals``); decided there, never with ``decide``.
APPEAL_QUEUE = "appeals"
MAX_ANNOTATION = 4000


class ReviewError(InvalidInput):
    """A decision or case operation that is not allowed as asked (message is for the person)."""


class TaskNotFound(NotFound):
    pass


class CaseNotFound(NotFound):
    pass


@dataclass(frozen=True)
class Actor:
    """Who is acting: the signed-in staff member (id, username, role)."""

    user_id: int
    username: str
    role: str

    @property
    def name(self) -> str:
        return f"user:{self.username}"


@dataclass(frozen=True)
class Decision:
    """The final decision on an item, as the reporting area reads it."""

    item_id: int
    task_id: int
    decision_id: int
    category: str
    industry_class: str | None
    annotation: str
    reviewer_ids: tuple[int, ...]  # every reviewer whose decision agreed with the final category
    final_reviewer_id: int
    stage: str
    decided_at: dt.datetime

    @property
    def reportable(self) -> bool:
        return self.category in REPORTABLE


@dataclass
class DecideResult:
    final: bool
    status: str
    message: str
    bank_result: dict[str, Any] = field(default_factory=dict)
    actions: list[str] = field(default_factory=list)  # what the final decision enqueued


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


# ------------------------------------------------------------------------------------ task intake
def take_review_message(session: Session, message: Message) -> Done:
    """A ``review`` outbox message -> a task in its queue, in the caller's transaction (the outbox
    loop's, which marks the message delivered in it). Once per (item, queue): the insert ignores
    that pair's conflict, so a second message for the same pair makes nothing. Returns the tasks
    made (0 or 1). Wired to the topic by ``suraksha.dispatch``."""
    if message.item_id is None or session.get(Item, message.item_id) is None:
        raise Skip("item not found")
    payload = message.payload
    queue = str(payload.get("queue") or "default")[:100]
    try:
        priority = int(payload.get("priority") or 0)
    except (TypeError, ValueError):
        priority = 0
    created = _aware(message.created_at) or utcnow()
    task_id = insert_new(
        session,
        ReviewTask.__table__,
        {
            "item_id": message.item_id,
            "account_id": message.account_id,
            "queue": queue,
            "priority": priority,
            "status": "open",
            "source_message_id": message.id,
            "reasons": list(payload.get("reasons") or []),
            "created_at": created,
            "due_at": created + dt.timedelta(minutes=get_review_settings().sla_for(queue)),
        },
        ["item_id", "queue"],
    )
    return Done(made=int(task_id is not None))


# ----------------------------------------------------------------------------------------- queues
@dataclass(frozen=True)
class QueueInfo:
    queue: str
    stage: str  # open | second_review | escalated
    waiting: int
    overdue: int
    oldest: dt.datetime | None
    next_due: dt.datetime | None


def stages_for(role: str) -> tuple[str, ...]:
    return ("open", "second_review", "escalated") if role == "senior_reviewer" else ("open", "second_review")


def list_queues(actor: Actor) -> list[QueueInfo]:
    now = utcnow()
    with session_scope() as session:
        rows = session.execute(
            select(
                ReviewTask.queue,
                ReviewTask.status,
                func.count(),
                func.min(ReviewTask.created_at),
                func.min(ReviewTask.due_at),
                func.sum(sa_case((ReviewTask.due_at < now, 1), else_=0)),
            )
            .where(ReviewTask.status.in_(stages_for(actor.role)))
            .group_by(ReviewTask.queue, ReviewTask.status)
        ).all()
    out = [QueueInfo(q, s, n, int(over or 0), _aware(oldest), _aware(due)) for q, s, n, oldest, due, over in rows]
    order = {"escalated": 0, "second_review": 1, "open": 2}
    return sorted(out, key=lambda q: (order[q.stage], q.next_due or now, q.queue))


def _task_query(queue: str, stage: str):
    return (
        select(ReviewTask)
        .where(ReviewTask.queue == queue, ReviewTask.status == stage)
        .order_by(ReviewTask.priority.desc(), ReviewTask.created_at, ReviewTask.id)
    )


def _check_stage(actor: Actor, stage: str) -> None:
    if stage not in ("open", "second_review", "escalated"):
        raise ReviewError(f"unknown stage {stage!r}; use open, second_review or escalated")
    if stage not in stages_for(actor.role):
        raise Forbidden("escalated tasks are for senior reviewers")


@dataclass(frozen=True)
class TaskRow:
    id: int
    item_id: int
    account_id: int | None
    queue: str
    status: str
    priority: int
    created_at: dt.datetime
    due_at: dt.datetime
    reasons: list

    @property
    def overdue(self) -> bool:
        return self.due_at < utcnow()


def _row(t: ReviewTask) -> TaskRow:
    return TaskRow(
        t.id,
        t.item_id,
        t.account_id,
        t.queue,
        t.status,
        t.priority,
        _aware(t.created_at),
        _aware(t.due_at),
        list(t.reasons or []),
    )


def list_tasks(actor: Actor, queue: str, stage: str = "open", limit: int = 200) -> list[TaskRow]:
    """A queue's waiting tasks: highest priority first, then oldest."""
    _check_stage(actor, stage)
    with session_scope() as session:
        return [_row(t) for t in session.scalars(_task_query(queue, stage).limit(limit)).all()]


def next_task(actor: Actor, queue: str, stage: str = "open") -> int | None:
    """The next task this person may take (a second review is never by the first reviewer)."""
    _check_stage(actor, stage)
    with session_scope() as session:
        q = _task_query(queue, stage)
        if stage in ("second_review", "escalated"):
            mine = select(ReviewDecision.task_id).where(ReviewDecision.reviewer_id == actor.user_id)
            q = q.where(ReviewTask.id.not_in(mine))
        if queue == APPEAL_QUEUE:  # not an appeal against one's own decision
            decided = select(ReviewDecision.item_id).where(ReviewDecision.reviewer_id == actor.user_id)
            q = q.where(ReviewTask.item_id.not_in(decided))
        return session.scalar(q.limit(1).with_only_columns(ReviewTask.id))


# ------------------------------------------------------------------------------------ task detail
@dataclass(frozen=True)
class DecisionRow:
    id: int
    reviewer_id: int
    reviewer: str
    stage: str
    category: str
    industry_class: str | None
    annotation: str
    final: bool
    bank: str | None
    created_at: dt.datetime


@dataclass(frozen=True)
class TaskView:
    task: TaskRow
    decisions: list[DecisionRow]
    escalation_note: str | None
    pending_bank: str | None
    can_decide: bool
    why_not: str | None


def _decision_rows(session: Session, where) -> list[DecisionRow]:
    rows = session.execute(
        select(ReviewDecision, StaffUser.username)
        .join(StaffUser, StaffUser.id == ReviewDecision.reviewer_id)
        .where(where)
        .order_by(ReviewDecision.id)
    ).all()
    return [
        DecisionRow(
            d.id, d.reviewer_id, name, d.stage, d.category, d.industry_class, d.annotation, d.final, d.bank, _aware(d.created_at)
        )
        for d, name in rows
    ]


def _deciders(session: Session, task_id: int) -> set[int]:
    return set(session.scalars(select(ReviewDecision.reviewer_id).where(ReviewDecision.task_id == task_id)).all())


def original_deciders(session: Session, item_id: int, except_task: int | None = None) -> set[int]:
    """Everyone who decided on the item in a task other than ``except_task`` (an appeal's reviewer
    is none of them)."""
    q = select(ReviewDecision.reviewer_id).where(ReviewDecision.item_id == item_id)
    if except_task is not None:
        q = q.where(ReviewDecision.task_id != except_task)
    return set(session.scalars(q).all())


def _why_not(session: Session, task: ReviewTask, actor: Actor) -> str | None:
    if task.status == "done":
        return "this task is decided"
    if task.queue == APPEAL_QUEUE and actor.user_id in original_deciders(session, task.item_id, task.id):
        return "an appeal is reviewed by someone who did not decide the original; you did"
    if task.status == "escalated":
        if actor.role != "senior_reviewer":
            return "escalated: waiting for a senior reviewer"
        if actor.user_id in _deciders(session, task.id):
            return "escalated: a senior reviewer who did not decide this task resolves it (you did)"
    if task.status == "second_review" and actor.user_id in _deciders(session, task.id):
        return "waiting for a second reviewer (you made the first decision)"
    return None


def visible_decisions(session: Session, task: ReviewTask, actor: Actor) -> list[DecisionRow]:
    """The task's decisions this person may see. Blind second review: while a task waits for its
    second reviewer, its first decision is shown to no one but its author, so the second call is
    independent. A senior resolving an escalation sees both; once done, everyone sees all."""
    rows = _decision_rows(session, ReviewDecision.task_id == task.id)
    if task.status in ("open", "second_review"):
        return [d for d in rows if d.reviewer_id == actor.user_id]
    return rows


def get_task(task_id: int, actor: Actor) -> TaskView:
    with session_scope() as session:
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise TaskNotFound(f"review task {task_id} not found")
        why = _why_not(session, task, actor)
        audit.record(session, actor.name, "review.view", "item", task.item_id, {"task_id": task.id, "queue": task.queue})
        return TaskView(
            _row(task),
            visible_decisions(session, task, actor),
            task.escalation_note,
            task.pending_bank,
            why is None,
            why,
        )


# -------------------------------------------------------------------------------------- decisions
def item_content(session: Session, item_id: int) -> tuple[bool, bool]:
    """(the item has media, the item has text or links): which decision categories fit it."""
    from suraksha.items.models import ItemMedia

    item = session.get(Item, item_id)
    if item is None:
        raise NotFound(f"item {item_id} not found")
    has_media = session.scalar(select(ItemMedia.id).where(ItemMedia.item_id == item_id).limit(1)) is not None
    return has_media, bool((item.text or "").strip() or item.links)


def _validate_decision(
    category: str, industry_class: str | None, annotation: str, content: tuple[bool, bool] | None = None
) -> tuple[str, str | None, str]:
    if category not in CATEGORIES:
        raise ReviewError(f"unknown category {category!r}; choose one of: {', '.join(CATEGORIES)}")
    if content is not None:
        why = categories.fits(category, *content)
        if why:
            raise ReviewError(why)
    industry_class = (industry_class or "").strip().upper() or None
    if category == "csam":
        if industry_class not in INDUSTRY_CLASSES:
            raise ReviewError("a CSAM decision needs an industry class: A1, A2, B1 or B2")
    elif industry_class is not None:
        raise ReviewError("an industry class (A1-B2) applies only to a CSAM picture or video")
    annotation = (annotation or "").strip()
    if len(annotation) > MAX_ANNOTATION:
        raise ReviewError(f"annotation is longer than {MAX_ANNOTATION} characters")
    return category, industry_class, annotation


def bank_choices(category: str | None = None) -> list[Any]:
    """Enabled banks a decision may add hashes to: positive banks with the category's label, or
    negative banks for a not-violating decision (false positive). All of them when no category."""
    from suraksha.matching.banks import list_banks

    banks = [b for b in list_banks() if b.enabled]
    if category is None:
        return banks
    if category == "not_violating":
        return [b for b in banks if b.negative]
    label = BANK_LABEL_FOR.get(category)
    return [b for b in banks if not b.negative and (label is None or b.label == label)]


def _check_bank(bank: str | None, category: str) -> str | None:
    bank = (bank or "").strip() or None
    if bank is None:
        return None
    allowed = {b.name for b in bank_choices(category)}
    if bank not in allowed:
        kind = (
            "a negative bank"
            if category == "not_violating"
            else f"a bank labelled {BANK_LABEL_FOR.get(category, 'for this category')}"
        )
        raise ReviewError(
            f"bank {bank!r} cannot take this decision's hashes; choose {kind}"
            + (f" ({', '.join(sorted(allowed))})" if allowed else " (none exists)")
        )
    return bank


def item_signal_rows(session: Session, item_id: int, decision_id: int) -> list[Any]:
    """The stored hashes of an item's media as bank rows (the bytes are usually gone; hashes are kept)."""
    from suraksha.items.models import ItemMedia
    from suraksha.matching.banks import SignalRow

    rows = []
    meta = {"source": "review", "item_id": item_id, "decision_id": decision_id}
    for m in session.scalars(select(ItemMedia).where(ItemMedia.item_id == item_id).order_by(ItemMedia.position)).all():
        if m.sha256:
            rows.append(SignalRow("sha256", m.sha256, meta))
        if m.md5:
            rows.append(SignalRow("md5", m.md5, meta))
        if m.pdq and (m.pdq_quality or 0) >= 50:
            rows.append(SignalRow("pdq", m.pdq, {**meta, "quality": m.pdq_quality}))
        if m.vpdq:
            try:
                from suraksha.signals import VpdqFrame, vpdq_to_signal

                rows.append(SignalRow("vpdq", vpdq_to_signal([VpdqFrame(**f) for f in m.vpdq]), meta))
            except Exception:  # an odd stored vPDQ must not lose the other hashes
                pass
    return rows


def _apply_bank(session: Session, bank: str, item_id: int, decision_id: int) -> dict[str, Any]:
    from suraksha.matching.banks import add_signals

    rows = item_signal_rows(session, item_id, decision_id)
    if not rows:
        return {"bank": bank, "added": 0, "duplicates": 0, "note": "no stored hashes for this item's media"}
    # add_signals runs in its own transaction: the matcher's change feed must see it at once.
    result = add_signals(bank, rows)
    return {"bank": bank, "added": result.added, "duplicates": result.duplicates}


def _auto_case(session: Session, item_id: int, account_id: int | None, actor: Actor) -> int:
    """Violating decisions join the account's open case (one is opened when there is none)."""
    case = None
    if account_id is not None:
        case = session.scalar(select(Case).where(Case.account_id == account_id, Case.status == "open").order_by(Case.id).limit(1))
    if case is None:
        from suraksha.items.models import Account

        account = session.get(Account, account_id) if account_id is not None else None
        title = f"Account {account.handle or account.platform_account_id}" if account else f"Item {item_id}"
        case = Case(title=title[:200], status="open", account_id=account_id, created_by=actor.name)
        session.add(case)
        session.flush()
        audit.record(session, actor.name, "case.create", "case", case.id, {"title": case.title, "auto": True})
    if session.get(CaseItem, (case.id, item_id)) is None:
        session.add(CaseItem(case_id=case.id, item_id=item_id))
    if account_id is not None and session.get(CaseAccount, (case.id, account_id)) is None:
        session.add(CaseAccount(case_id=case.id, account_id=account_id))
    case.updated_at = utcnow()
    return case.id


def decide(
    task_id: int, actor: Actor, category: str, industry_class: str | None = None, annotation: str = "", bank: str | None = None
) -> DecideResult:
    """Record a decision. Categories listed in SURAKSHA_REVIEW_SECOND_REVIEW need a second,
    different reviewer to agree before the decision is final; a disagreement goes to a senior
    reviewer. A final decision adds the hashes to the chosen bank and files the item in a case."""
    category, industry_class, annotation = _validate_decision(category, industry_class, annotation)
    bank = _check_bank(bank, category)
    needs_second = category in get_review_settings().second_review_categories
    bank_to_apply = None
    acted: list[str] = []
    with session_scope() as session:
        task = session.scalars(select(ReviewTask).where(ReviewTask.id == task_id).with_for_update()).first()
        if task is None:
            raise TaskNotFound(f"review task {task_id} not found")
        if task.queue == APPEAL_QUEUE:
            raise ReviewError("this is an appeal: uphold or restore it on its page (/appeals)")
        why = _why_not(session, task, actor)
        if why:
            raise ReviewError(why)
        _validate_decision(category, industry_class, annotation, item_content(session, task.item_id))
        stage = {"open": "primary", "second_review": "second", "escalated": "senior"}[task.status]
        d = ReviewDecision(
            task_id=task.id,
            item_id=task.item_id,
            reviewer_id=actor.user_id,
            stage=stage,
            category=category,
            industry_class=industry_class,
            annotation=annotation,
            bank=bank,
            bank_result={},
        )
        session.add(d)
        session.flush()
        final = True
        message = f"Decided: {CATEGORY_LABELS[category]}{' ' + industry_class if industry_class else ''}."
        if stage == "primary" and needs_second:
            final = False
            task.status = "second_review"
            task.pending_bank = bank
            message += " Waiting for a second reviewer before it is final."
        elif stage == "second":
            first = session.scalar(
                select(ReviewDecision).where(ReviewDecision.task_id == task.id, ReviewDecision.stage == "primary")
            )
            if first is not None and (first.category, first.industry_class) != (category, industry_class):
                final = False
                task.status = "escalated"
                task.escalation_note = (
                    f"second review disagreed: {first.category} {first.industry_class or ''} vs {category} {industry_class or ''}"
                ).replace("  ", " ")
                message = "The second review disagrees with the first; sent to a senior reviewer."
            else:
                bank = bank or task.pending_bank
        if final:
            d.final = True
            d.bank = bank
            task.status = "done"
            task.final_decision_id = d.id
            task.decided_at = utcnow()
            if category != "not_violating":
                _auto_case(session, task.item_id, task.account_id, actor)
            bank_to_apply = bank
            # The decision acts: the policy's actions for its category, in this transaction.
            acted = enqueue_decision_actions(session, task.item_id, d.id, category, actor.name)
            if acted:
                message += " Actions: " + ", ".join(acted) + "."
        audit.record(
            session,
            actor.name,
            "review.decide",
            "item",
            task.item_id,
            {
                "task_id": task.id,
                "decision_id": d.id,
                "stage": stage,
                "category": category,
                "industry_class": industry_class,
                "final": final,
                "bank": bank,
                "annotation": annotation[:200],
                "actions": acted,
            },
        )
        decision_id, item_id = d.id, task.item_id
        status = task.status
    result = DecideResult(final=final, status=status, message=message, actions=acted)
    if bank_to_apply:
        with session_scope() as session:
            outcome = _apply_bank(session, bank_to_apply, item_id, decision_id)
            row = session.get(ReviewDecision, decision_id)
            row.bank_result = outcome
            audit.record(
                session,
                actor.name,
                "bank.add_from_review",
                "bank",
                bank_to_apply,
                {"item_id": item_id, "decision_id": decision_id, **outcome},
            )
        result.bank_result = outcome
        result.message += f" Added {outcome['added']} hash(es) to {bank_to_apply}" + (
            f" ({outcome['duplicates']} already there)." if outcome.get("duplicates") else "."
        )
    return result


def escalate(task_id: int, actor: Actor, note: str = "") -> None:
    note = (note or "").strip()
    if len(note) > MAX_ANNOTATION:
        raise ReviewError(f"note is longer than {MAX_ANNOTATION} characters")
    with session_scope() as session:
        task = session.get(ReviewTask, task_id)
        if task is None:
            raise TaskNotFound(f"review task {task_id} not found")
        if task.status in ("done", "escalated"):
            raise ReviewError(f"task is already {'decided' if task.status == 'done' else 'escalated'}")
        task.status = "escalated"
        task.escalated_by = actor.user_id
        task.escalation_note = note or f"escalated by {actor.username}"
        audit.record(session, actor.name, "review.escalate", "item", task.item_id, {"task_id": task.id, "note": note[:200]})


# ------------------------------------------------------------------------ decisions for reporting
def get_decision(item_id: int) -> Decision | None:
    """The latest final decision on an item, with every reviewer who agreed with it; None if none."""
    with session_scope() as session:
        final = session.scalar(
            select(ReviewDecision)
            .where(ReviewDecision.item_id == item_id, ReviewDecision.final.is_(True))
            .order_by(ReviewDecision.id.desc())
            .limit(1)
        )
        if final is None:
            return None
        same = session.scalars(
            select(ReviewDecision).where(ReviewDecision.task_id == final.task_id).order_by(ReviewDecision.id)
        ).all()
        agreeing = [r.reviewer_id for r in same if (r.category, r.industry_class) == (final.category, final.industry_class)]
        ids = tuple(dict.fromkeys(agreeing))
        return Decision(
            item_id=item_id,
            task_id=final.task_id,
            decision_id=final.id,
            category=final.category,
            industry_class=final.industry_class,
            annotation=final.annotation,
            reviewer_ids=ids,
            final_reviewer_id=final.reviewer_id,
            stage=final.stage,
            decided_at=_aware(final.created_at),
        )


def decision_satisfies_report_rule(item_id: int, two_person: bool) -> bool:
    """True when a final decision says the item is reportable (CSAM) and, with ``two_person``, at
    least two different reviewers agreed on that category."""
    d = get_decision(item_id)
    if d is None or not d.reportable:
        return False
    if not two_person:
        return True
    with session_scope() as session:
        agreeing = set(
            session.scalars(
                select(ReviewDecision.reviewer_id).where(
                    ReviewDecision.task_id == d.task_id, ReviewDecision.category == d.category
                )
            ).all()
        )
    return len(agreeing) >= 2


# ---------------------------------------------------------------------------- media and exposure
def _day_start(now: dt.datetime) -> dt.datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def exposure_today(user_id: int) -> int:
    now = utcnow()
    with session_scope() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(MediaReveal)
                .where(MediaReveal.user_id == user_id, MediaReveal.at >= _day_start(now))
            )
            or 0
        )


def record_reveal(actor: Actor, item_id: int, position: int) -> int:
    """Audit a reveal and count it; returns today's count for this person."""
    with session_scope() as session:
        add_reveal(session, actor, item_id, position)
    return exposure_today(actor.user_id)


def add_reveal(session: Any, actor: Actor, item_id: int, position: int, detail: dict[str, Any] | None = None) -> MediaReveal:
    """Count and audit one reveal inside the caller's transaction (``cases.media`` adds its
    one-time original link to the same transaction)."""
    from suraksha.items.models import ItemMedia

    media = session.scalar(select(ItemMedia.id).where(ItemMedia.item_id == item_id, ItemMedia.position == position))
    if media is None:
        raise NotFound(f"item {item_id} has no media {position}")
    reveal = MediaReveal(user_id=actor.user_id, item_id=item_id, media_position=position)
    session.add(reveal)
    session.flush()
    audit.record(session, actor.name, "media.reveal", "item", item_id, {"position": position, **(detail or {})})
    return reveal


class MediaDamaged(Exception):
    """Media that was preserved as evidence but cannot be read back intact (tampered, blob or master
    key missing, digest mismatch). Not "not retained": the vault has already logged, counted and
    audited it, and the reviewer is told so (``MESSAGE``) instead of a quiet placeholder."""

    MESSAGE = "evidence damaged — reported to admins"

    def __init__(self, item_id: int, position: int, kind: str) -> None:
        super().__init__(f"item {item_id} media {position}: {self.MESSAGE} ({kind})")
        self.item_id = item_id
        self.position = position
        self.kind = kind


def media_bytes(item_id: int, position: int, actor: Actor, served: str = "original") -> tuple[bytes, str] | None:
    """The media's bytes when they are still held (pending scan, or held for evidence); None when
    only hashes were kept. Every access is an audit event; ``served`` says what the bytes become
    (``original``, or ``preview`` when ``cases.media`` only derives a blurred thumbnail from them).
    ``MediaDamaged`` when the preserved copy fails to read back (audited here with its kind)."""
    from suraksha.evidence import EvidenceUnreadable
    from suraksha.items.models import ItemMedia, PendingMedia

    with session_scope() as session:
        media = session.execute(
            select(ItemMedia.id, ItemMedia.mime).where(ItemMedia.item_id == item_id, ItemMedia.position == position)
        ).first()
        if media is None:
            raise NotFound(f"item {item_id} has no media {position}")
        mime = media.mime
        data = session.scalar(
            select(PendingMedia.data)
            .where(PendingMedia.item_id == item_id, PendingMedia.position == position)
            .order_by(PendingMedia.id.desc())
            .limit(1)
        )
    damaged: str | None = None
    if data is None:  # the vault read runs in its own transaction (custody, or the damage report)
        try:
            data = _from_evidence(item_id, position, actor)
        except EvidenceUnreadable as exc:
            damaged = exc.kind
    # ``served`` is what actually left the server: "original" only for intact original bytes
    # (the reports helper counts a person's view of an original by it; see /work/notes/REVEAL.md).
    shown = served if data is not None and damaged is None else "none"
    details: dict[str, Any] = {"position": position, "requested": served, "retained": data is not None, "served": shown}
    if damaged is not None:
        details["damaged"] = damaged
    with session_scope() as session:
        audit.record(session, actor.name, "media.view", "item", item_id, details)
    if damaged is not None:
        raise MediaDamaged(item_id, position, damaged)
    if data is None:
        return None
    return data, mime or _sniff_mime(data)


def _preserved_ids(session: Session, item_id: int) -> dict[int, str]:
    """Media position -> id of the newest unpurged evidence object preserved for it
    (``item:<id>:media:<position>``)."""
    from suraksha.evidence.models import Evidence

    prefix = f"item:{item_id}:media:"
    rows = session.execute(
        select(Evidence.id, Evidence.item_ref)
        .where(Evidence.item_ref.like(prefix + "%"), Evidence.purged_at.is_(None))
        .order_by(Evidence.captured_at)
    ).all()
    out: dict[int, str] = {}
    for evidence_id, ref in rows:
        tail = ref[len(prefix) :]
        if tail.isdigit():
            out[int(tail)] = evidence_id  # ordered by capture: the newest wins
    return out


def _from_evidence(item_id: int, position: int, actor: Actor) -> bytes | None:
    """Bytes from the evidence vault (preserved as ``item:<id>:media:<position>``), read with its
    own custody and audit records; None when nothing was preserved or it was purged meanwhile.
    A damaged object raises ``EvidenceUnreadable`` (already logged, counted and audited by the vault):
    it must never pass for "not retained"."""
    from suraksha.evidence import EvidenceNotFound, EvidencePurged, read

    with session_scope() as session:
        evidence_id = _preserved_ids(session, item_id).get(position)
    if evidence_id is None:
        return None
    try:
        return read(evidence_id, actor.name, "review")
    except (EvidenceNotFound, EvidencePurged):  # purged between the lookup and the read
        return None


def _sniff_mime(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    return "application/octet-stream"


def media_retained(item_id: int) -> set[int]:
    """Positions whose bytes are still pending in the database (not counting preserved evidence;
    the review pages use ``media_states``)."""
    from suraksha.items.models import PendingMedia

    with session_scope() as session:
        return set(session.scalars(select(PendingMedia.position).where(PendingMedia.item_id == item_id)).all())


MEDIA_HELD, MEDIA_DAMAGED = "held", "damaged"


def media_states(item_id: int, actor: Actor) -> dict[int, str]:
    """Position -> ``held`` or ``damaged`` for each media whose bytes were kept (absent: only hashes
    were kept). Bytes still pending are held; a preserved copy is checked end to end in the vault
    (decrypt and hashes, custody ``verify``), so the page can say "evidence damaged" before the
    browser asks for a preview, and a bit flipped on disk is never shown as "not retained"."""
    from suraksha.evidence import EvidenceNotFound, EvidencePurged, EvidenceUnreadable, check
    from suraksha.items.models import PendingMedia

    with session_scope() as session:
        pending = set(session.scalars(select(PendingMedia.position).where(PendingMedia.item_id == item_id)).all())
        preserved = _preserved_ids(session, item_id)
    states = {position: MEDIA_HELD for position in pending}
    for position, evidence_id in sorted(preserved.items()):
        if position in states:
            continue
        try:
            check(evidence_id, actor.name, "review page")
        except EvidenceUnreadable:
            states[position] = MEDIA_DAMAGED
        except (EvidenceNotFound, EvidencePurged):
            continue
        else:
            states[position] = MEDIA_HELD
    return states


# ------------------------------------------------------------------------------------------ cases
@dataclass(frozen=True)
class CaseRow:
    id: int
    title: str
    status: str
    account_id: int | None
    items: int
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True)
class CaseView:
    case: CaseRow
    items: list[dict[str, Any]]
    accounts: list[dict[str, Any]]
    decisions: list[DecisionRow]


def list_cases(status: str | None = None, limit: int = 200) -> list[CaseRow]:
    with session_scope() as session:
        counts = select(CaseItem.case_id, func.count().label("n")).group_by(CaseItem.case_id).subquery()
        q = select(Case, func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.case_id == Case.id)
        if status:
            q = q.where(Case.status == status)
        rows = session.execute(q.order_by(Case.updated_at.desc(), Case.id.desc()).limit(limit)).all()
        return [
            CaseRow(c.id, c.title, c.status, c.account_id, n, c.created_by, _aware(c.created_at), _aware(c.updated_at))
            for c, n in rows
        ]


def get_case(case_id: int, actor: Actor) -> CaseView:
    from suraksha.items.models import Account, Item

    with session_scope() as session:
        c = session.get(Case, case_id)
        if c is None:
            raise CaseNotFound(f"case {case_id} not found")
        items = (
            session.execute(
                select(Item).join(CaseItem, CaseItem.item_id == Item.id).where(CaseItem.case_id == case_id).order_by(Item.id)
            )
            .scalars()
            .all()
        )
        accounts = (
            session.execute(
                select(Account)
                .join(CaseAccount, CaseAccount.account_id == Account.id)
                .where(CaseAccount.case_id == case_id)
                .order_by(Account.id)
            )
            .scalars()
            .all()
        )
        item_ids = [i.id for i in items]
        # Blind second review: a decision waiting for its second reviewer is not shown here either.
        blind = select(ReviewTask.id).where(ReviewTask.status == "second_review")
        decisions = (
            _decision_rows(session, ReviewDecision.item_id.in_(item_ids) & ReviewDecision.task_id.not_in(blind))
            if item_ids
            else []
        )
        n = len(items)
        audit.record(session, actor.name, "case.view", "case", case_id, {})
        return CaseView(
            CaseRow(c.id, c.title, c.status, c.account_id, n, c.created_by, _aware(c.created_at), _aware(c.updated_at)),
            [
                {
                    "id": i.id,
                    "platform_id": i.platform_id,
                    "verdict": i.verdict,
                    "rule": i.rule,
                    "account_id": i.account_id,
                    "created_at": _aware(i.created_at),
                }
                for i in items
            ],
            [{"id": a.id, "platform_account_id": a.platform_account_id, "handle": a.handle} for a in accounts],
            decisions,
        )


def create_case(title: str, actor: Actor, *, item_ids: list[int] | None = None, account_ids: list[int] | None = None) -> int:
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise ReviewError("a case needs a title of 1-200 characters")
    with session_scope() as session:
        c = Case(title=title, status="open", created_by=actor.name)
        session.add(c)
        session.flush()
        audit.record(session, actor.name, "case.create", "case", c.id, {"title": title})
        case_id = c.id
    for item_id in item_ids or []:
        add_to_case(case_id, actor, item_id=item_id)
    for account_id in account_ids or []:
        add_to_case(case_id, actor, account_id=account_id)
    return case_id


def add_to_case(case_id: int, actor: Actor, *, item_id: int | None = None, account_id: int | None = None) -> None:
    """Add an item (and its account) or an account to a case."""
    from suraksha.items.models import Account, Item

    if (item_id is None) == (account_id is None):
        raise ReviewError("give either an item id or an account id")
    with session_scope() as session:
        c = session.get(Case, case_id)
        if c is None:
            raise CaseNotFound(f"case {case_id} not found")
        if item_id is not None:
            item = session.get(Item, item_id)
            if item is None:
                raise ReviewError(f"item {item_id} not found")
            if session.get(CaseItem, (case_id, item_id)) is None:
                session.add(CaseItem(case_id=case_id, item_id=item_id))
            account_id = item.account_id
        if account_id is not None:
            if session.get(Account, account_id) is None:
                raise ReviewError(f"account {account_id} not found")
            if session.get(CaseAccount, (case_id, account_id)) is None:
                session.add(CaseAccount(case_id=case_id, account_id=account_id))
        c.updated_at = utcnow()
        audit.record(session, actor.name, "case.add", "case", case_id, {"item_id": item_id, "account_id": account_id})


def set_case_status(case_id: int, status: str, actor: Actor) -> None:
    if status not in ("open", "closed"):
        raise ReviewError("case status must be open or closed")
    with session_scope() as session:
        c = session.get(Case, case_id)
        if c is None:
            raise CaseNotFound(f"case {case_id} not found")
        c.status = status
        c.updated_at = utcnow()
        audit.record(session, actor.name, "case.status", "case", case_id, {"status": status})


# ------------------------------------------------------------------------- what reviewers decide on
_URL = re.compile(r"(?i)\b((?:https?|ftp)://[^\s<>\"']+|[a-z0-9][a-z0-9\-]{1,62}\.onion\b[^\s<>\"']*)")


def defang(url: str) -> str:
    """A link made unclickable and unmistakable: ``hxxps[://]example[.]org/x`` (pages print it as text)."""
    out = re.sub(r"(?i)^http", "hxxp", url.strip())
    scheme, sep, rest = out.partition("://")
    if not sep:
        scheme, rest = "", out
    host, slash, path = rest.partition("/")
    return (f"{scheme}[://]" if sep else "") + host.replace(".", "[.]") + slash + path


def defang_text(text: str) -> str:
    """The item's text with every link in it defanged."""
    return _URL.sub(lambda m: defang(m.group(0)), text)


@dataclass(frozen=True)
class ReviewContext:
    """What the reviewer decides on besides the media: the text and links (defanged), why it was
    flagged (the policy's facts: rule, bank, entry, distance, words), and the account's history."""

    text: str | None
    links: list[str]
    flagged: list[dict[str, Any]]
    reasons: list[str]
    text_hits: list[dict[str, Any]]
    account: dict[str, Any] | None
    has_media: bool
    has_text: bool


def review_context(item_id: int) -> ReviewContext:
    from suraksha.items.models import Account

    with session_scope() as session:
        item = session.get(Item, item_id)
        if item is None:
            raise NotFound(f"item {item_id} not found")
        has_media, has_text = item_content(session, item_id)
        flagged = []
        for f in item.facts or []:
            if isinstance(f, dict):
                flagged.append({k: v for k, v in f.items() if v not in (None, "", [], {})})
        account = None
        if item.account_id is not None:
            acc = session.get(Account, item.account_id)
            if acc is not None:
                total = session.scalar(select(func.count()).select_from(Item).where(Item.account_id == acc.id)) or 0
                violating = (
                    session.scalar(
                        select(func.count(func.distinct(ReviewDecision.item_id)))
                        .select_from(ReviewDecision)
                        .join(Item, Item.id == ReviewDecision.item_id)
                        .where(
                            Item.account_id == acc.id,
                            ReviewDecision.final.is_(True),
                            ReviewDecision.category != "not_violating",
                        )
                    )
                    or 0
                )
                cases = session.scalars(
                    select(Case.id).join(CaseAccount, CaseAccount.case_id == Case.id).where(CaseAccount.account_id == acc.id)
                ).all()
                account = {
                    "id": acc.id,
                    "platform_account_id": acc.platform_account_id,
                    "handle": acc.handle,
                    "first_seen": _aware(acc.first_seen),
                    "item_count": total,
                    "violating_decisions": violating,
                    "cases": list(cases),
                }
        ctx = dict(item.context or {})
        if account is not None:
            account["ip"] = ctx.get("ip")
            account["country"] = ctx.get("country")
        return ReviewContext(
            text=defang_text(item.text) if item.text else None,
            links=[defang(str(u)) for u in item.links or []],
            flagged=flagged,
            reasons=[str(r) for r in item.reasons or []],
            text_hits=[h for h in item.text_hits or [] if isinstance(h, dict)],
            account=account,
            has_media=has_media,
            has_text=has_text,
        )
