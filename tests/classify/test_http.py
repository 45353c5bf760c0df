"""HttpClassifier against a mocked service (httpx.MockTransport): request shapes, mapping, errors."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from suraksha.classify import ClassifierConfigError, ClassifierError, HttpClassifier
from suraksha.classify.base import Score

URL = "https://classifier.example/v1/score"


def service(handler):
    seen: list[httpx.Request] = []

    def wrapped(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    return httpx.MockTransport(wrapped), seen


def test_json_base64_request_and_dotted_mapping():
    transport, seen = service(
        lambda r: httpx.Response(200, json={"predictions": [{"scores": {"explicit": 0.91, "violence": "0.2"}}]})
    )
    clf = HttpClassifier(
        URL,
        timeout=3,
        headers={"Authorization": "Bearer k"},
        transport=transport,
        response_mapping={"nudity": "predictions.0.scores.explicit", "violence": "predictions.0.scores.violence"},
    )
    assert clf.score(b"\x89PNG fake", "image") == [Score("nudity", 0.91), Score("violence", 0.2)]
    (req,) = seen
    assert req.method == "POST" and str(req.url) == URL
    assert req.headers["authorization"] == "Bearer k"
    assert json.loads(req.content) == {"data_base64": base64.b64encode(b"\x89PNG fake").decode(), "kind": "image"}


def test_custom_request_template_is_filled_without_string_formatting():
    transport, seen = service(lambda r: httpx.Response(200, json={"r": [{"p": 0.1}, {"p": 0.7}, {"p": 0.3}]}))
    template = {"instances": [{"image": {"bytesBase64Encoded": "{base64}"}, "note": "{kind} of {base64}"}]}
    clf = HttpClassifier(URL, request_template=template, response_mapping={"nudity": "r.*.p"}, transport=transport)
    assert clf.score(b"abc", "image") == [Score("nudity", 0.7)]  # '*' takes the highest
    body = json.loads(seen[0].content)
    assert body == {"instances": [{"image": {"bytesBase64Encoded": "YWJj"}, "note": "{kind} of {base64}"}]}


def test_multipart_upload():
    transport, seen = service(lambda r: httpx.Response(200, json={"nsfw": True}))
    clf = HttpClassifier(
        URL,
        encoding="multipart",
        file_field="media",
        form_fields={"model": "v2"},
        response_mapping={"nudity": "nsfw"},
        transport=transport,
    )
    assert clf.score(b"bytes-of-picture", "image") == [Score("nudity", 1.0)]
    req = seen[0]
    assert req.headers["content-type"].startswith("multipart/form-data")
    assert b'name="media"' in req.content and b"bytes-of-picture" in req.content
    assert b'name="model"' in req.content and b"v2" in req.content


def test_enumerated_answers_are_mapped_to_numbers():
    transport, _ = service(lambda r: httpx.Response(200, json={"safeSearch": {"adult": "VERY_LIKELY"}}))
    clf = HttpClassifier(
        URL,
        transport=transport,
        response_mapping={
            "nudity": {
                "path": "safeSearch.adult",
                "values": {"VERY_UNLIKELY": 0.0, "UNLIKELY": 0.2, "POSSIBLE": 0.5, "LIKELY": 0.8, "VERY_LIKELY": 0.95},
            }
        },
    )
    assert clf.score(b"x", "image") == [Score("nudity", 0.95)]


def test_kinds_not_configured_are_not_sent():
    transport, seen = service(lambda r: httpx.Response(500))
    clf = HttpClassifier(URL, response_mapping={"nudity": "n"}, transport=transport)
    assert clf.score(b"video bytes", "video") == [] and seen == []


@pytest.mark.parametrize(
    ("response", "words"),
    [
        (httpx.Response(503, text="overloaded"), ["HTTP 503", "overloaded"]),
        (httpx.Response(401, json={"error": "bad key"}), ["HTTP 401", "bad key"]),
        (httpx.Response(200, text="<html>hi</html>"), ["not JSON"]),
        (httpx.Response(200, json={"other": 1}), ["no 'predictions.0.explicit'", "score 'nudity'"]),
        (httpx.Response(200, json={"predictions": [{"explicit": "high"}]}), ["'high', not a number"]),
        (httpx.Response(200, json={"predictions": [{"explicit": None}]}), ["not a number"]),
        (httpx.Response(302, headers={"location": "http://elsewhere/"}), ["HTTP 302"]),
    ],
)
def test_service_failures_are_classifier_errors(response, words):
    transport, _ = service(lambda r: response)
    clf = HttpClassifier(URL, name="content-safety", response_mapping={"nudity": "predictions.0.explicit"}, transport=transport)
    with pytest.raises(ClassifierError) as info:
        clf.score(b"x", "image")
    assert str(info.value).startswith("content-safety: ")
    for w in words:
        assert w in str(info.value)


def test_timeout_and_connection_errors():
    def slow(request):
        raise httpx.ReadTimeout("timed out", request=request)

    def refused(request):
        raise httpx.ConnectError("connection refused", request=request)

    clf = HttpClassifier(URL, timeout=2.5, response_mapping={"n": "n"}, transport=httpx.MockTransport(slow))
    with pytest.raises(ClassifierError, match=r"no answer from https://classifier.example/v1/score within 2.5 s"):
        clf.score(b"x", "image")
    clf = HttpClassifier(URL, response_mapping={"n": "n"}, transport=httpx.MockTransport(refused))
    with pytest.raises(ClassifierError, match="connection refused"):
        clf.score(b"x", "image")


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"url": "ftp://x/"}, "http(s) URL"),
        ({"url": "not a url"}, "http(s) URL"),
        ({"timeout": 0}, "timeout"),
        ({"encoding": "xml"}, "encoding"),
        ({"response_mapping": {}}, "response_mapping"),
        ({"response_mapping": {"nudity": "a..b"}}, "dotted"),
        ({"response_mapping": {"nudity": {"path": "a", "value": {}}}}, "unknown key"),
        ({"request_template": {"image": "{kind}"}}, "placeholder"),
    ],
)
def test_bad_configuration_is_refused_up_front(kwargs, words):
    args = {"url": URL, "response_mapping": {"nudity": "n"}} | kwargs
    with pytest.raises(ClassifierConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        HttpClassifier(args.pop("url"), **args)
