"""Published anchors: `suraksha audit anchor` writes the head outside the database (and the dispatcher
does it on a schedule); `suraksha audit verify` checks the last one by default, so an attacker with
database access who cuts the newest events and rewrites the head (re-chaining what is left) is
caught; with no anchor at all it says the tail cannot be checked and exits 3."""

from __future__ import annotations

import datetime as dt
import json
import stat
import threading

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from suraksha.audit import compute_hash, record, verify_chain
from suraksha.audit.anchors import AnchorRefused, publish_anchor, publish_if_due, read_last_anchor
from suraksha.audit.models import AuditEvent
from suraksha.cli import app
from suraksha.db import session_scope

from .test_chain import _append, raw

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture
def anchors(db_url, tmp_path, monkeypatch):
    """The anchors file on "other storage" (a folder apart from the home), set by the environment."""
    path = tmp_path / "offhost" / "audit-anchors.jsonl"
    monkeypatch.setenv("SURAKSHA_AUDIT_ANCHOR_FILE", str(path))
    return path


def _events() -> list[dict]:
    with session_scope() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        return [
            dict(
                seq=r.seq,
                at=r.at,
                actor_type=r.actor_type,
                actor=r.actor,
                action=r.action,
                object_type=r.object_type,
                object_id=r.object_id,
                details=r.details,
                ip=r.ip,
            )
            for r in rows
        ]


def _cut_tail_and_rewrite(url: str, keep: int, *, edit_seq: int | None = None) -> None:
    """As an attacker with database access: delete every event after ``keep``, optionally change
    one event's actor, re-chain what is left and point the head at the new end."""
    fields = [f for f in _events() if f["seq"] <= keep]
    prev = "0" * 64
    with raw(url) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq > :k"), {"k": keep})
        for f in fields:
            if f["seq"] == edit_seq:
                f["actor"] = "mallory"
            digest = compute_hash(**f, prev_hash=prev)
            conn.execute(
                text("UPDATE audit_events SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"a": f["actor"], "p": prev, "h": digest, "s": f["seq"]},
            )
            prev = digest
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": keep, "h": prev})


def test_anchor_command_prints_the_head_and_appends_it_outside_the_database(anchors):
    assert not anchors.exists()
    r = run("audit", "anchor")
    assert r.exit_code == 0 and "nothing to anchor" in r.stdout and not anchors.exists()
    _append(4)
    head = verify_chain()
    r = run("audit", "anchor")
    assert r.exit_code == 0, r.output
    assert r.stdout.strip() == f"4:{head.head_hash}"
    line = json.loads(anchors.read_text().splitlines()[-1])
    assert (line["seq"], line["hash"]) == (4, head.head_hash)
    assert dt.datetime.fromisoformat(line["at"]).tzinfo is not None
    assert stat.S_IMODE(anchors.stat().st_mode) == 0o600
    # Nothing new: the file does not grow; new events: a new line.
    assert run("audit", "anchor").exit_code == 0 and len(anchors.read_text().splitlines()) == 1
    _append(2)
    assert run("audit", "anchor").stdout.startswith("6:")
    assert [json.loads(x)["seq"] for x in anchors.read_text().splitlines()] == [4, 6]


def test_default_verify_catches_a_cut_tail_with_a_rewritten_head(anchors, db_url):
    _append(5)
    assert run("audit", "anchor").exit_code == 0  # published: 5:<hash>
    _append(2)
    ok = run("audit", "verify")
    assert ok.exit_code == 0 and "ok: 7 events verified" in ok.stdout and "contains the anchor 5:" in ok.stdout

    _cut_tail_and_rewrite(db_url, keep=3)
    assert verify_chain().ok  # consistent: nothing inside the database shows it
    bad = run("audit", "verify")
    assert bad.exit_code == 1, bad.output
    assert "TAMPERED at seq 5: the chain ends at seq 3, before the anchor at seq 5" in bad.stderr
    # --anchor still overrides the file (here with the forged head, which of course holds).
    forged = verify_chain()
    assert run("audit", "verify", "--anchor", f"{forged.head_seq}:{forged.head_hash}").exit_code == 0


def test_default_verify_catches_a_rewritten_chain_as_long_as_before(anchors, db_url):
    _append(5)
    assert run("audit", "anchor").exit_code == 0
    _cut_tail_and_rewrite(db_url, keep=5, edit_seq=2)  # nothing cut, event 2 changed, all re-chained
    assert verify_chain().ok
    bad = run("audit", "verify")
    assert bad.exit_code == 1 and "hash differs from the anchor" in bad.stderr


def test_without_an_anchor_file_verify_warns_and_exits_3(anchors):
    _append(3)
    r = run("audit", "verify")
    assert r.exit_code == 3, r.output
    assert "ok: 3 events verified" in r.stdout
    assert "WARNING: no published anchor" in r.stderr and "cannot be checked" in r.stderr
    r = run("audit", "verify", "--json")
    assert r.exit_code == 3 and json.loads(r.stdout)["warning"].startswith("WARNING")


def test_an_unusable_anchors_file_is_a_clear_error(anchors):
    _append(2)
    anchors.parent.mkdir(parents=True)
    anchors.write_text('{"seq": 1, "hash": "nothex"}\n')
    r = run("audit", "verify")
    assert r.exit_code == 2 and "cannot use the anchors file" in r.stderr and "hash is not 64" in r.stderr
    assert run("audit", "verify", "--anchor", "1:" + "z" * 64).exit_code == 2  # a bad --anchor too


def test_no_anchor_is_published_for_a_chain_broken_since_the_last_one(anchors, db_url):
    _append(3)
    assert publish_anchor() is not None
    _append(2)
    with raw(db_url) as conn:  # an event after the anchor edited in place
        conn.execute(text("UPDATE audit_events SET actor = 'mallory' WHERE seq = 5"))
    before = anchors.read_text()
    with pytest.raises(AnchorRefused, match="TAMPERED at seq 5"):
        publish_anchor()
    r = run("audit", "anchor")
    assert r.exit_code == 1 and "no anchor appended" in r.stderr
    assert anchors.read_text() == before


def test_the_dispatcher_publishes_on_a_schedule(anchors, db_url):
    from suraksha.dispatch import Dispatcher

    class NoPlatform:
        def deliver(self, webhook):  # pragma: no cover - nothing is due here
            raise AssertionError("no action should be delivered")

    _append(3)
    d = Dispatcher(connector=NoPlatform(), sync_reviews=False, anchor_every_s=3600)
    assert d.run_once()["audit_anchor"] == 1
    last = read_last_anchor()
    assert last is not None and last.seq == verify_chain().head_seq
    _append(1)
    assert d.run_once()["audit_anchor"] == 0  # inside the period: nothing written
    d._anchor_checked_at = None
    assert d.run_once()["audit_anchor"] == 0  # the file's anchor is still fresh
    # An hour later (by the file's clock), the new head is published.
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1, seconds=1)
    assert publish_if_due(3600, now=later).seq == 4
    assert len(anchors.read_text().splitlines()) == 2
    # Switched off: never writes.
    _append(1)
    off = Dispatcher(connector=NoPlatform(), sync_reviews=False, anchor_every_s=0)
    assert off.run_once()["audit_anchor"] == 0 and len(anchors.read_text().splitlines()) == 2


def test_default_anchor_file_is_in_the_home(db_url, monkeypatch):
    from suraksha.audit.anchors import anchor_path
    from suraksha.config import get_settings

    monkeypatch.delenv("SURAKSHA_AUDIT_ANCHOR_FILE", raising=False)
    assert anchor_path() == get_settings().home / "audit-anchors.jsonl"


def test_verify_on_a_live_system_reports_no_false_tampering(anchors):
    """Appends racing a verification (events committed after the walk began) are not deletions."""
    _append(2)
    publish_anchor()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            n = 0
            while not stop.is_set() and n < 400:
                with session_scope() as s:
                    record(s, "writer", "review.view", "item", n, {"n": n})
                n += 1
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=writer)
    t.start()
    try:
        results = [verify_chain(anchor=read_last_anchor().pair) for _ in range(15)]
        published = [publish_anchor() for _ in range(3)]
    finally:
        stop.set()
        t.join()
    assert not errors, errors
    assert all(r.ok for r in results), [r.reason for r in results if not r.ok]
    assert all(p is not None for p in published)
    assert run("audit", "verify").exit_code == 0
