"""Test data for the legal tests: benign items on the platform and a fake platform answering
``data_request`` calls (signature verified, like the real connector contract)."""

from __future__ import annotations

import base64
import io
import json
from dataclasses import dataclass, field

import httpx
from PIL import Image

from suraksha.enforcement.connector import EVENT_HEADER, verify_signature

SECRET = "test-connector-secret-0123456789"


def png(seed: int = 1) -> bytes:
    """A benign generated picture (coloured squares)."""
    img = Image.new("RGB", (64, 64), (seed * 40 % 256, 120, 200))
    for x in range(0, 64, 16):
        img.paste((x * 3 % 256, seed * 17 % 256, 60), (x, x, x + 16, x + 16))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def post(
    platform_id: str,
    account: str,
    *,
    ip: str = "203.0.113.7",
    port: int = 50123,
    media: bool = False,
    links: list[str] | None = None,
    country: str = "IN",
    server: str = "ap-south-1",
) -> int:
    """Ingest one item (not scanned) and return its id."""
    from suraksha.pipeline.ingest import submit_item
    from suraksha.pipeline.schemas import ItemIn

    body = {
        "platform_id": platform_id,
        "account": {"id": account, "handle": account + "_h"},
        "text": "hello",
        "links": links or [],
        "context": {
            "ip": ip,
            "port": port,
            "country": country,
            "server": server,
            "device_id": "dev-" + account,
            "created_at": "2026-11-20T10:00:00+05:30",
        },
    }
    if media:
        body["media"] = [{"data_base64": base64.b64encode(png(len(platform_id))).decode(), "mime": "image/png"}]
    item, _ = submit_item(ItemIn.model_validate(body))
    return item.id


@dataclass
class FakePlatformData:
    """Answers signed data_request calls with subscriber data; says server logs are gone."""

    secret: str = SECRET
    calls: list[dict] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        try:
            verify_signature(request.headers, request.content, self.secret)
        except Exception as exc:  # noqa: BLE001 - recorded for the assertion
            self.refused.append(str(exc))
            return httpx.Response(401, json={"error": str(exc)})
        assert request.headers[EVENT_HEADER] == "data_request"
        body = json.loads(request.content)
        self.calls.append(body)
        return httpx.Response(
            200,
            json={
                "data_points": {
                    "subscriber_data": [
                        {
                            "platform_account_id": "acct-1",
                            "name": "Registered Name",
                            "phone": "+91-90000-00000",
                            "email": "someone@example.com",
                        }
                    ]
                },
                "unavailable": {"server_details": "server logs older than 7 days are not kept"},
            },
        )

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)
