"""Building classifiers from configuration and the per-process lookup the pipeline uses."""

from __future__ import annotations

import json

import pytest

from suraksha.classify import (
    ClassifierConfigError,
    HttpClassifier,
    NudeNetClassifier,
    build_classifiers,
    get_classifier,
    reset_classifiers,
)


@pytest.fixture(autouse=True)
def _fresh(monkeypatch):
    for var in (
        "SURAKSHA_CLASSIFIER_CONFIG",
        "SURAKSHA_HTTP_CLASSIFIER_URL",
        "SURAKSHA_HTTP_CLASSIFIER_MAPPING",
        "SURAKSHA_HTTP_CLASSIFIER_HEADERS",
    ):
        monkeypatch.delenv(var, raising=False)
    reset_classifiers()
    yield
    reset_classifiers()


def test_build_classifiers_from_a_list(monkeypatch):
    monkeypatch.setenv("CS_API_KEY", "s3cret")
    clfs = build_classifiers(
        [
            {"type": "nudenet"},
            {
                "type": "http",
                "name": "content-safety",
                "url": "https://cs.example/classify",
                "timeout": 4,
                "headers": {"Authorization": "Bearer ${CS_API_KEY}"},
                "response_mapping": {"csam_priority": "result.score"},
            },
        ]
    )
    assert [type(c) for c in clfs] == [NudeNetClassifier, HttpClassifier]
    assert [c.name for c in clfs] == ["nudenet", "content-safety"]
    assert clfs[1]._client.headers["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ([{"type": "magic"}], "type must be one of nudenet, http"),
        ([{"type": "http", "response_mapping": {"a": "b"}}], "'url' is required"),
        ([{"type": "http", "url": "https://x.example/"}], "'response_mapping' is required"),
        ([{"type": "nudenet", "colour": "red"}], "colour"),
        ([{"type": "nudenet"}, {"type": "nudenet"}], "used twice"),
        (
            [{"type": "http", "url": "https://x/", "response_mapping": {"a": "b"}, "headers": {"X-Key": "${NOT_SET_ANYWHERE}"}}],
            "NOT_SET_ANYWHERE, which is not set",
        ),
        ({"type": "nudenet"}, "must be a list"),
    ],
)
def test_bad_configuration(config, words):
    with pytest.raises(ClassifierConfigError, match=words):
        build_classifiers(config)


def test_get_classifier_builtins_are_built_once():
    a = get_classifier("nudenet")
    assert isinstance(a, NudeNetClassifier) and get_classifier("nudenet") is a


def test_get_classifier_http_from_environment(monkeypatch):
    with pytest.raises(ClassifierConfigError, match="SURAKSHA_HTTP_CLASSIFIER_URL"):
        get_classifier("http")
    reset_classifiers()
    monkeypatch.setenv("SURAKSHA_HTTP_CLASSIFIER_URL", "https://cs.example/v1")
    monkeypatch.setenv("SURAKSHA_HTTP_CLASSIFIER_MAPPING", json.dumps({"nudity": "scores.adult"}))
    clf = get_classifier("http")
    assert isinstance(clf, HttpClassifier) and clf.url == "https://cs.example/v1"
    assert clf.mapping == {"nudity": (("scores", "adult"), None)}


def test_get_classifier_from_config_file(tmp_path, monkeypatch):
    cfg = tmp_path / "classifiers.yaml"
    cfg.write_text("- {name: partner, type: http, url: 'https://p.example/s', response_mapping: {nudity: n}}\n")
    monkeypatch.setenv("SURAKSHA_CLASSIFIER_CONFIG", str(cfg))
    assert get_classifier("partner").url == "https://p.example/s"
    with pytest.raises(ClassifierConfigError, match="unknown classifier 'other'"):
        get_classifier("other")
