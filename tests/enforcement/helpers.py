"""Shared by the enforcement and reporting tests: a fake platform that verifies our webhooks and
acts once per idempotency key, a scan helper with the real matcher, and environment set-up."""

from __future__ import annotations

import base64
import io
import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from suraksha.enforcement.connector import IDEMPOTENCY_HEADER, SignatureError, verify_signature

SECRET = "test-connector-secret-0123456789"
REPORTER_ENV = {
    "SURAKSHA_REPORTER_PLATFORM": "Suraksha Test Platform",
    "SURAKSHA_REPORTER_FIRST_NAME": "Asha",
    "SURAKSHA_REPORTER_LAST_NAME": "Rao",
    "SURAKSHA_REPORTER_EMAIL": "trust-safety@platform.example",
}


@dataclass
class FakePlatform:
    """A platform's webhook endpoint: verifies signature and timestamp, performs each action once per
    idempotency key (``effects``), answers 200; ``fail_next`` makes the next requests fail."""

    secret: str = SECRET
    effects: Counter = field(default_factory=Counter)  # idempotency key -> times performed (must stay 1)
    requests: list[dict] = field(default_factory=list)  # every verified request body
    refused: list[str] = field(default_factory=list)  # why requests were refused
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer before succeeding
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = request.content
        try:
            verify_signature(request.headers, body, self.secret)
        except SignatureError as exc:
            with self._lock:
                self.refused.append(str(exc))
            return httpx.Response(401, json={"error": str(exc)})
        with self._lock:
            if self.fail_next:
                return httpx.Response(self.fail_next.pop(0), json={"error": "injected"})
            data = json.loads(body)
            key = request.headers[IDEMPOTENCY_HEADER]
            assert data["id"] == key
            self.requests.append(data)
            if key not in self.effects:
                self.effects[key] = 1  # the platform acts once; a repeat is acknowledged, not re-done
        return httpx.Response(200, json={"status": "done", "id": key})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def performed(self, kind: str) -> list[dict]:
        """Unique actions of ``kind`` the platform performed (first request per key)."""
        seen: dict[str, dict] = {}
        for r in self.requests:
            if r["type"] == kind:
                seen.setdefault(r["id"], r)
        return list(seen.values())


def jpeg_bytes(seed: int = 0) -> bytes:
    """A benign generated picture (gradient + stripes), different per seed."""
    import numpy as np
    from PIL import Image

    yy, xx = np.mgrid[0:240, 0:320]
    img = np.stack([(xx * (1 + seed % 5)) % 256, (yy * 2 + seed * 40) % 256, ((xx + yy) * (seed % 3 + 1)) % 256], -1)
    buf = io.BytesIO()
    Image.fromarray(img.astype("uint8")).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def csam_bank(reference: Path) -> bytes:
    """Create a bank labelled csam holding the benign reference picture; returns its bytes."""
    from suraksha.matching import banks
    from suraksha.matching.matcher import reset_matcher

    data = (reference / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    banks.create_bank("known-csam", label="csam")
    banks.add_content("known-csam", data)
    reset_matcher()
    return data


def submit(platform_id: str, account: str | None, media: list[bytes], **context) -> int:
    from suraksha.pipeline.ingest import submit_item
    from suraksha.pipeline.schemas import ItemIn

    payload = {
        "platform_id": platform_id,
        "media": [{"data_base64": b64(m), "mime": "image/jpeg"} for m in media],
        "context": context,
    }
    if account is not None:
        payload["account"] = {"id": account, "handle": f"@{account}"}
    item, _ = submit_item(ItemIn(**payload))
    return item.id


def scan_all(policy=None) -> None:
    """A worker pass with the real matcher and the given policy (default: the shipped one)."""
    from suraksha.pipeline import queue
    from suraksha.pipeline.scan import Scanner
    from suraksha.pipeline.worker import process_batch
    from suraksha.policy import default_policy

    scanner = Scanner(policy=policy or default_policy(), classifiers=[])
    while jobs := queue.claim_jobs("test-worker", 16, 60):
        process_batch("test-worker", jobs, scanner, max_attempts=2)


def reset_area_settings() -> None:
    from suraksha.enforcement.settings import reset_enforcement_settings
    from suraksha.pipeline.settings import reset_pipeline_settings
    from suraksha.reporting.settings import reset_reporting_settings

    reset_enforcement_settings()
    reset_reporting_settings()
    reset_pipeline_settings()
