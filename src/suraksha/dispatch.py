"""The composition root: the one module that knows every consumer of the outbox.

Areas do not call each other to get work done after a scan: the scan's transaction writes outbox
messages (``suraksha.outbox``), and this module hands each topic to the area that carries it out,
through the one claim / lease / retry / dead-letter loop (``outbox.consume``):

=============  ===============================================  ========================================
topic          handler                                          makes
=============  ===============================================  ========================================
``action``     ``enforcement.actions.take_action_message``      an action row (a suspension per account)
``preserve``   ``enforcement.preservation.take_preserve_message``  encrypted copies in the evidence vault
``review``     ``cases.service.take_review_message``            a review task per (item, queue)
``report``     ``reporting.service.take_report_message``        a draft report per (destination, item)
=============  ===============================================  ========================================

A ``Dispatcher`` pass then moves the work those rows stand for: drafts whose review and evidence
are done -> queued (``reporting.service.advance_drafts``), due actions -> the platform connector
(``enforcement.actions.deliver_due``), due NCMEC reports -> the CyberTipline
(``reporting.dispatch.file_due``), legal requests near their deadline -> escalation notices
(``legal.deadlines.escalate_due``, once a minute at most), and the audit chain's head -> the anchors
file outside the database (``audit.anchors.publish_if_due``, hourly by default). Every step reads
and writes the database only, so any number of dispatchers on any machines can run side by side,
and a killed one loses nothing.

Run by ``suraksha dispatch`` and, in the embedded default, in a thread of ``suraksha serve``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from suraksha import outbox
from suraksha.audit.anchors import publish_if_due
from suraksha.audit.settings import get_audit_settings
from suraksha.cases.service import take_review_message
from suraksha.enforcement import actions, preservation
from suraksha.enforcement.connector import Connector, connector_from_settings
from suraksha.legal.deadlines import escalate_due
from suraksha.reporting import dispatch as report_dispatch
from suraksha.reporting import service as reports
from suraksha.reporting.ncmec import CyberTiplineClient
from suraksha.reporting.ncmec.settings import NcmecSettings

log = logging.getLogger(__name__)


def report_network(session: Any, account_id: int) -> dict[str, Any] | None:
    """The network a reported account belongs to, for its report (NCMEC ``groupIdentifier``, the
    India/UK packages): only accounts tied to it by strong links count as its group. The identifier
    is the group's lowest account id (stable while the group grows). None when no other account is
    strongly linked. Registered with reporting below: networks sits under reporting in the layers."""
    from suraksha.networks.service import build_network

    net = build_network(session, account_id, max_accounts=200)
    strong = [m for m in net.members if getattr(m, "tie", "strong") == "strong"]
    if len(strong) < 2:
        return None
    return {
        "group_identifier": f"suraksha-network-{min(m.account_id for m in strong)}",
        "size": len(strong),
        "truncated": net.truncated,
        "members": [
            {"platform_account_id": m.platform_account_id, "handle": m.handle, "linked_by": list(m.linked_by)[:5]} for m in strong
        ],
        "linked_by": net.linked_by,
    }


reports.register_network_lookup(report_network)


@dataclass(frozen=True)
class Consumer:
    """Which handler carries out one outbox topic, how many messages a pass claims at most, and how
    many share one transaction (``outbox.consume``)."""

    topic: str
    handler: outbox.Handler
    batch: int
    per_transaction: int = 1


# The wiring. Order matters within a pass: actions and evidence before reports (a report waits for
# its evidence copy), review tasks before reports (a report may wait for the review decision).
CONSUMERS: tuple[Consumer, ...] = (
    Consumer("action", actions.take_action_message, 500, per_transaction=100),
    # Encrypts and writes media to the vault: one message per transaction, so a slow one holds no
    # other message's rows (or SQLite's write lock) for long.
    Consumer("preserve", preservation.take_preserve_message, 50),
    Consumer("review", take_review_message, 1000, per_transaction=100),
    Consumer("report", reports.take_report_message, 500, per_transaction=100),
)
_BY_TOPIC = {c.topic: c for c in CONSUMERS}
# What each topic's step is called in a pass's result (``suraksha dispatch --once`` prints it).
STEP_NAMES = {"action": "action_messages", "preserve": "preserved", "review": "review_tasks", "report": "report_messages"}


def deliver(topic: str, limit: int | None = None) -> outbox.Consumed:
    """Carry out the due messages of one topic now, with its handler (the review pages sync tasks
    this way before showing a queue; tests use it to run one step)."""
    consumer = _BY_TOPIC.get(topic)
    if consumer is None:
        raise outbox.OutboxError(f"no handler for outbox topic {topic!r}; expected one of {', '.join(_BY_TOPIC)}")
    return outbox.consume(topic, consumer.handler, limit=limit or consumer.batch, per_transaction=consumer.per_transaction)


def new_dispatcher_id() -> str:
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def ncmec_client_from_settings(transport: Any = None) -> CyberTiplineClient | None:
    """The CyberTipline client when credentials are configured, else None (reports then wait)."""
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

    def steps(self) -> list[tuple[str, Callable[[], Any]]]:
        """One pass, in order: every outbox topic, then the work their rows stand for."""
        out: list[tuple[str, Callable[[], Any]]] = []
        for c in CONSUMERS:
            if c.topic == "review" and not self.sync_reviews:
                continue
            out.append((STEP_NAMES[c.topic], lambda c=c: deliver(c.topic).as_dict()))
        out += [
            ("reports_queued", reports.advance_drafts),
            ("actions", lambda: actions.deliver_due(self.connector, self.dispatcher_id)),
            ("reports", lambda: report_dispatch.file_due(self.ncmec, self.dispatcher_id) if self.ncmec is not None else {}),
            ("legal_escalations", self._escalate_legal),
            ("audit_anchor", self._publish_audit_anchor),
        ]
        return out

    def run_once(self) -> dict[str, Any]:
        """One pass over every step; a failing step is logged and the others still run."""
        out: dict[str, Any] = {}
        for name, step in self.steps():
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
        return len(escalate_due())

    def _publish_audit_anchor(self) -> int:
        """Append the audit head to the anchors file when its newest anchor is older than the period.

        The file is looked at once a minute at most; whether to write is decided by the file's last
        anchor, so dispatchers sharing one file add one line per period between them. Returns 1 when
        an anchor was written. A chain that no longer verifies raises (logged each time, alert on it).
        """
        every = self.anchor_every_s
        if every is None:
            every = get_audit_settings().anchor_every_s
        if every <= 0:
            return 0
        now = time.monotonic()
        if self._anchor_checked_at is not None and now - self._anchor_checked_at < min(every, 60.0):
            return 0
        self._anchor_checked_at = now
        return 1 if publish_if_due(every) is not None else 0

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
    return Dispatcher(connector=connector_from_settings(), ncmec=ncmec_client_from_settings())
