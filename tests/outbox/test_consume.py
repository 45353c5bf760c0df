"""The one outbox loop (``outbox.consume``) on SQLite and PostgreSQL: enqueue joins the caller's
transaction; a handler's writes and "delivered" commit together; failures retry with backoff and
dead-letter with an ALERT; a dead dispatcher's claim runs out and is taken over without a second
effect; two dispatchers side by side carry each message out once."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import Counter

import pytest
from sqlalchemy import func, select

from suraksha.db import session_scope, utcnow
from suraksha.db.sql import aware


@pytest.fixture
def box(db_url, monkeypatch):
    """A migrated database; outbox settings fresh (and reset after the test)."""
    from suraksha.outbox.settings import reset_outbox_settings

    monkeypatch.setenv("SURAKSHA_OUTBOX_BACKOFF_BASE_S", "10")
    reset_outbox_settings()
    yield db_url
    reset_outbox_settings()


def _settings(monkeypatch, **values: str) -> None:
    from suraksha.outbox.settings import reset_outbox_settings

    for key, value in values.items():
        monkeypatch.setenv(f"SURAKSHA_OUTBOX_{key.upper()}", value)
    reset_outbox_settings()


def _enqueue(n: int, topic: str = "action") -> list[int]:
    from suraksha.outbox import enqueue

    with session_scope() as s:
        return [enqueue(s, topic, {"n": i}, f"test:{topic}:{i}", item_id=i) for i in range(n)]


def _effects() -> Counter:
    """What the test handler did: audit events it wrote, per message id."""
    from suraksha.audit.models import AuditEvent

    with session_scope() as s:
        return Counter(s.scalars(select(AuditEvent.object_id).where(AuditEvent.action == "outbox.test")))


def _record(session, message):
    from suraksha.audit import record
    from suraksha.outbox import Done

    record(session, "system:test", "outbox.test", "outbox_message", message.id, {"attempt": message.attempt})
    return Done(made=1)


def _message(message_id: int):
    from suraksha.outbox.models import OutboxMessage

    with session_scope() as s:
        m = s.get(OutboxMessage, message_id)
        s.expunge(m)
        return m


def test_enqueue_is_part_of_the_callers_transaction_and_deduplicated(box):
    from suraksha.outbox import OutboxError, enqueue
    from suraksha.outbox.models import OutboxMessage

    with pytest.raises(RuntimeError):
        with session_scope() as s:
            assert enqueue(s, "review", {"queue": "csam"}, "1:review:csam", item_id=1) is not None
            raise RuntimeError("the deciding transaction fails")
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nothing without the decision
        first = enqueue(s, "review", {"queue": "csam"}, "1:review:csam", item_id=1)
        assert first is not None
        assert enqueue(s, "review", {"queue": "other"}, "1:review:csam", item_id=1) is None
    with pytest.raises(OutboxError, match="unknown outbox topic 'mail'"):
        with session_scope() as s:
            enqueue(s, "mail", {}, "x")


def test_a_handled_message_is_delivered_with_its_effect_exactly_once(box):
    from suraksha.outbox import consume

    ids = _enqueue(3)
    done = consume("action", _record)
    assert (done.delivered, done.made, done.retrying) == (3, 3, 0)
    assert consume("action", _record).handled == 0  # nothing left: a second pass does nothing
    assert _effects() == {str(i): 1 for i in ids}
    assert {_message(i).status for i in ids} == {"delivered"}


def test_a_failing_handler_leaves_nothing_behind_then_retries_with_backoff_then_dead_letters(box, monkeypatch, caplog):
    from suraksha.outbox import consume, service

    _settings(monkeypatch, max_attempts="2")
    [mid] = _enqueue(1)

    def half_then_fail(session, message):
        _record(session, message)  # written, then the handler fails: must not survive
        raise RuntimeError("connector unreachable")

    t0 = utcnow()
    assert consume("action", half_then_fail).retrying == 1
    m = _message(mid)
    assert (m.status, m.attempts, m.last_error) == ("pending", 1, "RuntimeError: connector unreachable")
    assert (
        t0 + dt.timedelta(seconds=5) <= aware(m.next_attempt_at) <= utcnow() + dt.timedelta(seconds=10)
    )  # 10 s, jittered 50-100 %
    assert _effects() == {}
    assert consume("action", half_then_fail).handled == 0  # not due yet

    with session_scope() as s:  # time passes
        s.get(service.OutboxMessage, mid).next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    before = service.DEAD_LETTERS.labels("action")._value.get()
    with caplog.at_level(logging.ERROR, logger="suraksha.outbox.service"):
        assert consume("action", half_then_fail).dead == 1
    m = _message(mid)
    assert (m.status, m.attempts) == ("dead", 2) and _effects() == {}
    assert service.DEAD_LETTERS.labels("action")._value.get() == before + 1
    alert = [r.getMessage() for r in caplog.records if r.getMessage().startswith("ALERT outbox message")]
    assert alert and f"retry with 'suraksha outbox retry {mid}'" in alert[0]
    assert consume("action", _record).handled == 0  # dead stays dead

    with session_scope() as s:
        assert service.retry(s, mid).status == "pending"
    assert consume("action", _record).delivered == 1
    assert _effects() == {str(mid): 1}
    with session_scope() as s, pytest.raises(service.OutboxError, match="only dead or skipped"):
        service.retry(s, mid)


def test_skip_means_never_as_written_and_is_recorded_with_the_reason(box):
    from suraksha.outbox import Skip, consume

    [mid] = _enqueue(1)

    def refuse(session, message):
        raise Skip("suspend_account without an account")

    assert consume("action", refuse).skipped == 1
    m = _message(mid)
    assert (m.status, m.last_error) == ("skipped", "suspend_account without an account")
    assert consume("action", refuse).handled == 0


def test_a_database_error_is_kept_by_type_only(box):
    from sqlalchemy import text

    from suraksha.outbox import consume

    [mid] = _enqueue(1)

    def bad_sql(session, message):
        session.execute(text("SELECT no_such_column_secret_value FROM outbox_messages"))

    consume("action", bad_sql)
    m = _message(mid)
    assert m.status == "pending" and "database error" in m.last_error and "secret_value" not in m.last_error


def test_a_dead_dispatchers_claim_runs_out_and_is_taken_over_without_a_second_effect(box, monkeypatch):
    from suraksha.outbox import consume, service

    _settings(monkeypatch, lease_s="0.3")
    [mid] = _enqueue(1)
    [(claimed, attempt)] = service._claim("action", 10)  # a dispatcher claims, then dies
    assert (claimed, attempt) == (mid, 1) and _message(mid).status == "claimed"
    assert consume("action", _record).handled == 0  # its lease still runs: nobody else takes it
    time.sleep(0.4)
    assert consume("action", _record).delivered == 1  # taken over after the lease
    m = _message(mid)
    assert (m.status, m.attempts) == ("delivered", 2)
    # The first dispatcher comes back to life: it was overtaken, so it writes nothing.
    assert service._carry_out(_record, [(mid, 1)]) == [None]
    assert _effects() == {str(mid): 1}


def test_a_message_that_kills_its_dispatcher_every_time_is_dead_lettered_not_run_again(box, monkeypatch):
    from suraksha.outbox import consume, service

    _settings(monkeypatch, lease_s="0.05", max_attempts="2")
    [mid] = _enqueue(1)
    for _ in range(2):  # two dispatchers die while handling it (their claims count)
        service._claim("action", 10)
        time.sleep(0.1)
    assert consume("action", _record).dead == 1
    m = _message(mid)
    assert (m.status, m.attempts) == ("dead", 2) and "without finishing" in m.last_error
    assert _effects() == {}


def test_two_dispatchers_side_by_side_carry_each_message_out_once(box):
    from suraksha.outbox import consume
    from suraksha.outbox.models import OutboxMessage

    ids = _enqueue(60)
    errors: list[BaseException] = []

    def dispatcher() -> None:
        try:
            for _ in range(40):
                if consume("action", _record, limit=7).handled == 0:
                    with session_scope() as s:
                        if not s.scalar(
                            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != "delivered")
                        ):
                            return
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=dispatcher) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    assert _effects() == {str(i): 1 for i in ids}
    assert {_message(i).status for i in ids} == {"delivered"}


def test_messages_sharing_a_transaction_do_not_share_a_failure(box):
    """Ten messages per transaction; one fails, one can never be carried out: the transaction is
    rolled back and carried out one by one, so only those two are affected."""
    from suraksha.outbox import Skip, consume

    ids = _enqueue(25)
    bad, never = ids[3], ids[17]

    def handler(session, message):
        done = _record(session, message)
        if message.id == bad:
            raise RuntimeError("vault full")
        if message.id == never:
            raise Skip("no such destination")
        return done

    out = consume("action", handler, limit=100, per_transaction=10)
    assert (out.delivered, out.retrying, out.skipped, out.made) == (23, 1, 1, 23)
    assert _effects() == {str(i): 1 for i in ids if i not in (bad, never)}
    assert (_message(bad).status, _message(bad).attempts) == ("pending", 1)
    assert _message(never).status == "skipped"
