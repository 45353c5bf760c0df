"""An external classification service behind the ``Classifier`` interface.

For services such as Google's Content Safety API or a platform's own model server: the media is
POSTed (as base64 inside a JSON body, or as a multipart file), and numbers are picked out of the
JSON answer with dotted paths::

    HttpClassifier("https://cls.example/v1/score", timeout=5,
                   headers={"Authorization": "Bearer ..."},
                   response_mapping={"nudity": "predictions.0.explicit",
                                     "csam_likely": {"path": "result.priority",
                                                     "values": {"HIGH": 1.0, "MEDIUM": 0.6, "LOW": 0.2}}})

Path segments are mapping keys, list indexes, or ``*`` (every element of a list; the score is the
highest number found). Every failure (timeout, HTTP error status, a body that is not JSON, a path
that is missing or not a number) raises ClassifierError with the reason.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

import httpx

from suraksha.classify.base import ClassifierConfigError, ClassifierError, Score

BASE64_PLACEHOLDER = "{base64}"
KIND_PLACEHOLDER = "{kind}"
DEFAULT_TEMPLATE: dict[str, Any] = {"data_base64": BASE64_PLACEHOLDER, "kind": KIND_PLACEHOLDER}
ENCODINGS = ("json_base64", "multipart")
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class HttpClassifier:
    def __init__(
        self,
        url: str,
        *,
        response_mapping: Mapping[str, Any],
        name: str = "http",
        timeout: float = 10.0,
        headers: Mapping[str, str] | None = None,
        encoding: str = "json_base64",
        request_template: Any = None,
        file_field: str = "file",
        form_fields: Mapping[str, str] | None = None,
        kinds: tuple[str, ...] | list[str] = ("image",),
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        parsed = httpx.URL(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ClassifierConfigError(f"classifier {name!r}: url must be an http(s) URL, got {url!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= 300:
            raise ClassifierConfigError(f"classifier {name!r}: timeout must be 0-300 seconds, got {timeout!r}")
        if encoding not in ENCODINGS:
            raise ClassifierConfigError(f"classifier {name!r}: encoding must be one of {', '.join(ENCODINGS)}, got {encoding!r}")
        if not isinstance(response_mapping, Mapping) or not response_mapping:
            raise ClassifierConfigError(f"classifier {name!r}: response_mapping must map score names to paths")
        self.name = name
        self.url = str(parsed)
        # What error notes show: no query string or user:password, where API keys often travel
        # (e.g. ``?key=...``); those notes are stored with the item and shown in the UI.
        self.shown_url = str(parsed.copy_with(query=None, fragment=None, username=None, password=None)) + (
            "?…" if parsed.query else ""
        )
        self.timeout = float(timeout)
        self.encoding = encoding
        self.kinds = tuple(kinds)
        self.request_template = DEFAULT_TEMPLATE if request_template is None else request_template
        if encoding == "json_base64" and not _mentions(self.request_template, BASE64_PLACEHOLDER):
            raise ClassifierConfigError(f"classifier {name!r}: request_template has no {BASE64_PLACEHOLDER!r} placeholder")
        self.file_field = file_field
        self.form_fields = dict(form_fields or {})
        self.mapping = {score: _parse_mapping(name, score, spec) for score, spec in response_mapping.items()}
        self._client = httpx.Client(
            timeout=self.timeout, headers=dict(headers or {}), transport=transport, follow_redirects=False
        )

    def close(self) -> None:
        self._client.close()

    def score(self, media: bytes, kind: str) -> list[Score]:
        if kind not in self.kinds:
            return []
        try:
            if self.encoding == "json_base64":
                body = _fill(self.request_template, base64.b64encode(media).decode("ascii"), kind)
                response = self._client.post(self.url, json=body)
            else:
                files = {self.file_field: ("media", media, "application/octet-stream")}
                response = self._client.post(self.url, files=files, data={**self.form_fields, "kind": kind})
        except httpx.TimeoutException:
            raise ClassifierError(f"{self.name}: no answer from {self.shown_url} within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise ClassifierError(
                f"{self.name}: request to {self.shown_url} failed: {type(exc).__name__}: "
                f"{str(exc).replace(self.url, self.shown_url)}"
            ) from None
        if response.status_code >= 300:
            snippet = response.text[:200].replace("\n", " ")
            raise ClassifierError(f"{self.name}: {self.shown_url} answered HTTP {response.status_code}: {snippet}")
        if len(response.content) > MAX_RESPONSE_BYTES:
            raise ClassifierError(f"{self.name}: response over {MAX_RESPONSE_BYTES} bytes")
        try:
            data = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ClassifierError(f"{self.name}: response is not JSON: {response.text[:100]!r}") from None
        return [Score(score, _extract(self.name, data, score, path, values)) for score, (path, values) in self.mapping.items()]


def _parse_mapping(name: str, score: Any, spec: Any) -> tuple[tuple[str, ...], dict[str, float] | None]:
    if not isinstance(score, str) or not score:
        raise ClassifierConfigError(f"classifier {name!r}: score names must be non-empty strings, got {score!r}")
    values = None
    if isinstance(spec, Mapping):
        unknown = set(spec) - {"path", "values"}
        if unknown:
            raise ClassifierConfigError(
                f"classifier {name!r}: mapping for {score!r} has unknown key(s) {sorted(unknown)}; expected path, values"
            )
        path_text, values = spec.get("path"), spec.get("values")
        if values is not None:
            if not isinstance(values, Mapping) or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in values.values()
            ):
                raise ClassifierConfigError(f"classifier {name!r}: 'values' for {score!r} must map answers to numbers")
            values = {str(k): float(v) for k, v in values.items()}
    else:
        path_text = spec
    if not isinstance(path_text, str) or not path_text or any(not p for p in path_text.split(".")):
        raise ClassifierConfigError(
            f"classifier {name!r}: path for {score!r} must be dotted, like 'results.0.score', got {path_text!r}"
        )
    return tuple(path_text.split(".")), values


def _mentions(template: Any, placeholder: str) -> bool:
    if isinstance(template, str):
        return template == placeholder
    if isinstance(template, Mapping):
        return any(_mentions(v, placeholder) for v in template.values())
    if isinstance(template, list):
        return any(_mentions(v, placeholder) for v in template)
    return False


def _fill(template: Any, b64: str, kind: str) -> Any:
    """The template with whole-string placeholders replaced (no string formatting of user data)."""
    if isinstance(template, str):
        return b64 if template == BASE64_PLACEHOLDER else kind if template == KIND_PLACEHOLDER else template
    if isinstance(template, Mapping):
        return {k: _fill(v, b64, kind) for k, v in template.items()}
    if isinstance(template, list):
        return [_fill(v, b64, kind) for v in template]
    return template


def _extract(name: str, data: Any, score: str, path: tuple[str, ...], values: dict[str, float] | None) -> float:
    where = ".".join(path)
    nodes = [data]
    for seg in path:
        nxt = []
        for node in nodes:
            if seg == "*" and isinstance(node, list):
                nxt.extend(node)
            elif isinstance(node, Mapping) and seg in node:
                nxt.append(node[seg])
            elif isinstance(node, list) and _is_index(seg) and -len(node) <= int(seg) < len(node):
                nxt.append(node[int(seg)])
        nodes = nxt
        if not nodes:
            raise ClassifierError(f"{name}: response has no {where!r} (the mapping for score {score!r})")
    numbers = [_number(name, n, score, where, values) for n in nodes]
    return max(numbers)


def _is_index(seg: str) -> bool:
    return seg.lstrip("-").isdigit()


def _number(name: str, v: Any, score: str, where: str, values: dict[str, float] | None) -> float:
    if values is not None and isinstance(v, (str, int)) and not isinstance(v, bool) and str(v) in values:
        return values[str(v)]
    if isinstance(v, bool):
        return 1.0 if v else 0.0
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v)
        except ValueError:
            known = f" (known answers: {', '.join(values)})" if values else ""
            raise ClassifierError(f"{name}: {where!r} is {v!r}, not a number{known}") from None
    else:
        raise ClassifierError(f"{name}: {where!r} is {type(v).__name__}, not a number (score {score!r})")
    if not math.isfinite(f):
        raise ClassifierError(f"{name}: {where!r} is {v!r}, not a finite number")
    return f
