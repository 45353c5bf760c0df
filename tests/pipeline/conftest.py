"""Fixtures for the pipeline tests: a scanner with a known bank (explicit test doubles, tests/pipeline/fakes.py)."""

from __future__ import annotations

import base64
import hashlib

import pytest

from suraksha.pipeline import scan as scan_mod
from suraksha.pipeline.settings import reset_pipeline_settings

from . import fakes

CSAM_IMAGE = b"IMG known-bad test pattern #1"  # benign bytes standing in for a known hash
NCII_IMAGE = b"IMG known ncii test pattern"
BENIGN_IMAGE = b"IMG an ordinary picture"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(autouse=True)
def _pipeline_settings(monkeypatch):
    reset_pipeline_settings()
    scan_mod.set_scanner(None)
    yield
    scan_mod.set_scanner(None)
    reset_pipeline_settings()


@pytest.fixture
def matcher() -> fakes.DictMatcher:
    m = fakes.DictMatcher()
    m.add("sha256", hashlib.sha256(CSAM_IMAGE).hexdigest(), "local-csam", "csam", 1)
    m.add("sha256", hashlib.sha256(NCII_IMAGE).hexdigest(), "stopncii", "ncii", 2)
    m.add("url", fakes.canonical_url("http://bad.example/abuse/page1"), "csam-urls", "csam_url", 3)
    m.add("domain", "evil-host.example", "csam-domains", "csam_url", 4)
    return m


@pytest.fixture
def fetched() -> dict[str, bytes]:
    """URL -> bytes served by the fake fetcher (missing URL: FetchError)."""
    return {}


@pytest.fixture
def scanner(db_url, matcher, fetched) -> scan_mod.Scanner:
    from suraksha.pipeline.fetch import FetchError

    def fetch(url: str) -> bytes:
        if url not in fetched:
            raise FetchError("media url answered HTTP 404")
        return fetched[url]

    s = scan_mod.Scanner(
        matcher=matcher, policy=fakes.FakePolicy(), classifiers=[], media_signals=fakes.media_signals, fetch=fetch
    )
    scan_mod.set_scanner(s)
    return s
