"""Issue 11, point 1 through the API: formats outside the allow-list are 415 on ``/v1/hash`` and HMA
``/h/hash``, a media error on an inline item, and never reach a decoder or an external program;
hashing runs in a bounded pool of its own (503 + Retry-After when full) so slow media cannot
starve ``/status`` or ``POST /v1/items``."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from tests.api.conftest import error_of, png_bytes
from tests.signals.media_samples import EPS, REFUSED, no_child_process

# Documents and pictures Suraksha does not decode, most of which Pillow would open if let.
SAMPLES = ("eps", "eps-dos-binary", "ps", "pdf", "svg", "xcf", "psd", "ico", "pcx", "tga", "jpeg2000")
PREFIX = "not a picture or video format Suraksha decodes: "


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@pytest.fixture(scope="module")
def samples() -> dict[str, tuple[bytes, str]]:
    out = {}
    for name in SAMPLES:
        make, named = REFUSED[name]
        try:
            out[name] = (make(), named)
        except (OSError, KeyError, ValueError):  # an encoder this build lacks
            continue
    assert {"eps", "ps", "pdf", "svg", "xcf", "psd", "ico"} <= set(out)
    return out


def test_hash_refuses_other_formats_with_415_and_the_reason(fake_client, auth, samples, monkeypatch, tmp_path):
    with no_child_process(monkeypatch, tmp_path):
        for name, (data, named) in samples.items():
            r = fake_client.post("/v1/hash", files={"file": (f"x.{name}", data, "image/jpeg")}, headers=auth)
            assert r.status_code == 415, (name, r.text)
            err = error_of(r)
            assert err["code"] == "unsupported_media" and err["message"].startswith(PREFIX) and named in err["message"], err
            r = fake_client.post("/v1/hash", json={"data_base64": _b64(data), "mime": "image/png"}, headers=auth)
            assert r.status_code == 415 and named in error_of(r)["message"], (name, r.text)
    r = fake_client.post("/v1/hash", files={"file": ("ok.png", png_bytes(), "image/png")}, headers=auth)
    assert r.status_code == 200 and r.json()["kind"] == "image"


def test_hma_hash_and_bank_content_refuse_other_formats_with_415(fake_client, auth, samples, monkeypatch, tmp_path):
    assert fake_client.post("/v1/banks", json={"name": "known", "label": "csam"}, headers=auth).status_code == 201
    with no_child_process(monkeypatch, tmp_path):
        for name, (data, named) in samples.items():
            r = fake_client.post("/h/hash", files={"photo": (f"x.{name}", data, "image/jpeg")}, headers=auth)
            assert r.status_code == 415, (name, r.text)
            assert r.json()["message"].startswith(PREFIX) and named in r.json()["message"]  # HMA's own key
            r = fake_client.post("/c/bank/known/content", files={"photo": (f"x.{name}", data, "image/jpeg")}, headers=auth)
            assert r.status_code == 415, (name, r.text)
    r = fake_client.post("/h/hash", files={"photo": ("ok.png", png_bytes(), "image/png")}, headers=auth)
    assert r.status_code == 200 and len(r.json()["pdq"]) == 64


def test_inline_item_media_in_another_format_is_a_media_error(fake_client, auth, samples, monkeypatch, tmp_path):
    from tests.pipeline.fakes import DictMatcher, FakePolicy

    from suraksha.pipeline.scan import Scanner
    from suraksha.pipeline.worker import scan_now

    media = [{"data_base64": _b64(data), "mime": "image/jpeg"} for data, _ in samples.values()]
    media.append({"data_base64": _b64(png_bytes(seed=5)), "mime": "image/png"})
    r = fake_client.post("/v1/items", json={"platform_id": "formats-1", "media": media}, headers=auth)
    assert r.status_code == 202, r.text
    item_id = r.json()["id"]
    scanner = Scanner(matcher=DictMatcher(), policy=FakePolicy(), classifiers=[])  # the real media_signals
    with no_child_process(monkeypatch, tmp_path):
        assert scan_now(item_id, scanner)
    item = fake_client.get(f"/v1/items/{item_id}", headers=auth).json()
    assert item["status"] == "done" and item["verdict"] == "allow"
    *refused, good = item["media"]
    for view, (name, (_data, named)) in zip(refused, samples.items()):
        assert view["error"].startswith("UnsupportedMedia: " + PREFIX) and named in view["error"], (name, view)
        assert "pdq" not in view["signals"]
    assert good["error"] is None and good["kind"] == "image" and len(good["signals"]["pdq"]) == 64


# ------------------------------------------------------------------------------ the hash pool
def _in_thread(fn: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def run() -> None:
        box["response"] = fn()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


def _answered_within(fn: Callable[[], Any], seconds: float) -> Any:
    thread, box = _in_thread(fn)
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    return box["response"]


def test_hashing_is_bounded_and_cannot_starve_other_requests(fake_client, auth, monkeypatch):
    """Two slow hashes fill the pool (SURAKSHA_HASH_CONCURRENCY defaults to 2): the next hash is 503
    with Retry-After at once, and /status and POST /v1/items still answer, even with Starlette's own
    threadpool cut to 4 threads (before, the hashes ran in it and took every thread)."""
    import anyio.to_thread

    import suraksha.signals

    entered = threading.Semaphore(0)
    release = threading.Event()
    real = suraksha.signals.media_signals

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.release()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(suraksha.signals, "media_signals", slow)

    async def set_tokens(n: int) -> int:
        limiter = anyio.to_thread.current_default_thread_limiter()
        old, limiter.total_tokens = limiter.total_tokens, n
        return old

    old_tokens = fake_client.portal.call(set_tokens, 4)
    picture = png_bytes(seed=9)

    def hash_once() -> Any:
        return fake_client.post("/v1/hash", files={"file": ("p.png", picture, "image/png")}, headers=auth)

    busy: list[tuple[threading.Thread, dict[str, Any]]] = []
    try:
        busy = [_in_thread(hash_once) for _ in range(2)]
        for _ in range(2):
            assert entered.acquire(timeout=10), "the first two hashes did not start"
        r = _answered_within(hash_once, 5)
        assert r.status_code == 503 and error_of(r)["code"] == "hashing_busy" and r.headers["Retry-After"] == "2"
        r = _answered_within(
            lambda: fake_client.post("/h/hash", files={"photo": ("p.png", picture, "image/png")}, headers=auth), 5
        )
        assert r.status_code == 503 and r.headers["Retry-After"] and "retry" in r.json()["message"]
        more = [_in_thread(hash_once) for _ in range(4)]  # would have held Starlette's 4 threads
        t0 = time.monotonic()
        assert _answered_within(lambda: fake_client.get("/status"), 5).status_code == 200
        r = _answered_within(
            lambda: fake_client.post("/v1/items", json={"platform_id": "while-busy", "text": "hi"}, headers=auth), 5
        )
        assert r.status_code == 202, r.text
        assert time.monotonic() - t0 < 5
        for thread, box in more:
            thread.join(5)
            assert box["response"].status_code == 503
    finally:
        release.set()
        for thread, _box in busy:
            thread.join(30)
        fake_client.portal.call(set_tokens, old_tokens)
    assert [box["response"].status_code for _t, box in busy] == [200, 200]
    # Slots are given back when the work ends: hashing works again.
    assert hash_once().status_code == 200


def test_pool_size_is_a_setting(make_client, auth, monkeypatch):
    from tests.api.conftest import FakeMatcher, wait_ready

    from suraksha.api.settings import reset_api_settings

    monkeypatch.setenv("SURAKSHA_HASH_CONCURRENCY", "1")
    reset_api_settings()
    client = make_client(matcher_loader=FakeMatcher)
    wait_ready(client)
    import suraksha.signals

    entered, release = threading.Event(), threading.Event()
    real = suraksha.signals.media_signals

    def slow(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(suraksha.signals, "media_signals", slow)
    body = {"data_base64": _b64(png_bytes(seed=2))}
    first, box = _in_thread(lambda: client.post("/v1/hash", json=body, headers=auth))
    try:
        assert entered.wait(10)
        r = _answered_within(lambda: client.post("/v1/hash", json=body, headers=auth), 5)
        assert r.status_code == 503 and "1 media" in error_of(r)["message"]
    finally:
        release.set()
        first.join(30)
    assert box["response"].status_code == 200


def test_eps_bytes_are_never_given_to_pillow_or_ghostscript_by_the_api(fake_client, auth, monkeypatch, tmp_path):
    """The original attack: a tiny EPS as a "photo", declared image/jpeg."""
    from PIL import Image

    opened: list[object] = []
    real_open = Image.open

    def spy(fp, mode="r", formats=None):
        opened.append(formats)
        return real_open(fp, mode, formats)

    monkeypatch.setattr(Image, "open", spy)
    with no_child_process(monkeypatch, tmp_path):
        r = fake_client.post("/v1/hash", files={"file": ("photo.jpg", EPS, "image/jpeg")}, headers=auth)
    assert r.status_code == 415 and "EPS" in error_of(r)["message"]
    assert opened == []  # refused from the signature, before Pillow saw a byte
