"""The dispatcher: one loop that empties the outbox and delivers everything it asked for.

Each pass: ``action`` messages -> actions; ``preserve`` -> evidence vault; ``review`` -> review
tasks (the cases area's own intake); ``report`` -> draft reports; drafts whose review/evidence is
done -> queued; due actions -> the platform connector; due NCMEC reports -> the CyberTipline; legal requests near their deadline -> escalation notices
to the nodal and compliance officers (at most once a minute); the audit chain's head -> the anchors
file outside the database (``audit.anchors``, hourly by default). Every
step reads and writes the database only, so any number of dispatchers on any machines can run side
by side, and a killed one loses nothing (see ``enforcement.actions`` and ``reporting.dispatch``).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from suraksha.enforcement.connector import Connector

log = logging.getLogger(__name__)


def new_dispatcher_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def ncmec_client_from_settings(transport: Any = None) -> Any:
    """The CyberTipline client when credentials are configured, else None (reports then wait)."""
    from suraksha.reporting.ncmec import CyberTiplineClient
    from suraksha.reporting.ncmec.settings import NcmecSettings

    settings = NcmecSettings()
    if not settings.configured:
        return None
    return CyberTiplineClient.from_settings(settings, transport=transport)


@dataclass
class Dispatcher:
    """One dispatcher: its id, its connector and (optionally) its NCMEC client."""

    connector: Connector
    ncmec: Any = None
    dispatcher_id: str = field(default_factory=new_dispatcher_id)
    sync_reviews: bool = True
    escalate_every_s: float = 60.0  # legal deadlines are hours long; a minute's granularity is plenty
    _escalated_at: float | None = field(default=None, repr=False)
    anchor_every_s: float | None = None  # None: SURAKSHA_AUDIT_ANCHOR_EVERY_S (3600); 0: off
    _anchor_checked_at: float | None = field(default=None, repr=False)

    def run_once(self) -> dict[str, Any]:
        """One pass over every step; a failing step is logged and the others still run."""
        from suraksha.enforcement import actions, preservation
        from suraksha.reporting import dispatch as report_dispatch
        from suraksha.reporting import service as reports

        out: dict[str, Any] = {}
        steps = [
            ("action_messages", actions.intake_outbox),
            ("preserved", preservation.preserve_pending),
            ("review_tasks", self._sync_reviews),
            ("report_messages", reports.intake_outbox),
            ("reports_queued", reports.advance_drafts),
            ("actions", lambda: actions.deliver_due(self.connector, self.dispatcher_id)),
            ("reports", lambda: report_dispatch.file_due(self.ncmec, self.dispatcher_id) if self.ncmec is not None else {}),
            ("legal_escalations", self._escalate_legal),
            ("audit_anchor", self._publish_audit_anchor),
        ]
        for name, step in steps:
            try:
                out[name] = step()
            except Exception as exc:  # noqa: BLE001 - e.g. a database blip; the next pass retries
                log.exception("dispatch step %s failed", name)
                out[name] = f"error: {type(exc).__name__}: {exc}"
        return out

    def _escalate_legal(self) -> int:
        """Notify the nodal / compliance officer of legal requests nearing their deadline.

        Throttled: an idle pass costs a query per open request set, and deadlines are hours long.
        Each notification is made once per request and level whichever dispatcher gets there first.
        """
        now = time.monotonic()
        if self._escalated_at is not None and now - self._escalated_at < self.escalate_every_s:
            return 0
        self._escalated_at = now
        from suraksha.legal.deadlines import escalate_due

        return len(escalate_due())

    def _publish_audit_anchor(self) -> int:
        """Append the audit head to the anchors file when its newest anchor is older than the period.

        The file is looked at once a minute at most; whether to write is decided by the file's last
        anchor, so dispatchers sharing one file add one line per period between them. Returns 1 when
        an anchor was written. A chain that no longer verifies raises (logged each time, alert on it).
        """
        every = self.anchor_every_s
        if every is None:
            from suraksha.audit.settings import get_audit_settings

            every = get_audit_settings().anchor_every_s
        if every <= 0:
            return 0
        now = time.monotonic()
        if self._anchor_checked_at is not None and now - self._anchor_checked_at < min(every, 60.0):
            return 0
        self._anchor_checked_at = now
        from suraksha.audit.anchors import publish_if_due

        return 1 if publish_if_due(every) is not None else 0

    def _sync_reviews(self) -> int:
        if not self.sync_reviews:
            return 0
        try:
            from suraksha.cases.service import sync_review_tasks
        except ImportError:  # pragma: no cover
            return 0
        return sync_review_tasks()

    @staticmethod
    def busy(result: dict[str, Any]) -> bool:
        """Whether the pass did anything (the loop then goes again at once instead of sleeping)."""
        for value in result.values():
            if isinstance(value, int) and value:
                return True
            if isinstance(value, dict) and any(value.values()):
                return True
        return False

    def run(self, stop: threading.Event, poll_interval: float = 1.0) -> int:
        """Pass after pass until ``stop`` is set; returns the number of passes."""
        passes = 0
        while not stop.is_set():
            result = self.run_once()
            passes += 1
            if not self.busy(result):
                stop.wait(poll_interval)
        return passes


def dispatcher_from_settings() -> Dispatcher:
    from suraksha.enforcement.connector import connector_from_settings

    return Dispatcher(connector=connector_from_settings(), ncmec=ncmec_client_from_settings())
