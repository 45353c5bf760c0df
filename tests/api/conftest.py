"""Fixtures for API tests: an app on the test database, API keys, and helpers."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image


def _reset_process_state() -> None:
    from suraksha.api.keys import clear_key_cache
    from suraksha.api.settings import reset_api_settings

    clear_key_cache()
    reset_api_settings()
    try:
        from suraksha.matching.matcher import reset_matcher

        reset_matcher()
    except ImportError:
        pass
    try:
        from suraksha.pipeline.settings import reset_pipeline_settings

        reset_pipeline_settings()
    except ImportError:
        pass


@pytest.fixture
def make_client(db_url) -> Iterator[Callable[..., TestClient]]:
    """Build an app with ``create_app(**kwargs)`` and enter its lifespan; closed after the test."""
    from suraksha.api import create_app

    _reset_process_state()
    opened: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        client = TestClient(create_app(**kwargs), raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.__exit__(None, None, None)
    _reset_process_state()


class FakeMatcher:
    """Stands in for the matcher where a test is about the API, not matching."""

    loaded = True

    def stats(self) -> dict[str, int]:
        return {"pdq": 0, "md5": 0, "sha256": 0, "url": 0, "domain": 0, "vpdq_frames": 0, "text": 0, "change_floor": 0}

    def save(self) -> None:
        pass

    def lookup(self, signal_type: str, value: str, *, canonical: bool = False, related: bool = False) -> list:
        return []

    def lookup_url(self, url: str) -> list:
        return []


@pytest.fixture
def fake_client(make_client) -> TestClient:
    """An app whose index is 'loaded' at once with a fake matcher (tests of auth, limits, errors)."""
    client = make_client(matcher_loader=FakeMatcher)
    wait_ready(client)
    return client


@pytest.fixture
def client(make_client) -> TestClient:
    """An app with the real matcher, index loaded."""
    needs_signals()
    client = make_client()
    wait_ready(client)
    return client


def wait_ready(client: TestClient, timeout: float = 30.0) -> None:
    state = client.app.state.matcher_state
    deadline = threading.Event()
    import time

    end = time.monotonic() + timeout
    while state.matcher is None and state.error is None and time.monotonic() < end:
        deadline.wait(0.01)
    assert state.error is None, state.error
    assert state.matcher is not None, "index did not load"


# What the API tests here do: scan, read items and accounts, read and change banks. A test module
# that needs other scopes overrides the ``key_scopes`` fixture (tests/legal/test_api.py).
API_TEST_SCOPES = ("scan", "items:read", "banks:read", "banks:write")


@pytest.fixture
def key_scopes() -> tuple[str, ...]:
    return API_TEST_SCOPES


@pytest.fixture
def key(db_url, key_scopes) -> str:
    from suraksha.api.keys import create_key

    _info, secret = create_key("tests", scopes=key_scopes)
    return secret


@pytest.fixture
def auth(key) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def needs_signals() -> None:
    """Skip until the signals/matching index modules are importable (they land separately)."""
    try:
        import suraksha.matching.matcher  # noqa: F401
        from suraksha.signals import media_signals  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"signals / match index not available yet: {exc}")


@pytest.fixture
def bridge(reference_dir):
    """The benign reference photo and a heavily blurred copy of it (PDQ distance 4)."""
    base = reference_dir / "pdq" / "bridge-mods"
    return (base / "aaa-orig.jpg").read_bytes(), (base / "blur-a-lot.jpg").read_bytes()


def settle() -> None:
    """Wait out the matcher's change-log refresh interval (a new entry matches within it)."""
    import time

    from suraksha.matching.matcher import REFRESH_SECONDS

    time.sleep(REFRESH_SECONDS + 0.1)


def png_bytes(seed: int = 0, size: int = 128) -> bytes:
    """A benign generated picture (a gradient with stripes) as PNG."""
    img = Image.new("RGB", (size, size))
    px = img.load()
    for x in range(size):
        for y in range(size):
            px[x, y] = ((x * 2 + seed * 37) % 256, (y * 2 + seed * 11) % 256, ((x // 8 + y // 8 + seed) % 2) * 255)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def error_of(response) -> dict[str, str]:
    body = response.json()
    assert set(body["error"]) == {"code", "message"}, body
    assert body["error"]["message"], body
    return body["error"]
