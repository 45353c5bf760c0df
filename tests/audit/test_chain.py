"""Audit log: events chain, the chain verifies, and every kind of tampering is found."""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from suraksha.audit import Actor, compute_hash, record, verify_chain
from suraksha.audit.models import AuditEvent, AuditHead
from suraksha.db import session_scope


def _append(n: int, actor: str = "asha") -> None:
    with session_scope() as s:
        for i in range(n):
            record(s, actor, "media.reveal", "item", i + 1, {"position": i, "note": "ಕನ್ನಡ ✓"}, ip="203.0.113.7")


@contextmanager
def raw(url: str):
    """A raw connection that can bypass the append-only triggers, as an attacker with DB access could."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if url.startswith("sqlite"):
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
                conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
            else:
                conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield conn
    finally:
        engine.dispose()


def test_events_chain_and_verify(db_url):
    assert verify_chain().ok and verify_chain().checked == 0
    _append(3)
    with session_scope() as s:
        record(s, Actor.api_key(7), "item.ingest", "item", "42", {"at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC)})
        record(s, "system:purge", "evidence.purge", "evidence", None, None)
    with session_scope() as s:
        events = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        head = s.get(AuditHead, 1)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == "0" * 64
    assert all(b.prev_hash == a.hash for a, b in zip(events, events[1:]))
    assert (events[0].actor_type, events[0].actor, events[0].ip) == ("user", "asha", "203.0.113.7")
    assert events[0].details == {"position": 0, "note": "ಕನ್ನಡ ✓"}
    assert (events[3].actor_type, events[3].actor, events[3].object_id) == ("api_key", "7", "42")
    assert events[3].details == {"at": "2026-01-01T00:00:00+00:00"}
    assert (events[4].actor_type, events[4].actor) == ("system", "purge")
    assert (head.seq, head.hash) == (5, events[-1].hash)
    result = verify_chain()
    assert result.ok and result.checked == 5 and result.head_seq == 5


def test_event_is_part_of_the_callers_transaction(db_url):
    _append(2)
    with pytest.raises(RuntimeError):
        with session_scope() as s:
            record(s, "asha", "case.view", "case", 1, {})
            raise RuntimeError("the caller's work failed")
    _append(1)
    with session_scope() as s:
        assert s.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all() == [
            "media.reveal",
            "media.reveal",
            "media.reveal",
        ]
    assert verify_chain().ok


def test_bad_details_are_refused(db_url):
    with session_scope() as s:
        with pytest.raises(TypeError, match="never content"):
            record(s, "asha", "x", "item", 1, {"media": b"\x00\x01"})
        with pytest.raises(ValueError):
            record(s, "asha", "x", "item", 1, {"score": float("nan")})
        with pytest.raises(ValueError):
            record(s, "asha", "x", "item", 1, {"at": dt.datetime(2026, 1, 1)})


def test_database_refuses_update_and_delete(db_url):
    _append(2)
    engine = create_engine(db_url)
    try:
        for sql in ("UPDATE audit_events SET action = 'nothing' WHERE seq = 1", "DELETE FROM audit_events WHERE seq = 2"):
            with pytest.raises(DBAPIError, match="append-only"):
                with engine.begin() as conn:
                    conn.execute(text(sql))
    finally:
        engine.dispose()
    assert verify_chain().ok


def test_edited_detail_is_found(db_url):
    _append(5)
    with raw(db_url) as conn:
        conn.execute(text("UPDATE audit_events SET details = :d WHERE seq = 3"), {"d": '{"position": 99, "note": "x"}'})
    result = verify_chain()
    assert not result.ok
    assert result.first_bad_seq == 3 and "edited" in result.reason and result.checked == 2


def test_edited_actor_or_time_is_found(db_url):
    _append(3)
    with raw(db_url) as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'someone_else' WHERE seq = 1"))
    assert verify_chain().first_bad_seq == 1
    with raw(db_url) as conn:
        conn.execute(text("UPDATE audit_events SET actor = 'asha' WHERE seq = 1"))
    assert verify_chain().ok  # restoring the original content restores the chain
    with session_scope() as s:
        at = s.execute(select(AuditEvent.at).where(AuditEvent.seq == 2)).scalar_one()
    with raw(db_url) as conn:
        conn.execute(text("UPDATE audit_events SET at = :at WHERE seq = 2"), {"at": at - dt.timedelta(seconds=1)})
    assert verify_chain().first_bad_seq == 2


def test_deleted_middle_event_is_found(db_url):
    _append(5)
    with raw(db_url) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 3"))
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 3 and "missing" in result.reason


def test_deleted_last_event_is_found_through_the_head(db_url):
    _append(5)
    with raw(db_url) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq >= 4"))
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 4 and "newest events deleted" in result.reason
    # Deleting everything is also caught (the head still says 5).
    with raw(db_url) as conn:
        conn.execute(text("DELETE FROM audit_events"))
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 1


def test_reordered_events_are_found(db_url):
    _append(4)
    with raw(db_url) as conn:  # swap seq 2 and 3
        conn.execute(text("UPDATE audit_events SET seq = -1 WHERE seq = 2"))
        conn.execute(text("UPDATE audit_events SET seq = 2 WHERE seq = 3"))
        conn.execute(text("UPDATE audit_events SET seq = 3 WHERE seq = -1"))
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 2


def test_inserted_event_is_found(db_url):
    _append(3)
    with session_scope() as s:
        last = s.execute(select(AuditEvent).where(AuditEvent.seq == 3)).scalar_one()
        at = dt.datetime.now(dt.UTC)
        forged = dict(
            seq=4,
            at=at,
            actor_type="user",
            actor="mallory",
            action="case.close",
            object_type="case",
            object_id="9",
            details={},
            ip=None,
            prev_hash=last.hash,
        )
        digest = compute_hash(**forged)
    with raw(db_url) as conn:  # a well-formed event appended behind the head's back
        conn.execute(
            text(
                "INSERT INTO audit_events (seq, at, actor_type, actor, action, object_type, object_id, details, ip, prev_hash, hash) "
                "VALUES (:seq, :at, :actor_type, :actor, :action, :object_type, :object_id, '{}', NULL, :prev_hash, :hash)"
            ),
            {**{k: v for k, v in forged.items() if k not in ("details", "ip")}, "hash": digest},
        )
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 4 and "without the head" in result.reason

    # Inserted in the middle: shift later events up and slot a forged one in.
    with raw(db_url) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 4"))
        conn.execute(text("UPDATE audit_events SET seq = seq + 10 WHERE seq >= 2"))
        conn.execute(text("UPDATE audit_events SET seq = seq - 9 WHERE seq >= 12"))
        conn.execute(
            text(
                "INSERT INTO audit_events (seq, at, actor_type, actor, action, details, prev_hash, hash) "
                "VALUES (2, :at, 'user', 'mallory', 'x', '{}', :p, :h)"
            ),
            {"at": at, "p": "0" * 64, "h": "f" * 64},
        )
    result = verify_chain()
    assert not result.ok and result.first_bad_seq == 2


def test_rewritten_chain_needs_an_anchor(db_url):
    """Someone who recomputes every hash and the head is caught only against an anchor kept elsewhere."""
    _append(3)
    before = verify_chain()
    anchor = (before.head_seq, before.head_hash)
    with session_scope() as s:
        rows = s.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()
        fields = [
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
    prev = "0" * 64
    with raw(db_url) as conn:
        for f in fields:
            if f["seq"] == 2:
                f["actor"] = "mallory"
            digest = compute_hash(**f, prev_hash=prev)
            conn.execute(
                text("UPDATE audit_events SET actor = :a, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"a": f["actor"], "p": prev, "h": digest, "s": f["seq"]},
            )
            prev = digest
        conn.execute(text("UPDATE audit_head SET hash = :h"), {"h": prev})
    assert verify_chain().ok  # consistent forgery: undetectable from inside the database
    result = verify_chain(anchor=anchor)
    assert not result.ok and result.first_bad_seq == 3 and "anchor" in result.reason


def test_concurrent_appends_form_one_chain(db_url):
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                with session_scope() as s:
                    record(s, f"user{n}", "review.view", "item", i, {"worker": n})
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    result = verify_chain()
    assert result.ok and result.checked == 60 and result.head_seq == 60


def test_cli_verify(db_url):
    from suraksha.cli import app

    runner = CliRunner()
    _append(3)
    ok = runner.invoke(app, ["audit", "verify"])
    assert ok.exit_code == 3, ok.output  # consistent, but no published anchor to check the tail against
    assert "ok: 3 events verified" in ok.stdout
    head = ok.stdout.strip().rsplit(" ", 1)[-1]
    assert runner.invoke(app, ["audit", "verify", "--anchor", head]).exit_code == 0
    with raw(db_url) as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq = 2"))
    bad = runner.invoke(app, ["audit", "verify"])
    assert bad.exit_code == 1
    assert "TAMPERED at seq 2" in bad.output
    assert runner.invoke(app, ["audit", "verify", "--anchor", "nonsense"]).exit_code != 0
