"""The webhook signature platforms verify: what passes, what is refused and why."""

from __future__ import annotations

import json

import httpx
import pytest

from suraksha.enforcement.connector import HttpConnector, SignatureError, Webhook, signature, signed_headers, verify_signature

SECRET = "s3cret-shared-with-the-platform"
BODY = json.dumps({"id": "remove_item:item:42", "type": "remove_item"}).encode()
NOW = 1_763_856_000


def test_a_signed_webhook_verifies():
    headers = signed_headers(SECRET, BODY, idempotency_key="remove_item:item:42", event="remove_item", now=NOW)
    assert verify_signature(headers, BODY, SECRET, now=NOW + 10) is True
    # header names are case-insensitive, as HTTP says
    assert verify_signature({k.lower(): v for k, v in headers.items()}, BODY, SECRET, now=NOW)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda h, b: (h, b.replace(b"42", b"43")), "does not match"),
        (lambda h, b: ({**h, "X-Suraksha-Timestamp": str(NOW + 1)}, b), "does not match"),
        (lambda h, b: ({k: v for k, v in h.items() if k != "X-Suraksha-Signature"}, b), "missing"),
        (lambda h, b: ({**h, "X-Suraksha-Timestamp": "yesterday"}, b), "not a Unix time"),
    ],
)
def test_tampered_or_incomplete_webhooks_are_refused_with_the_reason(change, message):
    headers = signed_headers(SECRET, BODY, idempotency_key="k", event="remove_item", now=NOW)
    h, b = change(headers, BODY)
    with pytest.raises(SignatureError, match=message):
        verify_signature(h, b, SECRET, now=NOW)


def test_wrong_secret_and_replay_outside_the_window_are_refused():
    headers = signed_headers(SECRET, BODY, idempotency_key="k", event="remove_item", now=NOW)
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(headers, BODY, "another-secret", now=NOW)
    with pytest.raises(SignatureError, match="replayed"):
        verify_signature(headers, BODY, SECRET, now=NOW + 301)
    assert verify_signature(headers, BODY, SECRET, now=NOW + 299)


def test_signature_is_hmac_sha256_over_timestamp_dot_body():
    import hashlib
    import hmac

    expected = hmac.new(SECRET.encode(), f"{NOW}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(SECRET, NOW, BODY) == f"v1={expected}"


def test_during_secret_rotation_either_signature_is_accepted():
    headers = signed_headers("old-secret", BODY, idempotency_key="k", event="e", now=NOW)
    headers["X-Suraksha-Signature"] = signature("new-secret", NOW, BODY) + "," + headers["X-Suraksha-Signature"]
    assert verify_signature(headers, BODY, "old-secret", now=NOW)
    assert verify_signature(headers, BODY, "new-secret", now=NOW)


@pytest.mark.parametrize(
    "status, acknowledged, retryable",
    [
        (200, True, False),
        (204, True, False),
        (500, False, True),
        (503, False, True),
        (429, False, True),
        (408, False, True),
        (400, False, False),
        (401, False, False),
        (404, False, False),
    ],
)
def test_http_connector_classifies_answers(status, acknowledged, retryable):
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen.update(request.headers)
        verify_signature(request.headers, request.content, SECRET)
        return httpx.Response(status)

    c = HttpConnector("https://platform.example/hook", SECRET, transport=httpx.MockTransport(handler))
    r = c.deliver(Webhook("remove_item", "remove_item:item:1", {"id": "remove_item:item:1"}))
    assert (r.acknowledged, r.http_status) == (acknowledged, status)
    if not acknowledged:
        assert r.retryable is retryable
    assert seen["idempotency-key"] == "remove_item:item:1" and seen["x-suraksha-event"] == "remove_item"


def test_network_errors_are_retryable_and_the_secret_never_shows():
    def handler(request):
        raise httpx.ConnectError("refused", request=request)

    c = HttpConnector("https://platform.example/hook", SECRET, transport=httpx.MockTransport(handler))
    r = c.deliver(Webhook("restore", "k", {}))
    assert not r.acknowledged and r.retryable and "ConnectError" in r.error
    assert SECRET not in repr(c) and SECRET not in r.error


def test_bad_connector_configuration_is_refused():
    with pytest.raises(ValueError, match="http"):
        HttpConnector("ftp://platform.example", SECRET)
    with pytest.raises(ValueError, match="SECRET"):
        HttpConnector("https://platform.example", "")
