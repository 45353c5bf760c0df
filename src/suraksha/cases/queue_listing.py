"""A review queue page by page, with its total (the queue page showed the first 200 tasks and no
count; the links queue had 737). Same order and stage rules as ``service.list_tasks``:
highest priority first, then oldest; escalated tasks only for senior reviewers."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from suraksha.cases.models import ReviewTask
from suraksha.cases.service import Actor, TaskRow, _check_stage, _row, _task_query
from suraksha.db import session_scope
from suraksha.db.base import utcnow
from suraksha.errors import InvalidInput

MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class TaskPage:
    tasks: list[TaskRow]
    total: int
    overdue: int
    limit: int
    offset: int


def task_page(actor: Actor, queue: str, stage: str = "open", *, limit: int = 50, offset: int = 0) -> TaskPage:
    """One page of a queue's waiting tasks, the number waiting and how many of them are overdue."""
    _check_stage(actor, stage)
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page size must be from 1 to {MAX_PAGE_SIZE}")
    if offset < 0:
        raise InvalidInput("offset must not be negative")
    where = (ReviewTask.queue == queue, ReviewTask.status == stage)
    with session_scope() as session:
        total = session.scalar(select(func.count()).select_from(ReviewTask).where(*where)) or 0
        overdue = session.scalar(select(func.count()).select_from(ReviewTask).where(*where, ReviewTask.due_at < utcnow())) or 0
        rows = session.scalars(_task_query(queue, stage).limit(limit).offset(offset)).all()
        return TaskPage([_row(t) for t in rows], int(total), int(overdue), limit, offset)
