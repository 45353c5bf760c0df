"""Building classifiers from configuration, and the per-process instances the pipeline looks up.

The pipeline asks ``get_classifier(name)`` for each name in ``SURAKSHA_CLASSIFIERS``. A name is
found, in order: in the YAML/JSON list at ``SURAKSHA_CLASSIFIER_CONFIG`` (each entry a
``build_classifier`` spec with a ``name``), then among the built-ins: ``nudenet`` (NudeNet, default
settings) and ``http`` (an HttpClassifier from ``SURAKSHA_HTTP_CLASSIFIER_*``). Each name is built
once per process.

Header values may say ``${VAR}``: it is read from the environment when the classifier is built, so
API keys stay out of configuration files.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from suraksha.classify.base import Classifier, ClassifierConfigError
from suraksha.classify.http import HttpClassifier
from suraksha.classify.nudenet import NudeNetClassifier
from suraksha.settings import ClassifySettings, get_settings, reset_settings

TYPES = ("nudenet", "http")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def build_classifier(spec: Mapping[str, Any]) -> Classifier:
    """One classifier from ``{type: nudenet|http, name: ..., <its options>}``."""
    if not isinstance(spec, Mapping):
        raise ClassifierConfigError(f"a classifier spec is a mapping with a 'type', got {type(spec).__name__}")
    options = dict(spec)
    kind = options.pop("type", None)
    if kind not in TYPES:
        raise ClassifierConfigError(f"classifier {spec.get('name', '?')!r}: type must be one of {', '.join(TYPES)}, got {kind!r}")
    options.setdefault("name", kind)
    if not isinstance(options["name"], str) or not options["name"]:
        raise ClassifierConfigError(f"classifier name must be a non-empty string, got {options['name']!r}")
    try:
        if kind == "nudenet":
            return NudeNetClassifier(**options)
        if "url" not in options:
            raise ClassifierConfigError(f"classifier {options['name']!r}: 'url' is required")
        if "response_mapping" not in options:
            raise ClassifierConfigError(f"classifier {options['name']!r}: 'response_mapping' is required")
        options["headers"] = {str(k): _expand(options["name"], str(v)) for k, v in (options.get("headers") or {}).items()}
        url = options.pop("url")
        return HttpClassifier(url, **options)
    except TypeError as exc:  # an unknown option
        raise ClassifierConfigError(f"classifier {options['name']!r}: {exc}") from None


def build_classifiers(config: list[Mapping[str, Any]]) -> list[Classifier]:
    """Every classifier of a configuration list; names must be unique."""
    if not isinstance(config, list):
        raise ClassifierConfigError("classifier configuration must be a list of specs")
    out: list[Classifier] = []
    for spec in config:
        clf = build_classifier(spec)
        if any(c.name == clf.name for c in out):
            raise ClassifierConfigError(f"classifier name {clf.name!r} is used twice")
        out.append(clf)
    return out


def _expand(name: str, value: str) -> str:
    def sub(m: re.Match[str]) -> str:
        var = m.group(1)
        if var not in os.environ:
            raise ClassifierConfigError(f"classifier {name!r}: header needs environment variable {var}, which is not set")
        return os.environ[var]

    return _ENV_REF.sub(sub, value)


def get_classify_settings() -> ClassifySettings:
    """Classify's section of the one settings object."""
    return get_settings().classify


def _configured_specs() -> dict[str, Mapping[str, Any]]:
    path = get_classify_settings().classifier_config
    if not path:
        return {}
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ClassifierConfigError(f"classifier config {path!r} cannot be read: {exc.strerror or exc}") from None
    try:
        import yaml

        data = yaml.safe_load(text) if not path.endswith(".json") else json.loads(text)
    except Exception as exc:  # noqa: BLE001 - YAML or JSON syntax
        raise ClassifierConfigError(f"classifier config {path!r} is not valid: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, list):
        raise ClassifierConfigError(f"classifier config {path!r} must be a list of specs")
    specs: dict[str, Mapping[str, Any]] = {}
    for spec in data:
        if not isinstance(spec, Mapping):
            raise ClassifierConfigError(f"classifier config {path!r}: every entry must be a mapping")
        specs[str(spec.get("name", spec.get("type")))] = spec
    return specs


def _builtin(name: str) -> Classifier:
    if name == "nudenet":
        return NudeNetClassifier()
    if name == "http":
        s = get_classify_settings()
        if not s.http_classifier_url:
            raise ClassifierConfigError(
                "classifier 'http' needs SURAKSHA_HTTP_CLASSIFIER_URL (or an entry in SURAKSHA_CLASSIFIER_CONFIG)"
            )
        return build_classifier(
            {
                "type": "http",
                "url": s.http_classifier_url,
                "timeout": s.http_classifier_timeout,
                "encoding": s.http_classifier_encoding,
                "headers": s.http_classifier_headers,
                "response_mapping": s.http_classifier_mapping,
            }
        )
    known = ", ".join(TYPES)
    raise ClassifierConfigError(f"unknown classifier {name!r}: not in SURAKSHA_CLASSIFIER_CONFIG and not a built-in ({known})")


_instances: dict[str, Classifier] = {}
_lock = threading.Lock()


def get_classifier(name: str) -> Classifier:
    """The process-wide classifier called ``name`` (built on first use)."""
    with _lock:
        clf = _instances.get(name)
        if clf is None:
            specs = _configured_specs()
            clf = build_classifier({**specs[name], "name": name}) if name in specs else _builtin(name)
            _instances[name] = clf
        return clf


def reset_classifiers() -> None:
    """Forget built instances and settings (tests change the environment between cases)."""
    with _lock:
        for clf in _instances.values():
            close = getattr(clf, "close", None)
            if close:
                close()
        _instances.clear()
    reset_settings()
