"""Ingest hardening (issue 11, points 6, 7 and 8's body memory), on SQLite and PostgreSQL:

- an idempotency key reused with a different body is a 409 naming the first item, not a silent 202;
- NUL and lone surrogates are refused with 422 naming the field, before anything is stored, on
  every way a string comes in (items, bank signals, HMA, URLs, backfill lines);
- an internal error logs no item content, account id, IP or media bytes;
- large request bodies share one in-flight budget: past it, 503 with Retry-After before reading.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text, update
from tests.api.conftest import error_of

from suraksha.db import get_engine, session_scope
from suraksha.items.models import Account, Item, ItemMedia, PendingMedia
from suraksha.pipeline.models import ScanJob

MIB = 1 << 20


def _counts() -> dict[str, int]:
    with session_scope() as s:
        return {
            m.__tablename__: s.scalar(select(func.count()).select_from(m))
            for m in (Account, Item, ItemMedia, PendingMedia, ScanJob)
        }


NOTHING = {"accounts": 0, "items": 0, "item_media": 0, "pending_media": 0, "scan_jobs": 0}


def _item(**kw: Any) -> dict[str, Any]:
    body = {
        "platform_id": "post-1",
        "account": {"id": "acct-1", "handle": "asha"},
        "text": "hello",
        "links": ["https://example.com/a"],
        "context": {"ip": "203.0.113.7", "country": "in", "created_at": "2026-11-01T10:00:00Z"},
    }
    body.update(kw)
    return body


def _post_raw(client: TestClient, auth: dict[str, str], body: Any, path: str = "/v1/items") -> Any:
    """Send ``body`` as JSON with ASCII escapes: "\\u0000" and "\\ud800" travel as JSON allows them."""
    return client.post(path, content=json.dumps(body), headers={**auth, "content-type": "application/json"})


# ----------------------------------------------------------------------------------- idempotency
def test_same_key_same_body_answers_the_first_item(fake_client, auth):
    first = fake_client.post("/v1/items", json=_item(idempotency_key="k-1"), headers=auth)
    again = fake_client.post("/v1/items", json=_item(idempotency_key="k-1"), headers=auth)
    assert first.status_code == again.status_code == 202
    assert again.json() == first.json()
    assert _counts()["items"] == 1 and _counts()["scan_jobs"] == 1


def test_same_key_with_the_same_meaning_in_another_spelling_is_the_same_request(fake_client, auth):
    """Key order, an explicit default and the same instant in another zone do not make a new body."""
    first = fake_client.post("/v1/items", json=_item(idempotency_key="k-1"), headers=auth).json()
    respelled = {
        "idempotency_key": "k-1",
        "kind": "post",
        "context": {"created_at": "2026-11-01T15:30:00+05:30", "country": "IN", "ip": "203.0.113.7"},
        "links": ["https://example.com/a"],
        "text": "hello",
        "account": {"handle": "asha", "id": "acct-1"},
        "platform_id": "post-1",
    }
    again = fake_client.post("/v1/items", json=respelled, headers=auth)
    assert again.status_code == 202 and again.json()["id"] == first["id"]


CHANGES = {
    "text": {"text": "a different body"},
    "account": {"account": {"id": "acct-2"}},
    "links": {"links": []},
    "context": {"context": {"ip": "203.0.113.8", "country": "in", "created_at": "2026-11-01T10:00:00Z"}},
    "media": {"media": [{"data_base64": base64.b64encode(b"IMG other bytes").decode()}]},
}


def test_same_key_with_a_different_body_is_409_with_the_first_items_id(fake_client, auth):
    body = _item(idempotency_key="k-1", media=[{"data_base64": base64.b64encode(b"IMG first bytes").decode()}])
    first = fake_client.post("/v1/items", json=body, headers=auth).json()
    before = _counts()
    for name, change in CHANGES.items():
        r = fake_client.post("/v1/items", json={**body, **change}, headers=auth)
        assert r.status_code == 409, (name, r.text)
        out = r.json()
        assert out["id"] == first["id"] and r.headers["location"] == f"/v1/items/{first['id']}"
        assert out["error"]["code"] == "idempotency_conflict"
        assert f"already used for item {first['id']} with a different body" in out["error"]["message"]
    assert _counts() == before  # none of the new contents was stored, and nothing was queued


def test_items_stored_before_fingerprints_answer_a_resend_as_before(fake_client, auth):
    """Rows from before p0004 (and backfilled rows) have no fingerprint: their key answers with the item."""
    first = fake_client.post("/v1/items", json=_item(idempotency_key="old-key"), headers=auth).json()
    with session_scope() as s:
        s.execute(update(Item).values(request_sha256=None))
    r = fake_client.post("/v1/items", json=_item(idempotency_key="old-key", text="other"), headers=auth)
    assert r.status_code == 202 and r.json()["id"] == first["id"]


def test_media_url_on_another_port_of_an_allowed_host_is_refused_at_submit(fake_client, auth, monkeypatch):
    """Issue 11 point 5 at the door: the allow-list names ports, so nothing is stored for such a URL."""
    from suraksha.pipeline.settings import reset_pipeline_settings

    monkeypatch.setenv("SURAKSHA_FETCH_ALLOWED_HOSTS", '["cdn.example.com", "img.example.com:8443"]')
    reset_pipeline_settings()
    r = fake_client.post("/v1/items", json=_item(media=[{"url": "http://cdn.example.com:5432/a.jpg"}]), headers=auth)
    assert r.status_code == 422 and "'cdn.example.com':5432 is not in SURAKSHA_FETCH_ALLOWED_HOSTS" in error_of(r)["message"]
    assert _counts() == NOTHING
    for url in ("https://cdn.example.com/a.jpg", "http://cdn.example.com:80/b.jpg", "https://img.example.com:8443/c.jpg"):
        assert fake_client.post("/v1/items", json=_item(platform_id=url, media=[{"url": url}]), headers=auth).status_code == 202
    reset_pipeline_settings()


# ----------------------------------------------------------------------------------- NUL and lone surrogates
NUL, SURROGATE = "\x00", "\ud800"


UNSTORABLE_CASES = [
    (lambda b: {"text": f"hi{b}there"}, "text"),
    (lambda b: {"platform_id": f"p{b}"}, "platform_id"),
    (lambda b: {"account": {"id": f"a{b}"}}, "account.id"),
    (lambda b: {"account": {"id": "a", "handle": f"h{b}"}}, "account.handle"),
    (lambda b: {"links": ["https://ok.example/", f"https://x.example/{b}"]}, "links[1]"),
    (lambda b: {"context": {"note": f"n{b}"}}, "context.note"),
    (lambda b: {"context": {f"k{b}": "v"}}, "context (a key)"),
    (lambda b: {"context": {"device_id": f"d{b}"}}, "context.device_id"),
    (lambda b: {"context": {"tags": ["a", {"deep": f"x{b}"}]}}, "context.tags[1].deep"),
    (lambda b: {"media": [{"url": f"https://cdn.example/{b}.jpg"}]}, "media[0].url"),
    (lambda b: {"media": [{"data_base64": "aGk=", "mime": f"image/{b}"}]}, "media[0].mime"),
    (lambda b: {"idempotency_key": f"k{b}"}, "idempotency_key"),
]


def test_unstorable_characters_are_422_naming_the_field_and_store_nothing(fake_client, auth):
    """Every string of an item, NUL and lone surrogate alike (one app for all the cases: each costs 2 s)."""
    for bad in (NUL, SURROGATE):
        for change, field in UNSTORABLE_CASES:
            r = _post_raw(fake_client, auth, _item(**change(bad)))
            assert r.status_code == 422, (field, r.text)
            message = error_of(r)["message"]
            assert message.startswith(f"{field} contains "), message
            assert ("NUL" if bad == NUL else "lone surrogate") in message
    assert _counts() == NOTHING


def test_a_valid_surrogate_pair_and_other_control_characters_are_stored(fake_client, auth):
    """Only what cannot be stored is refused: an emoji (a surrogate pair in JSON) and tabs are text."""
    r = _post_raw(fake_client, auth, _item(text="hi \ud83d\ude00\tthere\x01"))
    assert r.status_code == 202, r.text
    with session_scope() as s:
        assert s.scalar(select(Item.text)) == "hi \U0001f600\tthere\x01"


def test_nul_in_the_url_is_422_before_any_query(fake_client, auth):
    r = fake_client.get("/v1/accounts/acct%00x", headers=auth)
    assert r.status_code == 422 and "the URL path contains a NUL" in error_of(r)["message"]
    r = fake_client.get("/v1/banks/x%00", headers=auth)
    assert r.status_code == 422
    r = fake_client.get("/m/raw_lookup", params={"signal_type": "raw_text", "signal": "abc\x00"}, headers=auth)
    assert r.status_code == 422 and "query parameter 'signal' contains a NUL" in r.json()["message"]  # HMA's key too


def _bank(client: TestClient, auth: dict[str, str]) -> str:
    r = client.post("/v1/banks", json={"name": "known", "label": "csam"}, headers=auth)
    assert r.status_code == 201, r.text
    return "known"


def _entries() -> int:
    from suraksha.matching.models import BankEntry

    with session_scope() as s:
        return s.scalar(select(func.count()).select_from(BankEntry))


@pytest.mark.parametrize("bad", [NUL, SURROGATE], ids=["nul", "surrogate"])
def test_bank_and_hma_strings_are_checked_too(fake_client, auth, bad):
    """Bank signals' metadata, bank fields, HMA's signal bodies and metadata parameter."""
    bank = _bank(fake_client, auth)
    md5 = "0" * 31 + "1"
    r = _post_raw(
        fake_client,
        auth,
        {"signals": [{"signal_type": "md5", "signal": md5, "metadata": {"note": f"x{bad}"}}]},
        f"/v1/banks/{bank}/signals",
    )
    assert r.status_code == 422 and error_of(r)["message"].startswith("signals[0].metadata.note contains"), r.text
    r = _post_raw(fake_client, auth, {"name": "other", "label": "csam", "description": f"d{bad}"}, "/v1/banks")
    assert r.status_code == 422 and error_of(r)["message"].startswith("description contains"), r.text
    r = _post_raw(fake_client, auth, {"md5": f"{md5[:-1]}{bad}"}, f"/c/bank/{bank}/signal")
    assert r.status_code == 422 and r.json()["message"].startswith("md5 contains"), r.text
    r = fake_client.post(
        f"/c/bank/{bank}/content",
        params={"metadata": json.dumps({"content_id": f"c{bad}"}), "url": "https://cdn.example/a.jpg"},
        headers=auth,
    )
    assert r.status_code == 422 and r.json()["message"].startswith("metadata.content_id contains"), r.text
    assert _entries() == 0


def test_backfill_line_with_nul_is_a_bad_row_naming_line_and_field(db_url, tmp_path: Path):
    from suraksha.pipeline.backfill import run_backfill

    rows = [
        {
            "platform_id": f"post-{n}",
            "account": {"id": "acct-1"},
            "text": f"old post {n}",
            "context": {"created_at": "2022-03-01T10:00:00Z"},
        }
        for n in range(3)
    ]
    rows[1]["text"] = "bad\x00post"
    rows[2]["context"]["region"] = "south\ud800"
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    bad: list[Any] = []
    summary = run_backfill(path, on_bad_row=bad.append)
    assert summary.ingested == 1 and summary.bad_rows == 2
    assert [(b.line, b.reason.split(" contains ")[0]) for b in bad] == [(2, "text"), (3, "context.region")]
    assert "NUL" in bad[0].reason and "lone surrogate" in bad[1].reason


# ----------------------------------------------------------------------------------- logs
MARKER = "zq-MARKER-7f3a91"
ACCOUNT = "acct-PRIVATE-5521"
IP = "198.51.100.203"
PICTURE = b"\x89PNG-BYTES-OF-THE-PICTURE-e81c"


def _failing_store(kind: str):
    def store(payload):
        if kind == "database":  # a real failed statement, its parameters the item's own values
            with get_engine().begin() as conn:
                conn.execute(
                    text("INSERT INTO no_such_table (a, b, c, d) VALUES (:t, :acct, :ip, :data)"),
                    {"t": payload.text, "acct": payload.account.id, "ip": payload.context.ip, "data": payload.media[0].decoded()},
                )
        raise RuntimeError(f"boom while storing {payload.text} for {payload.account.id} from {payload.context.ip}")

    return store


@pytest.mark.parametrize("kind", ["database", "message"])
def test_an_internal_error_logs_no_content_account_ip_or_bytes(make_client, auth, monkeypatch, caplog, capfd, kind):
    from suraksha.api import create_app
    from suraksha.pipeline import ingest

    monkeypatch.setattr(ingest, "submit_item", _failing_store(kind))
    make_client()  # process state reset as for every API test
    caplog.set_level(logging.DEBUG)
    body = _item(
        text=f"secret text {MARKER}",
        account={"id": ACCOUNT},
        context={"ip": IP, "created_at": "2026-11-01T10:00:00Z"},
        media=[{"data_base64": base64.b64encode(PICTURE).decode()}],
    )
    # raise_server_exceptions=True: an exception reaching the server (which prints its traceback,
    # message and all) would be raised here.
    with TestClient(create_app(matcher_loader=lambda: None), raise_server_exceptions=True) as client:
        r = client.post("/v1/items", json=body, headers=auth)
    assert r.status_code == 500 and error_of(r)["code"] == "internal_error"
    error_id = error_of(r)["message"].split()[2].rstrip(";")
    logged = caplog.text + "".join(str(rec.__dict__) for rec in caplog.records)
    out, err = capfd.readouterr()
    for captured in (logged, out, err):
        for secret in (MARKER, ACCOUNT, IP, PICTURE.decode("latin-1")[4:], base64.b64encode(PICTURE).decode()):
            assert secret not in captured
    assert error_id in caplog.text  # the operator can find the error the client was told about
    # What failed is kept: the statement (placeholders only) and the frames.
    assert ("statement: INSERT INTO no_such_table (a, b, c, d) VALUES" in caplog.text) == (kind == "database")
    assert "in store" in caplog.text


def test_database_error_messages_are_kept_out_of_every_log(db_url, caplog):
    """PostgreSQL quotes the failing value in its own message (hide_parameters cannot help there);
    SQLite's error carries the parameters: a record of either names types and SQLSTATE only."""
    from suraksha import logsafe

    logsafe.install()
    caplog.set_level(logging.DEBUG)
    log = logging.getLogger("suraksha.test")
    try:
        with get_engine().begin() as conn:
            if db_url.startswith("postgresql"):
                conn.execute(text("SELECT CAST(:m AS integer)"), {"m": MARKER})
            else:
                conn.execute(text("INSERT INTO no_such_table VALUES (:m)"), {"m": MARKER})
    except Exception as exc:  # noqa: BLE001
        assert MARKER in str(exc) or db_url.startswith("sqlite")  # the database itself quotes it
        log.exception("storing failed")
        log.error("storing failed: %s", exc)
    assert "storing failed" in caplog.text and "Error" in caplog.text
    assert MARKER not in caplog.text
    if db_url.startswith("postgresql"):
        assert "SQLSTATE 22P02" in caplog.text


def test_access_log_lines_carry_no_query_string():
    from suraksha.logsafe import AccessQueryRedaction

    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/m/lookup?signal_type=raw_text&signal={MARKER}", "1.1", 200),
        None,
    )
    AccessQueryRedaction().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "GET /m/lookup?… HTTP/1.1" 200'


# ----------------------------------------------------------------------------------- request body memory
class _HeldApp:
    """An inner app that reads the body, then answers only when released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.called = 0

    async def __call__(self, scope, receive, send) -> None:
        self.called += 1
        while (await receive()).get("more_body"):
            pass
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def _request(app, length: int | None, chunks: list[bytes] | None = None) -> tuple[int, dict[str, str], int]:
    """One request through ``app``; returns (status, headers, body chunks the app pulled)."""
    headers = [(b"content-type", b"application/json")]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    if chunks is not None:
        parts = list(chunks)
    else:
        parts = [b"x" * length] if length else [b""]
    pulled = 0
    sent: list[dict] = []

    async def receive():
        nonlocal pulled
        pulled += 1
        body = parts.pop(0) if parts else b""
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/items", "headers": headers, "query_string": b""}
    await app(scope, receive, send)
    start = sent[0]
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, pulled


def test_large_bodies_share_one_budget_and_the_next_is_503_before_it_is_read():
    from suraksha.api.limits import BodySizeLimit

    async def scenario() -> None:
        inner = _HeldApp()
        app = BodySizeLimit(inner, max_bytes=4 * MIB, max_in_flight_bytes=8 * MIB)
        held = [asyncio.create_task(_request(app, 3 * MIB)) for _ in range(2)]  # 6 MiB in flight
        await asyncio.sleep(0.05)
        assert app.budget.in_flight == 6 * MIB
        status, headers, pulled = await _request(app, 3 * MIB)  # 9 MiB would not fit
        assert status == 503 and headers["retry-after"] == "2" and pulled == 0 and inner.called == 2
        small = asyncio.create_task(_request(app, 2000))  # ordinary requests still pass
        await asyncio.sleep(0.05)
        assert inner.called == 3
        # A body without Content-Length is reserved as it streams: refused when it passes the budget.
        status, _, pulled = await _request(app, None, [b"y" * MIB] * 3)
        assert status == 503 and pulled <= 2
        inner.release.set()
        assert [(await t)[0] for t in (*held, small)] == [200, 200, 200]
        assert app.budget.in_flight == 0  # every reservation given back
        assert (await _request(app, 3 * MIB))[0] == 200

    asyncio.run(scenario())


def test_default_budget_is_twice_the_body_limit():
    from suraksha.api.limits import BodySizeLimit

    assert BodySizeLimit(_HeldApp(), max_bytes=64 * MIB).budget.limit == 128 * MIB


def test_concurrent_large_item_bodies_get_503_with_retry_after(make_client, auth, monkeypatch):
    """Through the whole app: two large items held in ingest fill the budget; a third large one is
    turned away at once (503, Retry-After), a small one is still accepted."""
    from suraksha.pipeline import ingest

    real_submit = ingest.submit_item
    entered, release = threading.Semaphore(0), threading.Event()

    def slow_submit(payload):
        if payload.text and payload.text.startswith("HOLD"):
            entered.release()
            release.wait(20)
            payload = payload.model_copy(update={"text": "held"})
        return real_submit(payload)

    monkeypatch.setattr(ingest, "submit_item", slow_submit)
    client = make_client(matcher_loader=lambda: None, max_body_bytes=2 * MIB)  # budget: 4 MiB
    large = json.dumps(_item(platform_id="big", text="HOLD" + "x" * (int(1.5 * MIB)))).encode()
    results: list[int] = []

    def send_large(n: int) -> None:
        body = large.replace(b'"big"', f'"big-{n}"'.encode())
        results.append(client.post("/v1/items", content=body, headers={**auth, "content-type": "application/json"}).status_code)

    threads = [threading.Thread(target=send_large, args=(n,)) for n in range(2)]
    [t.start() for t in threads]
    assert entered.acquire(timeout=20) and entered.acquire(timeout=20)  # both are inside ingest now
    start = time.monotonic()
    r = client.post("/v1/items", content=large, headers={**auth, "content-type": "application/json"})
    assert r.status_code == 503 and r.headers["retry-after"] == "2" and error_of(r)["code"] == "busy"
    assert time.monotonic() - start < 2
    assert client.post("/v1/items", json=_item(platform_id="small"), headers=auth).status_code == 202
    release.set()
    [t.join(30) for t in threads]
    assert sorted(results) == [202, 202]
    # The budget is free again: the next large body is read and judged (its text is over the item limit).
    r = client.post("/v1/items", content=large.replace(b'"HOLD', b'"free'), headers={**auth, "content-type": "application/json"})
    assert r.status_code == 413 and "text too long" in error_of(r)["message"]
