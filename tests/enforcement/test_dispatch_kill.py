"""Kill -9 the dispatcher in the middle of deliveries and filings, again and again; restart it;
afterwards no action or report is lost or duplicated.

The platform and NCMEC run as local HTTP servers in this process (the fake platform acts once per
idempotency key and counts; the CyberTipline simulator keeps every report NCMEC would hold). Each
kill waits until a request is in flight, so it lands mid-delivery.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from sqlalchemy import func, select

from reporting.ncmec_simulator import NcmecSimulator
from suraksha.db import session_scope

from .helpers import REPORTER_ENV, SECRET, FakePlatform, csam_bank, jpeg_bytes, scan_all, submit

pytestmark = pytest.mark.slow

N_ACCOUNTS = 6
ITEMS_PER_ACCOUNT = 3
KILLS = 8


class _Server:
    """Serves an httpx-style handler over real HTTP; counts requests in flight; ``delay`` per request."""

    def __init__(self, handle, delay: float) -> None:
        self.active = 0
        self._lock = threading.Lock()
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):  # quiet
                pass

            def _do(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer._lock:
                    outer.active += 1
                try:
                    time.sleep(delay)  # the window in which the dispatcher gets killed
                    req = httpx.Request(
                        self.command, f"http://127.0.0.1{self.path}", headers=dict(self.headers.items()), content=body
                    )
                    with outer._handler_lock:
                        resp = handle(req)
                    data = resp.read()
                    self.send_response(resp.status_code)
                    for k, v in resp.headers.items():
                        if k.lower() not in ("content-length", "transfer-encoding", "connection"):
                            self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed
                finally:
                    with outer._lock:
                        outer.active -= 1

            do_GET = do_POST = _do

        self._handler_lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _pending_work() -> bool:
    from suraksha.enforcement.models import Action
    from suraksha.outbox.models import OutboxMessage
    from suraksha.reporting.models import Report

    with session_scope() as s:
        return bool(
            s.scalar(
                select(func.count())
                .select_from(OutboxMessage)
                .where(OutboxMessage.status.in_(("pending", "claimed")), OutboxMessage.topic != "review")
            )
            or s.scalar(select(func.count()).select_from(Action).where(Action.status != "acknowledged"))
            or s.scalar(select(func.count()).select_from(Report).where(Report.destination == "ncmec", Report.state != "finished"))
        )


def test_dispatcher_killed_mid_delivery_loses_and_duplicates_nothing(env, reference_dir, tmp_path):
    from suraksha import evidence
    from suraksha.enforcement.models import Action, ActionDelivery
    from suraksha.items.models import PendingMedia
    from suraksha.policy import load_policy
    from suraksha.reporting.models import Report

    # Reports go out without waiting for a reviewer, so the dispatcher alone finishes everything.
    text = (__import__("importlib.resources").resources.files("suraksha.policy") / "default.yaml").read_text()
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(text.replace("require_review_before_report: true", "require_review_before_report: false"))
    policy = load_policy(str(policy_file))

    image = csam_bank(reference_dir)
    items = [
        submit(f"post-{a}-{k}", f"acct-{a}", [image, jpeg_bytes(a * 10 + k)], ip=f"198.51.100.{a}", port=4000 + k)
        for a in range(N_ACCOUNTS)
        for k in range(ITEMS_PER_ACCOUNT)
    ]
    scan_all(policy)

    platform, sim = FakePlatform(), NcmecSimulator()
    hook = _Server(platform.handle, delay=0.15)
    ncmec = _Server(sim.handle, delay=0.05)
    child_env = {
        **os.environ,
        **REPORTER_ENV,
        "SURAKSHA_CONNECTOR_URL": f"http://127.0.0.1:{hook.port}/suraksha/webhook",
        "SURAKSHA_CONNECTOR_SECRET": SECRET,
        "SURAKSHA_NCMEC_BASE_URL": f"http://127.0.0.1:{ncmec.port}/ispws",
        "SURAKSHA_NCMEC_USERNAME": sim.username,
        "SURAKSHA_NCMEC_PASSWORD": sim.password,
        "SURAKSHA_POLICY_PATH": str(policy_file),
        "SURAKSHA_ACTION_LEASE_S": "1",
        "SURAKSHA_REPORT_LEASE_S": "1",
        "SURAKSHA_OUTBOX_LEASE_S": "1",
        "SURAKSHA_ACTION_MAX_ATTEMPTS": "100",
        "SURAKSHA_REPORT_MAX_ATTEMPTS": "100",
        "SURAKSHA_ACTION_BACKOFF_BASE_S": "0.05",
        "SURAKSHA_REPORT_BACKOFF_BASE_S": "0.05",
        "SURAKSHA_DISPATCH_BATCH": "3",
    }
    cmd = [sys.executable, "-m", "suraksha.cli", "dispatch", "--poll-interval", "0.05"]
    logs = tmp_path / "dispatch.log"
    kills_mid_request = 0
    try:
        with logs.open("ab") as log:
            for k in range(KILLS):
                proc = subprocess.Popen(cmd, env=child_env, stdout=log, stderr=log)
                target = hook if k % 2 == 0 else ncmec
                deadline = time.monotonic() + 20
                while target.active == 0 and proc.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.005)
                if target.active:
                    kills_mid_request += 1
                proc.send_signal(signal.SIGKILL)
                proc.wait()
            # A last dispatcher runs to the end.
            proc = subprocess.Popen(cmd, env=child_env, stdout=log, stderr=log)
            deadline = time.monotonic() + 120
            while _pending_work() and time.monotonic() < deadline:
                time.sleep(0.2)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=30) == 0
    finally:
        hook.close()
        ncmec.close()

    assert kills_mid_request >= KILLS // 2, f"only {kills_mid_request} kills landed mid-request; see {logs}"
    assert not _pending_work(), logs.read_text()[-3000:]

    with session_scope() as s:
        actions = s.scalars(select(Action)).all()
        acked = Counter(d.action_id for d in s.scalars(select(ActionDelivery).where(ActionDelivery.outcome == "acknowledged")))
        abandoned = s.scalar(select(func.count()).select_from(ActionDelivery).where(ActionDelivery.outcome == "abandoned"))
        reports = s.scalars(select(Report).where(Report.destination == "ncmec")).all()
        evidence_refs = Counter(s.scalars(select(evidence.Evidence.item_ref)).all())
        held = s.scalar(select(func.count()).select_from(PendingMedia).where(PendingMedia.held_for_evidence.is_(True)))

    # Actions: one removal per item, one suspension per account, none lost, each acknowledged once.
    assert Counter(a.kind for a in actions) == {"remove_item": len(items), "suspend_account": N_ACCOUNTS}
    assert all(a.status == "acknowledged" for a in actions)
    assert all(acked[a.id] == 1 for a in actions), acked
    # The platform saw repeats (kills after it acted) but performed each action exactly once.
    assert set(platform.effects) == {a.idempotency_key for a in actions}
    assert all(n == 1 for n in platform.effects.values())
    assert not platform.refused
    assert abandoned >= 1  # a kill left an attempt in flight, and it is on record as such

    # Reports: one per account and incident (an account's items gather in its draft; an item arriving
    # after the draft was queued opens the next incident), each finished at NCMEC exactly once; any
    # report opened by a killed dispatcher was retracted, never finished twice; every item's file is
    # in exactly one of them (below).
    assert N_ACCOUNTS <= len(reports) <= len(items) and all(r.state == "finished" for r in reports)
    assert len({r.account_id for r in reports}) == N_ACCOUNTS
    finished = [r for r in sim.reports.values() if r.state == "finished"]
    assert sorted(str(r.report_id) for r in finished) == sorted(r.external_id for r in reports)
    assert all(r.state in ("finished", "retracted", "open") for r in sim.reports.values())
    per_item = Counter(f.filename.split("-")[0] for r in finished for f in r.files.values())
    assert len(per_item) == len(items) and set(per_item.values()) == {1}

    # Evidence: each item's matched media preserved exactly once (the other media too: the vault
    # keeps what the scan held), nothing left waiting.
    assert all(n == 1 for n in evidence_refs.values())
    assert {f"item:{i}:media:0" for i in items} <= set(evidence_refs)
    assert held == 0
