"""Network test data: benign generated pictures banked as "csam", items posted by many accounts."""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

T0 = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC)
RING_LINK = "https://files.example/share/ab12?utm_source=x"  # canonical: the utm parameter is dropped
RING_LINK_CANONICAL = "https://files.example/share/ab12"
POPULAR_LINK = "https://news.example/today"
POPULAR_POSTERS = 40


def picture(seed: int, quality: int = 90) -> bytes:
    """A benign generated picture: random coloured blocks, different per seed (and far apart in PDQ)."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    img = Image.fromarray(blocks).resize((320, 240), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def bank_pictures(*pictures: bytes) -> None:
    from suraksha.matching import banks
    from suraksha.matching.matcher import reset_matcher

    banks.create_bank("known-csam", label="csam")
    for data in pictures:
        banks.add_content("known-csam", data)
    reset_matcher()


def submit(
    platform_id: str,
    account: str | None,
    *,
    media: list[bytes] = (),
    links: list[str] = (),
    text: str | None = None,
    at: dt.datetime | None = None,
    **context: Any,
) -> int:
    from suraksha.pipeline.ingest import submit_item
    from suraksha.pipeline.schemas import ItemIn

    payload: dict[str, Any] = {
        "platform_id": platform_id,
        "links": list(links),
        "text": text,
        "media": [{"data_base64": base64.b64encode(m).decode(), "mime": "image/jpeg"} for m in media],
        "context": {**context, **({"created_at": at.isoformat()} if at else {})},
    }
    if account is not None:
        payload["account"] = {"id": account, "handle": f"@{account}"}
    item, _ = submit_item(ItemIn(**payload))
    return item.id


def scan_all() -> None:
    """A worker pass with the real matcher and the shipped policy."""
    from suraksha.pipeline import queue
    from suraksha.pipeline.scan import Scanner
    from suraksha.pipeline.worker import process_batch
    from suraksha.policy import default_policy

    scanner = Scanner(policy=default_policy(), classifiers=[])
    while jobs := queue.claim_jobs("test-worker", 32, 60):
        process_batch("test-worker", jobs, scanner, max_attempts=2)


def account_id(platform_account_id: str) -> int:
    from sqlalchemy import select

    from suraksha.db import session_scope
    from suraksha.items.models import Account

    with session_scope() as s:
        found = s.scalar(select(Account.id).where(Account.platform_account_id == platform_account_id))
    assert found is not None, platform_account_id
    return found


def build_ring() -> dict[str, Any]:
    """The issue's case: 23 accounts share two banked pictures and one link; 40 benign accounts and
    one unrelated account post only a popular news link, which the ring posts too.

    Accounts ring-00..ring-10 post picture A, ring-11..ring-22 picture B (ring-05 a re-encoded copy
    of A: other bytes, same bank entry), so only the shared link joins the two halves.
    """
    a, b = picture(1), picture(2)
    bank_pictures(a, b)
    a_copy = picture(1, quality=70)
    for n in range(23):
        image = (a_copy if n == 5 else a) if n <= 10 else b
        submit(f"ring-post-{n}", f"ring-{n:02d}", media=[image], links=[RING_LINK, POPULAR_LINK], at=T0 + dt.timedelta(hours=n))
    for n in range(POPULAR_POSTERS):
        submit(f"news-{n}", f"reader-{n:02d}", links=[POPULAR_LINK], at=T0 + dt.timedelta(hours=n))
    submit("unrelated-post", "unrelated", links=[POPULAR_LINK], text="good morning", at=T0)
    submit("unrelated-photo", "unrelated", media=[picture(99)], at=T0)
    scan_all()
    return {
        "ring": [account_id(f"ring-{n:02d}") for n in range(23)],
        "unrelated": account_id("unrelated"),
        "readers": [account_id(f"reader-{n:02d}") for n in range(POPULAR_POSTERS)],
    }


def bulk_platform(accounts: int, items: int, ring: int = 10, seed: int = 7) -> dict[str, Any]:
    """Many stored items written directly (as if scanned): benign accounts posting popular news links,
    their own links and IPs; a ring of ``ring`` accounts whose removed items share one rare link, and
    whose first two members posted from one IP an hour apart. For scale tests and benchmarks."""
    import random

    from sqlalchemy import insert, select

    from suraksha.db import session_scope
    from suraksha.items.models import Account, Item

    rnd = random.Random(seed)
    popular = [f"https://news{n}.example/story/{n}" for n in range(20)]
    with session_scope() as s:
        s.execute(
            insert(Account),
            [
                {"platform_account_id": f"user-{n}", "handle": f"@user{n}", "first_seen": T0, "last_seen": T0}
                for n in range(accounts)
            ]
            + [{"platform_account_id": f"ring-{n}", "handle": None, "first_seen": T0, "last_seen": T0} for n in range(ring)],
        )
        ids = dict(s.execute(select(Account.platform_account_id, Account.id)).all())
        rows = []
        for n in range(items):
            at = T0 + dt.timedelta(minutes=rnd.randrange(60 * 24 * 60))
            rows.append(
                {
                    "platform_id": f"post-{n}",
                    "account_id": ids[f"user-{rnd.randrange(accounts)}"],
                    "status": "done",
                    "verdict": "allow",
                    "links": rnd.sample(popular, 2) + [f"https://blog.example/{n}"],
                    "context": {
                        "ip": f"198.51.{rnd.randrange(4)}.{rnd.randrange(250)}",
                        "device_id": f"dev-{rnd.randrange(accounts)}",
                    },
                    "created_at": at,
                    "received_at": T0 - dt.timedelta(days=1),
                }
            )
        for n in range(ring):
            at = T0 + dt.timedelta(days=n)
            rows.append(
                {
                    "platform_id": f"ring-post-{n}",
                    "account_id": ids[f"ring-{n}"],
                    "status": "done",
                    "verdict": "remove",
                    "links": ["https://rare.example/folder/77", popular[0]],
                    "context": {"ip": "10.9.8.7" if n < 2 else f"10.0.0.{n}"},
                    "created_at": T0 + dt.timedelta(hours=n) if n < 2 else at,
                    "received_at": T0 - dt.timedelta(days=1),
                }
            )
        s.execute(insert(Item), rows)
    return {"ring": [ids[f"ring-{n}"] for n in range(ring)], "user": ids["user-0"]}
