"""An API key in the classifier URL never reaches the error notes stored with items."""

from __future__ import annotations

import httpx
import pytest

from suraksha.classify import ClassifierError, HttpClassifier

URL = "https://user:pw@safety.example/v1/classify?key=SECRET-KEY-123"


def classifier(handler) -> HttpClassifier:
    return HttpClassifier(URL, response_mapping={"csam_likely": "score"}, transport=httpx.MockTransport(handler))


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError(f"connection refused for {request.url}", request=request)


def timed_out(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        (refused, "http: request to https://safety.example/v1/classify?… failed: ConnectError"),
        (timed_out, "http: no answer from https://safety.example/v1/classify?… within 10 s"),
        (
            lambda r: httpx.Response(403, text="forbidden"),
            "http: https://safety.example/v1/classify?… answered HTTP 403: forbidden",
        ),
    ],
    ids=["connect-error", "timeout", "http-error"],
)
def test_errors_name_the_service_without_its_key(handler, expected):
    with pytest.raises(ClassifierError) as err:
        classifier(handler).score(b"\xff\xd8\xff benign bytes", "image")
    message = str(err.value)
    assert message.startswith(expected)
    assert "SECRET-KEY-123" not in message and "pw@" not in message


def test_the_key_is_still_sent():
    seen = []

    def ok(request: httpx.Request) -> httpx.Response:
        seen.append(request.url)
        return httpx.Response(200, json={"score": 0.25})

    assert classifier(ok).score(b"x", "image")[0].value == 0.25
    assert seen[0].params["key"] == "SECRET-KEY-123"
